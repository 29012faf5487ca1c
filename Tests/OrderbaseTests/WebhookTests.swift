import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseStore

/// A transport that records requests and answers what the test says.
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var _requests: [OutboundRequest] = []
    private var answers: [OutboundResponse] = []
    var requests: [OutboundRequest] { lock.withLock { _requests } }

    /// Answers given in turn; the last repeats. Default: 200.
    func answer(_ r: OutboundResponse...) { lock.withLock { answers = r } }

    /// While set, each post signals `entered` and waits for `gate`: an endpoint that hangs.
    var hang: (entered: DispatchSemaphore, gate: DispatchSemaphore)? {
        get { lock.withLock { _hang } }
        set { lock.withLock { _hang = newValue } }
    }
    private var _hang: (entered: DispatchSemaphore, gate: DispatchSemaphore)?

    func post(_ request: OutboundRequest) -> OutboundResponse {
        if let h = hang { h.entered.signal(); h.gate.wait() }
        return lock.withLock {
            _requests.append(request)
            if answers.count > 1 { return answers.removeFirst() }
            return answers.first ?? OutboundResponse(status: 200, latencyMilliseconds: 1)
        }
    }
}

extension OutboundRequest {
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
}

/// A mail transport that records messages and answers what the test says.
final class RecordingMail: MailTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var _mails: [OutboundMail] = []
    private var answers: [OutboundResponse] = []
    var mails: [OutboundMail] { lock.withLock { _mails } }

    /// Answers given in turn; the last repeats. Default: 250.
    func answer(_ r: OutboundResponse...) { lock.withLock { answers = r } }

    func send(_ mail: OutboundMail) -> OutboundResponse {
        lock.withLock {
            _mails.append(mail)
            if answers.count > 1 { return answers.removeFirst() }
            return answers.first ?? OutboundResponse(status: 250, latencyMilliseconds: 1)
        }
    }
}

final class WebhookFixture {
    let transport = RecordingTransport()
    let mail = RecordingMail()
    let clock = ManualClock(1_795_000_000_000)
    let dir: String
    let engine: Engine
    let tenant: Tenant
    var core: TenantCore { try! tenant.core() }

