import Orderbase
#if canImport(Glibc)
import Glibc
#endif

/// `orderbase export`: every order of a tenant, oldest first, streamed from
/// one snapshot through a 64 KiB buffer, so memory stays flat however many
/// orders there are. JSON Lines carry each order exactly as the API returns
/// it; CSV has one row per line item with the order's columns repeated.
public enum Exporter {
    public enum Format: String, CaseIterable, Sendable { case jsonl, csv }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static let csvColumns = [
        "order_id", "number", "status", "financial_status", "fulfillment_status", "channel", "currency",
        "customer_id", "customer_email", "placed_at", "created_at", "subtotal", "total_discount", "total_tax",
        "total_shipping", "total", "line_item_id", "sku", "title", "quantity", "unit_price",
    ]

    /// Writes to `fd`; returns (orders, rows) written.
    public static func run(core: TenantCore, format: Format, fd: Int32) throws -> (orders: Int, rows: Int) {
        var out = Output(fd: fd)
        var orders = 0, rows = 0
        if format == .csv { try out.write(Array((csvColumns.joined(separator: ",") + "\n").utf8)) }
        var failure: (any Error)?
        try core.orders.forEachOrder { bytes in
            do {
                switch format {
                case .jsonl:
                    try out.write(bytes)
                    try out.write([0x0A])
                    rows += 1
                case .csv:
                    rows += try csvRows(bytes, &out)
                }
                orders += 1
                return true
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        try out.flush()
        return (orders, rows)
    }

    static func csvRows(_ bytes: [UInt8], _ out: inout Output) throws -> Int {
        let o = try JSON.parse(bytes)
        func s(_ v: JSON?) -> String {
            switch v {
            case .string(let x)?: x
            case .int(let x)?: String(x)
            case .bool(let x)?: String(x)
            default: ""
            }
        }
        let head = ["id", "number", "status", "financial_status", "fulfillment_status", "channel", "currency"].map { s(o[$0]) }
            + [s(o["customer"]?["id"]), s(o["customer"]?["email"])]
            + ["placed_at", "created_at", "subtotal", "total_discount", "total_tax", "total_shipping", "total"].map { s(o[$0]) }
        guard case .array(let items)? = o["line_items"] else { throw Failure(description: "an order without line_items") }
        for item in items {
            let cells = head + ["id", "sku", "title", "quantity", "unit_price"].map { s(item[$0]) }
            try out.write(Array((cells.map(csvCell).joined(separator: ",") + "\n").utf8))
        }
        return items.count
    }

    /// RFC 4180: quoted when it holds a comma, quote or line break; a leading
    /// `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run it
    /// as a formula (OWASP CSV injection).
    static func csvCell(_ v: String) -> String {
        var v = v
        if let f = v.first, "=+-@".contains(f), Int64(v) == nil { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacingOccurrencesOfQuote + "\""
        }
        return v
    }

    struct Output {
        let fd: Int32
        var buffer: [UInt8] = []

        init(fd: Int32) {
            self.fd = fd
            buffer.reserveCapacity(1 << 16)
        }

        mutating func write(_ bytes: [UInt8]) throws {
            buffer.append(contentsOf: bytes)
            if buffer.count >= 1 << 16 { try flush() }
        }

        mutating func flush() throws {
            var off = 0
            while off < buffer.count {
                let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(description: "cannot write the export: \(String(cString: strerror(errno)))")
                }
                off += n
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }
}

extension String {
    var replacingOccurrencesOfQuote: String {
        var out = ""
        for c in self { if c == "\"" { out += "\"\"" } else { out.append(c) } }
        return out
    }
}
