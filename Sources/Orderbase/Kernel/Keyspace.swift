import OrderbaseStore

/// Every key a tenant database holds. One byte of prefix, then components in
/// the order-preserving encoding of `KeyBuilder` (docs/keyspace.md mirrors this).
enum Keyspace {
    static let meta: UInt8 = UInt8(ascii: "M")        // M name                     -> value (settings, counters, schema, consumer cursors)
    static let order: UInt8 = UInt8(ascii: "O")       // O id                       -> order JSON
    static let number: UInt8 = UInt8(ascii: "N")      // N number                   -> id
    static let index: UInt8 = UInt8(ascii: "I")       // I kind field value id      -> empty
    static let updated: UInt8 = UInt8(ascii: "U")     // U updated_ms(u64) id       -> empty
    static let audit: UInt8 = UInt8(ascii: "A")       // A seq(u64)                 -> sha256(32) + entry JSON
    static let subjectAudit: UInt8 = UInt8(ascii: "a") // a kind id seq(u64)        -> empty (a subject's audit entries)
    static let event: UInt8 = UInt8(ascii: "E")       // E seq(u64)                 -> event JSON
    static let idempotency: UInt8 = UInt8(ascii: "K") // K key                      -> sha256(32) fingerprint + first response JSON
    static let workflow: UInt8 = UInt8(ascii: "W")    // W key version(u64)         -> workflow version JSON (immutable)
    static let workflowHead: UInt8 = UInt8(ascii: "w") // w key                     -> {"version", "archived"}
    static let approval: UInt8 = UInt8(ascii: "R")    // R id                       -> approval request JSON
    static let webhookEndpoint: UInt8 = UInt8(ascii: "X")  // X endpoint_id                                  -> endpoint JSON (with secrets)
    static let webhookDelivery: UInt8 = UInt8(ascii: "D")  // D delivery_id                                  -> delivery JSON
    static let webhookDue: UInt8 = UInt8(ascii: "Q")       // Q due_ms(u64) delivery_id                      -> empty (the head of its queue, due)
    static let webhookQueue: UInt8 = UInt8(ascii: "p")     // p endpoint_id order_id sequence(u64) delivery_id -> empty (pending, in order)
    static let notificationChannel: UInt8 = UInt8(ascii: "C")   // C channel_id                  -> channel JSON (with credentials)
    static let notificationTemplate: UInt8 = UInt8(ascii: "T")  // T template_id                 -> template JSON
    static let notification: UInt8 = UInt8(ascii: "L")          // L notification_id             -> notification JSON (the log)
    static let notificationDue: UInt8 = UInt8(ascii: "l")       // l due_ms(u64) notification_id -> empty (pending, due then)
    static let notificationOrder: UInt8 = UInt8(ascii: "n")     // n order_id notification_id   -> empty (an order's notifications)
    static let timer: UInt8 = UInt8(ascii: "S")                 // S due_ms(u64) action:target   -> timer JSON (the scheduler)
    static let location: UInt8 = UInt8(ascii: "G")              // G location_id                 -> location JSON
    static let inventoryItem: UInt8 = UInt8(ascii: "v")         // v sku                         -> inventory item JSON
    static let inventoryLevel: UInt8 = UInt8(ascii: "V")        // V sku location_id             -> level JSON (the sum of its movements)
    static let movement: UInt8 = UInt8(ascii: "H")              // H movement_id                 -> movement JSON (the stock ledger)
    static let fulfillmentOrder: UInt8 = UInt8(ascii: "F")      // F fulfillment_order_id        -> fulfillment order JSON
    static let orderFulfillment: UInt8 = UInt8(ascii: "f")      // f order_id                    -> JSON list of its fulfillment order ids
    static let shipment: UInt8 = UInt8(ascii: "P")              // P shipment_id                 -> shipment JSON
    static let transfer: UInt8 = UInt8(ascii: "J")              // J transfer_id                 -> transfer JSON
    static let tag: UInt8 = UInt8(ascii: "t")                   // t tag_key                     -> {name, count} (tags in use)
    static let job: UInt8 = UInt8(ascii: "j")                   // j job_id                      -> job JSON (bulk jobs)
    static let orderTemplate: UInt8 = UInt8(ascii: "b")         // b template_id                 -> order template JSON
    static let draftOrder: UInt8 = UInt8(ascii: "d")            // d draft_id                    -> draft order JSON
    static let orderNote: UInt8 = UInt8(ascii: "B")             // B note_id                     -> note JSON (notes and messages on orders)
    static let customField: UInt8 = UInt8(ascii: "Y")           // Y owner.key                   -> custom field definition JSON
    static let customFieldInvalid: UInt8 = UInt8(ascii: "Z")    // Z owner.key order_id          -> the reason (values that broke the rules when last checked)
    static let attachment: UInt8 = UInt8(ascii: "x")            // x attachment_id               -> attachment JSON (its bytes: files/blobs/<sha256>)
    static let slaPolicy: UInt8 = UInt8(ascii: "s")             // s policy_id                   -> SLA policy JSON
    static let transaction: UInt8 = UInt8(ascii: "m")           // m transaction_id              -> payment transaction JSON (the payments ledger)
    static let refund: UInt8 = UInt8(ascii: "r")                // r refund_id                   -> refund JSON
    static let orderReturn: UInt8 = UInt8(ascii: "e")           // e return_id                   -> return (RMA) JSON
    static let orderEdit: UInt8 = UInt8(ascii: "o")             // o order_edit_id               -> order edit JSON (a change set)
    static let orderReturns: UInt8 = UInt8(ascii: "h")          // h order_id                    -> JSON list of its return ids (read in writes)
    static let salesLine: UInt8 = UInt8(ascii: "g")             // g sales_line_id (time-ordered) -> sales ledger line JSON