    init(allowHTTP: Bool = true) throws {
        dir = NSTemporaryDirectory() + "orderbase-wh-" + UUID().uuidString
        var o = EngineOptions()
        o.background = false
        o.webhookAllowHTTP = allowHTTP
        engine = try Engine(root: dir, options: o, clock: clock, transport: transport, mail: mail)
        try engine.createTenant("shop", settings: try JSON.parse(#"{"default_currency":"GBP"}"#))
        tenant = try engine.openTenant("shop")
    }

    deinit {
        engine.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @discardableResult
    func call(_ m: (TenantCore) -> (JSON) throws(OrderbaseError) -> [UInt8], _ body: String) throws -> JSON {
        try JSON.parse(try m(core)(try JSON.parse(body)))
    }

    func error(_ m: (TenantCore) -> (JSON) throws(OrderbaseError) -> [UInt8], _ body: String) -> OrderbaseError? {
        do { _ = try m(core)(try JSON.parse(body)); return nil } catch let e as OrderbaseError { return e } catch { return nil }
    }

    func order() throws -> String {
        try call({ $0.orders.createOrder }, #"{"line_items":[{"title":"Mug","quantity":1,"unit_price":500}]}"#)["id"]!.stringValue!
    }

    func endpoint(_ extra: String = "") throws -> JSON {
        try call({ $0.webhooks.createWebhook }, #"{"url":"http://127.0.0.1:9/hook"\#(extra.isEmpty ? "" : "," + extra)}"#)
    }

    func deliveries() throws -> [JSON] { try call({ $0.webhooks.listDeliveries }, "{}")["data"]!.array }
}

/// Standard Webhooks verification, written from the specification (the
/// Python suite checks the same with the standardwebhooks package).
func verifies(_ r: OutboundRequest, secret: String) -> Bool {
    guard let id = r.header("webhook-id"), let ts = r.header("webhook-timestamp"), let sigs = r.header("webhook-signature"),
          let key = Base64.decode(String(secret.dropFirst(6))) else { return false }
    let expected = "v1," + Base64.encode(Crypto.hmacSHA256(key: key, Array("\(id).\(ts).".utf8) + r.body))
    return sigs.split(separator: " ").contains { $0 == expected }
}

@Suite("Webhooks")
struct WebhookTests {
    @Test("endpoint URLs: https, http only when allowed, no credentials, a host, a valid port")
    func urls() throws {
        let strict = try WebhookFixture(allowHTTP: false)
        #expect(strict.error({ $0.webhooks.createWebhook }, #"{"url":"http://example.com/h"}"#)?.field == "url")
        #expect(try strict.call({ $0.webhooks.createWebhook }, #"{"url":"https://example.com/h"}"#)["url"] == .string("https://example.com/h"))
        for bad in ["https://user:pw@example.com/", "ftp://example.com/", "https:///x", "https://example.com:99999/", "https://ex ample.com/",
                    "https://example.com/#frag", "https://[::1/", "example.com"] {
            #expect(strict.error({ $0.webhooks.createWebhook }, #"{"url":"\#(bad)"}"#)?.code == .invalidArgument, "\(bad)")
        }
        #expect(strict.error({ $0.webhooks.createWebhook }, #"{"url":"https://example.com/","event_types":[]}"#)?.field == "event_types")
        #expect(strict.error({ $0.webhooks.createWebhook }, #"{"url":"https://example.com/","event_types":["Order Created"]}"#)?.field == "event_types[0]")
        #expect(strict.error({ $0.webhooks.createWebhook }, #"{"url":"https://example.com/","payload":"xml"}"#)?.field == "payload")
    }

    @Test("addresses: loopback, private, link-local, metadata and odd spellings are refused unless allowed")
    func addresses() {
        let policy = AddressPolicy()
        for a in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "fd00::1", "0.0.0.0",
                  "::ffff:127.0.0.1", "100.64.0.1", "224.0.0.1", "::"] {
            #expect(!policy.permits(a), "\(a)")
        }
        for a in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"] { #expect(policy.permits(a), "\(a)") }
        #expect(policy.refusal("169.254.169.254") == "link-local (cloud metadata)")
        #expect(!policy.permits("2130706433") && !policy.permits("0x7f.1") && !policy.permits("127.1"), "not an address: refused")
        let allow = AddressPolicy(allowed: [CIDR("127.0.0.1")!, CIDR("10.0.0.0/8")!])
        #expect(allow.permits("127.0.0.1") && allow.permits("10.200.0.9") && !allow.permits("127.0.0.2") && !allow.permits("192.168.0.1"))
        #expect(CIDR("10.0.0.0/33") == nil && CIDR("nope") == nil && CIDR("::1/129") == nil)
    }

    @Test("an order's timeline shows its webhook deliveries (by their order_id index) and its attachments' audit entries")
    func deliveriesOnTheTimeline() throws {
        let fx = try WebhookFixture()
        _ = try fx.endpoint()
        let id = try fx.order()
        let other = try fx.order()
        #expect(try fx.engine.pump(maxMilliseconds: 1000) == 2)
        let bytes = Array("packing list".utf8)
        _ = try bytes.withUnsafeBytes { try fx.core.attachments.attach(try JSON.parse(#"{"order_id":"\#(id)","file_name":"list.txt"}"#), bytes: $0) }
        let all = try fx.call({ $0.timeline.orderTimeline }, #"{"id":"\#(id)"}"#)["data"]!.array
        let deliveries = all.filter { $0["type"] == .string("webhook_delivery") }
        #expect(deliveries.count == 1 && deliveries[0]["webhook_delivery"]?["order_id"] == .string(id))
        #expect(deliveries[0]["webhook_delivery"]?["event_type"] == .string("order.created"))
        #expect(all.contains { $0["audit"]?["action"] == .string("attachment.created") })
        #expect(try fx.call({ $0.timeline.orderTimeline }, #"{"id":"\#(other)","types":["webhook_delivery"]}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
    }

    @Test("events become signed Standard Webhooks messages: id, timestamp, signature, the order in the payload")
    func signed() throws {
        let fx = try WebhookFixture()
        let e = try fx.endpoint()
        let secret = e["secret"]!.stringValue!
        #expect(secret.hasPrefix("whsec_") && Base64.decode(String(secret.dropFirst(6)))?.count == 24)
        #expect(try fx.call({ $0.webhooks.getWebhook }, #"{"id":"\#(e["id"]!.stringValue!)"}"#)["secret"] == nil, "shown once")
        let id = try fx.order()
        #expect(try fx.engine.pump(maxMilliseconds: 1000) == 1)
        let r = fx.transport.requests[0]
        // Event 1 is the endpoint's own creation (webhook_endpoint.created), not delivered to it.
        let event = try fx.call({ $0.audit.listEvents }, #"{"types":["order.*"]}"#)["data"]!.array[0]
        #expect(r.header("webhook-id") == event["id"]!.stringValue && r.header("webhook-timestamp") == String(fx.clock.nowMilliseconds() / 1000))
        #expect(verifies(r, secret: secret))
        let body = try JSON.parse(r.body)
        #expect(body["type"] == .string("order.created") && body["data"]?["order"]?["id"] == .string(id) && body["data"]?["sequence"] == .int(2)
                && body["data"]?["subject"] == .object(["type": .string("order"), "id": .string(id)]))
        #expect(r.url == "http://127.0.0.1:9/hook" && r.connectTimeoutMilliseconds == 5000 && r.timeoutMilliseconds == 15_000)
        var tampered = r
        tampered.body = Array(String(decoding: r.body, as: UTF8.self).replacingOccurrences(of: "Mug", with: "Gum").utf8)
        #expect(!verifies(tampered, secret: secret))
        let d = try fx.deliveries()[0]
        #expect(d["status"] == .string("succeeded") && d["attempts"]!.array.count == 1 && d["message_id"] == event["id"])
    }

    @Test("filters, endpoints made later, changes payloads, disabled endpoints")
    func filters() throws {
        let fx = try WebhookFixture()
        let early = try fx.order()
        let cancels = try fx.endpoint(#""event_types":["order.cancelled"],"payload":"changes""#)
        _ = try fx.endpoint(#""event_types":["order.*"],"enabled":false"#)
        try fx.call({ $0.orders.cancelOrder }, #"{"id":"\#(early)"}"#)
        _ = try fx.order()
        #expect(try fx.engine.pump(maxMilliseconds: 1000) == 1, "only the cancellation, and not the order created before")
        let body = try JSON.parse(fx.transport.requests[0].body)
        #expect(body["type"] == .string("order.cancelled") && body["data"]?["order"] == nil && !(body["data"]?["changes"]?.array.isEmpty ?? true))
        #expect(try fx.deliveries().allSatisfy { $0["endpoint_id"] == cancels["id"] })
    }

    @Test("failures retry on the Standard Webhooks schedule with jitter, then fail; Retry-After is honoured")
    func schedule() throws {
        let fx = try WebhookFixture()
        _ = try fx.endpoint()
        fx.transport.answer(OutboundResponse(status: 500, bodyPrefix: "oops", latencyMilliseconds: 3))
        _ = try fx.order()
        let start = fx.clock.nowMilliseconds()
        #expect(try fx.engine.pump(maxMilliseconds: 1000) == 1)
        var expectedAt = start
        for (n, delay) in RetrySchedule.delays.enumerated() {
            let d = try fx.deliveries()[0]
            #expect(d["status"] == .string("pending") && d["attempts"]!.array.count == n + 1)
            let next = Timestamp.parse(d["next_attempt_at"]!.stringValue!)!
            #expect(next >= expectedAt + delay && next <= expectedAt + delay + delay / 10, "retry \(n + 1) after \(delay) ms plus ≤10% jitter")
            fx.clock.set(next - 1)
            #expect(try fx.engine.pump(maxMilliseconds: 1000) == 0, "not before its time")
            fx.clock.set(next)
            expectedAt = next
            #expect(try fx.engine.pump(maxMilliseconds: 1000) == 1)
        }
        let done = try fx.deliveries()[0]
        #expect(done["status"] == .string("failed") && done["attempts"]!.array.count == 10 && done["next_attempt_at"] == .null)
        #expect(done["attempts"]!.array[0]["status_code"] == .int(500) && done["attempts"]!.array[0]["response"] == .string("oops"))
        #expect(fx.transport.requests.count == 10 && Set(fx.transport.requests.map { $0.header("webhook-id")! }).count == 1, "one webhook-id across retries")
        // The final failure is an event (webhook_delivery.failed, the delivery as data), which goes to
        // other endpoints on `*` but never back to the endpoint that failed it (no eleventh request above).
        let failed = try fx.call({ $0.audit.listEvents }, #"{"types":["webhook_delivery.failed"]}"#)["data"]!.array
        #expect(failed.count == 1 && failed[0]["subject"]?["id"] == done["id"] && failed[0]["data"]?["status"] == .string("failed"))

        let again = try WebhookFixture()
        _ = try again.endpoint()
        again.transport.answer(OutboundResponse(status: 503, retryAfterSeconds: 120, latencyMilliseconds: 1))
        _ = try again.order()
        _ = try again.engine.pump(maxMilliseconds: 1000)
        let next = Timestamp.parse(try again.deliveries()[0]["next_attempt_at"]!.stringValue!)!
        #expect(next >= again.clock.nowMilliseconds() + 120_000, "Retry-After beats the 5 s retry")
    }

    @Test("410 disables the endpoint at once; five days of failures disable it; an event says so")
    func disabling() throws {
        let fx = try WebhookFixture()
        let e = try fx.endpoint()
        fx.transport.answer(OutboundResponse(status: 410, latencyMilliseconds: 1))
        _ = try fx.order()
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        let gone = try fx.call({ $0.webhooks.getWebhook }, #"{"id":"\#(e["id"]!.stringValue!)"}"#)
        #expect(gone["enabled"] == .bool(false) && gone["disabled_reason"] == .string("the endpoint answered 410 Gone"))
        #expect(try fx.deliveries()[0]["status"] == .string("failed"))
        let last = try fx.call({ $0.audit.listEvents }, "{}")["data"]!.array.last!
        #expect(last["type"] == .string("webhook.endpoint_disabled") && last["order_id"] == .null && last["data"]?["endpoint_id"] == e["id"])

        let slow = try WebhookFixture()
        let e2 = try slow.endpoint()
        slow.transport.answer(OutboundResponse(status: nil, latencyMilliseconds: 5000, error: "Connection refused"))
        _ = try slow.order()
        var rounds = 0
        while rounds < 20, try slow.call({ $0.webhooks.getWebhook }, #"{"id":"\#(e2["id"]!.stringValue!)"}"#)["enabled"] == .bool(true) {
            _ = try slow.engine.pump(maxMilliseconds: 1000)
            slow.clock.advance(milliseconds: 86_400_000)
            _ = try slow.order()  // new deliveries keep failing too
            rounds += 1
        }
        let disabled = try slow.call({ $0.webhooks.getWebhook }, #"{"id":"\#(e2["id"]!.stringValue!)"}"#)
        #expect(disabled["disabled_reason"] == .string("every attempt failed for 5 days") && rounds >= 5 && rounds <= 7)
        // Enabling again clears the failure and resumes the waiting deliveries.
        slow.transport.answer(OutboundResponse(status: 204, latencyMilliseconds: 1))
        try slow.call({ $0.webhooks.updateWebhook }, #"{"id":"\#(e2["id"]!.stringValue!)","enabled":true}"#)
        slow.clock.advance(milliseconds: 86_400_000 * 2)
        while try slow.engine.pump(maxMilliseconds: 1000) > 0 {}
        #expect(try slow.deliveries().contains { $0["status"] == .string("succeeded") })
    }

    @Test("per order and endpoint, deliveries go in sequence: a later event waits for the earlier one")
    func ordering() throws {
        let fx = try WebhookFixture()
        _ = try fx.endpoint()
        fx.transport.answer(OutboundResponse(status: 500, latencyMilliseconds: 1), OutboundResponse(status: 200, latencyMilliseconds: 1))
        let a = try fx.order()
        try fx.call({ $0.orders.transitionOrder }, #"{"id":"\#(a)","to":"confirmed"}"#)
        _ = try fx.order()  // another order's delivery does not wait
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        // a's creation failed; a's confirmation waits behind it; b went through
        // (event 1 is the endpoint's own creation).
        let sent = fx.transport.requests.map { try! JSON.parse($0.body)["data"]!["sequence"]!.intValue! }
        #expect(sent == [2, 4])
        fx.clock.advance(milliseconds: 6000)
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        let all = fx.transport.requests.map { try! JSON.parse($0.body)["data"]!["sequence"]!.intValue! }
        #expect(all == [2, 4, 2, 3], "the retry, then the one that waited")
    }

    @Test("rotation: old and new secrets both sign during the grace period, then only the new one")
    func rotation() throws {
        let fx = try WebhookFixture()
        let e = try fx.endpoint(#""event_types":["order.*"]"#)  // not the rotation's own event
        let old = e["secret"]!.stringValue!
        let rotated = try fx.call({ $0.webhooks.rotateWebhookSecret }, #"{"id":"\#(e["id"]!.stringValue!)","grace_seconds":3600}"#)
        let new = rotated["secret"]!.stringValue!
        #expect(new != old && rotated["secrets"]!.array.count == 2)
        _ = try fx.order()
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        let during = fx.transport.requests[0]
        #expect(verifies(during, secret: old) && verifies(during, secret: new) && during.header("webhook-signature")!.split(separator: " ").count == 2)
        fx.clock.advance(milliseconds: 3_600_000)
        _ = try fx.order()
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        let after = fx.transport.requests[1]
        #expect(verifies(after, secret: new) && !verifies(after, secret: old))
    }

    @Test("deliveries.retry, webhooks.replay and webhooks.test")
    func operations() throws {
        let fx = try WebhookFixture()
        let e = try fx.endpoint(#""event_types":["order.*"]"#)  // not the endpoint's own changes
        let endpointID = e["id"]!.stringValue!
        fx.transport.answer(OutboundResponse(status: 410, latencyMilliseconds: 1))
        _ = try fx.order()
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        let failed = try fx.deliveries()[0]
        try fx.call({ $0.webhooks.updateWebhook }, #"{"id":"\#(endpointID)","enabled":true}"#)
        fx.transport.answer(OutboundResponse(status: 200, latencyMilliseconds: 1))
        let retried = try fx.call({ $0.webhooks.retryDelivery }, #"{"id":"\#(failed["id"]!.stringValue!)"}"#)
        #expect(retried["message_id"] == failed["message_id"] && retried["status"] == .string("pending") && retried["id"] != failed["id"])
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        #expect(try fx.call({ $0.webhooks.getDelivery }, #"{"id":"\#(retried["id"]!.stringValue!)"}"#)["status"] == .string("succeeded"))
        #expect(fx.error({ $0.webhooks.retryDelivery }, #"{"id":"\#(retried["id"]!.stringValue!)"}"#)?.code == .invalidState)
        let replay = try fx.call({ $0.webhooks.replayWebhook }, #"{"id":"\#(endpointID)","from_sequence":2,"to_sequence":2}"#)
        #expect(replay["queued"] == .int(1))
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        #expect(Set(fx.transport.requests.map { $0.header("webhook-id")! }).count == 1, "a replay keeps the webhook-id")
        let test = try fx.call({ $0.webhooks.testWebhook }, #"{"id":"\#(endpointID)"}"#)
        #expect(test["succeeded"] == .bool(true) && test["status_code"] == .int(200))
        #expect(try JSON.parse(fx.transport.requests.last!.body)["type"] == .string("webhook.test") && verifies(fx.transport.requests.last!, secret: e["secret"]!.stringValue!))
        #expect(try fx.call({ $0.webhooks.listDeliveries }, #"{"status":"succeeded","limit":1}"#)["has_more"] == .bool(true))
        fx.transport.answer(OutboundResponse(status: 500, latencyMilliseconds: 1))
        _ = try fx.order()
        _ = try fx.engine.pump(maxMilliseconds: 1000)
        let waiting = try fx.call({ $0.webhooks.listDeliveries }, #"{"status":"pending"}"#)["data"]!.array
        #expect(waiting.count == 1)
        try fx.call({ $0.webhooks.deleteWebhook }, #"{"id":"\#(endpointID)"}"#)
        #expect(fx.error({ $0.webhooks.getWebhook }, #"{"id":"\#(endpointID)"}"#)?.code == .notFound)
        let ended = try fx.call({ $0.webhooks.getDelivery }, #"{"id":"\#(waiting[0]["id"]!.stringValue!)"}"#)
        #expect(ended["status"] == .string("failed") && ended["attempts"]!.array.last?["error"] == .string("endpoint deleted"))
        _ = try fx.order()
        #expect(try fx.engine.pump(maxMilliseconds: 1000) == 0)
    }

    @Test("webhooks.delete ends 200 pending deliveries at once and the rest with a job; deliveries.list by endpoint reads its index")
    func deleteManyPending() throws {
        let fx = try WebhookFixture()
        let e = try fx.endpoint(#""event_types":["order.created"]"#)["id"]!.stringValue!
        let other = try fx.endpoint(#""event_types":["order.created"]"#)["id"]!.stringValue!
        fx.transport.answer(OutboundResponse(status: 500, latencyMilliseconds: 1))  // every delivery stays pending, retrying
        for _ in 0..<230 { _ = try fx.order() }
        _ = try fx.engine.pump(maxMilliseconds: 5000)
        func pending(_ id: String) throws -> Int {
            try fx.call({ $0.webhooks.listDeliveries }, #"{"endpoint_id":"\#(id)","status":"pending","limit":250}"#)["data"]!.array.count
        }
        let counts = (try pending(e), try pending(other), try fx.deliveries().count)
        #expect(counts.0 == 230 && counts.1 == 230, "\(counts)")
        try fx.call({ $0.webhooks.deleteWebhook }, #"{"id":"\#(e)"}"#)
        #expect(try pending(e) == 30)
        let job = try fx.call({ $0.jobs.listJobs }, #"{"type":"webhooks.fail_pending"}"#)["data"]!.array
        #expect(job.count == 1)
        for _ in 0..<10 where try fx.core.runDueTimers() > 0 {}
        #expect(try pending(e) == 0 && pending(other) == 230)
        let failed = try fx.call({ $0.webhooks.listDeliveries }, #"{"endpoint_id":"\#(e)","status":"failed","limit":250}"#)["data"]!.array
        #expect(failed.count == 230 && failed.allSatisfy { $0["attempts"]!.array.last?["error"] == .string("endpoint deleted") })
        #expect(try fx.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
    }
}

@Suite("Webhook sending and the methods that change endpoints")
struct WebhookSendLockTests {
    @Test("a hanging endpoint does not hold up webhooks.delete or replay: sending runs outside the pass lock, and its late outcome is dropped")
    func sendOutsidePassLock() throws {
        nonisolated(unsafe) let fx = try WebhookFixture()
        let e = try fx.endpoint()["id"]!.stringValue!
        _ = try fx.order()
        let hang = (entered: DispatchSemaphore(value: 0), gate: DispatchSemaphore(value: 0))
        fx.transport.hang = hang
        let pumped = DispatchSemaphore(value: 0)
        Thread.detachNewThread { _ = try? fx.engine.pump(maxMilliseconds: 60_000); pumped.signal() }
        #expect(hang.entered.wait(timeout: .now() + 30) == .success)
        // The send is in flight; the pass lock is free.
        let answered = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var deleted: JSON?
        Thread.detachNewThread {
            _ = try? fx.call({ $0.webhooks.replayWebhook }, #"{"id":"\#(e)","from_sequence":1}"#)
            deleted = try? fx.call({ $0.webhooks.deleteWebhook }, #"{"id":"\#(e)"}"#)
            answered.signal()
        }
        let inTime = answered.wait(timeout: .now() + 10) == .success
        fx.transport.hang = nil
        hang.gate.signal()
        #expect(inTime, "webhooks.replay / delete waited for the hanging send")
        if !inTime { _ = answered.wait(timeout: .now() + 30) }
        #expect(pumped.wait(timeout: .now() + 30) == .success)
        #expect(deleted?["deleted"] == .bool(true))
        // The endpoint went while its delivery was in flight: the delivery ends failed, not succeeded.
        #expect(try fx.deliveries().allSatisfy { $0["status"] == .string("failed") })
    }
}
