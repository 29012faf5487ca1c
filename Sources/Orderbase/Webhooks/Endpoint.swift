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
///
/// The grammar, which `pattern` states as a regular expression for the OpenAPI
/// document: the scheme (any case) and `://`; a host that is a name of RFC 3986
/// reg-name characters (letters, digits, `-._~%!$&'()*+,;=`) or an IPv6 literal in
/// brackets (hex digits, `:` and `.`); an optional port 1 to 65535 without leading
/// zeros; then nothing, or a path or query of printable ASCII without `#`. At
/// most 2048 characters.
public enum WebhookURL {
    public static let maxCharacters = 2048
    static let nameCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=".utf8)
    static let ipv6Characters = Set("0123456789ABCDEFabcdef:.".utf8)

    /// The regular expression of URLs `check` accepts.
    public static func pattern(allowHTTP: Bool) -> String {
        let scheme = allowHTTP ? "[Hh][Tt][Tt][Pp][Ss]?" : "[Hh][Tt][Tt][Pp][Ss]"
        let host = "([A-Za-z0-9._~%!$&'()*+,;=-]+|\\[[0-9A-Fa-f:.]+\\])"
        let port = "(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
        return "^" + scheme + "://" + host + port + "([/?][!\"$-~]*)?$"
    }

    static func check(_ url: String, allowHTTP: Bool, field: String = "url") throws(OrderbaseError) {
        func bad(_ why: String) -> OrderbaseError { OrderbaseError.invalid("\(field) \(why)", field: field) }
        guard url.utf8.count <= maxCharacters else { throw bad("is longer than \(maxCharacters) characters") }
        guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw bad("must be an absolute URL of printable ASCII without spaces (percent-encode the rest)")
        }
        let bytes = Array(url.utf8)
        let lower = url.lowercased()
        var i: Int
        if lower.hasPrefix("https://") { i = 8 }
        else if lower.hasPrefix("http://") {
            guard allowHTTP else { throw bad("must use https (engine option webhook_allow_http allows http)") }
            i = 7
        } else { throw bad("must start with https://") }
        guard !bytes.contains(UInt8(ascii: "#")) else { throw bad("must not have a fragment") }
        let end = bytes[i...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.count
        let authority = bytes[i..<end]
        guard !authority.isEmpty else { throw bad("has no host") }
        guard !authority.contains(UInt8(ascii: "@")) else { throw bad("must not carry credentials (user:password@); sign with the endpoint secret instead") }
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { throw bad("has an unclosed IPv6 address") }
            let literal = authority[(authority.startIndex + 1)..<close]
            guard !literal.isEmpty, literal.allSatisfy(ipv6Characters.contains) else { throw bad("has a malformed IPv6 address") }
            i = close + 1
        } else {
            let name = authority.prefix { $0 != UInt8(ascii: ":") }
            guard !name.isEmpty else { throw bad("has no host") }
            guard name.allSatisfy(nameCharacters.contains) else { throw bad("has a host with characters a host name cannot have") }
            i = name.endIndex
        }
        if i < end {
            let p = bytes[i..<end]
            guard p.first == UInt8(ascii: ":") else { throw bad("has a malformed host") }
            let digits = p.dropFirst()
            guard !digits.isEmpty, digits.count <= 5, digits.first != UInt8(ascii: "0"),
                  digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let n = Int(String(decoding: digits, as: UTF8.self)), n <= 65535 else {
                throw bad("has an invalid port (1 to 65535, no leading zeros)")
            }
        }
    }
}
