/// A notification channel (docs/notifications.md); its fields are declared in
/// Tools/codegen/record_fields.py (`NotificationChannel+Fields.generated.swift`),
/// its email and SMS settings here.
extension NotificationChannel {
    struct Email: Sendable, Equatable {
        var host: String
        var port: Int64
        /// "starttls" (required, not opportunistic), "smtps" (TLS from the first byte) or "none".
        var security: String
        var username: String?
        var password: String?
        var from: String
        var fromName: String?
        var replyTo: String?

        static let securities = ["starttls", "smtps", "none"]
        static func defaultPort(_ security: String) -> Int64 { security == "smtps" ? 465 : security == "starttls" ? 587 : 25 }
        var url: String { "\(security == "smtps" ? "smtps" : "smtp")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

        /// The stored form keeps the password; the API form says only `password_set`.
        func write(_ w: inout JSONWriter, stored: Bool) {
            w.beginObject()
            w.key("host"); w.string(host)
            w.key("port"); w.int(port)
            w.key("security"); w.string(security)
            w.key("username"); w.optionalString(username)
            if stored { w.key("password"); w.optionalString(password) } else { w.key("password_set"); w.bool(password != nil) }
            w.key("from"); w.string(from)
            w.key("from_name"); w.optionalString(fromName)
            w.key("reply_to"); w.optionalString(replyTo)
            w.endObject()
        }

        static func decode(_ g: inout Fields) throws(OrderbaseError) -> Email {
            Email(host: try g.string("host", maxLength: Int.max, required: true)!, port: try g.int("port", in: 1...65535, required: true)!,
                  security: try g.string("security", required: true)!, username: try g.string("username", maxLength: Int.max),
                  password: try g.string("password", maxLength: Int.max), from: try g.string("from", maxLength: Int.max, required: true)!,
                  fromName: try g.string("from_name", maxLength: Int.max), replyTo: try g.string("reply_to", maxLength: Int.max))
        }
    }

    struct SMS: Sendable, Equatable {
        var url: String
        /// The whole `Authorization` header value ("Basic …", "Bearer …").
        var authHeader: String?
        /// "form" (application/x-www-form-urlencoded) or "json".
        var contentType: String
        /// The request body: Mustache over `to`, `from`, `body`, `notification_id`
        /// and `order_id`, each escaped for the content type.
        var body: MustacheTemplate
        var from: String?

        static let contentTypes = ["form", "json"]
        /// A Twilio-shaped form post.
        static let defaultBody = "To={{to}}&From={{from}}&Body={{body}}"
        static let bodyShape = DataShape.Kind.object(["to": .string, "from": .string, "body": .string, "notification_id": .string,
                                                       "order_id": .string], open: false)
        var escape: MustacheTemplate.Escape { contentType == "json" ? .jsonString : .formURL }
        var mediaType: String { contentType == "json" ? "application/json" : "application/x-www-form-urlencoded" }

        /// The stored form keeps the auth header; the API form says only `auth_header_set`.
        func write(_ w: inout JSONWriter, stored: Bool) {
            w.beginObject()
            w.key("url"); w.string(url)
            if stored { w.key("auth_header"); w.optionalString(authHeader) } else { w.key("auth_header_set"); w.bool(authHeader != nil) }
            w.key("content_type"); w.string(contentType)
            w.key("body"); w.string(body.source)
            w.key("from"); w.optionalString(from)
            w.endObject()
        }

        static func decode(_ g: inout Fields) throws(OrderbaseError) -> SMS {
            SMS(url: try g.string("url", maxLength: Int.max, required: true)!, authHeader: try g.string("auth_header", maxLength: Int.max),
                contentType: try g.string("content_type", required: true)!,
                body: try MustacheTemplate(try g.string("body", maxLength: Int.max, required: true)!, field: "sms.body"),
                from: try g.string("from", maxLength: Int.max))
        }
    }

    static let types = ["email", "sms", "callback"]

    // MARK: reading requests

