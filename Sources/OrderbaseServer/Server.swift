import Dispatch
import NIOCore
import NIOHTTP1
import NIOPosix
import Orderbase
import OrderbaseStore
#if canImport(Glibc)
import Glibc
#endif

/// `orderbase serve`: HTTP/1.1 on SwiftNIO in front of a `RESTHandler`.
///
/// Short reads run on the connection's event loop, where the request arrived.
/// Writes block (a synced write waits for fsync) and whole-tenant scans take
/// long, so they run on a pool of threads of their own and answer back on the
/// event loop; concurrent writers then share fsyncs through the engine's group
/// commit. docs/decisions.md §14 has the measurement that chose SwiftNIO
/// directly over Hummingbird.
public final class RESTServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Threads for blocking engine calls (concurrent writes beyond this wait).
        public var threads = 16
        public var rest = RESTOptions()
        /// One log line per request on stderr.
        public var logRequests = true
        /// Connections idle this long are closed.
        public var idleTimeoutSeconds: Int64 = 60
        public init() {}
    }

    public let handler: RESTHandler
    public let configuration: Configuration

    public init(engine: Engine, configuration: Configuration) {
        self.handler = RESTHandler(engine: engine, options: configuration.rest)
        self.configuration = configuration
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting, lets requests in
    /// flight finish (up to 10 s) and closes. `onListening` gets the bound
    /// address (`127.0.0.1:8080`; port 0 picks a free one).
    public func run(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount))
        let pool = NIOThreadPool(numberOfThreads: configuration.threads)
        pool.start()
        let connections = Connections()
        let handler = self.handler
        let config = configuration
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(readTimeout: .seconds(config.idleTimeoutSeconds)))
                    // Our own handler answers a request the HTTP parser refuses, with the error object (errorCaught).
                    try sync.configureHTTPServerPipeline(withErrorHandling: false)
                    try sync.addHandler(HTTPConnection(handler: handler, blocking: HTTPConnection.on(pool), log: config.logRequests, connections: connections))
                    connections.add(channel)
                    channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                }
            }
        let server: any Channel
        do {
            server = try await bootstrap.bind(host: config.host, port: config.port).get()
        } catch {
            try? await pool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw error
        }
        let address = server.localAddress.map { "\($0.ipAddress ?? config.host):\($0.port ?? 0)" } ?? "?"
        onListening(address)

        await Self.waitForTerminationSignal()
        try? await server.close()
        // Let requests in flight finish, then close what is left (idle keep-alives).
        for _ in 0..<200 where connections.busy > 0 { try? await Task.sleep(nanoseconds: 50_000_000) }
        for c in connections.all { try? await c.close() }
        try? await pool.shutdownGracefully()
        try? await group.shutdownGracefully()
    }

    /// Returns once SIGINT or SIGTERM arrives (both are then ignored, so a
    /// second signal does not kill the process mid-shutdown).
    static func waitForTerminationSignal() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let queue = DispatchQueue(label: "orderbase.signals")
            let once = Once()
            var sources: [any DispatchSourceSignal] = []
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                s.setEventHandler { if once.first() { done.resume() } }
                s.resume()
                sources.append(s)
            }
            SignalSources.keep(sources)
        }
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

/// Open connections and how many are answering a request right now.
final class Connections: @unchecked Sendable {
    private let lock = Mutex()
    private var channels: [ObjectIdentifier: any Channel] = [:]
    private var inFlight = 0

    func add(_ c: any Channel) { lock.withLock { channels[ObjectIdentifier(c)] = c } }
    func remove(_ c: any Channel) { lock.withLock { channels[ObjectIdentifier(c)] = nil } }
    var all: [any Channel] { lock.withLock { Array(channels.values) } }
    func begin() { lock.withLock { inFlight += 1 } }
    func end() { lock.withLock { inFlight -= 1 } }
    var busy: Int { lock.withLock { inFlight } }
}

final class Once: @unchecked Sendable {
    private let lock = Mutex()
    private var done = false
    func first() -> Bool { lock.withLock { defer { done = true }; return !done } }
}

/// Signal sources live as long as the process.
enum SignalSources {
    nonisolated(unsafe) private static var held: [any DispatchSourceSignal] = []
    static func keep(_ s: [any DispatchSourceSignal]) { held.append(contentsOf: s) }
}

