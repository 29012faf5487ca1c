import COrderbaseShims
import OrderbaseDelivery
import Orderbase
import OrderbaseAPI
import OrderbaseStore
#if canImport(Glibc)
import Glibc
#endif

// The C ABI of include/orderbase.h. Each function is `@c @implementation`, so
// the compiler checks it against the header. No Swift error or trap may reach
// the host: bodies catch every error and return a code; handles are looked up
// in a generation-checked table, so a stale or foreign handle is `misuse`.

/// Handles are not pointers: (generation << 32 | slot << 8 | tag), so a closed,
/// reused or made-up handle is detected instead of dereferenced.
final class HandleTable<T: AnyObject>: @unchecked Sendable {
    private let tag: UInt
    private let lock = OrderbaseStore.Mutex()
    private var slots: [(gen: UInt32, object: T?)] = []
    private var free: [Int] = []

    init(tag: UInt8) { self.tag = UInt(tag) }

    func insert(_ o: T) -> OpaquePointer? {
        lock.withLock {
            let slot: Int
            if let f = free.popLast() {
                slot = f
            } else {
                if slots.count >= (1 << 24) - 1 { return nil }
                slots.append((0, nil))
                slot = slots.count - 1
            }
            let gen = slots[slot].gen &+ 1
            slots[slot] = (gen, o)
            return OpaquePointer(bitPattern: UInt(gen) << 32 | UInt(slot + 1) << 8 | tag)
        }
    }

    private func decode(_ p: OpaquePointer?) -> (slot: Int, gen: UInt32)? {
        guard let p else { return nil }
        let v = UInt(bitPattern: p)
        guard v & 0xFF == tag else { return nil }
        let slot = Int((v >> 8) & 0xFFFFFF) - 1
        let gen = UInt32(truncatingIfNeeded: v >> 32)
        return slot >= 0 ? (slot, gen) : nil
    }

    func get(_ p: OpaquePointer?) -> T? {
        guard let (slot, gen) = decode(p) else { return nil }
        return lock.withLock { slot < slots.count && slots[slot].gen == gen ? slots[slot].object : nil }
    }

    func remove(_ p: OpaquePointer?) -> T? {
        guard let (slot, gen) = decode(p) else { return nil }
        return lock.withLock {
            guard slot < slots.count, slots[slot].gen == gen, let o = slots[slot].object else { return nil }
            slots[slot].object = nil
            free.append(slot)
            return o
        }
    }
}

let engines = HandleTable<Engine>(tag: 0xE1)
let tenants = HandleTable<Tenant>(tag: 0x7B)

/// Records `e` as the thread's last error and returns its code.
func fail(_ e: OrderbaseError) -> Int32 {
    let json = String(decoding: e.json, as: UTF8.self)
    ob_error_set(e.code.rawValue, e.code.name, e.message, json)
    return e.code.rawValue
}

func misuse(_ message: String) -> OrderbaseError { OrderbaseError(.misuse, message) }

/// A NUL-terminated UTF-8 argument as a String (invalid UTF-8 is an error).
func cString(_ p: UnsafePointer<CChar>?, _ what: String) throws(OrderbaseError) -> String {
    guard let p else { throw misuse("\(what) is NULL") }
    guard let s = String(validatingCString: p) else { throw OrderbaseError.invalid("\(what) is not valid UTF-8", field: what) }
    return s
}

