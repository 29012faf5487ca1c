import OrderbaseStore

/// The kinds of record the write path stores, each audited and evented the
/// same way (DESIGN §8). A kind's name is the `subject.type` of its events and
/// audit entries and the first component of its index keys (docs/keyspace.md).
///
/// Only a name, so passing one around costs nothing on the order write path;
/// what the audit needs to know of a kind is its `AuditPolicy`.
public struct RecordKind: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    init(_ name: String) { self.name = name }

    public var description: String { name }

    public static let order = RecordKind("order")
    public static let workflow = RecordKind("workflow")
    public static let webhookEndpoint = RecordKind("webhook_endpoint")
    public static let notificationChannel = RecordKind("notification_channel")
    public static let notificationTemplate = RecordKind("notification_template")
    public static let notification = RecordKind("notification")
    public static let webhookDelivery = RecordKind("webhook_delivery")
    public static let approval = RecordKind("approval")
    public static let location = RecordKind("location")
    public static let inventoryItem = RecordKind("inventory_item")
    public static let inventoryLevel = RecordKind("inventory_level")
    public static let inventoryMovement = RecordKind("inventory_movement")
    public static let fulfillmentOrder = RecordKind("fulfillment_order")
    public static let shipment = RecordKind("shipment")
    public static let routingRules = RecordKind("routing_rules")
    public static let transfer = RecordKind("transfer")
    public static let tag = RecordKind("tag")
    public static let customField = RecordKind("custom_field")
    public static let orderNote = RecordKind("order_note")
    public static let archiveRules = RecordKind("archive_rules")
    public static let orderTemplate = RecordKind("order_template")
    public static let draftOrder = RecordKind("draft_order")
    public static let job = RecordKind("job")
    public static let attachment = RecordKind("attachment")
    public static let slaPolicy = RecordKind("sla_policy")
    public static let businessHours = RecordKind("business_hours")
    public static let transaction = RecordKind("transaction")
    public static let refund = RecordKind("refund")
    public static let orderReturn = RecordKind("return")
    public static let returnPolicy = RecordKind("return_policy")
    public static let orderEdit = RecordKind("order_edit")
    public static let salesLine = RecordKind("sales_line")

    /// Every kind, for `audit.list` and `integrity.check`.
    public static let all: [RecordKind] = [.order, .workflow, .webhookEndpoint, .notificationChannel, .notificationTemplate,
                                           .notification, .webhookDelivery, .approval, .location, .inventoryItem, .inventoryLevel,
                                           .inventoryMovement, .fulfillmentOrder, .shipment, .routingRules, .transfer, .tag, .job, .customField, .orderNote, .archiveRules, .orderTemplate, .draftOrder, .slaPolicy, .businessHours, .attachment, .transaction, .refund, .salesLine, .orderReturn, .returnPolicy, .orderEdit]
    /// The kinds whose changes are audited (the others are logs and queues
    /// whose changes the audited records' events already tell).
    public static let audited: [RecordKind] = [.order, .workflow, .webhookEndpoint, .notificationChannel, .notificationTemplate,
                                               .location, .inventoryItem, .fulfillmentOrder, .shipment, .routingRules, .transfer, .customField, .orderNote, .archiveRules, .orderTemplate, .draftOrder, .slaPolicy, .businessHours, .attachment, .transaction, .refund, .orderReturn, .returnPolicy, .orderEdit]
    static func named(_ name: String) -> RecordKind? { all.first { $0.name == name } }
}

/// How the audit shows a kind's records (orders have their own span diff).
struct AuditPolicy {
    /// Fields of the stored form that are never shown in audit entries or
    /// events as they are: `"[redacted]"` stands for a set value. A path is
    /// a top-level field or `field.member`.
    var secretPaths: [[String]] = []
    /// Stored-form fields the audit does not compare: bookkeeping that
    /// changes on every write (`updated_at`) or internal cursors.
    var unaudited: Set<String> = []

    static func of(_ kind: RecordKind) -> AuditPolicy { policies[kind] ?? AuditPolicy() }

