import Orderbase

/// `orderbase import --inventory FILE.csv`: a stock count from CSV, with a
/// header naming the columns `sku`, `location_id`, `quantity` and optionally
/// `name` (which quantity: `on_hand` by default) in any order. Rows go to
/// `inventory.set_many` in batches of up to 5,000, each one write, all or
/// nothing, with reason `cycle_count` and an idempotency key made of the file's
/// batch content, so running the same import again changes nothing.
public struct InventoryImporter {
    public struct Summary: Sendable {
        public var rows = 0
        public var batches = 0
        /// Levels whose quantity changed (movements written).
        public var changed = 0
        public var seconds = 0.0

        public var json: JSON {
            .object(["rows": .int(Int64(rows)), "batches": .int(Int64(batches)), "changed": .int(Int64(changed)),
                     "seconds": .double(seconds)])
        }
    }

    let core: TenantCore
    let batchSize: Int

    public init(core: TenantCore, batchSize: Int = InventoryService.maxChanges) {
        self.core = core
        self.batchSize = max(1, min(batchSize, InventoryService.maxChanges))
    }

    public func run(path: String) throws -> Summary {
        let start = Progress.now()
        var summary = Summary()
        let reader: LineReader
        do { reader = try LineReader(path: path) } catch { throw Importer.Failure(description: "\(error)") }
        guard let headerLine = try reader.next(), let header = csvFields(headerLine) else {
            throw Importer.Failure(description: "\(path): empty, or no CSV header")
        }
        let names = header.map { $0.trimmedSpaces.lowercased() }
        guard let sku = names.firstIndex(of: "sku"), let location = names.firstIndex(of: "location_id"),
              let quantity = names.firstIndex(of: "quantity") else {
            throw Importer.Failure(description: "\(path): the header must name sku, location_id and quantity (and optionally name)")
        }
        let name = names.firstIndex(of: "name")
        var batch: [JSON] = []
        var firstLine = 2
        func flush() throws {
            guard !batch.isEmpty else { return }
            let request = JSON.object(["quantities": .array(batch), "reason": .string("cycle_count"), "reference": .string("import"),
                                       "actor": .object(["type": .string("system"), "id": .string("orderbase import")])])
            do {
                let answer = try JSON.parse(try core.inventory.setMany(request))
                if case .array(let moved)? = answer["levels"] { summary.changed += moved.count }
            } catch let e as OrderbaseError {
                // The error's field names the row within the batch: quantities[k] is line firstLine + k.
                var whereText = "lines \(firstLine)–\(firstLine + batch.count - 1)"
                if let field = e.field, field.hasPrefix("quantities["), let close = field.firstIndex(of: "]"),
                   let k = Int(field[field.index(field.startIndex, offsetBy: 11)..<close]) {
                    whereText = "line \(firstLine + k)"
                }
                throw Importer.Failure(description: "\(whereText): \(e.description); nothing of this batch was written")
            }
            summary.batches += 1
            firstLine += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        while let line = try reader.next() {
            if line.isEmpty { firstLine += batch.isEmpty ? 1 : 0; continue }
            guard let fields = csvFields(line), fields.count == header.count else {
                throw Importer.Failure(description: "line \(reader.lineNumber): expected \(header.count) fields")
            }
            guard let q = Int64(fields[quantity].trimmedSpaces) else {
                throw Importer.Failure(description: "line \(reader.lineNumber): quantity \(fields[quantity]) is not a whole number")
            }
            var row: JSONObject = ["sku": .string(fields[sku]), "location_id": .string(fields[location].trimmedSpaces),
                                   "quantity": .int(q)]
            if let name, !fields[name].isEmpty { row["name"] = .string(fields[name].trimmedSpaces) }
            batch.append(.object(row))
            summary.rows += 1
            if batch.count == batchSize { try flush() }
        }
        try flush()
        summary.seconds = Progress.now() - start
        return summary
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmedSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