/// One HTTP/1.1 connection: gathers a request (bounded by max_request_bytes),
/// answers it through the `RESTHandler`, keeps the connection alive unless
/// the client or a 413 says otherwise.
final class HTTPConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Runs work that may block off the event loop and answers on it (the
    /// server: its thread pool; the REST fuzz harness: inline, on an embedded loop).
    typealias Blocking = @Sendable (any EventLoop, @escaping @Sendable () -> HTTPOutput) -> EventLoopFuture<HTTPOutput>

    static func on(_ pool: NIOThreadPool) -> Blocking {
        { loop, work in pool.runIfActive(eventLoop: loop, work) }
    }

    let handler: RESTHandler
    let blocking: Blocking
    let log: Bool
    let connections: Connections
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var discarded = 0
    private var start = 0.0
    /// Requests read but not answered yet (a parse error can be answered only when none is).
    private var pending = 0
    /// A request the parser refused was answered: nothing more is read as a request.
    private var refused = false
    /// An attachment upload streaming to the file store (Files.swift), or its refusal (the body is read and dropped).
    private var streaming = false
    private var upload: RESTUpload?
    private var uploadRefusal: HTTPOutput?

    init(handler: RESTHandler, blocking: @escaping Blocking, log: Bool, connections: Connections) {
        self.handler = handler
        self.blocking = blocking
        self.log = log
        self.connections = connections
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            start = RESTServer.monotonicSeconds()
            head = h
            body.removeAll(keepingCapacity: true)
            discarded = 0
            tooLarge = false
            let path = String(h.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
            if handler.isUpload(method: h.method.rawValue, path: path) {
                // The body goes to the file store as it arrives; max_request_bytes does not apply, attachment_max_bytes does.
                streaming = true
                let query = h.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first.map(String.init)
                let input = HTTPInput(method: "POST", path: path, query: query, headers: h.headers.map { ($0.name.lowercased(), $0.value) }, body: [])
                switch handler.beginUpload(input) {
                case .started(let u): upload = u
                case .refused(let out): uploadRefusal = out
                }
                return
            }
            if let cl = h.headers.first(name: "content-length"), let n = Int(cl), n > handler.maxRequestBytes {
                tooLarge = true
                // A client waiting for "100 Continue" has sent nothing yet: refuse at once.
                if h.headers.first(name: "expect")?.lowercased() == "100-continue" {
                    head = nil
                    answer(context, h, Self.tooLarge(handler), close: true)
                }
            }
        case .body(var buf):
            if streaming {
                guard let u = upload, let bytes = buf.readBytes(length: buf.readableBytes) else {
                    // A refused upload: its body is read and dropped, up to max_request_bytes; past that, answer and close.
                    discarded += buf.readableBytes
                    if discarded > handler.maxRequestBytes, let h = head, let out = uploadRefusal {
                        head = nil
                        streaming = false
                        uploadRefusal = nil
                        answer(context, h, out, close: true)
                    }
                    return
                }
                do throws(OrderbaseError) { try u.write(bytes) } catch {
                    uploadRefusal = u.failure(error)
                    u.abort()
                    upload = nil
                }
                return
            }
            if tooLarge || body.count + buf.readableBytes > handler.maxRequestBytes {
                tooLarge = true
                discarded += buf.readableBytes
                // Reading a huge body only to drop it is pointless: answer and close.
                if discarded > 16 * handler.maxRequestBytes, let h = head {
                    head = nil
                    answer(context, h, Self.tooLarge(handler), close: true)
                }
                return
            }
            body.append(contentsOf: buf.readBytes(length: buf.readableBytes) ?? [])
        case .end:
            guard let h = head else { return }
            head = nil
            if streaming {
                streaming = false
                connections.begin()
                pending += 1
                let done = { (me: HTTPConnection, ctx: ChannelHandlerContext, out: HTTPOutput) in
                    me.answer(ctx, h, out, close: false)
                    me.pending -= 1
                    me.connections.end()
                }
                if let u = upload {
                    upload = nil
                    let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                    blocking(context.eventLoop) { u.finish() }.whenComplete { result in
                        let (me, ctx) = bound.value
                        switch result {
                        case .success(let out): done(me, ctx, out)
                        case .failure:
                            u.abort()
                            done(me, ctx, Self.unavailable(me.handler.route(method: "POST", path: RESTHandler.uploadPath)))
                        }
                    }
                } else {
                    let out = uploadRefusal ?? Self.unavailable(handler.route(method: "POST", path: RESTHandler.uploadPath))
                    uploadRefusal = nil
                    done(self, context, out)
                }
                return
            }
            if tooLarge {
                answer(context, h, Self.tooLarge(handler), close: true)
                return
            }
            let components = h.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let path = String(components[0])
            // HEAD is answered as GET without the body (RFC 9110 §9.3.2).
            let input = HTTPInput(method: h.method == .HEAD ? "GET" : h.method.rawValue, path: path, query: components.count > 1 ? String(components[1]) : nil,
                                  headers: h.headers.map { ($0.name.lowercased(), $0.value) }, body: body)
            body = []
            connections.begin()
            pending += 1
            let routed = handler.route(method: input.method, path: path)
            if routed.mayBlock {
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let handler = self.handler
                blocking(context.eventLoop) { handler.handle(input, routed) }.whenComplete { result in
                    let (me, ctx) = bound.value
                    switch result {
                    case .success(let out): me.answer(ctx, h, out, close: false)
                    case .failure: me.answer(ctx, h, Self.unavailable(routed), close: true)
                    }
                    me.pending -= 1
                    me.connections.end()
                }
            } else {
                answer(context, h, handler.handle(input, routed), close: false)
                pending -= 1
                connections.end()
            }
        }
    }

    static func tooLarge(_ handler: RESTHandler) -> HTTPOutput {
        let e = OrderbaseError(.limitExceeded, "the body is larger than max_request_bytes (\(handler.maxRequestBytes))")
        return HTTPOutput(status: 413, headers: [("X-Request-Id", RESTHandler.requestID(nil))], body: e.json, route: "unmatched")
    }

    static func unavailable(_ routed: RESTHandler.Routed) -> HTTPOutput {
        HTTPOutput(status: 503, headers: [("Retry-After", "1"), ("X-Request-Id", RESTHandler.requestID(nil))],
                   body: Array(#"{"error":{"code":"unavailable","message":"the server is shutting down"}}"#.utf8),
                   route: routed.label)
    }

    private func answer(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ out: HTTPOutput, close: Bool) {
        var out = out
        if out.status == 413 {
            out.route = handler.route(method: h.method.rawValue, path: String(h.uri.split(separator: "?", omittingEmptySubsequences: false)[0])).label
        }
        let seconds = RESTServer.monotonicSeconds() - start
        handler.metrics.record(method: h.method.rawValue, route: out.route, status: out.status, seconds: seconds)
        // Logged before the answer goes out, so a client that has its answer finds the line.
        if log {
            let requestID = out.headers.first { $0.name == "X-Request-Id" }?.value ?? "-"
            RESTServer.logLine(method: h.method.rawValue, path: String(h.uri.split(separator: "?", omittingEmptySubsequences: false)[0]),
                               status: out.status, seconds: seconds, requestID: requestID)
        }
        let keepAlive = h.isKeepAlive && !close
        var headers = HTTPHeaders()
        headers.reserveCapacity(out.headers.count + 4)
        headers.add(name: "Content-Type", value: out.contentType)
        headers.add(name: "Content-Length", value: String(out.file?.size ?? Int64(out.body.count)))
        for (name, value) in out.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let response = HTTPResponseHead(version: h.version, status: HTTPResponseStatus(statusCode: out.status), headers: headers)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if let file = out.file {
            // An attachment's bytes, sent by the kernel from the file; the descriptor closes when they are out.
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: file.fd)
            if h.method != .HEAD {
                let region = FileRegion(fileHandle: handle, readerIndex: 0, endIndex: Int(file.size))
                context.write(wrapOutboundOut(.body(.fileRegion(region)))).whenComplete { _ in try? handle.close() }
            } else {
                try? handle.close()
            }
        } else if h.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: out.body.count)
            buffer.writeBytes(out.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlushPromise(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A connection closed mid-upload leaves nothing behind.
        upload?.abort()
        upload = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, head == nil || refused {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A request the HTTP parser refuses (oversized or folded headers, bare
    /// CR or LF, NUL, a bad Content-Length, an overlong URL) is answered 400
    /// with the error object, like every other refusal, and the connection
    /// closes: the parser cannot find where the next request starts. While an
    /// earlier request is still being answered, the connection just closes.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if refused { return }  // already answered; the rest of what the client sends is dropped
        guard error is HTTPParserError, pending == 0 else {
            context.close(promise: nil)
            return
        }
        refused = true
        let body = OrderbaseError(.invalidArgument, "malformed HTTP request (\(error))").json
        let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(body.count)),
                                   ("Connection", "close"), ("X-Request-Id", RESTHandler.requestID(nil))])
        handler.metrics.record(method: "-", route: "unmatched", status: 400, seconds: 0)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        // Close our side only: closing both while the client is still sending (a 500 KB URL)
        // resets the connection and loses the answer. Its side ends when it has read it, or
        // the idle timeout ends it.
        let channel = context.channel
        context.writeAndFlushPromise(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(mode: .output, promise: nil) }
    }
}

extension ChannelHandlerContext {
    func writeAndFlushPromise(_ data: NIOAny) -> EventLoopFuture<Void> {
        let p = eventLoop.makePromise(of: Void.self)
        writeAndFlush(data, promise: p)
        return p.futureResult
    }
}