    /// Built once: every audited change reads its kind's.
    private static let policies: [RecordKind: AuditPolicy] = {
        let updatedAt = AuditPolicy(unaudited: ["updated_at"])
        var p: [RecordKind: AuditPolicy] = [
            .workflow: AuditPolicy(unaudited: ["created_at", "created_by"]),
            .webhookEndpoint: AuditPolicy(secretPaths: [["secrets"]], unaudited: ["updated_at", "failing_since", "from_sequence"]),
            .notificationChannel: AuditPolicy(secretPaths: [["email", "password"], ["sms", "auth_header"]], unaudited: ["updated_at"]),
            .notificationTemplate: AuditPolicy(unaudited: ["updated_at", "from_sequence", "condition_text"]),
            .archiveRules: AuditPolicy(unaudited: ["updated_at", "next_sweep_at", "last_sweep_job"]),
            .draftOrder: AuditPolicy(unaudited: ["updated_at", "version"]),
            .orderNote: AuditPolicy(unaudited: ["updated_at", "version"]),
            .transaction: AuditPolicy(unaudited: ["updated_at", "version", "settled_amount"]),
            .orderReturn: AuditPolicy(unaudited: ["updated_at", "version"]),
            .customField: AuditPolicy(unaudited: ["updated_at", "validation_status", "invalid_count", "validation_job"]),
        ]
        for kind: RecordKind in [.location, .inventoryItem, .fulfillmentOrder, .shipment, .routingRules, .transfer, .orderTemplate,
                                 .slaPolicy, .businessHours, .refund, .returnPolicy, .orderEdit] {
            p[kind] = updatedAt
        }
        return p
    }()
}

/// What an event or audit entry is about: `{"type": "order", "id": "ord_…"}`.
struct Subject: Equatable {
    let kind: RecordKind
    let id: String
    /// The order a record of another kind belongs to (a fulfillment order's,
    /// a shipment's): its events and audit entries carry it as `order_id`.
    var orderID: String? = nil

    /// `order_id` of its events and audit entries: an order's own id, or the order it belongs to.
    var eventOrderID: String? { kind == .order ? id : orderID }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("type"); w.string(kind.name)
        w.key("id"); w.string(id)
        w.endObject()
    }
}

/// A record of a kind other than orders (whose span-based diff is faster)
/// that `WriteContext.recordChange` audits and events.
protocol AuditedRecord {
    static var kind: RecordKind { get }
    /// The `subject.id` of its events: the record's id (a workflow's key).
    var subjectID: String { get }
    /// The stored form, secrets included: what the audit compares.
    var storedJSON: [UInt8] { get }
    /// The API form: what events carry as `data`.
    var apiJSON: [UInt8] { get }
    /// The order it belongs to, if any: its events carry it as `order_id` (default none).
    var belongsToOrder: String? { get }
}

extension AuditedRecord {
    var belongsToOrder: String? { nil }
}

/// A record stored under one key by its id, with its secondary index
/// entries: the kernel loads, writes and deletes it (`WriteContext.load`,
/// `save`, `commit`; `TenantCore.stored`). Logged kinds (notifications,
/// webhook deliveries) are only this: their changes are told by the events of
/// the records they serve, so `save` writes them without an event or audit entry.
protocol KeyedRecord {
    static var kind: RecordKind { get }
    /// What people call one (`webhook endpoint`), for `not_found` messages.
    static var noun: String { get }
    static func key(_ id: String) -> [UInt8]
    /// Its id (the `subject.id` of events about it).
    var subjectID: String { get }
    /// The stored form.
    var storedJSON: [UInt8] { get }
    /// A stored record that does not decode is `corruption`.
    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> Self
    /// Its secondary index keys (`Keyspace.indexKey(kind, field, value, id)`, or a
    /// logged kind's due and queue keys); none by default. `save` and `commit`
    /// write the ones that appear and delete the ones that went.
    var indexKeys: [[UInt8]] { get }
    /// The event `save` appends when this save is a logged record's final
    /// failure (`notification.failed`), with its data; nil for none (the default).
    func failureEvent(before: Self?) -> (type: String, data: [UInt8])?
    /// False for an append-only log no command reads back while writing (the
    /// stock ledger): `save` writes it without the read-your-writes overlay. Default true.
    static var readInWrites: Bool { get }
    /// The tenant's memo of decoded records of this kind, for a kind read on
    /// every order (`DecodeMemo`, keyed by the id it is stored under, its
    /// `subjectID`; its stored form must decode back to the same record); nil
    /// (the default) decodes each read.
    static func memo(_ core: TenantCore) -> DecodeMemo<Self>?
}

