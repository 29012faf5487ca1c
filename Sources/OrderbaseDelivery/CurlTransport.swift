import CCurlShims
import Orderbase
import OrderbaseStore
#if canImport(Glibc)
import Glibc
#endif

/// The libcurl transport for webhooks and SMS gateways (HTTP) and email (SMTP).
/// One easy handle per thread, reused (connections stay open between
/// deliveries to one host) and never shared across threads; no redirects;
/// only http and https; connect and total timeouts from the request; and the
/// request's `AddressPolicy` applied to every address curl is about to
/// connect to, after DNS.
public final class CurlTransport: HTTPTransport, MailTransport, @unchecked Sendable {
    public static let shared = CurlTransport()
    private static let initialized: Bool = ob_curl_global_init() == 0
    private let handles = ThreadHandle()

    public init() { _ = Self.initialized }

    /// What one request collects while curl runs (the C callbacks' context).
    private final class Exchange {
        let policy: AddressPolicy
        var refused: String?
        var body: [UInt8] = []
        var retryAfter: Int64?
        init(policy: AddressPolicy) { self.policy = policy }
    }

    public func post(_ r: OutboundRequest) -> OutboundResponse {
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in r.headers { list = curl_slist_append(list, "\(name): \(value)") }
        list = curl_slist_append(list, "Expect:")  // no 100-continue round trip
        defer { curl_slist_free_all(list) }
        return r.body.withUnsafeBytes { b in
            perform(url: r.url, protocols: "http,https", connectTimeout: r.connectTimeoutMilliseconds, timeout: r.timeoutMilliseconds,
                    policy: r.addressPolicy, caFile: r.caFile) { h in
                let rc = ob_curl_set_slist(h, CURLOPT_HTTPHEADER, list)
                return rc != CURLE_OK ? rc : ob_curl_set_post_body(h, b.baseAddress, b.count)
            }
        }
    }

