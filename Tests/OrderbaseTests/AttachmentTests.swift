import Foundation
import Testing
@testable import Orderbase

/// Attachments and the tenant file store (docs/attachments.md).
@Suite struct AttachmentTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }

    func files(_ fx: Fixture) -> String { fx.dir + "/tenants/shop/files" }

    func entries(_ path: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }

    /// Uploads `bytes` in chunks of `chunk`.
    func upload(_ fx: Fixture, _ request: String, _ bytes: [UInt8], chunk: Int = 4096) throws -> JSON {
        let up = try fx.core.attachments.begin(try JSON.parse(request))
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + chunk)
            try bytes[i..<end].withUnsafeBytes { try up.write($0) }
            i = end
        }
        return try JSON.parse(try up.finish())
    }

    func uploadError(_ fx: Fixture, _ request: String, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> OrderbaseError? {
        do {
            _ = try upload(fx, request, bytes)
            Issue.record("expected an error", sourceLocation: sourceLocation)
            return nil
        } catch let e as OrderbaseError { return e } catch { Issue.record("\(error)", sourceLocation: sourceLocation); return nil }
    }

    func readAll(_ fx: Fixture, _ id: String, chunk: Int = 5000) throws -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = try buf.withUnsafeMutableBytes { try fx.core.attachments.read(id, offset: Int64(out.count), into: $0) }
            if n == 0 { return out }
            out += buf[0..<n]
        }
    }

    @Test("an upload in chunks is stored once under its SHA-256, read back byte for byte, listed, audited, counted and verified")
    func roundTrip() throws {
        let fx = try Fixture()
        let order = try fx.createOrder()["id"]!.stringValue!
        let a = try upload(fx, #"{"order_id":"\#(order)","file_name":"Proof of délivery.png","actor":{"type":"user","id":"ann"}}"#, Self.png, chunk: 3000)
        let id = a["id"]!.stringValue!
        #expect(a["content_type"] == .string("image/png") && a["size"] == .int(Int64(Self.png.count)) && a["owner_type"] == .string("order"))
        #expect(a["sha256"] == .string(Crypto.hex(Crypto.sha256(Self.png))) && a["uploaded_by"]?["id"] == .string("ann"))
        #expect(try readAll(fx, id) == Self.png)
        // The same bytes again: a second attachment, one blob; both count against the quota.
        let b = try upload(fx, #"{"order_id":"\#(order)","file_name":"copy.png"}"#, Self.png)
        let hex = a["sha256"]!.stringValue!
        #expect(entries(files(fx) + "/blobs/" + hex.prefix(2)) == [hex])
        #expect(entries(files(fx) + "/tmp").isEmpty)
        let listed = try fx.call({ $0.attachments.listAttachments }, #"{"order_id":"\#(order)"}"#)["data"]!.array.map { $0["id"]!.stringValue! }
        #expect(listed == [b["id"]!.stringValue!, id])
        let events = try fx.events().filter { $0["type"] == .string("attachment.created") }
        #expect(events.count == 2 && events[0]["order_id"] == .string(order))
        let check = try fx.call({ $0.audit.checkIntegrity }, #"{"verify_files":true}"#)
        #expect(check["ok"] == .bool(true), "\(check)")
        // Deleting one keeps the blob (the other names it); deleting both lets a collection take it.
        _ = try fx.call({ $0.attachments.deleteAttachment }, #"{"id":"\#(id)"}"#)
        #expect(try fx.call({ $0.attachments.collect }, #"{"min_age_minutes":0}"#)["removed"] == .int(0))
        _ = try fx.call({ $0.attachments.deleteAttachment }, #"{"id":"\#(b["id"]!.stringValue!)"}"#)
        #expect(try fx.call({ $0.attachments.collect }, #"{"min_age_minutes":60}"#)["kept_young"] == .int(1))
        let collected = try fx.call({ $0.attachments.collect }, #"{"min_age_minutes":0}"#)
        #expect(collected["removed"] == .int(1) && collected["bytes"] == .int(Int64(Self.png.count)))
        #expect(fx.error({ $0.attachments.getAttachment }, #"{"id":"\#(id)"}"#)?.code == .notFound)
        #expect(try fx.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
        #expect(try fx.call({ $0.audit.listAudit }, #"{"subject_type":"attachment"}"#)["data"]!.array.count == 4)
    }

    @Test("content types are sniffed from the bytes (a signature, or UTF-8 text across chunks) and checked against the allow-list")
    func sniffing() throws {
        let fx = try Fixture()
        let order = try fx.createOrder()["id"]!.stringValue!
        let req = #"{"order_id":"\#(order)","file_name":"f"}"#
        let cases: [([UInt8], String)] = [
            (Array("%PDF-1.7\n".utf8) + [0xE2, 0xE3, 0xCF, 0xD3], "application/pdf"),
            ([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], "image/jpeg"),
            (Array("GIF89a".utf8) + [1, 0], "image/gif"),
            (Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8), "image/webp"),
            ([0x49, 0x49, 0x2A, 0x00, 8, 0], "image/tiff"),
            (Array("Größe: 3 × 4 — 日本語\r\n\tok".utf8), "text/plain"),
        ]
        for (bytes, type) in cases {
            // Chunks of 1 byte: a multi-byte character is split across writes.
            let up = try fx.core.attachments.begin(try JSON.parse(req))
            for b in bytes { try [b].withUnsafeBytes { try up.write($0) } }
            #expect(try JSON.parse(try up.finish())["content_type"] == .string(type), "\(type)")
        }
        let refused: [([UInt8], String)] = [
            ([0x50, 0x4B, 0x03, 0x04, 0x14, 0], "application/zip"),
            ([0x00, 0x01, 0x02], "application/octet-stream"),
            (Array("text then a NUL".utf8) + [0], "application/octet-stream"),
            ([0x61, 0xC3], "application/octet-stream"),          // a cut-off UTF-8 sequence
            ([0xED, 0xA0, 0x80], "application/octet-stream"),    // a surrogate
        ]
        let before = fx.counters
        for (bytes, type) in refused {
            let e = uploadError(fx, req, bytes)
            #expect(e?.code == .invalidArgument && e?.details?["content_type"] == .string(type), "\(type)")
            #expect(e?.details?["reason"] == .string("content_type_not_allowed"))
        }
        #expect(uploadError(fx, req, [])?.message == "the file is empty")
        #expect(fx.counters == before)
        #expect(entries(files(fx) + "/tmp").isEmpty)
    }

    @Test("limits, quota, hostile names and missing owners are refused and leave nothing; the allow-list is an engine option")
    func refusals() throws {
        var options = EngineOptions()
        options.files.maxFileBytes = 100_000
        options.files.quotaBytes = 150_000
        options.files.contentTypes = ["image/png", "application/zip"]
        let fx = try Fixture(options: options)
        let order = try fx.createOrder()["id"]!.stringValue!
        let note = try fx.call({ $0.timeline.createNote }, #"{"order_id":"\#(order)","body":"photo of the damage"}"#)["id"]!.stringValue!
        let other = try fx.createOrder()["id"]!.stringValue!
        _ = try upload(fx, #"{"owner_type":"note","owner_id":"\#(note)","file_name":"damage.png"}"#, Self.png)
        let before = fx.counters
        // Too big: refused while it streams.
        let big = Self.png + [UInt8](repeating: 1, count: 40_000)
        let tooBig = uploadError(fx, #"{"order_id":"\#(order)","file_name":"big.png"}"#, big)
        #expect(tooBig?.code == .limitExceeded && tooBig?.details?["reason"] == .string("file_too_large"))
        // Over the quota (70,008 + 70,008 > 150,000... the second fits, the third does not).
        _ = try upload(fx, #"{"order_id":"\#(order)","file_name":"second.png"}"#, Self.png)
        let over = uploadError(fx, #"{"order_id":"\#(order)","file_name":"third.png"}"#, Self.png)
        #expect(over?.code == .limitExceeded && over?.details?["reason"] == .string("quota"))
        // Text is not on this tenant's list; zip is.
        #expect(uploadError(fx, #"{"order_id":"\#(order)","file_name":"a.txt"}"#, Array("hello".utf8))?.details?["content_type"] == .string("text/plain"))
        let names = ["", ".", "..", "../../etc/passwd", "a/b", "a\\b", "line\nbreak", "nul\u{0}", String(repeating: "x", count: 256)]
        for n in names {
            let json = String(decoding: try JSONWriterProbe.string(n), as: UTF8.self)
            #expect(fx.error({ c in { r throws(OrderbaseError) in _ = try c.attachments.begin(r); return [] } }, #"{"order_id":"\#(order)","file_name":\#(json)}"#)?.field == "file_name", "\(n)")
        }
        let missing: [(String, String)] = [
            (#"{"order_id":"ord_nope","file_name":"a.png"}"#, "order_id"),
            (#"{"owner_type":"note","owner_id":"note_nope","file_name":"a.png"}"#, "owner_id"),
            (#"{"owner_type":"note","owner_id":"\#(note)","order_id":"\#(other)","file_name":"a.png"}"#, "order_id"),
            (#"{"file_name":"a.png"}"#, "order_id"),
            (#"{"owner_type":"note","file_name":"a.png"}"#, "owner_id"),
            (#"{"order_id":"\#(order)","file_name":"a.png","path":"/tmp/x"}"#, "path"),
        ]
        for (r, field) in missing {
            #expect(fx.error({ c in { r throws(OrderbaseError) in _ = try c.attachments.begin(r); return [] } }, r)?.field == field, "\(r)")
        }
        #expect(fx.counters.eventSeq == before.eventSeq + 1)  // only the second.png upload
        #expect(entries(files(fx) + "/tmp").isEmpty)
        // A note's attachments list by owner and by order.
        #expect(try fx.call({ $0.attachments.listAttachments }, #"{"owner_type":"note","owner_id":"\#(note)"}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.attachments.listAttachments }, #"{"order_id":"\#(order)"}"#)["data"]!.array.count == 2)
        #expect(try fx.call({ $0.attachments.listAttachments }, #"{"owner_type":"order","owner_id":"\#(order)"}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.attachments.listAttachments }, #"{"owner_id":"\#(order)"}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.attachments.listAttachments }, #"{"owner_type":"note"}"#)["data"]!.array.count == 1)
        #expect(try fx.call({ $0.attachments.listAttachments }, "{}")["data"]!.array.count == 2)
        #expect(try fx.call({ $0.attachments.listAttachments }, #"{"order_id":"\#(other)","owner_type":"note"}"#)["data"]!.array.isEmpty)
        #expect(try fx.call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
    }

    @Test("crash safety: leftover .part files go when the tenant opens; a blob no record names is collected; damage is found")
    func crashAndDamage() throws {
        let fx = try Fixture()
        let order = try fx.createOrder()["id"]!.stringValue!
        let a = try upload(fx, #"{"order_id":"\#(order)","file_name":"a.png"}"#, Self.png)
        let hex = a["sha256"]!.stringValue!
        // What a crash leaves: a .part file, and a blob published by an upload whose record never committed.
        FileManager.default.createFile(atPath: files(fx) + "/tmp/0123.part", contents: Data([1, 2, 3]))
        let orphan = String(repeating: "ab", count: 32)
        try FileManager.default.createDirectory(atPath: files(fx) + "/blobs/ab", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: files(fx) + "/blobs/ab/" + orphan, contents: Data([1, 2, 3]))
        fx.tenant.close()
        fx.engine.close()
        let engine = try Engine(root: fx.dir, options: EngineOptions(), clock: fx.clock)
        defer { engine.close() }
        let t = try engine.openTenant("shop")
        defer { t.close() }
        let core = try t.core()
        #expect(entries(files(fx) + "/tmp").isEmpty)
        func call(_ m: (TenantCore) -> (JSON) throws(OrderbaseError) -> [UInt8], _ r: String) throws -> JSON { try JSON.parse(try m(core)(try JSON.parse(r))) }
        let collected = try call({ $0.attachments.collect }, #"{"min_age_minutes":0}"#)
        #expect(collected["removed"] == .int(1) && collected["bytes"] == .int(3))
        #expect(try call({ $0.audit.checkIntegrity }, #"{"verify_files":true}"#)["ok"] == .bool(true))
        // The same size, other bytes: only verify_files sees it. A truncated file: the plain check sees it.
        let path = files(fx) + "/blobs/" + hex.prefix(2) + "/" + hex
        var damaged = Self.png
        damaged[100] ^= 0xFF
        FileManager.default.createFile(atPath: path, contents: Data(damaged))
        #expect(try call({ $0.audit.checkIntegrity }, "{}")["ok"] == .bool(true))
        let deep = try call({ $0.audit.checkIntegrity }, #"{"verify_files":true}"#)
        #expect(deep["problems"]!.array.map { $0.stringValue! } == ["attachment \(a["id"]!.stringValue!)'s file does not hash to \(hex)"])
        FileManager.default.createFile(atPath: path, contents: Data(Self.png.prefix(10)))
        #expect(try call({ $0.audit.checkIntegrity }, "{}")["problems"]!.array.count == 1)
        try FileManager.default.removeItem(atPath: path)
        #expect(try call({ $0.audit.checkIntegrity }, "{}")["problems"]!.array.first?.stringValue?.hasSuffix("is missing from the file store") == true)
        var buf = [UInt8](repeating: 0, count: 10)
        #expect(throws: OrderbaseError.self) { try buf.withUnsafeMutableBytes { try core.attachments.read(a["id"]!.stringValue!, offset: 0, into: $0) } }
    }
}

/// JSON string literals for test requests.
enum JSONWriterProbe {
    static func string(_ s: String) throws -> [UInt8] {
        var w = JSONWriter()
        w.string(s)
        return w.bytes
    }
}