    /// Reads the `email` or `sms` object of a create (`current` nil) or an
    /// update (absent fields keep `current`'s values).
    static func readEmail(_ f: inout Fields, current: Email?, allowPlaintext: Bool) throws(OrderbaseError) -> Email? {
        guard var g = try f.object("email") else { return current }
        let host = try g.string("host", maxLength: 253, required: current == nil, allowEmpty: false) ?? current!.host
        guard Self.isHost(host) else { throw OrderbaseError.invalid("email.host must be a host name or an IPv4 address", field: "email.host") }
        let security = try g.oneOf("security", Email.securities) ?? current?.security ?? "starttls"
        if security == "none" && !allowPlaintext {
            throw OrderbaseError.invalid("email.security \"none\" sends mail and passwords in clear; only with the engine option webhook_allow_http (tests, a local relay)",
                                         field: "email.security")
        }
        let port = try g.int("port", in: 1...65535) ?? (current.map { $0.security == security ? $0.port : Email.defaultPort(security) } ?? Email.defaultPort(security))
        var e = Email(host: host, port: port, security: security, username: current?.username, password: current?.password,
                      from: current?.from ?? "", fromName: current?.fromName, replyTo: current?.replyTo)
        if g.isNull("username") { _ = g.raw("username"); e.username = nil } else if let u = try g.string("username", maxLength: 255, allowEmpty: false) { e.username = u }
        if g.isNull("password") { _ = g.raw("password"); e.password = nil } else if let p = try g.string("password", maxLength: 1024, allowEmpty: false) { e.password = p }
        if let from = try g.string("from", maxLength: 254, required: current == nil) {
            guard RecipientAddress.isEmail(from) else { throw OrderbaseError.invalid("email.from must be an email address like shop@example.com", field: "email.from") }
            e.from = from
        }
        if g.isNull("from_name") { _ = g.raw("from_name"); e.fromName = nil } else if let n = try g.string("from_name", maxLength: 255, allowEmpty: false) {
            guard !n.contains(where: { $0 == "\r" || $0 == "\n" }) else { throw OrderbaseError.invalid("email.from_name must be one line", field: "email.from_name") }
            e.fromName = n
        }
        if g.isNull("reply_to") { _ = g.raw("reply_to"); e.replyTo = nil } else if let r = try g.string("reply_to", maxLength: 254) {
            guard RecipientAddress.isEmail(r) else { throw OrderbaseError.invalid("email.reply_to must be an email address", field: "email.reply_to") }
            e.replyTo = r
        }
        if e.username != nil && e.password == nil {
            // On a create the request alone is wrong (the document says so); on an update the
            // stored channel has no password for the username: a matter of its state.
            throw OrderbaseError(current == nil ? .invalidArgument : .invalidState, "email.username needs email.password", field: "email.password")
        }
        try g.finish()
        return e
    }

    static func readSMS(_ f: inout Fields, current: SMS?, allowHTTP: Bool) throws(OrderbaseError) -> SMS? {
        guard var g = try f.object("sms") else { return current }
        let url = try g.string("url", maxLength: 2048, required: current == nil) ?? current!.url
        try WebhookURL.check(url, allowHTTP: allowHTTP, field: "sms.url")
        let contentType = try g.oneOf("content_type", SMS.contentTypes) ?? current?.contentType ?? "form"
        let body: MustacheTemplate
        if let b = current?.body { body = b } else { body = try MustacheTemplate(SMS.defaultBody, field: "sms.body") }
        var s = SMS(url: url, authHeader: current?.authHeader, contentType: contentType, body: body, from: current?.from)
        if g.isNull("auth_header") { _ = g.raw("auth_header"); s.authHeader = nil } else if let a = try g.string("auth_header", maxLength: 4096, allowEmpty: false) {
            guard a.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else {
                throw OrderbaseError.invalid("sms.auth_header must be printable ASCII on one line", field: "sms.auth_header")
            }
            s.authHeader = a
        }
        if let b = try g.string("body", maxLength: 8192, allowEmpty: false) {
            s.body = try MustacheTemplate(b, field: "sms.body")
            try s.body.check(SMS.bodyShape, field: "sms.body")
        }
        if g.isNull("from") { _ = g.raw("from"); s.from = nil } else if let from = try g.string("from", maxLength: 64, allowEmpty: false) { s.from = from }
        try g.finish()
        return s
    }

    /// A DNS name (an IPv4 address is one: labels of digits); no IPv6 literal,
    /// scheme, port, path or userinfo. `AddressPattern.host` says the same.
    static func isHost(_ s: String) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy(isLabel)
    }

    static func isLabel(_ l: Substring) -> Bool {
        !l.isEmpty && l.utf8.count <= 63 && l.first != "-" && l.last != "-"
            && l.utf8.allSatisfy { c in (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D }
    }
}

/// The rules of `NotificationChannel.isHost` and `RecipientAddress.isEmail` as
/// regular expressions, for the OpenAPI document (a test holds them together).
public enum AddressPattern {
    static let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    static let atom = "[!#$%&'*+/0-9=?A-Z^_`a-z{|}~-]+"
    public static let host = "^\(label)(\\.\(label))*$"
    public static let email = "^\(atom)(\\.\(atom))*@(\(label)\\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
}

/// Recipient addresses.
enum RecipientAddress {
    /// A plain ASCII address (`local@domain`) of at most 254 characters: the local
    /// part dot-separated atoms of printable ASCII but spaces, quotes, brackets and
    /// `()<>,;:\\`; the domain a DNS name whose last label starts with a letter (so
    /// never an IP address). Safe in an SMTP envelope and a header.
    static func isEmail(_ s: String) -> Bool {
        guard s.utf8.count <= 254 else { return false }
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let forbidden = Set("()<>[]\\,;:\"".utf8)
        let atoms = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard atoms.allSatisfy({ a in !a.isEmpty && a.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !forbidden.contains($0) } }) else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy(NotificationChannel.isLabel), let first = labels.last?.utf8.first else { return false }
        return (first >= 0x41 && first <= 0x5A) || (first >= 0x61 && first <= 0x7A)
    }