    /// SMTP (smtp:// with required STARTTLS, or smtps://): the envelope from
    /// `mail`, the message uploaded as is. The answer's status is the
    /// server's last reply code (250 when accepted).
    public func send(_ m: OutboundMail) -> OutboundResponse {
        var recipients: UnsafeMutablePointer<curl_slist>?
        for r in m.recipients { recipients = curl_slist_append(recipients, "<\(r)>") }
        defer { curl_slist_free_all(recipients) }
        return m.message.withUnsafeBytes { b in
            perform(url: m.url, protocols: "smtp,smtps", connectTimeout: m.connectTimeoutMilliseconds, timeout: m.timeoutMilliseconds,
                    policy: m.addressPolicy, caFile: m.caFile) { h in
                // A connection per message: a cached one may belong to another
                // channel (other credentials) or predate STARTTLS being required.
                var rc = ob_curl_set_long(h, CURLOPT_FRESH_CONNECT, 1)
                if rc == CURLE_OK { rc = ob_curl_set_long(h, CURLOPT_FORBID_REUSE, 1) }
                if rc == CURLE_OK { rc = ob_curl_set_string(h, CURLOPT_MAIL_FROM, "<\(m.from)>") }
                if rc == CURLE_OK { rc = ob_curl_set_slist(h, CURLOPT_MAIL_RCPT, recipients) }
                if rc == CURLE_OK, m.requireTLS { rc = ob_curl_set_long(h, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
                if rc == CURLE_OK, let u = m.username { rc = ob_curl_set_string(h, CURLOPT_USERNAME, u) }
                if rc == CURLE_OK, let p = m.password { rc = ob_curl_set_string(h, CURLOPT_PASSWORD, p) }
                return rc != CURLE_OK ? rc : ob_curl_set_upload(h, b.baseAddress, b.count)
            }
        }
    }

    /// One transfer on this thread's handle: the options every transfer
    /// shares (protocols, no redirects, timeouts, the address check, the
    /// response sinks), then `configure`'s, then the transfer.
    private func perform(url: String, protocols: String, connectTimeout: Int64, timeout: Int64, policy: AddressPolicy, caFile: String?,
                         configure: (UnsafeMutableRawPointer) -> CURLcode) -> OutboundResponse {
        let started = SystemClock().nowMilliseconds()
        func failed(_ why: String) -> OutboundResponse {
            OutboundResponse(status: nil, latencyMilliseconds: SystemClock().nowMilliseconds() - started, error: why)
        }
        guard let h = handles.handle() else { return failed("libcurl could not make a handle") }
        curl_easy_reset(h)
        let exchange = Exchange(policy: policy)
        let context = Unmanaged.passUnretained(exchange).toOpaque()
        var rc = CURLE_OK
        func set(_ o: CURLoption, _ v: Int) { if rc == CURLE_OK { rc = ob_curl_set_long(h, o, v) } }
        func set(_ o: CURLoption, _ v: String) { if rc == CURLE_OK { rc = ob_curl_set_string(h, o, v) } }
        set(CURLOPT_URL, url)
        set(CURLOPT_PROTOCOLS_STR, protocols)
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout))
        set(CURLOPT_TIMEOUT_MS, Int(timeout))
        set(CURLOPT_USERAGENT, "Orderbase/\(OrderbaseVersion.string)")
        if let caFile { set(CURLOPT_CAINFO, caFile) }
        if rc == CURLE_OK {
            rc = ob_curl_set_address_check(h, { address, ctx in
                let x = Unmanaged<Exchange>.fromOpaque(ctx!).takeUnretainedValue()
                let text = String(cString: address!)
                if let why = x.policy.refusal(text) {
                    x.refused = "\(text) is \(why); not allowed (engine option webhook_allowed_addresses)"
                    return 0
                }
                return 1
            }, context)
        }
        if rc == CURLE_OK {
            rc = ob_curl_set_sinks(h, { data, len, ctx in
                let x = Unmanaged<Exchange>.fromOpaque(ctx!).takeUnretainedValue()
                let room = 1024 - x.body.count
                if room > 0, let data {
                    data.withMemoryRebound(to: UInt8.self, capacity: len) { x.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: min(room, len))) }
                }
                return 0
            }, { data, len, ctx in
                let x = Unmanaged<Exchange>.fromOpaque(ctx!).takeUnretainedValue()
                guard let data else { return 0 }
                let line = data.withMemoryRebound(to: UInt8.self, capacity: len) { String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self) }
                if line.lowercased().hasPrefix("retry-after:") {
                    let value = line.dropFirst("retry-after:".count).trimmingCharacters(in: " \t\r\n")
                    if let s = Int64(value), s >= 0 { x.retryAfter = s }
                }
                return 0
            }, context)
        }
        if rc == CURLE_OK { rc = configure(h) }
        guard rc == CURLE_OK else { return failed("libcurl refused an option: \(String(cString: curl_easy_strerror(rc)))") }
        let result = withExtendedLifetime(exchange) { curl_easy_perform(h) }
        let latency = SystemClock().nowMilliseconds() - started
        let code = ob_curl_response_code(h)
        if result != CURLE_OK {
            let why = exchange.refused ?? String(cString: curl_easy_strerror(result))
            return OutboundResponse(status: code > 0 ? code : nil, latencyMilliseconds: latency,
                                    error: code > 0 ? "\(why) (server said \(code))" : why)
        }
        return OutboundResponse(status: code, retryAfterSeconds: exchange.retryAfter,
                                bodyPrefix: String(decoding: exchange.body, as: UTF8.self), latencyMilliseconds: latency)
    }
}

/// One curl easy handle per thread, made on first use and kept for the thread's life.
private final class ThreadHandle: @unchecked Sendable {
    private var key = pthread_key_t()
    init() { pthread_key_create(&key) { p in if let p { curl_easy_cleanup(p) } } }
    func handle() -> UnsafeMutableRawPointer? {
        if let h = pthread_getspecific(key) { return h }
        guard let h = curl_easy_init() else { return nil }
        pthread_setspecific(key, h)
        return h
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
