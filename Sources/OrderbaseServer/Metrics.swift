import OrderbaseStore

/// Request counts and latency histograms per route, in Prometheus' text
/// exposition format (version 0.0.4). Routes are templates
/// (`/v1/orders/{id}`), so the label set stays small.
public final class Metrics: @unchecked Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    static let buckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    struct Series {
        var counts = [UInt64](repeating: 0, count: Metrics.buckets.count)
        var count: UInt64 = 0
        var sum: Double = 0
    }

    private let lock = Mutex()
    private var requests: [String: UInt64] = [:]  // "method route status"
    private var latency: [String: Series] = [:]   // "method route"

    public init() {}

    public func record(method: String, route: String, status: Int, seconds: Double) {
        lock.withLock {
            requests["\(method) \(route) \(status)", default: 0] += 1
            var s = latency["\(method) \(route)"] ?? Series()
            s.count += 1
            s.sum += seconds
            if let i = Self.buckets.firstIndex(where: { seconds <= $0 }) { s.counts[i] += 1 }
            latency["\(method) \(route)"] = s
        }
    }

    public func render(openTenants: Int, consumerLags: [(tenant: String, consumer: String, lag: UInt64)] = []) -> String {
        let (req, lat) = lock.withLock { (requests, latency) }
        var out = "# HELP orderbase_http_requests_total HTTP requests by method, route and status.\n"
        out += "# TYPE orderbase_http_requests_total counter\n"
        for k in req.keys.sorted() {
            let p = k.split(separator: " ", maxSplits: 2).map(String.init)
            out += "orderbase_http_requests_total{method=\"\(p[0])\",route=\"\(Self.escape(p[1]))\",status=\"\(p[2])\"} \(req[k]!)\n"
        }
        out += "# HELP orderbase_http_request_duration_seconds Time from the request's arrival to its answer.\n"
        out += "# TYPE orderbase_http_request_duration_seconds histogram\n"
        for k in lat.keys.sorted() {
            let p = k.split(separator: " ", maxSplits: 1).map(String.init)
            let labels = "method=\"\(p[0])\",route=\"\(Self.escape(p[1]))\""
            let s = lat[k]!
            var cumulative: UInt64 = 0
            for (i, le) in Self.buckets.enumerated() {
                cumulative += s.counts[i]
                out += "orderbase_http_request_duration_seconds_bucket{\(labels),le=\"\(le)\"} \(cumulative)\n"
            }
            out += "orderbase_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(s.count)\n"
            out += "orderbase_http_request_duration_seconds_sum{\(labels)} \(s.sum)\n"
            out += "orderbase_http_request_duration_seconds_count{\(labels)} \(s.count)\n"
        }
        out += "# HELP orderbase_open_tenants Tenant databases the engine holds open.\n"
        out += "# TYPE orderbase_open_tenants gauge\n"
        out += "orderbase_open_tenants \(openTenants)\n"
        out += "# HELP orderbase_consumer_lag Events in an open tenant's log after an event consumer's cursor.\n"
        out += "# TYPE orderbase_consumer_lag gauge\n"
        for l in consumerLags {
            out += "orderbase_consumer_lag{tenant=\"\(Self.escape(l.tenant))\",consumer=\"\(Self.escape(l.consumer))\"} \(l.lag)\n"
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"").replacingAll("\n", "\\n")
    }
}

extension String {
    func replacingAll(_ a: String, _ b: String) -> String {
        guard contains(a) else { return self }
        return split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
