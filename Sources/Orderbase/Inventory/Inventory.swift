import OrderbaseStore

/// The records of inventory (their fields: the `+Fields.generated.swift` files,
/// declared in Tools/codegen/record_fields.py), and what they know of themselves.

extension Location {
    static let types = ["warehouse", "store", "drop_shipper"]

    /// `ships_to`: ISO 3166-1 alpha-2 codes, sorted and unique; nil when absent.
    static func readCountries(_ f: inout Fields) throws(OrderbaseError) -> [String]? {
        guard let list = try f.array("ships_to", maxCount: 250) else { return nil }
        var out: Set<String> = []
        for (n, v) in list.enumerated() {
            guard case .string(let c) = v, c.utf8.count == 2, c.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                throw OrderbaseError.invalid("ships_to[\(n)] must be an ISO 3166-1 alpha-2 code like \"GB\"", field: "ships_to[\(n)]")
            }
            out.insert(c)
        }
        return out.sorted()
    }

    /// Whether it ships to `country` (nil: no shipping country given: any will do).
    func ships(to country: String?) -> Bool {
        guard let country, !shipsTo.isEmpty else { return true }
        return shipsTo.contains(country)
    }
}

extension InventoryItem {
    static let backorderPolicies = ["deny", "allow"]
    /// Read by every order with the SKU (routing): decoded once per stored form.
    static func memo(_ core: TenantCore) -> DecodeMemo<InventoryItem>? { core.inventoryCache.items }

    /// Whether an order may commit more of it than is available at `location`:
    /// that location's own policy (`backorder_locations`), else `backorder`.
    func allowsBackorder(at location: String) -> Bool {
        (backorderLocations[location] ?? backorder) == "allow"
    }

    /// `backorder_locations`: location id → `deny` | `allow`, at most as many as
    /// a tenant has locations (whether each exists is checked in the write).
    static func readBackorderLocations(_ f: inout Fields) throws(OrderbaseError) -> [String: String]? {
        guard let v = f.raw("backorder_locations") else { return nil }
        let field = f.fieldPath("backorder_locations")
        guard case .object(let o) = v else { throw OrderbaseError.invalid("\(field) must be an object, got \(v.typeName)", field: field) }
        guard o.count <= InventoryService.maxLocations else {
            throw OrderbaseError(.limitExceeded, "\(field) has more than \(InventoryService.maxLocations) locations", field: field)
        }
        var out: [String: String] = [:]
        for (k, policy) in o {
            guard k.hasPrefix("loc_"), !k.isLonger(than: 64) else {
                throw OrderbaseError.invalid("\(field) keys are location ids (loc_…), got \"\(k.prefix(64))\"", field: field)
            }
            guard case .string(let p) = policy, backorderPolicies.contains(p) else {
                throw OrderbaseError(.invalidArgument, "\(field).\(k) must be one of deny, allow", field: "\(field).\(k)",
                                     details: .object(["allowed": .array(backorderPolicies.map { .string($0) })]))
            }
            out[k] = p
        }
        return out
    }

    /// SKUs as order lines carry them: 1 to 255 characters.
    public static let maxSKULength = 255
}

extension InventoryLevel {
    /// Read by every order that commits the SKU there: decoded once per stored form.
    static func memo(_ core: TenantCore) -> DecodeMemo<InventoryLevel>? { core.inventoryCache.levels }
    /// Every named quantity a level stores (`available` is derived).
    static let quantities = ["on_hand", "committed", "reserved", "incoming", "damaged", "quality_control", "safety_stock"]
    /// The ones a caller adjusts or sets; `committed` moves only with orders.
    static let adjustable = quantities.filter { $0 != "committed" }
    /// The buckets `inventory.move` moves units between: `available` (on hand and
    /// free), the held ones, and `incoming` (moving it to `available` is a receipt).
    static let moveBuckets = ["available", "reserved", "incoming", "damaged", "quality_control", "safety_stock"]
    /// The largest any stored quantity may reach.
    public static let maxQuantity: Int64 = 1_000_000_000_000

    init(sku: String, locationID: String) {
        self.init()
        self.sku = sku
        self.locationID = locationID
    }

    var levelID: String { locationID + ":" + sku }

    /// A level id's location and SKU (location ids hold no colon).
    static func split(_ id: String) -> (location: String, sku: String) {
        let u = id.utf8
        guard let colon = u.firstIndex(of: UInt8(ascii: ":")) else { return (id, "") }
        return (String(Substring(u[..<colon])), String(Substring(u[u.index(after: colon)...])))
    }

