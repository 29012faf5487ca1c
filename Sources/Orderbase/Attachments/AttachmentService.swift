import OrderbaseStore
#if canImport(Glibc)
import Glibc
#endif

/// Files on orders and notes (docs/attachments.md).
extension Attachment: AuditedRecord {
    static let ownerTypes = ["order", "note"]
    static let maxFileNameLength = 255

    /// Its events and audit entries carry the order's id.
    var belongsToOrder: String? { orderID }
    /// `I attachment order_id <order> <id>` (every attachment of an order, its notes' included) and
    /// `I attachment owner_id <order or note> <id>`.
    var indexKeys: [[UInt8]] {
        [Keyspace.indexKey(.attachment, "order_id", orderID, id), Keyspace.indexKey(.attachment, "owner_id", ownerID, id)]
    }

    /// A file name is metadata: 1–255 characters, not `.` or `..`, no `/`, `\` or control characters.
    static func checkFileName(_ s: String, field: String = "file_name") throws(OrderbaseError) {
        guard !s.isEmpty, !s.isLonger(than: maxFileNameLength), s != ".", s != ".." else {
            throw OrderbaseError.invalid("\(field) must be 1 to \(maxFileNameLength) characters, not . or ..", field: field)
        }
        guard !s.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) || $0 == "/" || $0 == "\\" }) else {
            throw OrderbaseError.invalid("\(field) must not hold /, \\ or control characters (it is a name, never a path)", field: field)
        }
    }

    /// `Content-Disposition` for a download: an ASCII fallback and the name in RFC 8187 form.
    var contentDisposition: String {
        let fallback = String(decoding: fileName.utf8.map { ($0 < 0x20 || $0 >= 0x7F || $0 == 0x22 || $0 == 0x5C) ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~".utf8)
        var encoded = ""
        for b in fileName.utf8 {
            if unreserved.contains(b) { encoded.unicodeScalars.append(Unicode.Scalar(b)) } else {
                let hex = Array("0123456789ABCDEF".utf8)
                encoded += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 0xF)]], as: UTF8.self)
            }
        }
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}

/// Where an upload's file will belong, read from its request before any byte is written.
struct AttachmentTarget: Sendable {
    var orderID: String
    var ownerType: String
    var ownerID: String
    var fileName: String
    var request: RequestContext
}

/// One file being uploaded: bytes go to a `.part` file as they come, hashed and
/// sniffed on the way, and become an attachment on `finish` (docs/attachments.md).
/// One thread at a time; `abort` (or dropping it) removes the `.part`.
public final class Upload: @unchecked Sendable {
    let service: AttachmentService
    let target: AttachmentTarget
    private var fd: Int32
    private let partPath: String
    private let sha: SHA256Stream
    private var sniffer = Sniffer()
    public private(set) var size: Int64 = 0
    private var done = false

    init(service: AttachmentService, target: AttachmentTarget) throws(OrderbaseError) {
        self.service = service
        self.target = target
        sha = try SHA256Stream()
        (fd, partPath) = try service.files.openPart()
    }