    /// Every prefix and what it holds: no two may share a byte (a test checks),
    /// and a new kind's keys go under `I` (indexes) or a prefix added here.
    static let prefixes: [(prefix: UInt8, holds: String)] = [
        (meta, "tenant metadata"), (order, "order records"), (number, "order numbers"), (index, "secondary indexes of every kind"),
        (updated, "orders by update time"), (audit, "the audit chain"), (subjectAudit, "audit entries by subject"),
        (event, "the event log"), (idempotency, "idempotency keys"), (workflow, "workflow versions"), (workflowHead, "workflow heads"),
        (approval, "approval requests"), (webhookEndpoint, "webhook endpoints"), (webhookDelivery, "webhook deliveries"),
        (webhookDue, "due webhook deliveries"), (webhookQueue, "webhook delivery queues"), (notificationChannel, "notification channels"),
        (notificationTemplate, "notification templates"), (notification, "the notification log"), (notificationDue, "due notifications"),
        (notificationOrder, "notifications by order"), (timer, "the scheduler's timers"), (location, "locations"),
        (inventoryItem, "inventory items"), (inventoryLevel, "inventory levels"), (movement, "the stock ledger"),
        (fulfillmentOrder, "fulfillment orders"), (orderFulfillment, "fulfillment orders by order"), (shipment, "shipments"),
        (transfer, "transfers"), (tag, "tags in use, with counts"), (job, "bulk jobs"),
        (orderNote, "notes and messages on orders"), (orderTemplate, "order templates"), (draftOrder, "draft orders"), (customField, "custom field definitions"), (customFieldInvalid, "orders whose custom field values broke the rules"), (attachment, "attachments"),
        (slaPolicy, "SLA policies"), (transaction, "payment transactions"), (refund, "refunds"), (orderReturn, "returns"), (orderReturns, "returns by order"), (orderEdit, "order edits"), (salesLine, "the sales ledger"),
    ]

    static func metaKey(_ name: String) -> [UInt8] { var k = KeyBuilder(meta); k.string(name); return k.bytes }
    static func orderKey(_ id: String) -> [UInt8] { var k = KeyBuilder(order); k.string(id); return k.bytes }
    static func numberKey(_ n: String) -> [UInt8] { var k = KeyBuilder(number); k.string(n); return k.bytes }
    static func indexPrefix(_ kind: RecordKind, _ field: String, _ value: String) -> [UInt8] {
        var k = KeyBuilder(index); k.string(kind.name); k.string(field); k.string(value); return k.bytes
    }
    static func indexKey(_ kind: RecordKind, _ field: String, _ value: String, _ id: String) -> [UInt8] {
        let name = kind.name
        // Sized to fit (1 + each part and its 2-byte terminator): most entries outgrow KeyBuilder's default.
        var k = KeyBuilder(index, capacity: 9 + name.utf8.count + field.utf8.count + value.utf8.count + id.utf8.count)
        k.string(name); k.string(field); k.string(value); k.string(id); return k.bytes
    }
    /// The record id an index entry's key (`indexKey`) ends with.
    static func indexEntryID(_ key: [UInt8]) throws(OrderbaseError) -> String {
        var r = KeyReader(key)
        _ = r.string(); _ = r.string(); _ = r.string()  // kind, field, value
        guard let id = r.string() else { throw OrderbaseError(.corruption, "bad index key") }
        return id
    }
    static func updatedKey(_ ms: Int64, _ id: String) -> [UInt8] {
        var k = KeyBuilder(updated); k.uint64(UInt64(max(0, ms))); k.string(id); return k.bytes
    }
    static func auditKey(_ seq: UInt64) -> [UInt8] { var k = KeyBuilder(audit); k.uint64(seq); return k.bytes }
    static func subjectAuditKey(_ s: Subject, _ seq: UInt64) -> [UInt8] {
        var k = KeyBuilder(subjectAudit); k.string(s.kind.name); k.string(s.id); k.uint64(seq); return k.bytes
    }
    static func subjectAuditPrefix(_ kind: RecordKind, _ id: String?) -> [UInt8] {
        var k = KeyBuilder(subjectAudit); k.string(kind.name); if let id { k.string(id) }; return k.bytes
    }
    static func eventKey(_ seq: UInt64) -> [UInt8] { var k = KeyBuilder(event); k.uint64(seq); return k.bytes }
    static func idempotencyKey(_ key: String) -> [UInt8] { var k = KeyBuilder(idempotency); k.string(key); return k.bytes }