    /// On hand, less what is promised, held and unavailable: what an order may take.
    var available: Int64 { onHand - committed - reserved - damaged - qualityControl - safetyStock }

    subscript(_ name: String) -> Int64 {
        get {
            switch name {
            case "on_hand": onHand
            case "committed": committed
            case "reserved": reserved
            case "incoming": incoming
            case "damaged": damaged
            case "quality_control": qualityControl
            case "safety_stock": safetyStock
            default: 0
            }
        }
        set {
            switch name {
            case "on_hand": onHand = newValue
            case "committed": committed = newValue
            case "reserved": reserved = newValue
            case "incoming": incoming = newValue
            case "damaged": damaged = newValue
            case "quality_control": qualityControl = newValue
            case "safety_stock": safetyStock = newValue
            default: break
            }
        }
    }
}

extension InventoryMovement {
    /// Why a caller changes stock.
    static let callerReasons = ["correction", "cycle_count", "received", "damaged", "shrinkage", "restock", "reservation",
                                "quality_control", "safety_stock", "promotion", "movement", "other"]
    /// The engine's own: `transfer` (sent or received), and those of orders.
    /// Every reason: the caller's and the engine's own (`order_committed`: an
    /// order or a fulfillment order moved here took units; `order_released`: a
    /// cancellation or a move gave them back; `order_fulfilled`: a shipment took them away;
    /// `return_restocked`: a return's units came back on hand, `returns.receive`).
    static let reasons = callerReasons + ["transfer", "order_committed", "order_released", "order_fulfilled", "return_restocked"]
}

extension FulfillmentOrder {
    static let statuses = ["open", "in_progress", "scheduled", "on_hold", "closed", "incomplete", "cancelled"]
    static let actions = ["ship", "hold", "release_hold", "move", "split", "merge", "cancel", "reschedule"]
    /// The statuses in which it still has work to do (and holds its tracked units committed).
    static let active: Set<String> = ["open", "in_progress", "scheduled", "on_hold"]

    struct Line: Sendable, Equatable {
        var lineItemID: String
        var sku: String?
        var quantity: Int64
        var shipped: Int64 = 0
        /// Its units are committed at the location (the SKU was tracked when the order was placed).
        var tracked: Bool

        var remaining: Int64 { quantity - shipped }

        func write(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("line_item_id"); w.string(lineItemID)
            w.key("sku"); w.optionalString(sku)
            w.key("quantity"); w.int(quantity)
            w.key("shipped"); w.int(shipped)
            w.key("tracked"); w.bool(tracked)
            w.endObject()
        }

        static func decode(_ f: inout Fields) throws(OrderbaseError) -> Line {
            Line(lineItemID: try f.string("line_item_id", maxLength: Int.max, required: true)!,
                 sku: try f.string("sku", maxLength: Int.max),
                 quantity: try f.int("quantity", in: 0...Int64.max, required: true)!,
                 shipped: try f.int("shipped", in: 0...Int64.max) ?? 0,
                 tracked: try f.bool("tracked") ?? true)
        }
    }

    /// Open, in progress, scheduled and on-hold ones hold their unshipped tracked units committed.
    var holdsCommitment: Bool { Self.active.contains(status) }
    var isBackorder: Bool { status == "on_hold" && holdReason == "out_of_stock" }
    var shippedAny: Bool { lines.contains { $0.shipped > 0 } }
    var unshipped: Bool { lines.contains { $0.remaining > 0 } }

    /// The status it returns to when nothing holds it: partly shipped, waiting for its date, or open.
    func resumedStatus(now: Int64) -> String {
        if shippedAny { return "in_progress" }
        if let at = fulfillAt, at > now { return "scheduled" }
        return "open"
    }

    /// What may be done to it now (`supported_actions`).
    var supportedActions: [String] {
        switch status {
        case "open", "in_progress": ["ship", "hold", "move", "split", "merge", "cancel", "reschedule"]
        case "scheduled": ["ship", "hold", "move", "split", "merge", "cancel", "reschedule"]
        case "on_hold": ["release_hold", "move", "split", "cancel"]
        default: []
        }
    }
}

extension Shipment {
    static let statuses = ["confirmed", "in_transit", "out_for_delivery", "delivered", "failure"]
    /// The statuses a host reports (`shipments.update_status`).
    static let reported = ["in_transit", "out_for_delivery", "delivered", "failure"]

    struct ShippedLine: Sendable, Equatable {
        var lineItemID: String
        var sku: String?
        var quantity: Int64

        func write(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("line_item_id"); w.string(lineItemID)
            w.key("sku"); w.optionalString(sku)
            w.key("quantity"); w.int(quantity)
            w.endObject()
        }