extension KeyedRecord {
    static var readInWrites: Bool { true }
    static func memo(_ core: TenantCore) -> DecodeMemo<Self>? { nil }
    var indexKeys: [[UInt8]] { [] }
    func failureEvent(before: Self?) -> (type: String, data: [UInt8])? { nil }
}

/// The events that say a consumer's work failed for good. Whatever is made
/// for one of them (a webhook delivery, a notification) raises no further
/// failure event when it fails in turn, so a failing endpoint or channel
/// subscribed to them cannot feed itself.
enum FailureEvents {
    static let types: Set<String> = ["notification.failed", "webhook_delivery.failed"]

    /// `type` with `data` when `status` became "failed" now (and what failed was not made for a failure event).
    static func on(_ type: String, status: String, before: String?, madeFor eventType: String, data: @autoclosure () -> [UInt8])
        -> (type: String, data: [UInt8])? {
        guard status == "failed", before != "failed", !types.contains(eventType) else { return nil }
        return (type, data())
    }
}

/// An audited record stored under one key by its id: every change is an
/// event and an audit entry (`WriteContext.commit`).
protocol StoredRecord: KeyedRecord, AuditedRecord {}

extension WriteContext {
    /// A record as the write path sees it (staged writes included), or `not_found` on `field`.
    func load<R: KeyedRecord>(_: R.Type, _ id: String, field: String = "id") throws(OrderbaseError) -> R {
        guard let r = try loadIfPresent(R.self, id) else { throw OrderbaseError(.notFound, "no \(R.noun) \(id)", field: field) }
        return r
    }

    /// A record as the write path sees it, or nil.
    func loadIfPresent<R: KeyedRecord>(_: R.Type, _ id: String) throws(OrderbaseError) -> R? {
        guard let b = try read(R.key(id)) else { return nil }
        if let memo = R.memo(core) { return try memo.decode(id, b) }
        return try R.decode(b)
    }

    /// Writes a record (or its deletion) and the index entries that changed,
    /// in the command's batch, with no event or audit entry: the write of a
    /// logged kind, and the first half of `commit`. `stored`: `after`'s stored
    /// form, when the caller has rendered it already. Returns `after`'s stored
    /// form (nil for a deletion).
    @discardableResult
    mutating func save<R: KeyedRecord>(before: R?, after: R?, stored: [UInt8]? = nil) -> [UInt8]? {
        var written: [UInt8]?
        if let after {
            let bytes = stored ?? after.storedJSON
            written = bytes
            if R.readInWrites { put(R.key(after.subjectID), bytes) } else { putUnread(R.key(after.subjectID), bytes) }
            R.memo(core)?.keep(after.subjectID, bytes, after)
        } else if let before { delete(R.key(before.subjectID)) }
        replaceIndexEntries(before?.indexKeys ?? [], with: after?.indexKeys ?? [])
        if let after, let event = after.failureEvent(before: before) {
            appendEvent(type: event.type, subject: Subject(kind: R.kind, id: after.subjectID), reason: nil, changes: nil,
                        order: nil, data: event.data)
        }
        return written
    }