    static func workflowKey(_ key: String, _ version: Int64) -> [UInt8] {
        var k = KeyBuilder(workflow); k.string(key); k.uint64(UInt64(version)); return k.bytes
    }
    static func workflowHeadKey(_ key: String) -> [UInt8] { var k = KeyBuilder(workflowHead); k.string(key); return k.bytes }
    static func approvalKey(_ id: String) -> [UInt8] { var k = KeyBuilder(approval); k.string(id); return k.bytes }

    static func endpointKey(_ id: String) -> [UInt8] { var k = KeyBuilder(webhookEndpoint); k.string(id); return k.bytes }
    static func deliveryKey(_ id: String) -> [UInt8] { var k = KeyBuilder(webhookDelivery); k.string(id); return k.bytes }
    static func dueKey(_ ms: Int64, _ id: String) -> [UInt8] {
        var k = KeyBuilder(webhookDue); k.uint64(UInt64(max(0, ms))); k.string(id); return k.bytes
    }
    static func queuePrefix(_ endpoint: String, _ order: String) -> [UInt8] {
        var k = KeyBuilder(webhookQueue); k.string(endpoint); k.string(order); return k.bytes
    }
    static func queueKey(_ endpoint: String, _ order: String, _ seq: UInt64, _ id: String) -> [UInt8] {
        var k = KeyBuilder(webhookQueue); k.string(endpoint); k.string(order); k.uint64(seq); k.string(id); return k.bytes
    }

    static func channelKey(_ id: String) -> [UInt8] { var k = KeyBuilder(notificationChannel); k.string(id); return k.bytes }
    static func templateKey(_ id: String) -> [UInt8] { var k = KeyBuilder(notificationTemplate); k.string(id); return k.bytes }
    static func notificationKey(_ id: String) -> [UInt8] { var k = KeyBuilder(notification); k.string(id); return k.bytes }
    static func notificationDueKey(_ ms: Int64, _ id: String) -> [UInt8] {
        var k = KeyBuilder(notificationDue); k.uint64(UInt64(max(0, ms))); k.string(id); return k.bytes
    }

    static func notificationOrderPrefix(_ order: String) -> [UInt8] {
        var k = KeyBuilder(notificationOrder); k.string(order); return k.bytes
    }
    static func notificationOrderKey(_ order: String, _ id: String) -> [UInt8] {
        var k = KeyBuilder(notificationOrder); k.string(order); k.string(id); return k.bytes
    }

    static func timerKey(_ ms: Int64, _ id: String) -> [UInt8] {
        var k = KeyBuilder(timer); k.uint64(UInt64(max(0, ms))); k.string(id); return k.bytes
    }