/// A malloc'd NUL-terminated copy of `bytes` for the host (freed by orderbase_free).
func hostString(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar>? {
    guard let p = malloc(bytes.count + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
    bytes.withUnsafeBytes { b in
        if b.count > 0 { memcpy(p, b.baseAddress!, b.count) }
    }
    p[bytes.count] = 0
    return p
}

/// The request body as raw bytes (the JSON parser validates UTF-8 and the limit).
func withRequest<T>(_ p: UnsafePointer<CChar>?, limit: Int, _ body: (UnsafeRawBufferPointer?) throws(OrderbaseError) -> T) throws(OrderbaseError) -> T {
    guard let p else { return try body(nil) }
    // strnlen: never read further than one byte past the limit.
    let n = strnlen(p, limit + 1)
    if n > limit { throw OrderbaseError(.limitExceeded, "request is larger than max_request_bytes (\(limit))") }
    return try body(UnsafeRawBufferPointer(start: p, count: n))
}

/// Shared tail of the two call functions: deliver the response or the error.
func deliver(_ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ run: () throws(OrderbaseError) -> [UInt8]) -> Int32 {
    response?.pointee = nil
    ob_error_clear()
    do {
        let bytes = try run()
        if let response {
            guard let s = hostString(bytes) else { return fail(OrderbaseError(.internal, "out of memory")) }
            response.pointee = s
        }
        return 0
    } catch {
        let code = fail(error)
        response?.pointee = hostString(error.json)
        return code
    }
}

@c @implementation
public func orderbase_engine_open(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ root: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?) -> Int32 {
    ob_error_clear()
    guard let out else { return fail(misuse("out is NULL")) }
    out.pointee = nil
    do {
        let rootPath = try cString(root, "root_dir")
        var json: JSON? = nil
        if let options {
            let text = try cString(options, "options_json")
            json = try JSON.parse(text)
        }
        let engine = try Engine(root: rootPath, options: try EngineOptions.parse(json), transport: CurlTransport.shared, mail: CurlTransport.shared)
        guard let h = engines.insert(engine) else {
            engine.close()
            return fail(OrderbaseError(.limitExceeded, "too many open engines"))
        }
        out.pointee = h
        return 0
    } catch {
        return fail(error)
    }
}

@c @implementation
public func orderbase_engine_close(_ engine: OpaquePointer?) {
    guard engine != nil else { return }
    guard let e = engines.remove(engine) else {
        _ = fail(misuse("engine handle is closed or invalid"))
        return
    }
    e.close()
}

@c @implementation
public func orderbase_engine_call(_ engine: OpaquePointer?, _ method: UnsafePointer<CChar>?, _ request: UnsafePointer<CChar>?,
                                  _ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    deliver(response) { () throws(OrderbaseError) -> [UInt8] in
        guard let e = engines.get(engine) else { throw misuse("engine handle is NULL, closed or invalid") }
        let name = try cString(method, "method")
        return try withRequest(request, limit: e.options.maxRequestBytes) { (body) throws(OrderbaseError) in
            try Catalogue.call(e, name, body)
        }
    }
}

@c @implementation
public func orderbase_tenant_create(_ engine: OpaquePointer?, _ tenantID: UnsafePointer<CChar>?, _ settings: UnsafePointer<CChar>?) -> Int32 {
    ob_error_clear()
    do throws(OrderbaseError) {
        guard let e = engines.get(engine) else { throw misuse("engine handle is NULL, closed or invalid") }
        let id = try cString(tenantID, "tenant_id")
        var json: JSON? = nil
        if let settings { json = try JSON.parse(try cString(settings, "settings_json")) }
        try e.createTenant(id, settings: json)
        return 0
    } catch {
        return fail(error)
    }
}

@c @implementation
public func orderbase_tenant_open(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ engine: OpaquePointer?, _ tenantID: UnsafePointer<CChar>?) -> Int32 {
    ob_error_clear()
    guard let out else { return fail(misuse("out is NULL")) }
    out.pointee = nil
    do throws(OrderbaseError) {
        guard let e = engines.get(engine) else { throw misuse("engine handle is NULL, closed or invalid") }
        let t = try e.openTenant(try cString(tenantID, "tenant_id"))
        guard let h = tenants.insert(t) else {
            t.close()
            throw OrderbaseError(.limitExceeded, "too many open tenant handles")
        }
        out.pointee = h
        return 0
    } catch {
        return fail(error)
    }
}

@c @implementation
public func orderbase_tenant_close(_ tenant: OpaquePointer?) {
    guard tenant != nil else { return }
    guard let t = tenants.remove(tenant) else {
        _ = fail(misuse("tenant handle is closed or invalid"))
        return
    }
    t.close()
}

@c @implementation
public func orderbase_call(_ tenant: OpaquePointer?, _ method: UnsafePointer<CChar>?, _ request: UnsafePointer<CChar>?,
                           _ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    deliver(response) { () throws(OrderbaseError) -> [UInt8] in
        guard let t = tenants.get(tenant) else { throw misuse("tenant handle is NULL, closed or invalid") }
        let name = try cString(method, "method")
        return try withRequest(request, limit: t.engine.options.maxRequestBytes) { (body) throws(OrderbaseError) in
            try Catalogue.call(t, name, body)
        }
    }
}

@c @implementation
public func orderbase_free(_ ptr: UnsafeMutableRawPointer?) {
    free(ptr)
}

@c @implementation
public func orderbase_error_last() -> UnsafePointer<orderbase_error>? {
    UnsafeRawPointer(ob_error_get())?.assumingMemoryBound(to: orderbase_error.self)
}

@c @implementation
public func orderbase_strerror(_ code: Int32) -> UnsafePointer<CChar>? {
    let s: StaticString
    switch code {
    case 0: s = "ok"
    case -1: s = "invalid_argument"
    case -2: s = "not_found"
    case -3: s = "already_exists"
    case -4: s = "version_conflict"
    case -5: s = "invalid_transition"
    case -6: s = "idempotency_mismatch"
    case -7: s = "busy"
    case -8: s = "io_error"
    case -9: s = "corruption"
    case -10: s = "misuse"
    case -11: s = "limit_exceeded"
    case -12: s = "internal"
    case -13: s = "invalid_state"
    case -14: s = "on_hold"
    case -15: s = "guard_failed"
    case -16: s = "not_permitted"
    default: s = "unknown"
    }
    return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func orderbase_version_string() -> UnsafePointer<CChar>? {
    let s: StaticString = "0.1.0"
    return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func orderbase_version_number() -> Int32 { 100 }

// MARK: subscriptions

/// A host's `user_data`: handed back to its own callbacks, never dereferenced here.
struct HostPointer: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer?
}

/// A subscription handle's target: the engine it belongs to and the subscription.
final class SubscriptionEntry: Sendable {
    let engine: Engine
    let subscription: Subscription
    init(engine: Engine, subscription: Subscription) {
        self.engine = engine
        self.subscription = subscription
    }
}

let subscriptions = HandleTable<SubscriptionEntry>(tag: 0x5B)

@c @implementation
public func orderbase_subscribe(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ tenant: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                _ eventTypes: UnsafePointer<CChar>?, _ callback: orderbase_event_callback?,
                                _ userData: UnsafeMutableRawPointer?,
                                _ userDataFree: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) -> Int32 {
    ob_error_clear()
    guard let out else { return fail(misuse("out is NULL")) }
    out.pointee = nil
    guard let callback else { return fail(misuse("callback is NULL")) }
    do throws(OrderbaseError) {
        guard let t = tenants.get(tenant) else { throw misuse("tenant handle is NULL, closed or invalid") }
        let subscriptionName = try cString(name, "name")
        var types: [String]?
        if let eventTypes {
            let json = try JSON.parse(try cString(eventTypes, "event_types_json"))
            guard case .array(let a) = json else { throw OrderbaseError.invalid("event_types_json must be a JSON list", field: "event_types") }
            types = try a.map { (v) throws(OrderbaseError) -> String in
                guard case .string(let s) = v else { throw OrderbaseError.invalid("event_types_json must list strings", field: "event_types") }
                return s
            }
        }
        let data = HostPointer(raw: userData)
        let s = try t.engine.subscribe(t, name: subscriptionName, types: types, callback: { event in
            var bytes = event
            bytes.append(0)
            return bytes.withUnsafeBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { callback($0, event.count, data.raw) }
            }
        }, release: { userDataFree?(data.raw) })
        guard let h = subscriptions.insert(SubscriptionEntry(engine: t.engine, subscription: s)) else {
            t.engine.unsubscribe(s)
            throw OrderbaseError(.limitExceeded, "too many subscriptions")
        }
        out.pointee = h
        return 0
    } catch {
        return fail(error)
    }
}

@c @implementation
public func orderbase_unsubscribe(_ subscription: OpaquePointer?) -> Int32 {
    ob_error_clear()
    guard subscription != nil else { return 0 }
    guard let entry = subscriptions.remove(subscription) else {
        return fail(misuse("subscription handle is closed or invalid"))
    }
    entry.engine.unsubscribe(entry.subscription)
    return 0
}

/// Frees the host's user data when the last copy of the handler goes (it is
/// replaced, or the engine closes, and no call of it is running).
final class HostRelease: @unchecked Sendable {
    let data: UnsafeMutableRawPointer?
    let free: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    init(_ data: UnsafeMutableRawPointer?, _ free: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) {
        self.data = data
        self.free = free
    }
    deinit { free?(data) }
}

@c @implementation
public func orderbase_engine_set_notification_handler(_ engine: OpaquePointer?, _ callback: orderbase_notification_callback?,
                                                      _ userData: UnsafeMutableRawPointer?,
                                                      _ userDataFree: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) -> Int32 {
    ob_error_clear()
    guard let e = engines.get(engine) else { return fail(misuse("engine handle is NULL, closed or invalid")) }
    guard let callback else {
        e.setNotificationHandler(nil)
        userDataFree?(userData)
        return 0
    }
    let release = HostRelease(userData, userDataFree)
    e.setNotificationHandler { tenant, notification in
        var bytes = notification
        bytes.append(0)
        return bytes.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { p in
                tenant.withCString { t in callback(t, p, notification.count, release.data) }
            }
        }
    }
    return 0
}

@c @implementation
public func orderbase_engine_set_payment_handler(_ engine: OpaquePointer?, _ callback: orderbase_payment_callback?,
                                                 _ userData: UnsafeMutableRawPointer?,
                                                 _ userDataFree: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) -> Int32 {
    ob_error_clear()
    guard let e = engines.get(engine) else { return fail(misuse("engine handle is NULL, closed or invalid")) }
    guard let callback else {
        e.setPaymentHandler(nil)
        userDataFree?(userData)
        return 0
    }
    let release = HostRelease(userData, userDataFree)
    e.setPaymentHandler { tenant, request in
        var bytes = request
        bytes.append(0)
        var reply = [CChar](repeating: 0, count: Int(ORDERBASE_PAYMENT_REPLY_MAX))
        let code = bytes.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { p in
                tenant.withCString { t in
                    reply.withUnsafeMutableBufferPointer { r in callback(t, p, request.count, r.baseAddress!, r.count, release.data) }
                }
            }
        }
        reply[reply.count - 1] = 0  // a handler that filled the buffer to the end still ends in NUL
        return PaymentReply(code: code, reply: reply.map { UInt8(bitPattern: $0) })
    }
    return 0
}