    /// The one write of an audited record's change, in the command's batch: the
    /// record (or its deletion), its index entries that changed, and, when an
    /// audited field changed, its event and audit entry (`recordChange`).
    mutating func commit<R: StoredRecord>(_ type: String, before: R?, after: R?, reason: String? = nil, data: [UInt8]? = nil,
                                          order: [UInt8]? = nil) {
        let stored = save(before: before, after: after)
        recordChange(type, before: before, after: after, stored: stored, reason: reason, data: data, order: order)
    }
}

extension TenantCore {
    /// A record as stored now (outside a write), or `not_found` on `field`.
    func stored<R: KeyedRecord>(_: R.Type, _ id: String, field: String = "id") throws(OrderbaseError) -> R {
        guard let b = try store({ () throws(StoreError) in try database.get(R.key(id)) }) else {
            throw OrderbaseError(.notFound, "no \(R.noun) \(id)", field: field)
        }
        return try R.decode(b)
    }
}

/// A record's audited fields, in stored order: the stored form less the
/// kind's unaudited fields, compared as stored and shown with secrets redacted.
/// Values stay the stored form's text (no parse, no re-rendering): two that
/// differ byte for byte are compared as JSON before they count as a change.
struct AuditForm {
    var fields: [(name: String, stored: ArraySlice<UInt8>, shown: ArraySlice<UInt8>)] = []

    /// `stored`: the record's stored form, when the caller has rendered it already.
    init<R: AuditedRecord>(_ record: R, stored: [UInt8]? = nil) {
        let bytes = stored ?? record.storedJSON
        let policy = AuditPolicy.of(R.kind)
        let members: [(key: String, value: ArraySlice<UInt8>)]
        if let found = JSON.members(bytes) {
            members = found.map { ($0.key, bytes[$0.value]) }
        } else if case .object(let o)? = try? JSON.parse(bytes) {  // not as JSONWriter writes (never, for a stored form)
            members = o.members.map { ($0.key, ArraySlice($0.value.bytes)) }
        } else {
            return
        }
        for (name, value) in members where !policy.unaudited.contains(name) {
            var shown = value
            let secrets = policy.secretPaths.filter { $0.first == name }
            if !secrets.isEmpty {
                if var v = try? JSON.parse(Array(value)) {
                    for path in secrets { v = Self.redact(v, Array(path.dropFirst())) }
                    shown = ArraySlice(v.bytes)
                } else {
                    shown = ArraySlice(Self.redacted.bytes)
                }
            }
            fields.append((name, value, shown))
        }
    }

    static let redacted = JSON.string("[redacted]")

    private static func redact(_ v: JSON, _ rest: [String]) -> JSON {
        guard let head = rest.first else { return v == .null ? v : redacted }
        guard case .object(var o) = v, let inner = o[head] else { return v }
        o[head] = redact(inner, Array(rest.dropFirst()))
        return .object(o)
    }

    /// The fields that differ (nil: the record does not exist on that side;
    /// a field set to null on creation is not a change).
    static func diff(_ before: AuditForm?, _ after: AuditForm?) -> [FieldChange] {
        var out: [FieldChange] = []
        var names: [String] = after?.fields.map(\.name) ?? []
        for f in before?.fields ?? [] where !names.contains(f.name) { names.append(f.name) }
        for name in names {
            let b = before?.fields.first { $0.name == name }
            let a = after?.fields.first { $0.name == name }
            if let b, let a, b.stored == a.stored || same(b.stored, a.stored) { continue }
            if b == nil && isNull(a?.stored) || a == nil && isNull(b?.stored) { continue }
            out.append(FieldChange(field: .named(name), before: b?.shown, after: a?.shown))
        }
        return out
    }

    /// Two values written differently (members in another order) that are the same JSON.
    private static func same(_ x: ArraySlice<UInt8>, _ y: ArraySlice<UInt8>) -> Bool {
        guard let p = try? JSON.parse(Array(x)), let q = try? JSON.parse(Array(y)) else { return false }
        return p == q
    }

    private static func isNull(_ v: ArraySlice<UInt8>?) -> Bool { v.map { $0.elementsEqual("null".utf8) } ?? false }
}