        static func decode(_ f: inout Fields) throws(OrderbaseError) -> ShippedLine {
            ShippedLine(lineItemID: try f.string("line_item_id", maxLength: Int.max, required: true)!,
                        sku: try f.string("sku", maxLength: Int.max),
                        quantity: try f.int("quantity", in: 1...Int64.max, required: true)!)
        }
    }

    struct Tracking: Sendable, Equatable {
        var carrier, number, url: String?

        /// Reads `{"carrier"?, "number"?, "url"?}` (a request's, strict, or a stored one).
        static func read(_ f: inout Fields) throws(OrderbaseError) -> Tracking {
            Tracking(carrier: try f.string("carrier", maxLength: 255, allowEmpty: false),
                     number: try f.string("number", maxLength: 255, allowEmpty: false),
                     url: try f.string("url", maxLength: WebhookURL.maxCharacters, allowEmpty: false))
        }

        func write(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("carrier"); w.optionalString(carrier)
            w.key("number"); w.optionalString(number)
            w.key("url"); w.optionalString(url)
            w.endObject()
        }
    }

    var indexKeys: [[UInt8]] { [Keyspace.indexKey(.shipment, "order_id", orderID, id)] }
}

extension Transfer {
    static let statuses = ["in_transit", "partially_received", "received"]

    struct Line: Sendable, Equatable {
        var sku: String
        var quantity: Int64
        var received: Int64 = 0

        func write(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("sku"); w.string(sku)
            w.key("quantity"); w.int(quantity)
            w.key("received"); w.int(received)
            w.endObject()
        }

        static func decode(_ f: inout Fields) throws(OrderbaseError) -> Line {
            Line(sku: try f.string("sku", maxLength: Int.max, required: true)!, quantity: try f.int("quantity", in: 1...Int64.max, required: true)!,
                 received: try f.int("received", in: 0...Int64.max) ?? 0)
        }
    }
}

/// What every order create asks of inventory, in memory: the tenant's
/// locations, for routing (a scan and decode of every location per order cost
/// a tenth of a create), and whether any inventory item exists (a tenant that
/// has neither skips inventory on create: a lookup per line cost orders of
/// tenants without inventory twice their engine overhead). Location and item
/// writes update it when their batch is staged (`WriteContext.onStaged`, under
/// the write lock), so routing sees them before they are durable, as it sees
/// staged levels.
final class InventoryCache: @unchecked Sendable {
    private let lock = Mutex()
    private var loaded: [String: Location]?
    private var anyItem: Bool?
    /// Every location staged since the engine opened the tenant (newest wins over the database).
    private var staged: [String: Location] = [:]
    /// Decoded items and levels (`DecodeMemo`: a hit needs the bytes read now, so never stale).
    /// Bounded per tenant (a level entry is its key, stored bytes and record: well under 1 KB), enough for a
    /// route preview of 25 lines over 50 locations.
    let items = DecodeMemo<InventoryItem>(capacity: 1024)
    let levels = DecodeMemo<InventoryLevel>(capacity: 2048)

    func all(_ core: TenantCore) throws(OrderbaseError) -> [Location] {
        if let l = lock.withLock({ loaded }) { return Self.sorted(l) }
        var fromDB: [String: Location] = [:]
        try core.scan(from: [Keyspace.location], to: [Keyspace.location + 1]) { _, v throws(OrderbaseError) in
            let l = try Location.decode(Array(v))
            fromDB[l.id] = l
            return true
        }
        return lock.withLock {
            for (id, l) in staged { fromDB[id] = l }
            loaded = fromDB
            return Self.sorted(fromDB)
        }
    }

    /// Whether the tenant has no location and no inventory item: inventory has nothing to do for an order.
    func isEmpty(_ core: TenantCore) throws(OrderbaseError) -> Bool {
        guard try all(core).isEmpty else { return false }
        if let any = lock.withLock({ anyItem }) { return !any }
        var found = false
        try core.scan(from: [Keyspace.inventoryItem], to: [Keyspace.inventoryItem + 1]) { _, _ throws(OrderbaseError) in
            found = true
            return false
        }
        return lock.withLock {
            if anyItem == nil { anyItem = found }
            return !anyItem!
        }
    }

    func itemStaged() { lock.withLock { anyItem = true } }

    func staged(_ l: Location) {
        lock.withLock {
            staged[l.id] = l
            loaded?[l.id] = l
        }
    }

    /// Routing order: rank, then id (creation order).
    static func sorted(_ all: [String: Location]) -> [Location] {
        all.values.sorted { ($0.rank, $0.id) < ($1.rank, $1.id) }
    }
}
