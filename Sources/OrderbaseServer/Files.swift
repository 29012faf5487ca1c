import Orderbase
import OrderbaseAPI

/// Attachments over HTTP (docs/attachments.md, "REST"): uploads streamed to the
/// file store as the body arrives (a raw body, or `multipart/form-data`), and
/// downloads streamed from it. Files are not JSON, so these two routes are not
/// catalogue methods and are not in the OpenAPI document.
extension RESTHandler {
    static let uploadPath = "/v1/attachments/upload"
    static let uploadQuery: [Property] = [
        Property("order_id", .string(max: 64, min: 1), required: false, doc: nil),
        Property("owner_type", .oneOf(ValueLists.attachmentOwnerTypes), required: false, doc: nil),
        Property("owner_id", .string(max: 64, min: 1), required: false, doc: nil),
        Property("file_name", .string(max: 1020, min: 1), required: false, doc: nil),
    ]

    /// An upload begun, or the answer that refuses it.
    public enum UploadStart { case started(RESTUpload), refused(HTTPOutput) }

    /// Whether a request head starts a streamed upload.
    public func isUpload(method: String, path: String) -> Bool { method == "POST" && path == Self.uploadPath }

    /// Checks an upload's key, scope and fields from its head, and opens it; or the answer that refuses it.
    public func beginUpload(_ input: HTTPInput) -> UploadStart {
        let requestID = Self.requestID(input.header("x-request-id"))
        func refusal(_ status: Int, _ body: [UInt8], _ headers: [(name: String, value: String)] = []) -> HTTPOutput {
            HTTPOutput(status: status, headers: headers + [("X-Request-Id", requestID)], body: body, route: Self.uploadPath)
        }
        do {
            let key = try authenticate(input)
            if let limiter, let wait = limiter.take(key.id) {
                throw HTTPFailure(429, OrderbaseError(.limitExceeded, "rate limit of \(limiter.perSecond) requests per second exceeded"),
                                  httpCode: HTTPOnlyErrors.rateLimited, headers: [("Retry-After", String(wait))])
            }
            guard let tenant = key.tenant else {
                throw HTTPFailure(403, OrderbaseError(.invalidArgument, "uploads are tenant requests; operator keys manage tenants and keys only"),
                                  httpCode: HTTPOnlyErrors.forbidden)
            }
            guard key.scope >= .write else {
                throw HTTPFailure(403, OrderbaseError(.invalidArgument, "uploading needs a key with scope write; this key has \(key.scope.rawValue)"),
                                  httpCode: HTTPOnlyErrors.forbidden)
            }
            var fields = try QueryString.parse(input.query ?? "", fields: Self.uploadQuery)
            fields["request_id"] = .string(requestID)
            fields["actor"] = .object(["type": .string("api"), "id": .string(key.id)])
            let t = try engine.openTenant(tenant)
            let contentType = (input.header("content-type") ?? "").lowercased()
            do {
                if contentType.hasPrefix("multipart/form-data") {
                    guard let boundary = Multipart.boundary(input.header("content-type") ?? "") else {
                        throw HTTPFailure.invalid("multipart/form-data needs a boundary parameter", field: "Content-Type")
                    }
                    guard fields["file_name"] == nil else {
                        throw HTTPFailure.invalid("a multipart upload names its file in the file part's filename", field: "file_name")
                    }
                    let core = try t.core()
                    let base = fields
                    let reader = Multipart(boundary: boundary) { (form: [String: String], fileName: String) throws(OrderbaseError) -> Upload in
                        var request = base
                        for (k, v) in form { request[k] = .string(v) }
                        request["file_name"] = .string(fileName)
                        return try core.attachments.begin(.object(request))
                    }
                    return .started(RESTUpload(tenant: t, requestID: requestID, sink: .multipart(reader)))
                }
                return .started(RESTUpload(tenant: t, requestID: requestID, sink: .raw(try t.core().attachments.begin(.object(fields)))))
            } catch {
                t.close()
                throw error
            }
        } catch let f as HTTPFailure {
            return .refused(refusal(f.status, f.body, f.headers))
        } catch let e as OrderbaseError {
            return .refused(refusal(Self.status(for: e), e.json))
        } catch {
            return .refused(refusal(500, OrderbaseError(.internal, "\(error)").json))
        }
    }

    /// An upload whose body is already in memory (transports that do not stream).
    func uploadWhole(_ input: HTTPInput) throws -> HTTPOutput {
        switch beginUpload(input) {
        case .refused(let out): return out
        case .started(let u):
            do { try u.write(input.body) } catch { let out = u.failure(error); u.abort(); return out }
            return u.finish()
        }
    }

