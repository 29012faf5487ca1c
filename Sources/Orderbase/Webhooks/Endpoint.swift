/// A webhook endpoint (its fields: `WebhookEndpoint+Fields.generated.swift`,
/// declared in Tools/codegen/record_fields.py).
extension WebhookEndpoint {
    struct Secret: Sendable {
        var value: String          // "whsec_" + base64 of 24 random bytes
        var createdAt: Int64
        var expiresAt: Int64?      // set when rotated out: it signs alongside the new one until then
    }

    static let payloads = ["full", "changes"]

    /// Secrets that sign a message sent at `now` (newest first).
    func signingSecrets(at now: Int64) -> [String] {
        secrets.filter { s in s.expiresAt.map { now < $0 } ?? true }.sorted { $0.createdAt > $1.createdAt }.map(\.value)
    }

    func matches(_ type: String) -> Bool { TenantCore.typeMatches(type, eventTypes) }

    static func newSecret() throws(OrderbaseError) -> String { "whsec_" + Base64.encode(try Crypto.randomBytes(24)) }

    /// The API form with the new `secret` in full (create, rotate: shown only then).
    func apiJSON(secret: String) -> [UInt8] {
        var w = JSONWriter()
        write(&w) { w in w.key("secret"); w.string(secret) }
        return w.bytes
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