@c @implementation
public func orderbase_engine_pump(_ engine: OpaquePointer?, _ maxMs: Int32) -> Int32 {
    ob_error_clear()
    do throws(OrderbaseError) {
        guard let e = engines.get(engine) else { throw misuse("engine handle is NULL, closed or invalid") }
        let n = try e.pump(maxMilliseconds: Int64(max(0, maxMs)))
        return Int32(clamping: n)
    } catch {
        return fail(error)
    }
}

// MARK: attachments (docs/attachments.md)

let uploads = HandleTable<Upload>(tag: 0xA7)

/// The request of an upload: JSON within max_request_bytes.
func uploadRequest(_ t: Tenant, _ p: UnsafePointer<CChar>?) throws(OrderbaseError) -> JSON {
    try withRequest(p, limit: t.engine.options.maxRequestBytes) { (body) throws(OrderbaseError) -> JSON in
        guard let body else { return .object([:]) }
        return try JSON.parse(Array(body))
    }
}

@c @implementation
public func orderbase_upload_begin(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ tenant: OpaquePointer?, _ request: UnsafePointer<CChar>?) -> Int32 {
    ob_error_clear()
    guard let out else { return fail(misuse("out is NULL")) }
    out.pointee = nil
    do throws(OrderbaseError) {
        guard let t = tenants.get(tenant) else { throw misuse("tenant handle is NULL, closed or invalid") }
        let up = try t.core().attachments.begin(try uploadRequest(t, request))
        guard let h = uploads.insert(up) else {
            up.abort()
            throw OrderbaseError(.limitExceeded, "too many uploads in progress")
        }
        out.pointee = h
        return 0
    } catch {
        return fail(error)
    }
}

