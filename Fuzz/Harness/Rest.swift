// The REST harness (issue 13): raw bytes from a client, through the server's
// own pipeline (NIO's HTTP/1 parser, then the connection handler and the REST
// handler with a real engine behind it), on an embedded channel. Properties:
// nothing traps; whatever the server writes back is a sequence of well-formed
// HTTP responses, each with a Content-Length its body matches; and every
// refusal (a status of 400 or more) carries the error object.
//
// A seed reaches past authentication by writing `Bearer KEY`: the harness
// puts the secret of an API key for the tenant `shop` in its place.
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import Orderbase
@testable import OrderbaseAPI
@testable import OrderbaseServer

extension Harness {
    final class RestFixture: @unchecked Sendable {
        let handler: RESTHandler
        let secret: [UInt8]
        init() {
            let engine = Harness.fixture.engine
            handler = RESTHandler(engine: engine)
            let key = try? JSON.parse(Array(#"{"tenant":"shop","scope":"write","name":"fuzz"}"#.utf8)).bytes.withUnsafeBytes {
                (b) throws(OrderbaseError) -> [UInt8] in try Catalogue.call(engine, "api_keys.create", b)
            }
            secret = Array((key.flatMap { try? JSON.parse($0) }?["secret"]?.stringValue ?? "none").utf8)
        }
    }
    static let restFixture = RestFixture()
    /// `ORDERBASE_FUZZ_PRINT=1` prints what the server wrote (replaying a finding).
    static let printResponses = ProcessInfo.processInfo.environment["ORDERBASE_FUZZ_PRINT"] == "1"

    static func rest(_ bytes: [UInt8]) {
        let input = replacing(bytes, Array("Bearer KEY".utf8), with: Array("Bearer ".utf8) + restFixture.secret)
        let connections = Connections()
        let channel = EmbeddedChannel()
        do {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
            try channel.pipeline.syncOperations.addHandler(HTTPConnection(handler: restFixture.handler, blocking: { loop, work in loop.makeSucceededFuture(work()) },
                                                                             log: false, connections: connections))
        } catch {
            fatalError("the pipeline did not assemble: \(error)")
        }
        _ = try? channel.writeInbound(channel.allocator.buffer(bytes: input))
        // Work that may block runs inline here (the server runs it on its pool): everything is answered now.
        channel.embeddedEventLoop.run()
        check(connections.busy == 0, "a request was never answered")
        var out: [UInt8] = []
        while let part = try? channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(var b) = part { out += b.readBytes(length: b.readableBytes) ?? [] }
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        if printResponses { print(String(decoding: out, as: UTF8.self)) }
        checkResponses(out)
    }

    /// `bytes` with every `pattern` replaced.
    static func replacing(_ bytes: [UInt8], _ pattern: [UInt8], with replacement: [UInt8]) -> [UInt8] {
        guard bytes.count >= pattern.count else { return bytes }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if i + pattern.count <= bytes.count, bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
                out += replacement
                i += pattern.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// What the server wrote: responses one after another, each a status line,
    /// headers, and a body of exactly its Content-Length; a refusal's body is
    /// `{"error": {"code", "message", …}}`.
    static func checkResponses(_ out: [UInt8]) {
        var i = 0
        let crlf2: [UInt8] = [13, 10, 13, 10]
        while i < out.count {
            guard let end = find(crlf2, in: out, from: i) else { check(false, "a response head never ends: \(String(decoding: out[i...], as: UTF8.self))"); return }
            let head = String(decoding: out[i..<end], as: UTF8.self)
            let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
            let status = lines[0].split(separator: " ")
            check(status.count >= 2 && status[0].hasPrefix("HTTP/1."), "not a status line: \(lines[0])")
            guard let code = Int(status[1]) else { check(false, "no status code: \(lines[0])"); return }
            var length: Int?
            for line in lines.dropFirst() {
                let kv = line.split(separator: ":", maxSplits: 1)
                if kv.count == 2, kv[0].lowercased() == "content-length" { length = Int(kv[1].trimmingCharacters(in: .whitespaces)) }
            }
            guard let length else { check(false, "a response without Content-Length: \(head)"); return }
            let bodyStart = end + 4
            // A HEAD answer carries the length of the body it leaves out: another response, or nothing, follows its head.
            let rest = out[bodyStart...]
            if length > 0 && (rest.count < length || rest.starts(with: Array("HTTP/1.".utf8))) {
                i = bodyStart
                continue
            }
            let body = Array(out[bodyStart..<(bodyStart + length)])
            if code >= 400 {
                let error = (try? JSON.parse(body))?["error"]
                check(error?["code"]?.stringValue != nil && error?["message"]?.stringValue != nil,
                      "a \(code) without the error object: \(String(decoding: body, as: UTF8.self))")
            }
            i = bodyStart + length
        }
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from start: Int) -> Int? {
        guard hay.count >= needle.count, start <= hay.count - needle.count else { return nil }
        for j in start...(hay.count - needle.count) where hay[j] == needle[0] && hay[j..<(j + needle.count)].elementsEqual(needle) { return j }
        return nil
    }
}
