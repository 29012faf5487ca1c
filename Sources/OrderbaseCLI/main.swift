import ArgumentParser
import Orderbase
import OrderbaseAPI
import OrderbaseDelivery
import OrderbaseServer
import OrderbaseTransfer
#if canImport(Glibc)
import Glibc
#endif

/// Where the data lives: `--data`, else `$ORDERBASE_DATA`, else `./data`.
struct DataOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The engine's root directory (default: $ORDERBASE_DATA, else ./data).", valueName: "dir"))
    var data: String?

    @Option(name: .long, help: ArgumentHelp("Engine options as JSON, e.g. '{\"durability\":\"relaxed\"}' (docs/methods.md).", valueName: "json"))
    var engineOptions: String?

    var root: String { data ?? (getenv("ORDERBASE_DATA").map { String(cString: $0) } ?? "data") }

    func openEngine() throws -> Engine {
        let options = try EngineOptions.parse(engineOptions.map { try JSON.parse($0) })
        return try Engine(root: root, options: options, transport: CurlTransport.shared, mail: CurlTransport.shared)
    }
}

/// Prints JSON the way the API returns it, or fails with the error's message.
func printJSON(_ bytes: [UInt8]) { print(String(decoding: bytes, as: UTF8.self)) }

func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    var line = Array(("orderbase: " + message + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    return ExitCode(code)
}

/// Runs an engine-level catalogue method and prints its answer.
func engineCall(_ data: DataOption, _ method: String, _ request: JSONObject) throws {
    let engine = try data.openEngine()
    defer { engine.close() }
    printJSON(try Catalogue.call(engine, method, .object(request)))
}

@main
struct OrderbaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orderbase",
        abstract: "Orderbase: an embeddable order engine. Serve its REST API, manage tenants and API keys, import and export orders.",
        discussion: """
        Every command works on an engine root directory (--data, $ORDERBASE_DATA, or ./data).
        Start with:
          orderbase tenants create acme --settings '{"default_currency":"GBP"}'
          orderbase keys create --tenant acme --scope write
          orderbase serve
        See docs/cli.md and docs/rest.md.
        """,
        version: OrderbaseVersion.string,
        subcommands: [Serve.self, Tenants.self, Keys.self, Import.self, Export.self, OpenAPIDocument.self])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the REST API (every catalogue method under /v1, /v1/openapi.json, /healthz, /metrics).",
        discussion: "Binds loopback by default. Logs one line per request on stderr: time, method, path, status, duration, request id. Stops cleanly on SIGINT or SIGTERM.")

    @OptionGroup var data: DataOption
    @Option(help: "Address to bind. Anything but loopback exposes the API to the network.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one (the 'listening on' line tells which).") var port = 8080
    @Option(help: "Threads for engine calls: concurrent requests beyond this wait.") var threads = 16
    @Option(help: ArgumentHelp("Requests per second per API key (a burst of the same size); over it: 429 with Retry-After.", valueName: "n"))
    var rateLimit: Int?
    @Flag(help: "Do not log each request.") var quiet = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be between 1 and 1024") }
        if let r = rateLimit, r < 1 { throw ValidationError("--rate-limit must be at least 1") }
    }

    func run() async throws {
        let engine: Engine
        do { engine = try data.openEngine() } catch let e as OrderbaseError { throw fail(e.description) }
        defer { engine.close() }
        var config = RESTServer.Configuration()
        config.host = host
        config.port = port
        config.threads = threads
        config.rest.rateLimit = rateLimit
        config.logRequests = !quiet
        let root = engine.directory.root
        let server = RESTServer(engine: engine, configuration: config)
        do {
            try await server.run { address in
                var line = Array("orderbase \(OrderbaseVersion.string): serving \(root) on http://\(address)\n".utf8)
                _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
            }
        } catch {
            throw fail("cannot serve on \(host):\(port): \(error)")
        }
    }
}

