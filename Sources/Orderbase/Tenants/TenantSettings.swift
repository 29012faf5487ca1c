/// Per-tenant settings (`tenants.create` / `orderbase_tenant_create`).
public struct TenantSettings: Sendable, Equatable {
    public var name: String?
    public var orderNumberPrefix = "#"
    public var orderNumberStart: Int64 = 1001
    public var defaultCurrency = "USD"
    /// IANA zone for calendar parts in expressions (`weekday(order.placed_at)`…).
    public var timeZone = "UTC"
    public var createdAt: Int64 = 0

    public init() {}

    public static func read(_ json: JSON?) throws(OrderbaseError) -> TenantSettings {
        var s = TenantSettings()
        guard let json, json != .null else { return s }
        var f = try Fields(json, path: "settings")
        s.name = try f.string("name", maxLength: 255)
        if let p = try f.string("order_number_prefix", maxLength: 16) {
            guard p.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw OrderbaseError.invalid("order_number_prefix must be printable", field: "settings.order_number_prefix")
            }
            s.orderNumberPrefix = p
        }
        s.orderNumberStart = try f.int("order_number_start", in: 0...1_000_000_000_000) ?? 1001
        if let c = try f.string("default_currency", maxLength: 3) {
            guard Currency.exponent(c) != nil else {
                throw OrderbaseError.invalid("settings.default_currency must be an ISO 4217 code like \"GBP\"", field: "settings.default_currency")
            }
            s.defaultCurrency = c
        }
        if let tz = try f.string("time_zone", maxLength: 64) {
            s.timeZone = try TimeZoneRules.named(tz, field: "settings.time_zone").name
        }
        if let created = try f.timestamp("created_at") { s.createdAt = created }
        try f.finish()
        return s
    }

    public func write(_ w: inout JSONWriter) {
        w.beginObject()
        if let name { w.key("name"); w.string(name) }
        w.key("order_number_prefix"); w.string(orderNumberPrefix)
        w.key("order_number_start"); w.int(orderNumberStart)
        w.key("default_currency"); w.string(defaultCurrency)
        w.key("time_zone"); w.string(timeZone)
        w.key("created_at"); w.timestamp(createdAt)
        w.endObject()
    }

    var json: [UInt8] {
        var w = JSONWriter()
        write(&w)
        return w.bytes
    }
}
