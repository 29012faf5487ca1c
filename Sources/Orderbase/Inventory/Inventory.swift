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

    /// Whether routing may pick it for an order shipping to `country` (nil: no shipping country given).
    func canShip(to country: String?) -> Bool {
        guard active, fulfillsOnlineOrders else { return false }
        guard let country, !shipsTo.isEmpty else { return true }
        return shipsTo.contains(country)
    }
}

extension InventoryItem {
    static let backorderPolicies = ["deny", "allow"]
    /// SKUs as order lines carry them: 1 to 255 characters.
    public static let maxSKULength = 255
}

extension InventoryLevel {
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
        guard let colon = id.firstIndex(of: ":") else { return (id, "") }
        return (String(id[..<colon]), String(id[id.index(after: colon)...]))
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
    /// Every reason: the caller's and the engine's own (`order_committed`: an
    /// order took units; `order_released`: its cancellation gave them back).
    static let reasons = callerReasons + ["order_committed", "order_released"]
}

extension FulfillmentOrder {
    static let statuses = ["open", "on_hold", "cancelled"]

    struct Line: Sendable, Equatable {
        var lineItemID: String
        var sku: String
        var quantity: Int64

        func write(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("line_item_id"); w.string(lineItemID)
            w.key("sku"); w.string(sku)
            w.key("quantity"); w.int(quantity)
            w.endObject()
        }

        static func decode(_ f: inout Fields) throws(OrderbaseError) -> Line {
            Line(lineItemID: try f.string("line_item_id", maxLength: Int.max, required: true)!,
                 sku: try f.string("sku", maxLength: Int.max, required: true)!,
                 quantity: try f.int("quantity", in: 1...Int64.max, required: true)!)
        }
    }

    /// Open and on-hold fulfillment orders hold their units committed.
    var holdsCommitment: Bool { status == "open" || status == "on_hold" }
}