    /// Appends bytes. Past `attachment_max_bytes` the upload is dropped (`limit_exceeded`).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(OrderbaseError) {
        guard !done else { throw OrderbaseError(.invalidState, "the upload is finished or aborted") }
        let max = service.core.fileLimits.maxFileBytes
        guard size + Int64(bytes.count) <= max else {
            abort()
            throw OrderbaseError(.limitExceeded, "the file is larger than attachment_max_bytes (\(max))", field: "file",
                                 details: .object(["reason": .string("file_too_large"), "limit": .int(max)]))
        }
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                let e = FileStore.ioError("cannot write the upload")
                abort()
                throw e
            }
            off += n
        }
        sha.update(bytes)
        sniffer.feed(bytes)
        size += Int64(bytes.count)
    }

    /// Appends bytes held in an array.
    public func write(_ bytes: [UInt8]) throws(OrderbaseError) {
        var failure: OrderbaseError?
        bytes.withUnsafeBytes { b in
            do throws(OrderbaseError) { try write(b) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Makes the attachment (event `attachment.created`) and answers it; the upload is over either way.
    public func finish() throws(OrderbaseError) -> [UInt8] {
        guard !done else { throw OrderbaseError(.invalidState, "the upload is finished or aborted") }
        defer { abort() }
        guard size > 0 else { throw OrderbaseError.invalid("the file is empty", field: "file") }
        guard fsync(fd) == 0 else { throw FileStore.ioError("cannot sync the upload") }
        close(fd)
        fd = -1
        let type = sniffer.contentType
        guard service.core.fileLimits.contentTypes.contains(type) else {
            throw OrderbaseError(.invalidArgument, "files of type \(type) are not accepted (attachment_content_types)", field: "file",
                                 details: .object(["reason": .string("content_type_not_allowed"), "content_type": .string(type)]))
        }
        let answer = try service.commit(target, part: partPath, sha256: Crypto.hex(sha.finish()), size: size, contentType: type)
        done = true
        return answer
    }

    /// Drops the upload and its `.part` file (nothing was made).
    public func abort() {
        if fd >= 0 { close(fd); fd = -1 }
        if !done { unlink(partPath) }
        done = true
    }

    deinit { abort() }
}

extension AttachmentService {
    static let usageName = "files_usage"
    static let collectTimer = "files.collect"

    var files: FileStore { core.fileStore }

    /// The tenant's usage (the sum of its attachments' sizes), as this write sees it.
    static func usage(_ wc: inout WriteContext) throws(OrderbaseError) -> Int64 {
        guard let b = try wc.read(Keyspace.metaKey(usageName)) else { return 0 }
        return Int64(String(decoding: b, as: UTF8.self)) ?? 0
    }

    /// The owner named by `order_id`, or `owner_type` and `owner_id`, checked to exist (in a write: as it sees it).
    func resolve(ownerType: String, ownerID: String, orderID: String?, _ wc: inout WriteContext) throws(OrderbaseError) -> String {
        if ownerType == "note" {
            guard let note = try wc.loadIfPresent(OrderNote.self, ownerID) else {
                throw OrderbaseError(.notFound, "no note with id \(ownerID)", field: "owner_id")
            }
            if let orderID, orderID != note.orderID {
                throw OrderbaseError.invalid("note \(ownerID) is on order \(note.orderID), not \(orderID)", field: "order_id")
            }
            return note.orderID
        }
        guard try wc.read(Keyspace.orderKey(ownerID)) != nil else {
            throw OrderbaseError(.notFound, "no order with id \(ownerID)", field: orderID != nil ? "order_id" : "owner_id")
        }
        return ownerID
    }

    /// `{"order_id" | "owner_type" + "owner_id", "file_name"}` → an upload to write bytes to (`orderbase_upload_begin`).
    public func begin(_ request: JSON) throws(OrderbaseError) -> Upload {
        var (f, ctx) = try Fields.request(request)
        let orderID = try f.string("order_id", maxLength: 64, allowEmpty: false)
        var ownerType = try f.oneOf("owner_type", Attachment.ownerTypes)
        var ownerID = try f.string("owner_id", maxLength: 64, allowEmpty: false)
        let fileName = try f.string("file_name", maxLength: 4 * Attachment.maxFileNameLength, required: true)!
        try f.finish()
        try Attachment.checkFileName(fileName)
        if ownerType == nil && ownerID == nil {
            guard let orderID else { throw OrderbaseError.invalid("give order_id, or owner_type and owner_id", field: "order_id") }
            ownerType = "order"
            ownerID = orderID
        }
        guard let ownerType, let ownerID else {
            throw OrderbaseError.invalid("owner_type and owner_id go together", field: ownerType == nil ? "owner_type" : "owner_id")
        }
        if ownerType == "order", let orderID, orderID != ownerID {
            throw OrderbaseError.invalid("order_id and owner_id name different orders", field: "order_id")
        }
        // Checked now (so no byte is written for nothing) and again when the file is complete.
        let order = try core.dryRun(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> String in
            try resolve(ownerType: ownerType, ownerID: ownerID, orderID: orderID, &wc)
        }
        return try Upload(service: self, target: AttachmentTarget(orderID: order, ownerType: ownerType, ownerID: ownerID, fileName: fileName, request: ctx))
    }

    /// The one-call form: `begin`, one `write`, `finish` (`orderbase_attach`).
    public func attach(_ request: JSON, bytes: UnsafeRawBufferPointer) throws(OrderbaseError) -> [UInt8] {
        let up = try begin(request)
        try up.write(bytes)
        return try up.finish()
    }

    /// The end of an upload: under the write lock, the owner checked again, the quota, the blob published, the record written.
    func commit(_ t: AttachmentTarget, part: String, sha256: String, size: Int64, contentType: String) throws(OrderbaseError) -> [UInt8] {
        let quota = core.fileLimits.quotaBytes
        return try write(t.request) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let orderID = try resolve(ownerType: t.ownerType, ownerID: t.ownerID, orderID: t.orderID, &wc)
            let used = try Self.usage(&wc)
            guard used + size <= quota else {
                throw OrderbaseError(.limitExceeded, "the tenant's attachments would take \(used + size) bytes; its quota is \(quota) (attachment_quota_bytes)",
                                     field: "file", details: .object(["quota": .string("attachment_bytes"), "reason": .string("quota"), "limit": .int(quota), "used": .int(used)]))
            }
            _ = try files.publish(part: part, hex: sha256)
            var a = Attachment.blank
            a.id = ids.make("att_", at: wc.now)
            a.orderID = orderID
            a.ownerType = t.ownerType
            a.ownerID = t.ownerID
            a.fileName = t.fileName
            a.contentType = contentType
            a.size = size
            a.sha256 = sha256
            a.uploadedBy = t.request.actor
            a.createdAt = wc.now
            wc.commit("attachment.created", before: nil, after: a)
            wc.put(Keyspace.metaKey(Self.usageName), Array(String(used + size).utf8))
            return a.apiJSON
        }
    }

    // MARK: attachments.get, list, delete, collect

    public func getAttachment(_ request: JSON) throws(OrderbaseError) -> [UInt8] { try getRecord(Attachment.self, request) }

    /// `order_id`?, `owner_type`?, `owner_id`?, `limit`?, `starting_after`? → the attachments that match every filter given
    /// (none: all of the tenant's), newest first.
    public func listAttachments(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, _) = try Fields.request(request)
        let orderID = try f.string("order_id", maxLength: 64, allowEmpty: false)
        let ownerType = try f.oneOf("owner_type", Attachment.ownerTypes)
        let ownerID = try f.string("owner_id", maxLength: 64, allowEmpty: false)
        let limit = Int(try f.int("limit", in: 1...250) ?? 50)
        let after = try f.string("starting_after", maxLength: 64, allowEmpty: false)
        try f.finish()
        let index: (field: String, value: String)? = ownerID.map { ("owner_id", $0) } ?? orderID.map { ("order_id", $0) }
        return try newestFirst(Attachment.self, index: index, after: after, limit: limit, keep: { a in
            (orderID == nil || a.orderID == orderID) && (ownerType == nil || a.ownerType == ownerType) && (ownerID == nil || a.ownerID == ownerID)
        })
    }

    /// `{"id"}` → the attachment as it was. Event `attachment.deleted`; its blob goes at the next collection if nothing names it.
    public func deleteAttachment(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let id = try f.string("id", maxLength: 64, required: true)!
        try f.finish()
        return try write(ctx) { (wc: inout WriteContext) throws(OrderbaseError) -> [UInt8] in
            let a = try wc.load(Attachment.self, id)
            wc.commit("attachment.deleted", before: a, after: nil)
            let used = try Self.usage(&wc)
            wc.put(Keyspace.metaKey(Self.usageName), Array(String(max(0, used - a.size)).utf8))
            // One collection per hour at most, after the grace period.
            let hour: Int64 = 3_600_000
            wc.schedule(Self.collectTimer, target: "files", at: (wc.now + FileStore.collectGraceMs + hour) / hour * hour)
            return a.apiJSON
        }
    }

    /// The blobs some attachment names.
    func namedBlobs() throws(OrderbaseError) -> Set<String> {
        var named: Set<String> = []
        try scan(from: [Keyspace.attachment], to: [Keyspace.attachment + 1]) { _, v throws(OrderbaseError) in
            named.insert(try Attachment.decode(Array(v)).sha256)
            return true
        }
        return named
    }

    /// `{"min_age_minutes"?}` → `{"removed", "bytes", "kept_young"}`: blobs no attachment names, older than the grace period, removed.
    public func collect(_ request: JSON) throws(OrderbaseError) -> [UInt8] {
        var (f, ctx) = try Fields.request(request)
        let minutes = try f.int("min_age_minutes", in: 0...10_080) ?? FileStore.collectGraceMs / 60_000
        try f.finish()
        // Under the write lock: no upload publishes a blob while the names are read and blobs removed.
        let r = try core.dryRun(ctx) { (_: inout WriteContext) throws(OrderbaseError) in files.collect(named: try namedBlobs(), graceMs: minutes * 60_000) }
        var w = JSONWriter()
        w.beginObject()
        w.key("removed"); w.int(r.removed)
        w.key("bytes"); w.int(r.bytes)
        w.key("kept_young"); w.int(r.young)
        w.endObject()
        return w.bytes
    }

    /// The `files.collect` timer (set by deletions).
    static let collectAction = TimerAction(name: collectTimer) { core, _, _ throws(OrderbaseError) in
        let service = core.attachments
        _ = service.files.collect(named: try service.namedBlobs(), graceMs: FileStore.collectGraceMs)
    }

    // MARK: reading the bytes

    /// The attachment and its blob open for reading (the caller closes the descriptor).
    public func openContent(_ id: String) throws(OrderbaseError) -> (attachment: [UInt8], contentType: String, disposition: String, sha256: String, size: Int64, fd: Int32) {
        let a = try stored(Attachment.self, id)
        return (a.apiJSON, a.contentType, a.contentDisposition, a.sha256, a.size, try files.open(a.sha256))
    }

    /// Up to `into.count` bytes of the attachment's file from `offset` (0 at the end) (`orderbase_attachment_read`).
    public func read(_ id: String, offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(OrderbaseError) -> Int {
        guard offset >= 0 else { throw OrderbaseError.invalid("offset must be 0 or more", field: "offset") }
        let a = try stored(Attachment.self, id)
        guard offset < a.size, buffer.count > 0 else { return 0 }
        let fd = try files.open(a.sha256)
        defer { close(fd) }
        var total = 0
        while total < buffer.count {
            let n = pread(fd, buffer.baseAddress! + total, buffer.count - total, off_t(offset) + off_t(total))
            if n < 0 { if errno == EINTR { continue }; throw FileStore.ioError("cannot read attachment \(id)") }
            if n == 0 { break }
            total += n
        }
        return total
    }
}