    static func locationKey(_ id: String) -> [UInt8] { var k = KeyBuilder(location); k.string(id); return k.bytes }
    static func inventoryItemKey(_ sku: String) -> [UInt8] { var k = KeyBuilder(inventoryItem); k.string(sku); return k.bytes }
    /// A level's id is `location_id:sku` (location ids hold no colon).
    static func inventoryLevelKey(_ id: String) -> [UInt8] {
        let (location, sku) = InventoryLevel.split(id)
        return inventoryLevelKey(sku: sku, location: location)
    }
    static func inventoryLevelKey(sku: String, location: String) -> [UInt8] {
        var k = KeyBuilder(inventoryLevel); k.string(sku); k.string(location); return k.bytes
    }
    static func inventoryLevelPrefix(sku: String) -> [UInt8] { var k = KeyBuilder(inventoryLevel); k.string(sku); return k.bytes }
    static func movementKey(_ id: String) -> [UInt8] { var k = KeyBuilder(movement); k.string(id); return k.bytes }
    static func fulfillmentOrderKey(_ id: String) -> [UInt8] { var k = KeyBuilder(fulfillmentOrder); k.string(id); return k.bytes }
    /// The tenant's routing rules live under one meta key.
    static func routingRulesKey(_ id: String) -> [UInt8] { metaKey("routing_rules") }
    static func archiveRulesKey(_ id: String) -> [UInt8] { metaKey("archive_rules") }
    /// The tenant's business hours live under one meta key.
    static func businessHoursKey(_ id: String) -> [UInt8] { metaKey("business_hours") }
    static func slaPolicyKey(_ id: String) -> [UInt8] { var k = KeyBuilder(slaPolicy); k.string(id); return k.bytes }
    static func transactionKey(_ id: String) -> [UInt8] { var k = KeyBuilder(transaction); k.string(id); return k.bytes }
    static func refundKey(_ id: String) -> [UInt8] { var k = KeyBuilder(refund); k.string(id); return k.bytes }
    static func returnKey(_ id: String) -> [UInt8] { var k = KeyBuilder(orderReturn); k.string(id); return k.bytes }
    static func returnPolicyKey(_ id: String) -> [UInt8] { metaKey("return_policy") }
    static func orderEditKey(_ id: String) -> [UInt8] { var k = KeyBuilder(orderEdit); k.string(id); return k.bytes }
    static func orderReturnsKey(_ orderID: String) -> [UInt8] { var k = KeyBuilder(orderReturns); k.string(orderID); return k.bytes }
    static func salesLineKey(_ id: String) -> [UInt8] { var k = KeyBuilder(salesLine); k.string(id); return k.bytes }
    /// Where the sales ledger's lines of `ms` and later begin (ids start with their time, `sl_` + 10 base32 digits).
    static func salesLineTimeKey(_ ms: Int64) -> [UInt8] {
        [salesLine] + Array(("sl_" + IDGenerator.encode(time: UInt64(max(0, ms)), hi: 0, lo: 0).prefix(10)).utf8)
    }
    static func attachmentKey(_ id: String) -> [UInt8] { var k = KeyBuilder(attachment); k.string(id); return k.bytes }
    static func tagKey(_ key: String) -> [UInt8] { var k = KeyBuilder(tag); k.string(key); return k.bytes }
    static func jobKey(_ id: String) -> [UInt8] { var k = KeyBuilder(job); k.string(id); return k.bytes }
    static func orderTemplateKey(_ id: String) -> [UInt8] { var k = KeyBuilder(orderTemplate); k.string(id); return k.bytes }
    static func draftOrderKey(_ id: String) -> [UInt8] { var k = KeyBuilder(draftOrder); k.string(id); return k.bytes }
    static func noteKey(_ id: String) -> [UInt8] { var k = KeyBuilder(orderNote); k.string(id); return k.bytes }
    static func customFieldKey(_ id: String) -> [UInt8] { var k = KeyBuilder(customField); k.string(id); return k.bytes }
    static func customFieldInvalidPrefix(_ id: String) -> [UInt8] { var k = KeyBuilder(customFieldInvalid); k.string(id); return k.bytes }
    static func customFieldInvalidKey(_ id: String, _ order: String) -> [UInt8] {
        var k = KeyBuilder(customFieldInvalid); k.string(id); k.string(order); return k.bytes
    }
    static func transferKey(_ id: String) -> [UInt8] { var k = KeyBuilder(transfer); k.string(id); return k.bytes }
    static func shipmentKey(_ id: String) -> [UInt8] { var k = KeyBuilder(shipment); k.string(id); return k.bytes }
    static func orderFulfillmentKey(_ orderID: String) -> [UInt8] { var k = KeyBuilder(orderFulfillment); k.string(orderID); return k.bytes }

    /// The component appended to a prefix for an id (to build range bounds).
    static func idComponent(_ id: String) -> [UInt8] { var k = KeyBuilder(0); k.string(id); return Array(k.bytes.dropFirst()) }

    /// The same as a set, for diffing an update's old and new entries.

    // Meta names.
    static let metaSchema = "schema_version"
    static let metaSettings = "settings"
    static let metaCounters = "counters"
}
