import OrderbaseAPI

/// The REST routes, built once from the catalogue: each route of each method,
/// plus the server's own paths. A path matches literal segments first, so
/// `/v1/orders/by-number/{number}` wins over `/v1/orders/{id}`'s siblings.
struct RouteTable: Sendable {
    enum Target: Sendable {
        case method(Method, Route)
        case healthz, metrics, openapi
        /// Attachments' bytes (Files.swift): not catalogue methods.
        case upload, download
    }

    /// A class: matching hands entries around without copying the method.
    final class Entry: Sendable {
        let httpMethod: String
        let template: String
        let segments: [Segment]
        let target: Target

        init(httpMethod: String, template: String, segments: [Segment], target: Target) {
            self.httpMethod = httpMethod
            self.template = template
            self.segments = segments
            self.target = target
        }
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    enum Match {
        case found(Entry, parameters: [String: String])
        /// The path exists, with other methods.
        case methodNotAllowed(allowed: [String])
        case notFound
        /// A segment is not valid percent-encoded UTF-8.
        case badPath(String)
    }

    /// Entries by their number of segments: a path is compared with those only.
    private let bySegmentCount: [Int: [Entry]]

    init(methods: [Method] = Catalogue.methods) {
        var e: [Entry] = []
        for m in methods {
            for r in m.routes { e.append(Entry(httpMethod: r.httpMethod, template: r.path, segments: Self.parse(r.path), target: .method(m, r))) }
        }
        e.append(Entry(httpMethod: "GET", template: "/healthz", segments: Self.parse("/healthz"), target: .healthz))
        e.append(Entry(httpMethod: "GET", template: "/metrics", segments: Self.parse("/metrics"), target: .metrics))
        e.append(Entry(httpMethod: "GET", template: "/v1/openapi.json", segments: Self.parse("/v1/openapi.json"), target: .openapi))
        e.append(Entry(httpMethod: "POST", template: "/v1/attachments/upload", segments: Self.parse("/v1/attachments/upload"), target: .upload))
        e.append(Entry(httpMethod: "GET", template: "/v1/attachments/{id}/content", segments: Self.parse("/v1/attachments/{id}/content"), target: .download))
        bySegmentCount = Dictionary(grouping: e, by: \.segments.count)
    }

    static func parse(_ template: String) -> [Segment] {
        template.split(separator: "/").map { s in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(String(s))
        }
    }

    /// Matches a raw request path (percent-encoded). Trailing slashes do not match.
    func match(method: String, path: String) -> Match {
        guard path.hasPrefix("/"), !path.contains("//"), path == "/" || !path.hasSuffix("/") else { return .notFound }
        let raw = path.split(separator: "/", omittingEmptySubsequences: true)
        var segments: [String] = []
        segments.reserveCapacity(raw.count)
        for s in raw {
            if !s.utf8.contains(UInt8(ascii: "%")) { segments.append(String(s)); continue }
            guard let d = PercentDecoding.decode(s, plusIsSpace: false) else {
                return .badPath("the path segment \"\(s)\" is not valid percent-encoded UTF-8")
            }
            segments.append(d)
        }
        // The templates with the most literal segments that match the path name
        // the resource: `/v1/workflows/validate` shadows `/v1/workflows/{key}`
        // for every method, so Allow lists only the shadowing route's methods.
        var best: (Entry, [String: String], literals: Int)?
        var allowed: [(method: String, literals: Int)] = []
        var mostLiterals = -1
        for e in bySegmentCount[segments.count] ?? [] {
            var params: [String: String] = [:]
            var literals = 0
            var ok = true
            for (seg, value) in zip(e.segments, segments) {
                switch seg {
                case .literal(let l):
                    if l != value { ok = false } else { literals += 1 }
                case .parameter(let name):
                    if value.isEmpty { ok = false } else { params[name] = value }
                }
                if !ok { break }
            }
            guard ok else { continue }
            mostLiterals = max(mostLiterals, literals)
            if e.httpMethod != method {
                allowed.append((e.httpMethod, literals))
                continue
            }
            if best == nil || literals > best!.literals { best = (e, params, literals) }
        }
        if let best, best.literals == mostLiterals { return .found(best.0, parameters: best.1) }
        let methods = Set(allowed.filter { $0.literals == mostLiterals }.map(\.method))
        if !methods.isEmpty { return .methodNotAllowed(allowed: methods.sorted()) }
        return .notFound
    }
}

/// RFC 3986 percent-decoding to UTF-8 (with `+` as space in form-encoded queries).
enum PercentDecoding {
    static func decode(_ s: Substring, plusIsSpace: Bool) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let c = it.next() {
            if c == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = hex(h), let lv = hex(l) else { return nil }
                out.append(hv << 4 | lv)
            } else if plusIsSpace && c == UInt8(ascii: "+") {
                out.append(0x20)
            } else {
                out.append(c)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
