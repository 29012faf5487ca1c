import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Orderbase
#if canImport(Glibc)
import Glibc
#endif

/// `orderbase serve`: Hummingbird 2 (HTTP/1.1 on SwiftNIO) in front of a
/// `RESTHandler`. Engine calls block (a synced write waits for fsync), so they
/// run on a pool of threads of their own, never on the event loops or Swift's
/// cooperative pool; concurrent writers then share fsyncs through the engine's
/// group commit.
public struct RESTServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Threads for engine calls (concurrent requests beyond this wait).
        public var threads = 16
        public var rest = RESTOptions()
        /// One log line per request on stderr.
        public var logRequests = true
        public init() {}
    }

    public let handler: RESTHandler
    public let configuration: Configuration

    public init(engine: Engine, configuration: Configuration) {
        self.handler = RESTHandler(engine: engine, options: configuration.rest)
        self.configuration = configuration
    }

    /// Serves until SIGINT or SIGTERM, then finishes in-flight requests.
    /// `onListening` gets the bound address (`127.0.0.1:8080`; port 0 picks a free one).
    public func run(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let pool = NIOThreadPool(numberOfThreads: configuration.threads)
        pool.start()
        let handler = self.handler
        let logRequests = configuration.logRequests
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await Self.respond(request, handler: handler, pool: pool, log: logRequests)
        }
        var logger = Logger(label: "orderbase")
        logger.logLevel = .error
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "orderbase"),
            onServerRunning: { channel in
                onListening(channel.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? 0)" } ?? "?")
            },
            logger: logger)
        do {
            try await app.runService()
        } catch {
            try? await pool.shutdownGracefully()
            throw error
        }
        try? await pool.shutdownGracefully()
    }

    static func respond(_ request: Request, handler: RESTHandler, pool: NIOThreadPool, log: Bool) async throws -> Response {
        let start = Self.monotonicSeconds()
        let method = request.method.rawValue
        let path = request.uri.path
        var output: HTTPOutput
        let limit = handler.maxRequestBytes
        if let cl = request.headers[.contentLength], let n = Int(cl), n > limit {
            output = Self.tooLarge(limit, route: handler.routeLabel(method: method, path: path))
        } else {
            var body: [UInt8] = []
            var tooLarge = false
            for try await chunk in request.body {
                if body.count + chunk.readableBytes > limit { tooLarge = true; break }
                body.append(contentsOf: chunk.readableBytesView)
            }
            if tooLarge {
                output = Self.tooLarge(limit, route: handler.routeLabel(method: method, path: path))
            } else {
                let input = HTTPInput(method: method, path: path, query: request.uri.query,
                                      headers: request.headers.map { ($0.name.canonicalName, $0.value) }, body: body)
                do {
                    output = try await pool.runIfActive { handler.handle(input) }
                } catch {
                    output = HTTPOutput(status: 503, headers: [("Retry-After", "1")],
                                        body: Array(#"{"error":{"code":"unavailable","message":"the server is shutting down"}}"#.utf8),
                                        route: handler.routeLabel(method: method, path: path))
                }
            }
        }
        let seconds = Self.monotonicSeconds() - start
        handler.metrics.record(method: method, route: output.route, status: output.status, seconds: seconds)
        var headers = HTTPFields()
        headers[.contentType] = output.contentType
        for (name, value) in output.headers {
            if let n = HTTPField.Name(name) { headers.append(HTTPField(name: n, value: value)) }
        }
        let requestID = output.headers.first { $0.name == "X-Request-Id" }?.value ?? "-"
        if log { Self.logLine(method: method, path: path, status: output.status, seconds: seconds, requestID: requestID) }
        var buffer = ByteBuffer()
        buffer.writeBytes(output.body)
        return Response(status: .init(code: output.status), headers: headers, body: .init(byteBuffer: buffer))
    }

    static func tooLarge(_ limit: Int, route: String) -> HTTPOutput {
        let e = OrderbaseError(.limitExceeded, "the body is larger than max_request_bytes (\(limit))")
        return HTTPOutput(status: 413, headers: [("Connection", "close")], body: e.json, route: route)
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// `2026-11-26T10:00:00.000Z GET /v1/orders/ord_… 200 0.412ms req_…` on stderr, one write per line.
    static func logLine(method: String, path: String, status: Int, seconds: Double, requestID: String) {
        let ms = (seconds * 1_000_000).rounded() / 1000
        let safePath = String(path.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        let line = "\(Timestamp.format(SystemClock().nowMilliseconds())) \(method) \(safePath) \(status) \(ms)ms \(requestID)\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