    /// `GET /v1/attachments/{id}/content`: the bytes, streamed from the file store.
    func download(_ input: HTTPInput, _ params: [String: String], template: String) throws -> HTTPOutput {
        let key = try authenticate(input)
        guard let tenant = key.tenant else {
            throw HTTPFailure(403, OrderbaseError(.invalidArgument, "downloads are tenant requests; operator keys manage tenants and keys only"),
                              httpCode: HTTPOnlyErrors.forbidden)
        }
        if let q = input.query, !q.isEmpty { throw HTTPFailure.invalid("GET /v1/attachments/{id}/content takes no query") }
        let t = try engine.openTenant(tenant)
        defer { t.close() }
        do {
            let c = try t.core().attachments.openContent(params["id"] ?? "")
            var out = HTTPOutput(status: 200, headers: [("Content-Disposition", c.disposition), ("ETag", "\"\(c.sha256)\""),
                                                        ("X-Content-Type-Options", "nosniff")], body: [], route: template)
            out.contentType = c.contentType
            out.file = (c.fd, c.size)
            return out
        } catch {
            throw HTTPFailure(Self.status(for: error), error)
        }
    }
}

/// An upload arriving over HTTP: its tenant held open until it ends.
public final class RESTUpload: @unchecked Sendable {
    enum Sink { case raw(Upload), multipart(Multipart) }
    let tenant: Tenant
    let requestID: String
    private var sink: Sink
    private var closed = false

    init(tenant: Tenant, requestID: String, sink: Sink) {
        self.tenant = tenant
        self.requestID = requestID
        self.sink = sink
    }

    /// More of the body.
    public func write(_ bytes: [UInt8]) throws(OrderbaseError) {
        switch sink {
        case .raw(let u): try u.write(bytes)
        case .multipart(let m): try m.feed(bytes)
        }
    }

    /// The end of the body: the attachment (201) or the refusal.
    public func finish() -> HTTPOutput {
        defer { end() }
        do {
            let up: Upload
            switch sink {
            case .raw(let u): up = u
            case .multipart(let m): up = try m.finish()
            }
            return HTTPOutput(status: 201, headers: [("X-Request-Id", requestID)], body: try up.finish(), route: RESTHandler.uploadPath)
        } catch {
            return failure(error)
        }
    }

    public func failure(_ error: OrderbaseError) -> HTTPOutput {
        let status = error.code == .limitExceeded && error.details?["reason"] == .string("file_too_large") ? 413 : RESTHandler.status(for: error)
        return HTTPOutput(status: status, headers: [("X-Request-Id", requestID)], body: error.json, route: RESTHandler.uploadPath)
    }

    /// Drops what was written (a connection closed mid-body, or a refusal).
    public func abort() {
        switch sink {
        case .raw(let u): u.abort()
        case .multipart(let m): m.abort()
        }
        end()
    }

    private func end() {
        if !closed { closed = true; tenant.close() }
    }
}

/// A streaming `multipart/form-data` reader (RFC 7578): text fields before one
/// part named `file`, whose bytes go to an upload as they arrive.
final class Multipart: @unchecked Sendable {
    enum State { case preamble, delimiter, headers, field(String), file, done }
    private let delimiter: [UInt8]
    private var state = State.preamble
    private var buffer: [UInt8] = [0x0D, 0x0A]  // so the first boundary reads as every other: CRLF "--" boundary
    private var form: [String: String] = [:]
    private var fieldValue: [UInt8] = []
    private var upload: Upload?
    private let begin: ([String: String], String) throws(OrderbaseError) -> Upload