    /// E.164: "+" and 6 to 15 digits.
    static func isPhone(_ s: String) -> Bool {
        s.first == "+" && (7...16).contains(s.utf8.count) && s.utf8.dropFirst().allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// Whether `address` suits a channel of `type`, and if not, why.
    static func problem(_ address: String, channelType: String) -> String? {
        switch channelType {
        case "email": return isEmail(address) ? nil : "\"\(address)\" is not an email address"
        case "sms": return isPhone(address) ? nil : "\"\(address)\" is not a phone number in E.164 form (+447700900123)"
        default:
            return address.isEmpty || address.utf8.count > 320 || address.contains(where: { $0 == "\r" || $0 == "\n" })
                ? "a callback recipient is one line of 1 to 320 bytes" : nil
        }
    }
}

// MARK: email

/// One message for an SMTP server: the envelope and the RFC 5322 text.
public struct OutboundMail: Sendable {
    /// `smtp://host:port` or `smtps://host:port`.
    public var url: String
    /// With smtp://: STARTTLS is required (the send fails without it).
    public var requireTLS: Bool
    public var username: String?
    public var password: String?
    public var from: String
    public var recipients: [String]
    /// The whole message, CRLF line ends.
    public var message: [UInt8]
    public var connectTimeoutMilliseconds: Int64
    public var timeoutMilliseconds: Int64
    public var addressPolicy: AddressPolicy
    /// The certificate authorities to trust (a PEM file), or nil for the system's.
    public var caFile: String?
}

/// Sends one email. Called from delivery threads; must be thread-safe. A
/// response's `status` is the server's last SMTP reply code.
public protocol MailTransport: Sendable {
    func send(_ mail: OutboundMail) -> OutboundResponse
}

/// A MIME message: text, or text and HTML as multipart/alternative, in UTF-8
/// (base64 bodies), with RFC 2047 encoded words for non-ASCII headers.
enum MIMEMessage {
    static func build(from: String, fromName: String?, to: String, replyTo: String?, subject: String, text: String, html: String?,
                      messageID: String, date: Int64) -> [UInt8] {
        var h = ""
        func header(_ name: String, _ value: String) { h += name + ": " + value + "\r\n" }
        header("From", fromName.map { displayName($0) + " <\(from)>" } ?? from)
        header("To", to)
        if let replyTo { header("Reply-To", replyTo) }
        header("Subject", encodedHeader(subject.map { $0 == "\r" || $0 == "\n" ? " " : $0 }.reduce(into: "") { $0.append($1) }))
        header("Date", rfc5322Date(date))
        header("Message-ID", "<\(messageID)@orderbase>")
        header("MIME-Version", "1.0")
        var out = h
        if let html {
            let boundary = "=_orderbase_\(messageID)"
            out += "Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n"
            out += "--\(boundary)\r\n" + part("text/plain", text)
            out += "--\(boundary)\r\n" + part("text/html", html)
            out += "--\(boundary)--\r\n"
        } else {
            out += part("text/plain", text)
        }
        return Array(out.utf8)
    }

    private static func part(_ type: String, _ body: String) -> String {
        "Content-Type: \(type); charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64Lines(Array(body.utf8))
    }

    static func base64Lines(_ bytes: [UInt8]) -> String {
        let b = Array(Base64.encode(bytes).utf8)
        var out = ""
        var i = 0
        while i < b.count {
            out += String(decoding: b[i..<min(i + 76, b.count)], as: UTF8.self) + "\r\n"
            i += 76
        }
        return out
    }

    /// As is when printable ASCII; else RFC 2047 `=?UTF-8?B?…?=` words of at
    /// most 75 characters (never splitting a character), folded.
    static func encodedHeader(_ s: String) -> String {
        if s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && !s.contains("=?") { return s }
        var words: [String] = []
        var chunk: [UInt8] = []
        for c in s.unicodeScalars {
            let bytes = Array(String(c).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?" + Base64.encode(chunk) + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?" + Base64.encode(chunk) + "?=") }
        return words.joined(separator: "\r\n ")
    }

    static func displayName(_ name: String) -> String {
        if name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            return "\"" + name.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
        }
        return encodedHeader(name)
    }

    /// "Thu, 26 Nov 2026 14:38:46 +0000".
    static func rfc5322Date(_ ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (y, m, d) = Timestamp.civil(fromDays: days)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(weekdays[Int(((days % 7) + 7) % 7)]), \(d) \(months[Int(m) - 1]) \(y) \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60)) +0000"
    }
}