@c @implementation
public func orderbase_upload_write(_ upload: OpaquePointer?, _ bytes: UnsafeRawPointer?, _ len: Int) -> Int32 {
    ob_error_clear()
    do throws(OrderbaseError) {
        guard let up = uploads.get(upload) else { throw misuse("upload handle is NULL, finished or invalid") }
        if len == 0 { return 0 }
        guard let bytes, len > 0 else { throw misuse("bytes is NULL") }
        try up.write(UnsafeRawBufferPointer(start: bytes, count: len))
        return 0
    } catch {
        return fail(error)
    }
}

@c @implementation
public func orderbase_upload_finish(_ upload: OpaquePointer?, _ attachment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    deliver(attachment) { () throws(OrderbaseError) -> [UInt8] in
        guard let up = uploads.remove(upload) else { throw misuse("upload handle is NULL, finished or invalid") }
        return try up.finish()
    }
}

@c @implementation
public func orderbase_upload_abort(_ upload: OpaquePointer?) {
    guard upload != nil else { return }
    guard let up = uploads.remove(upload) else {
        _ = fail(misuse("upload handle is finished or invalid"))
        return
    }
    up.abort()
}

@c @implementation
public func orderbase_attach(_ tenant: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ bytes: UnsafeRawPointer?, _ len: Int,
                             _ attachment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    deliver(attachment) { () throws(OrderbaseError) -> [UInt8] in
        guard let t = tenants.get(tenant) else { throw misuse("tenant handle is NULL, closed or invalid") }
        guard bytes != nil || len == 0 else { throw misuse("bytes is NULL") }
        return try t.core().attachments.attach(try uploadRequest(t, request), bytes: UnsafeRawBufferPointer(start: bytes, count: max(0, len)))
    }
}

@c @implementation
public func orderbase_attachment_read(_ tenant: OpaquePointer?, _ id: UnsafePointer<CChar>?, _ offset: UInt64,
                                      _ buffer: UnsafeMutableRawPointer?, _ capacity: Int, _ bytesRead: UnsafeMutablePointer<Int>?) -> Int32 {
    ob_error_clear()
    bytesRead?.pointee = 0
    do throws(OrderbaseError) {
        guard let t = tenants.get(tenant) else { throw misuse("tenant handle is NULL, closed or invalid") }
        guard let bytesRead else { throw misuse("bytes_read is NULL") }
        guard buffer != nil || capacity == 0 else { throw misuse("buffer is NULL") }
        guard offset <= UInt64(Int64.max) else { throw OrderbaseError.invalid("offset is too large", field: "offset") }
        let attachmentID = try cString(id, "attachment_id")
        bytesRead.pointee = try t.core().attachments.read(attachmentID, offset: Int64(offset),
                                                          into: UnsafeMutableRawBufferPointer(start: buffer, count: max(0, capacity)))
        return 0
    } catch {
        return fail(error)
    }
}