    init(boundary: String, begin: @escaping ([String: String], String) throws(OrderbaseError) -> Upload) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        self.begin = begin
    }

    /// The boundary parameter of a `multipart/form-data` content type (1–70 characters, quoted or not).
    static func boundary(_ contentType: String) -> String? {
        for part in contentType.split(separator: ";").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, String(kv[0]).trimmingSpaces.lowercased() == "boundary" else { continue }
            var v = Substring(String(kv[1]).trimmingSpaces)
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = v.dropFirst().dropLast() }
            return (1...70).contains(v.utf8.count) ? String(v) : nil
        }
        return nil
    }

    static func bad(_ why: String) -> OrderbaseError { OrderbaseError.invalid("malformed multipart body: \(why)", field: "body") }

    private func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = 0
        let first = needle[0]
        while i <= hay.count - needle.count {
            if hay[i] == first && Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    private func emit(_ bytes: ArraySlice<UInt8>) throws(OrderbaseError) {
        guard !bytes.isEmpty else { return }
        switch state {
        case .file: try upload!.write(Array(bytes))
        case .field:
            fieldValue += bytes
            if fieldValue.count > 1024 { throw Self.bad("a text field is longer than 1024 bytes") }
        default: break
        }
    }

    func feed(_ bytes: [UInt8]) throws(OrderbaseError) {
        buffer += bytes
        while true {
            switch state {
            case .done:
                buffer.removeAll()
                return
            case .preamble, .field, .file:
                if let at = find(delimiter, in: buffer) {
                    try emit(buffer[..<at])
                    if case .field(let name) = state {
                        guard let v = String(validating: fieldValue, as: UTF8.self) else { throw Self.bad("field \(name) is not UTF-8") }
                        form[name] = v
                        fieldValue = []
                    }
                    buffer.removeFirst(at + delimiter.count)
                    state = .delimiter
                } else {
                    let keep = min(buffer.count, delimiter.count - 1)
                    try emit(buffer[..<(buffer.count - keep)])
                    buffer.removeFirst(buffer.count - keep)
                    return
                }
            case .delimiter:
                guard buffer.count >= 2 else { return }
                if buffer[0] == 0x2D && buffer[1] == 0x2D { state = .done; continue }
                guard buffer[0] == 0x0D && buffer[1] == 0x0A else { throw Self.bad("a boundary is not followed by CRLF") }
                buffer.removeFirst(2)
                state = .headers
            case .headers:
                guard let end = find([0x0D, 0x0A, 0x0D, 0x0A], in: buffer) else {
                    if buffer.count > 8192 { throw Self.bad("part headers longer than 8 KiB") }
                    return
                }
                let text = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                try startPart(headers: text)
            }
        }
    }

    private func startPart(headers: String) throws(OrderbaseError) {
        var name: String?, fileName: String?
        for line in headers.split(separator: "\r\n") {
            let kv = line.split(separator: ":", maxSplits: 1)
            guard kv.count == 2, String(kv[0]).trimmingSpaces.lowercased() == "content-disposition" else { continue }
            let params = Self.parameters(String(kv[1]))
            name = params["name"]
            fileName = params["filename"]
        }
        guard let name else { throw Self.bad("a part has no Content-Disposition name") }
        if name == "file" {
            guard upload == nil else { throw Self.bad("more than one file part") }
            guard let fileName else { throw OrderbaseError.invalid("the file part needs a filename", field: "file_name") }
            upload = try begin(form, fileName)
            state = .file
        } else {
            guard upload == nil else { throw Self.bad("field \(name) comes after the file part (fields go first)") }
            guard ["order_id", "owner_type", "owner_id"].contains(name) else {
                throw OrderbaseError.invalid("unknown field \(name) (order_id, owner_type, owner_id, then file)", field: name)
            }
            state = .field(name)
        }
    }

    /// `form-data; name="file"; filename="a \"b\".pdf"` → its parameters (quoted strings unescaped).
    static func parameters(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        var chars = Array(s.unicodeScalars)[...]
        while !chars.isEmpty {
            while let c = chars.first, c == ";" || c == " " || c == "\t" { chars = chars.dropFirst() }
            var key = ""
            while let c = chars.first, c != "=" && c != ";" { key.unicodeScalars.append(c); chars = chars.dropFirst() }
            guard chars.first == "=" else { continue }
            chars = chars.dropFirst()
            var value = ""
            if chars.first == "\"" {
                chars = chars.dropFirst()
                while let c = chars.first, c != "\"" {
                    chars = chars.dropFirst()
                    if c == "\\", let n = chars.first { value.unicodeScalars.append(n); chars = chars.dropFirst() } else { value.unicodeScalars.append(c) }
                }
                chars = chars.dropFirst()
            } else {
                while let c = chars.first, c != ";" { value.unicodeScalars.append(c); chars = chars.dropFirst() }
            }
            out[key.trimmingSpaces.lowercased()] = value
        }
        return out
    }

    /// The upload once the body is complete.
    func finish() throws(OrderbaseError) -> Upload {
        guard case .done = state else { throw Self.bad("the body ends before its closing boundary") }
        guard let upload else { throw OrderbaseError.invalid("the body has no file part", field: "file") }
        return upload
    }

    func abort() { upload?.abort() }
}
