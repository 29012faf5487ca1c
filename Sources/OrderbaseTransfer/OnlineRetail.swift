import Orderbase

/// The online-retail CSV layout of `../shared/data` (UCI "Online Retail"):
/// `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country`,
/// one row per invoice line. Rows are grouped into one order per invoice.
///
/// How rows become orders (docs/cli.md, "Importing the online-retail CSV"):
/// - `UnitPrice` (pounds, up to 3 decimals) becomes pence rounded half away
///   from zero; when that changes the price, the line keeps the original in
///   `properties.source_unit_price`.
/// - `InvoiceDate` is UK local time (GMT, or BST from the last Sunday of March
///   to the last Sunday of October, changing at 01:00 UTC) and becomes UTC.
/// - `CustomerID` `17850.0` becomes customer id `17850`; empty means a guest order.
/// - `Country` becomes the shipping address' ISO code where there is one, and
///   `metadata.country` always.
/// - Invoices starting with `C` are credit notes, and invoices whose every line
///   has a non-positive quantity or a negative price are stock adjustments:
///   neither is an order, and both are counted apart, not failed.
enum OnlineRetail {
    static let header = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]

    struct Row {
        let line: Int
        let invoice: String
        let stockCode: String
        let description: String
        let quantity: Int64
        let unitPrice: String
        let date: String
        let customer: String
        let country: String
    }

    enum Kind { case order, creditNote, adjustment }

    static let countries: [String: String] = [
        "Australia": "AU", "Austria": "AT", "Bahrain": "BH", "Belgium": "BE", "Brazil": "BR", "Canada": "CA",
        "Cyprus": "CY", "Czech Republic": "CZ", "Denmark": "DK", "EIRE": "IE", "Finland": "FI", "France": "FR",
        "Germany": "DE", "Greece": "GR", "Hong Kong": "HK", "Iceland": "IS", "Israel": "IL", "Italy": "IT",
        "Japan": "JP", "Lebanon": "LB", "Lithuania": "LT", "Malta": "MT", "Netherlands": "NL", "Norway": "NO",
        "Poland": "PL", "Portugal": "PT", "RSA": "ZA", "Saudi Arabia": "SA", "Singapore": "SG", "Spain": "ES",
        "Sweden": "SE", "Switzerland": "CH", "USA": "US", "United Arab Emirates": "AE", "United Kingdom": "GB",
    ]

    struct RowError: Error, CustomStringConvertible {
        let description: String
    }

    static func row(_ f: [String], line: Int) throws -> Row {
        guard f.count == 8 else { throw RowError(description: "expected 8 columns, found \(f.count)") }
        guard !f[0].isEmpty else { throw RowError(description: "InvoiceNo is empty") }
        guard let q = Int64(f[3]) else { throw RowError(description: "Quantity \"\(f[3])\" is not an integer") }
        return Row(line: line, invoice: f[0], stockCode: f[1], description: f[2], quantity: q, unitPrice: f[5],
                   date: f[4], customer: f[6], country: f[7])
    }

    static func kind(_ rows: [Row]) -> Kind {
        if rows[0].invoice.hasPrefix("C") { return .creditNote }
        if rows.allSatisfy({ $0.quantity <= 0 || $0.unitPrice.hasPrefix("-") }) { return .adjustment }
        return .order
    }

    /// Pounds with up to 3 decimals as pence, rounded half away from zero.
    /// Returns (pence, exact) or nil when the text is not a decimal.
    static func pence(_ s: String) -> (Int64, Bool)? {
        var text = Substring(s)
        var negative = false
        if text.hasPrefix("-") { negative = true; text = text.dropFirst() }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 12, whole.allSatisfy(\.isASCIIDigit),
              let w = Int64(whole) else { return nil }
        var frac = parts.count > 1 ? String(parts[1]) : ""
        guard frac.count <= 6, frac.allSatisfy(\.isASCIIDigit), parts.count == 1 || !frac.isEmpty else { return nil }
        frac += String(repeating: "0", count: 6 - frac.count)
        let micro = w * 1_000_000 + Int64(frac)!  // millionths of a pound
        var p = micro / 10_000
        let rest = micro % 10_000
        if rest >= 5_000 { p += 1 }
        return (negative ? -p : p, rest == 0)
    }

    /// `YYYY-MM-DD HH:MM:SS` UK local time as an RFC 3339 UTC timestamp.
    static func utc(_ local: String) -> String? {
        let u = Array(local.utf8)
        guard u.count == 19, u[10] == UInt8(ascii: " "),
              let asUTC = Timestamp.parse(String(decoding: u[0..<10], as: UTF8.self) + "T" + String(decoding: u[11...], as: UTF8.self) + "Z")
        else { return nil }
        // BST runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on
        // the last Sunday of October; in local time, from 01:00 GMT to 02:00 BST.
        let year = Int64(String(decoding: u[0..<4], as: UTF8.self))!
        let start = lastSunday(year: year, month: 3) + 3_600_000
        let end = lastSunday(year: year, month: 10) + 2 * 3_600_000
        let ms = (asUTC >= start && asUTC < end) ? asUTC - 3_600_000 : asUTC
        return Timestamp.format(ms)
    }

    /// Midnight (as if UTC) of the last Sunday of a month, in epoch milliseconds.
    static func lastSunday(year: Int64, month: Int64) -> Int64 {
        let nextMonthFirst = Timestamp.parse(String(format4(year)) + "-" + (month == 12 ? "01" : two(month + 1)) + "-01T00:00:00Z")!
        let lastDay = nextMonthFirst - 86_400_000
        let days = lastDay / 86_400_000
        let weekday = (days + 4) % 7  // 1970-01-01 was a Thursday; 0 = Sunday
        return lastDay - weekday * 86_400_000
    }

    private static func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    private static func format4(_ v: Int64) -> String { String(repeating: "0", count: max(0, 4 - String(v).count)) + String(v) }

    /// The `orders.create` request of one invoice (kind `.order`).
    static func request(_ rows: [Row]) throws -> JSON {
        let first = rows[0]
        guard let placed = utc(first.date) else { throw RowError(description: "line \(first.line): InvoiceDate \"\(first.date)\" is not YYYY-MM-DD HH:MM:SS") }
        var items: [JSON] = []
        for r in rows {
            guard r.quantity > 0 else {
                throw RowError(description: "line \(r.line): Quantity \(r.quantity) is not positive in an invoice that is not a credit note")
            }
            guard let (price, exact) = pence(r.unitPrice) else {
                throw RowError(description: "line \(r.line): UnitPrice \"\(r.unitPrice)\" is not a decimal")
            }
            guard price >= 0 else { throw RowError(description: "line \(r.line): UnitPrice \(r.unitPrice) is negative") }
            let title = r.description.trimmingTrailingSpaces
            var item: JSONObject = ["title": .string(title.isEmpty ? r.stockCode : title), "quantity": .int(r.quantity), "unit_price": .int(price)]
            if !r.stockCode.isEmpty { item["sku"] = .string(r.stockCode) }
            if !exact { item["properties"] = .object(["source_unit_price": .string(r.unitPrice)]) }
            items.append(.object(item))
        }
        var o: JSONObject = [
            "idempotency_key": .string("online-retail:\(first.invoice)"),
            "currency": .string("GBP"),
            "channel": .string("online"),
            "source": .object(["name": .string("online-retail"), "external_id": .string(first.invoice)]),
            "placed_at": .string(placed),
            "line_items": .array(items),
            "metadata": .object(["country": .string(first.country)]),
        ]
        let customer = first.customer.hasSuffix(".0") ? String(first.customer.dropLast(2)) : first.customer
        if !customer.isEmpty { o["customer"] = .object(["id": .string(customer)]) }
        if let code = countries[first.country] { o["shipping_address"] = .object(["country": .string(code)]) }
        return .object(o)
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
