import Orderbase
#if canImport(Glibc)
import Glibc
#endif

/// `orderbase import`: JSON Lines of `orders.create` requests, or the
/// online-retail CSV layout, into one tenant. Every order carries an
/// idempotency key (the line's own, else one derived from its content or
/// invoice number), so re-running an import skips what is already there.
public final class Importer {
    public enum Format: String, CaseIterable, Sendable { case auto, jsonl, csv }
    public enum OnError: String, CaseIterable, Sendable { case stop, skip }

    public struct Summary: Sendable {
        public var format = Format.auto
        public var created = 0
        public var duplicates = 0
        public var creditNotes = 0
        public var adjustments = 0
        public var failed: [(location: String, reason: String)] = []
        /// Stopped at the first failure (`--on-error stop`) or on a fault of the engine.
        public var stopped = false
        public var seconds = 0.0

        public var json: JSON {
            .object([
                "format": .string(format.rawValue), "created": .int(Int64(created)), "skipped_duplicates": .int(Int64(duplicates)),
                "skipped_credit_notes": .int(Int64(creditNotes)), "skipped_adjustments": .int(Int64(adjustments)),
                "failed": .int(Int64(failed.count)), "stopped": .bool(stopped),
                "failures": .array(failed.prefix(1000).map { .object(["at": .string($0.location), "reason": .string($0.reason)]) }),
            ])
        }
    }

    let core: TenantCore
    let onError: OnError
    let progress: Progress
    /// Lines of one invoice may be interleaved with others' (the data set has
    /// one such invoice); an invoice is complete once this many lines passed
    /// without one of its own.
    let invoiceWindow: Int
    private(set) var summary = Summary()

