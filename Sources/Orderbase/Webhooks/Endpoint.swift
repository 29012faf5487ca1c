/// A webhook endpoint: where a tenant's events go, which ones, and the
/// secrets that sign them (Standard Webhooks, standardwebhooks.com).
struct WebhookEndpoint: Sendable, StoredRecord {
    static let kind = RecordKind.webhookEndpoint
    static let noun = "webhook endpoint"
    static func key(_ id: String) -> [UInt8] { Keyspace.endpointKey(id) }
    var subjectID: String { id }
    var storedJSON: [UInt8] { stored }
    var apiJSON: [UInt8] {
        var w = JSONWriter()
        write(&w)
        return w.bytes
    }

    struct Secret: Sendable {
        var value: String          // "whsec_" + base64 of 24 random bytes
        var createdAt: Int64
        var expiresAt: Int64?      // set when rotated out: it signs alongside the new one until then
    }

    var id: String
    var url: String
    var description: String?
    var eventTypes: [String] = ["*"]
    var enabled = true
    /// "full": the order after the change; "changes": only the changed fields.
    var payload = "full"
    var secrets: [Secret] = []
    var disabledReason: String?
    /// The first failed attempt since the last success (5 days of failure disables).
    var failingSince: Int64?
    /// Events after this sequence are delivered (those already logged when it was made are not).
    var fromSequence: UInt64 = 0
    var createdAt: Int64 = 0
    var updatedAt: Int64 = 0

    static let payloads = ["full", "changes"]

    /// Secrets that sign a message sent at `now` (newest first).
    func signingSecrets(at now: Int64) -> [String] {
        secrets.filter { s in s.expiresAt.map { now < $0 } ?? true }.sorted { $0.createdAt > $1.createdAt }.map(\.value)
    }

    func matches(_ type: String) -> Bool { TenantCore.typeMatches(type, eventTypes) }

    static func newSecret() throws(OrderbaseError) -> String { "whsec_" + Base64.encode(try Crypto.randomBytes(24)) }

    /// The API form (`stored` false): each secret as its prefix, and the new
    /// `secret` in full only when given (create, rotate). The stored form
    /// (`stored` true) keeps the secrets and `from_sequence`.
    func write(_ w: inout JSONWriter, stored: Bool = false, secret: String? = nil) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("url"); w.string(url)
        w.key("description"); w.optionalString(description)
        w.key("event_types"); w.beginArray(); for t in eventTypes { w.string(t) }; w.endArray()
        w.key("enabled"); w.bool(enabled)
        w.key("payload"); w.string(payload)
        w.key("disabled_reason"); w.optionalString(disabledReason)
        w.key("failing_since"); if let failingSince { w.timestamp(failingSince) } else { w.null() }
        w.key("secrets"); w.beginArray()
        for s in stored ? secrets : secrets.sorted(by: { $0.createdAt > $1.createdAt }) {
            w.beginObject()
            if stored { w.key("value"); w.string(s.value) } else { w.key("prefix"); w.string(String(s.value.prefix(12))) }
            w.key("created_at"); w.timestamp(s.createdAt)
            w.key("expires_at"); if let e = s.expiresAt { w.timestamp(e) } else { w.null() }
            w.endObject()
        }
        w.endArray()
        if stored { w.key("from_sequence"); w.int(Int64(fromSequence)) }
        if let secret { w.key("secret"); w.string(secret) }
        w.key("created_at"); w.timestamp(createdAt)
        w.key("updated_at"); w.timestamp(updatedAt)
        w.endObject()
    }

    var stored: [UInt8] {
        var w = JSONWriter()
        write(&w, stored: true)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> WebhookEndpoint {
        do throws(OrderbaseError) {
            var f = try Fields(try JSON.parse(bytes))
            var e = WebhookEndpoint(id: try f.string("id", required: true)!, url: try f.string("url", maxBytes: Int.max, required: true)!)
            e.description = try f.string("description", maxBytes: Int.max)
            e.eventTypes = (try f.array("event_types", maxCount: Int.max) ?? []).compactMap(\.stringValue)
            e.enabled = try f.bool("enabled") ?? true
            e.payload = try f.string("payload") ?? "full"
            e.disabledReason = try f.string("disabled_reason", maxBytes: Int.max)
            e.failingSince = try f.timestamp("failing_since")
            e.secrets = try f.objects("secrets", maxCount: Int.max) { (g: inout Fields) throws(OrderbaseError) -> Secret in
                Secret(value: try g.string("value", required: true)!, createdAt: try g.timestamp("created_at") ?? 0,
                       expiresAt: try g.timestamp("expires_at"))
            } ?? []
            e.fromSequence = UInt64(try f.int("from_sequence", in: 0...Int64.max) ?? 0)
            e.createdAt = try f.timestamp("created_at") ?? 0
            e.updatedAt = try f.timestamp("updated_at") ?? 0
            return e
        } catch {
            throw OrderbaseError(.corruption, "stored webhook endpoint does not decode: \(error.message)")
        }
    }
}

/// Standard Webhooks signing: `v1,` + base64(HMAC-SHA256(secret, "id.timestamp.body")).
enum WebhookSignature {
    static func sign(id: String, timestamp: Int64, body: [UInt8], secret: String) -> String? {
        guard secret.hasPrefix("whsec_"), let key = Base64.decode(String(secret.dropFirst(6))) else { return nil }
        let content = Array("\(id).\(timestamp).".utf8) + body
        return "v1," + Base64.encode(Crypto.hmacSHA256(key: key, content))
    }

    /// The `webhook-signature` header: one signature per active secret, space-separated.
    static func header(id: String, timestamp: Int64, body: [UInt8], secrets: [String]) -> String {
        secrets.compactMap { sign(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
    }
}

/// Endpoint URLs: https (http only where the engine allows it), a host, no
/// userinfo, no fragment. Addresses are checked later, at connect time.
enum WebhookURL {
    static func check(_ url: String, allowHTTP: Bool, field: String = "url") throws(OrderbaseError) {
        func bad(_ why: String) -> OrderbaseError { OrderbaseError.invalid("\(field) \(why)", field: field) }
        guard url.utf8.count <= 2048 else { throw bad("is longer than 2048 bytes") }
        guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw bad("must be an absolute URL of printable ASCII without spaces (percent-encode the rest)")
        }
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") { rest = url.dropFirst(8) }
        else if lower.hasPrefix("http://") {
            guard allowHTTP else { throw bad("must use https (engine option webhook_allow_http allows http)") }
            rest = url.dropFirst(7)
        } else { throw bad("must start with https://") }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty else { throw bad("has no host") }
        guard !authority.contains("@") else { throw bad("must not carry credentials (user:password@); sign with the endpoint secret instead") }
        guard !url.contains("#") else { throw bad("must not have a fragment") }
        var host = Substring(authority)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw bad("has an unclosed IPv6 address") }
            let after = host[host.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { throw bad("has a malformed host") }
            if after.hasPrefix(":") { try port(after.dropFirst()) }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            try port(host[host.index(after: colon)...])
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw bad("has no host") }
        func port(_ p: Substring) throws(OrderbaseError) {
            guard !p.isEmpty, p.count <= 5, p.allSatisfy(\.isASCIIDigit), let n = Int(p), (1...65535).contains(n) else {
                throw bad("has an invalid port")
            }
        }
    }
}