struct Tenants: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, show and delete tenants.", subcommands: [Create.self, List.self, Get.self, Delete.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant (tenants.create).")
        @OptionGroup var data: DataOption
        @Argument(help: "The tenant id: ^[a-z0-9][a-z0-9_-]{0,62}$.") var id: String
        @Option(help: ArgumentHelp("Settings JSON: name, order_number_prefix, order_number_start, default_currency.", valueName: "json"))
        var settings: String?

        func run() throws {
            var req: JSONObject = ["id": .string(id)]
            do {
                if let settings { req["settings"] = try JSON.parse(settings) }
                try engineCall(data, "tenants.create", req)
            } catch let e as OrderbaseError { throw fail(e.description) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenant ids (tenants.list).")
        @OptionGroup var data: DataOption
        func run() throws {
            do {
                let engine = try data.openEngine()
                defer { engine.close() }
                var after: String?
                repeat {
                    var req: JSONObject = ["limit": .int(1000)]
                    if let after { req["starting_after"] = .string(after) }
                    let page = try JSON.parse(try Catalogue.call(engine, "tenants.list", .object(req)))
                    guard case .array(let items)? = page["data"] else { break }
                    for t in items { if let id = t["id"]?.stringValue { print(id) } }
                    after = page["has_more"] == .bool(true) ? items.last?["id"]?.stringValue : nil
                } while after != nil
            } catch let e as OrderbaseError { throw fail(e.description) }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a tenant and its settings (tenants.get).")
        @OptionGroup var data: DataOption
        @Argument var id: String
        func run() throws {
            do { try engineCall(data, "tenants.get", ["id": .string(id)]) } catch let e as OrderbaseError { throw fail(e.description) }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a tenant and all its data, API keys included (tenants.delete).",
            discussion: "Fails with busy while a server (or any process) has the tenant open.")
        @OptionGroup var data: DataOption
        @Argument var id: String
        @Flag(help: "Required: confirms that every order of the tenant goes.") var yes = false
        func run() throws {
            guard yes else { throw fail("deleting \(id) removes all its orders; add --yes to confirm", code: 2) }
            do { try engineCall(data, "tenants.delete", ["id": .string(id)]) } catch let e as OrderbaseError { throw fail(e.description) }
        }
    }
}

struct KeyTarget: ParsableArguments {
    @Option(help: "The tenant the key belongs to.") var tenant: String?
    @Flag(help: "An operator key: manages tenants and keys over REST (tenants.*, api_keys.*), reads no orders.") var `operator` = false

    func validate() throws {
        if (tenant == nil) == !`operator` { throw ValidationError("give exactly one of --tenant or --operator") }
    }

    var request: JSONObject { tenant.map { ["tenant": .string($0)] } ?? [:] }
}

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API keys for the REST server.",
        discussion: "Keys are stored hashed (SHA-256) in the tenant's directory, so these commands work while the server runs.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print its secret (shown only this once).")
        @OptionGroup var data: DataOption
        @OptionGroup var target: KeyTarget
        @Option(help: "read, write or admin (admin ⊃ write ⊃ read). Operator keys are admin.") var scope: String?
        @Option(help: "A label to recognise the key by.") var name: String?
        @Flag(help: "Print the whole key record as JSON instead of the secret alone.") var json = false

        func run() throws {
            var req = target.request
            req["scope"] = .string(scope ?? (target.operator ? "admin" : "read"))
            if let name { req["name"] = .string(name) }
            do {
                let engine = try data.openEngine()
                defer { engine.close() }
                let bytes = try Catalogue.call(engine, "api_keys.create", .object(req))
                if json { printJSON(bytes); return }
                let key = try JSON.parse(bytes)
                print(key["secret"]?.stringValue ?? "")
                var note = Array("orderbase: created \(key["id"]?.stringValue ?? "") (scope \(key["scope"]?.stringValue ?? "")); the secret above is not stored and is shown only now\n".utf8)
                _ = note.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
            } catch let e as OrderbaseError { throw fail(e.description) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids, scopes, prefixes; never secrets).")
        @OptionGroup var data: DataOption
        @OptionGroup var target: KeyTarget
        @Flag(help: "Include revoked keys.") var all = false
        func run() throws {
            var req = target.request
            req["include_revoked"] = .bool(all)
            req["limit"] = .int(1000)
            do { try engineCall(data, "api_keys.list", req) } catch let e as OrderbaseError { throw fail(e.description) }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key; a running server refuses it from the next request.")
        @OptionGroup var data: DataOption
        @OptionGroup var target: KeyTarget
        @Argument(help: "The key id (key_…).") var id: String
        func run() throws {
            var req = target.request
            req["id"] = .string(id)
            do { try engineCall(data, "api_keys.revoke", req) } catch let e as OrderbaseError { throw fail(e.description) }
        }
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import orders: JSON Lines of orders.create requests, or the online-retail CSV layout (gzip or plain).",
        discussion: """
        Resumable: every order carries an idempotency key (the line's idempotency_key, else one derived from the \
        line's content, or online-retail:<InvoiceNo> for CSV), so running the same import again skips what is there.
        Exit status: 0 when every row was imported or skipped as a duplicate, credit note or stock adjustment; \
        1 when the import stopped at an error; 3 when it finished with failed rows skipped (--on-error skip).
        The tenant's database must not be held by a running server.
        With --inventory, FILE is a stock count (CSV: sku, location_id, quantity, optionally name), set in one write per \
        5,000 rows; running it again changes nothing.
        """)

    @OptionGroup var data: DataOption
    @Option(help: "The tenant to import into.") var tenant: String
    @Argument(help: "The file (.jsonl, .ndjson or .csv, optionally .gz).") var file: String
    @Flag(help: "The file is a stock count: CSV with columns sku, location_id, quantity and optionally name (docs/inventory.md).")
    var inventory = false
    @Option(help: "auto (by name, else by the first line), jsonl or csv.") var format: String = "auto"
    @Option(help: "stop at the first bad row, or skip bad rows and report them.") var onError: String = "stop"
    @Option(help: "auto (a bar on a terminal, plain lines otherwise), bar, lines or none.") var progress: String = "auto"
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        guard Importer.Format(rawValue: format) != nil else { throw ValidationError("--format must be auto, jsonl or csv") }
        guard Importer.OnError(rawValue: onError) != nil else { throw ValidationError("--on-error must be stop or skip") }
        guard Progress.Mode(rawValue: progress) != nil else { throw ValidationError("--progress must be auto, bar, lines or none") }
    }

    func run() throws {
        if inventory { return try runInventory() }
        let summary: Importer.Summary
        do {
            let engine = try data.openEngine()
            defer { engine.close() }
            let t = try engine.openTenant(tenant)
            defer { t.close() }
            let importer = Importer(core: try t.core(), onError: Importer.OnError(rawValue: onError)!,
                                    progress: Progress(mode: Progress.Mode(rawValue: progress)!))
            summary = try importer.run(path: file, format: Importer.Format(rawValue: format)!)
        } catch let e as OrderbaseError {
            throw fail(e.code == .busy ? "\(e.message): stop the server first, or import through its REST API" : e.description)
        } catch let e as Importer.Failure {
            throw fail(e.description)
        }
        if json {
            printJSON(summary.json.bytes)
        } else {
            print("format: \(summary.format.rawValue)")
            print("created: \(summary.created)")
            print("skipped, already imported: \(summary.duplicates)")
            if summary.format == .csv {
                print("skipped, credit notes: \(summary.creditNotes)")
                print("skipped, stock adjustments: \(summary.adjustments)")
            }
            print("failed: \(summary.failed.count)")
            for f in summary.failed.prefix(50) { print("  \(f.location): \(f.reason)") }
            if summary.failed.count > 50 { print("  … \(summary.failed.count - 50) more (--json lists up to 1000)") }
            let rate = summary.seconds > 0 ? Int(Double(summary.created + summary.duplicates) / summary.seconds) : 0
            print("time: \(Int(summary.seconds * 1000)) ms (\(rate) orders/s)" + (summary.stopped ? "; stopped at the first error" : ""))
        }
        if summary.stopped { throw ExitCode(1) }
        if !summary.failed.isEmpty { throw ExitCode(3) }
    }

    /// `--inventory`: a stock count, all of a batch or nothing; stops at the first bad batch.
    func runInventory() throws {
        let summary: InventoryImporter.Summary
        do {
            let engine = try data.openEngine()
            defer { engine.close() }
            let t = try engine.openTenant(tenant)
            defer { t.close() }
            summary = try InventoryImporter(core: try t.core()).run(path: file)
        } catch let e as OrderbaseError {
            throw fail(e.code == .busy ? "\(e.message): stop the server first, or use inventory.set_many through its REST API" : e.description)
        } catch let e as Importer.Failure {
            throw fail(e.description)
        }
        if json {
            printJSON(summary.json.bytes)
        } else {
            print("rows: \(summary.rows)")
            print("levels changed: \(summary.changed)")
            print("batches: \(summary.batches)")
            print("time: \(Int(summary.seconds * 1000)) ms")
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export every order of a tenant, oldest first: JSON Lines (as the API returns them) or CSV (a row per line item).",
        discussion: "Streams from one snapshot: memory stays flat whatever the number of orders. The tenant's database must not be held by a running server.")

    @OptionGroup var data: DataOption
    @Option(help: "The tenant to export.") var tenant: String
    @Option(help: "jsonl or csv.") var format: String = "jsonl"
    @Option(name: [.short, .long], help: "Write here instead of standard output.") var output: String?

    func validate() throws {
        guard Exporter.Format(rawValue: format) != nil else { throw ValidationError("--format must be jsonl or csv") }
    }

    func run() throws {
        var fd: Int32 = 1
        if let output {
            fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 { throw fail("cannot write \(output): \(String(cString: strerror(errno)))") }
        }
        defer { if fd != 1 { close(fd) } }
        do {
            let engine = try data.openEngine()
            defer { engine.close() }
            let t = try engine.openTenant(tenant)
            defer { t.close() }
            let (orders, rows) = try Exporter.run(core: try t.core(), format: Exporter.Format(rawValue: format)!, fd: fd)
            var line = Array("orderbase: exported \(orders) orders (\(rows) rows); \(memoryReport())\n".utf8)
            _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        } catch let e as OrderbaseError {
            throw fail(e.code == .busy ? "\(e.message): stop the server first" : e.description)
        } catch let e as Exporter.Failure {
            throw fail(e.description)
        }
    }
}

/// Resident memory from /proc/self/status: the process' own (anonymous) pages,
/// and the database files LevelDB maps, which are the kernel's page cache.
func memoryReport() -> String {
    guard let f = fopen("/proc/self/status", "r") else { return "memory unknown" }
    defer { fclose(f) }
    var anon = "?", file = "?"
    var buf = [CChar](repeating: 0, count: 256)
    while fgets(&buf, Int32(buf.count), f) != nil {
        let line = String(cString: buf)
        let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? "?"
        let mib = Int(kb).map { String($0 / 1024) } ?? "?"
        if line.hasPrefix("RssAnon:") { anon = mib }
        if line.hasPrefix("RssFile:") { file = mib }
    }
    return "memory: \(anon) MiB of its own, \(file) MiB of mapped files (database and program)"
}

struct OpenAPIDocument: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "openapi", abstract: "Print the REST API's OpenAPI 3.1 document.")
    func run() throws { printJSON(OpenAPI.document.bytes) }
}