    public init(core: TenantCore, onError: OnError, progress: Progress, invoiceWindow: Int = 2000) {
        self.core = core
        self.onError = onError
        self.progress = progress
        self.invoiceWindow = invoiceWindow
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public func run(path: String, format: Format) throws -> Summary {
        let start = Progress.now()
        let reader: LineReader
        do { reader = try LineReader(path: path) } catch { throw Failure(description: "\(error)") }
        let chosen = try format == .auto ? detect(path: path, reader: reader) : format
        summary.format = chosen
        progress.begin(total: reader.size)
        do {
            switch chosen {
            case .jsonl: try importJSONLines(reader)
            case .csv: try importCSV(reader)
            case .auto: break
            }
        } catch is Stop {
            summary.stopped = true
        } catch let e as LineReader.Failure {
            summary.failed.append(("line \(reader.lineNumber + 1)", e.description))
            summary.stopped = true
        }
        progress.finish(done: summary.created + summary.duplicates, offset: reader.offset)
        summary.seconds = Progress.now() - start
        return summary
    }

    /// By name (`.jsonl`, `.ndjson`, `.csv`, optionally `.gz`), else by the first line.
    private func detect(path: String, reader: LineReader) throws -> Format {
        let name = path.hasSuffix(".gz") ? String(path.dropLast(3)) : path
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") { return .jsonl }
        if name.hasSuffix(".csv") { return .csv }
        guard let probe = try? LineReader(path: path), let first = try? probe.next() else {
            throw Failure(description: "\(path) is empty; give --format")
        }
        if first.first == UInt8(ascii: "{") { return .jsonl }
        if csvFields(first) == OnlineRetail.header { return .csv }
        throw Failure(description: "cannot tell the format of \(path): neither JSON Lines nor the online-retail CSV; give --format")
    }

    private struct Stop: Error {}

    /// Records a failure; stops unless `--on-error skip`.
    private func fail(_ location: String, _ reason: String) throws {
        summary.failed.append((location, reason))
        if onError == .stop { throw Stop() }
    }

    /// Creates one order; engine faults (not the row's fault) always stop.
    private func create(_ request: JSON, location: String) throws {
        var replayed = false
        do {
            _ = try core.orders.createOrder(request, replayed: &replayed)
            if replayed { summary.duplicates += 1 } else { summary.created += 1 }
        } catch {
            var reason = error.description
            if error.code == .limitExceeded && error.field == "line_items" {
                reason += "; raise the engine option max_line_items, e.g. --engine-options '{\"max_line_items\":1000}'"
            }
            switch error.code {
            case .ioError, .corruption, .busy, .misuse, .internal:
                summary.failed.append((location, reason))
                throw Stop()
            default:
                try fail(location, reason)
            }
        }
    }

    // MARK: JSON Lines

    private func importJSONLines(_ reader: LineReader) throws {
        while let line = try reader.next() {
            let n = reader.lineNumber
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let bytes = Array(line)
            var json: JSON
            do { json = try JSON.parse(bytes) } catch {
                try fail("line \(n)", error.description)
                continue
            }
            guard case .object(var o) = json else {
                try fail("line \(n)", "invalid_argument: each line must be a JSON object (an orders.create request), got \(json.typeName)")
                continue
            }
            if o["idempotency_key"] == nil {
                o["idempotency_key"] = .string("jsonl:" + Crypto.hex(Crypto.sha256(bytes)))
            }
            json = .object(o)
            try create(json, location: "line \(n)")
            progress.update(done: summary.created + summary.duplicates, offset: reader.offset)
        }
    }

    // MARK: online-retail CSV

    private func importCSV(_ reader: LineReader) throws {
        guard let head = try reader.next(), csvFields(head) == OnlineRetail.header else {
            throw Failure(description: "\(reader.path) does not start with the online-retail header \(OnlineRetail.header.joined(separator: ","))")
        }
        var open: [String: [OnlineRetail.Row]] = [:]
        var lastSeen: [String: Int] = [:]
        var queue: [String] = []  // first-seen order
        var queueStart = 0
        var done: Set<String> = []

        func flush(_ invoice: String) throws {
            guard let rows = open.removeValue(forKey: invoice) else { return }
            lastSeen[invoice] = nil
            done.insert(invoice)
            let location = "invoice \(invoice) (line \(rows[0].line))"
            switch OnlineRetail.kind(rows) {
            case .creditNote: summary.creditNotes += 1
            case .adjustment: summary.adjustments += 1
            case .order:
                let request: JSON
                do { request = try OnlineRetail.request(rows) } catch {
                    try fail(location, "invalid_argument: \(error)")
                    return
                }
                try create(request, location: location)
            }
            progress.update(done: summary.created + summary.duplicates, offset: reader.offset)
        }

        while var line = try reader.next() {
            let n = reader.lineNumber
            if line.isEmpty { continue }
            var fields = csvFields(line)
            while fields == nil, let more = try reader.next() {  // a quoted field spanning lines
                line = ArraySlice(Array(line) + [0x0A] + Array(more))
                fields = csvFields(line)
            }
            guard String(validating: Array(line), as: UTF8.self) != nil else {
                try fail("line \(n)", "invalid_argument: the line is not valid UTF-8")
                continue
            }
            guard let fields else {
                try fail("line \(n)", "invalid_argument: a quoted field is not closed")
                continue
            }
            let row: OnlineRetail.Row
            do { row = try OnlineRetail.row(fields, line: n) } catch {
                try fail("line \(n)", "invalid_argument: \(error)")
                continue
            }
            if done.contains(row.invoice) {
                try fail("line \(n)", "invalid_argument: invoice \(row.invoice) continues more than \(invoiceWindow) lines after its other lines")
                continue
            }
            if open[row.invoice] == nil { queue.append(row.invoice) }
            open[row.invoice, default: []].append(row)
            lastSeen[row.invoice] = n
            while queueStart < queue.count {
                let front = queue[queueStart]
                if let seen = lastSeen[front], seen >= n - invoiceWindow { break }
                queueStart += 1
                try flush(front)
            }
            if queueStart > 4096 { queue.removeFirst(queueStart); queueStart = 0 }
            if done.count > 1_000_000 { done.removeAll() }  // bound memory on huge files
        }
        for invoice in queue[queueStart...] { try flush(invoice) }
    }
}
