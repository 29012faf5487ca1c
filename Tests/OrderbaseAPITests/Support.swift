import Foundation
import Testing
@testable import Orderbase
@testable import OrderbaseAPI

/// A temporary engine root with tenants `shop` (an order in it) and `gone`, removed at the end.
final class APIFixture: @unchecked Sendable {
    let dir: String
    let engine: Engine
    let tenant: Tenant
    let orderID: String
    /// A second order, for holds (the first one goes through transitions).
    let heldID: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "orderbase-api-XXXXXX").utf8CString)
        dir = String(cString: mkdtemp(&template)!)
        var options = EngineOptions()
        options.background = false  // deliveries move only when pump says so
        engine = try Engine(root: dir, options: options, transport: FailingTransport())
        engine.setPaymentHandler { _, _ in PaymentReply(status: "success", gatewayID: "gw_1") }
        try engine.createTenant("shop", settings: nil)
        try engine.createTenant("gone", settings: nil)
        tenant = try engine.openTenant("shop")
        let order = try JSON.parse(try tenant.core().orders.createOrder(try JSON.parse(#"{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)))
        orderID = order["id"]!.stringValue!
        heldID = try JSON.parse(try tenant.core().orders.createOrder(try JSON.parse(#"{"line_items":[{"title":"y","quantity":1,"unit_price":5}]}"#)))["id"]!.stringValue!
    }

    deinit {
        tenant.close()
        engine.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A minimal valid request per method (the body between the braces).
    /// `fresh` makes engine methods that create something use new names.
    func minimal(_ name: String, fresh: String = "fresh") -> String? {
        [
            "methods.list": "", "tenants.create": #""id":"\#(fresh)""#, "tenants.list": "", "tenants.get": #""id":"shop""#,
            "tenants.delete": #""id":"gone""#, "api_keys.create": #""tenant":"shop","scope":"read""#,
            "api_keys.list": #""tenant":"shop""#, "api_keys.revoke": #""tenant":"shop","id":"\#(keyID)""#,
            "orders.create": #""line_items":[{"title":"x","quantity":1,"unit_price":5}]"#,
            "orders.get": #""id":"\#(orderID)""#, "orders.list": "", "orders.update": #""id":"\#(orderID)","note":"n""#,
            "orders.transition": #""id":"\#(orderID)","to":"confirmed""#, "orders.cancel": #""id":"\#(orderID)""#,
            "orders.transitions": #""id":"\#(orderID)""#, "orders.hold": #""id":"\#(heldID)","reason":"other""#, "orders.release_hold": #""id":"\#(heldID)","hold_id":"\#(holdID)""#,
            "orders.archive": #""id":"\#(orderID)""#, "orders.unarchive": #""id":"\#(orderID)""#,
            "orders.add_tags": #""id":"\#(orderID)","tags":["vip"]"#, "orders.remove_tags": #""id":"\#(orderID)","tags":["vip"]"#,
            "tags.list": "", "tags.rename": #""from":"\#(tagged("rename-me"))","to":"renamed""#, "tags.delete": #""name":"\#(tagged("delete-me"))""#,
            "jobs.get": #""id":"\#(jobID)""#, "jobs.list": "",
            "order_templates.create": #""name":"T","order":{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#,
            "order_templates.get": #""id":"\#(template("get"))""#, "order_templates.list": "",
            "order_templates.update": #""id":"\#(template("update"))","name":"U""#, "order_templates.delete": #""id":"\#(template("delete"))""#,
            "orders.create_from_template": #""template_id":"\#(template("use"))""#,
            "draft_orders.create": #""order":{"note":"n"}"#, "draft_orders.get": #""id":"\#(draft("get"))""#, "draft_orders.list": "",
            "draft_orders.update": #""id":"\#(draft("update"))","order":{"note":"m"}"#, "draft_orders.delete": #""id":"\#(draft("delete"))""#,
            "draft_orders.place": #""id":"\#(draft("place"))""#,
            "archive_rules.get": "", "archive_rules.update": #""rules":[{"name":"old closed","after_days":30}]"#,
            "notes.create": #""order_id":"\#(orderID)","body":"Called the customer""#, "notes.get": #""id":"\#(note("get"))""#,
            "notes.list": #""order_id":"\#(orderID)""#, "notes.update": #""id":"\#(note("update"))","body":"edited""#,
            "notes.delete": #""id":"\#(note("delete"))""#, "orders.timeline": #""id":"\#(orderID)""#,
            "sla_policies.create": #""name":"Fast","target_states":["confirmed"],"within_minutes":60"#,
            "sla_policies.get": #""id":"\#(slaPolicy("get"))""#, "sla_policies.list": "",
            "sla_policies.update": #""id":"\#(slaPolicy("update"))","within_minutes":120"#,
            "sla_policies.delete": #""id":"\#(slaPolicy("delete"))""#,
            "business_hours.get": "", "business_hours.update": #""time_zone":"Europe/London","hours":[{"day":"monday","start":"09:00","end":"17:00"}]"#,
            "attachments.get": #""id":"\#(attachment("get"))""#, "attachments.list": #""order_id":"\#(orderID)""#,
            "attachments.delete": #""id":"\#(attachment("delete"))""#, "attachments.collect": "",
            "transactions.create": #""order_id":"\#(payable("create", "none"))","kind":"sale","amount":5"#,
            "transactions.get": #""id":"\#(transaction("get", "sale"))""#, "transactions.list": #""order_id":"\#(orderID)""#,
            "transactions.update": #""id":"\#(transaction("update", "pending"))","status":"success""#,
            "payments.capture": #""order_id":"\#(payable("capture", "authorization"))""#,
            "payments.refund": #""order_id":"\#(payable("refund", "sale"))","amount":5"#,
            "payments.void": #""order_id":"\#(payable("void", "authorization"))""#,
            "refunds.calculate": #""order_id":"\#(payable("calc", "sale"))","shipping":{"full":true}"#,
            "refunds.create": #""order_id":"\#(payable("refund-create", "sale"))","line_items":[{"line_item_id":"\#(lineOf(payable("refund-create", "sale")))","quantity":1}],"transactions":[{"parent_id":"\#(transaction("refund-create", "sale"))","amount":5}]"#,
            "refunds.get": #""id":"\#(refund("get"))""#, "refunds.list": #""order_id":"\#(orderID)""#,
            "order_edits.begin": #""order_id":"\#(payable("ebegin", "none"))""#, "order_edits.get": #""id":"\#(orderEdit("get"))""#,
            "order_edits.list": #""order_id":"\#(orderID)""#,
            "order_edits.stage": #""id":"\#(orderEdit("stage"))","actions":[{"type":"set_quantity","line_item_id":"\#(lineOf(payable("e" + "stage", "none")))","quantity":2}]"#,
            "order_edits.preview": #""id":"\#(orderEdit("preview", staged: true))""#,
            "order_edits.commit": #""id":"\#(orderEdit("commit", staged: true))""#,
            "order_edits.discard": #""id":"\#(orderEdit("discard"))""#,
            "return_policy.get": "", "return_policy.update": #""window_days":30"#,
            "returns.create": #""order_id":"\#(fulfilled("create"))","line_items":[{"line_item_id":"\#(lineOf(fulfilled("create")))","quantity":1}]"#,
            "returns.get": #""id":"\#(orderReturn("get"))""#, "returns.list": #""order_id":"\#(orderID)""#,
            "returns.approve": #""id":"\#(orderReturn("approve", via: "customer"))""#,
            "returns.decline": #""id":"\#(orderReturn("decline", via: "customer"))","reason":"final_sale""#,
            "returns.receive": #""id":"\#(orderReturn("receive"))","line_items":[{"line_item_id":"\#(lineOf(fulfilled("rreceive")))","quantity":1,"disposition":"not_restocked"}]"#,
            "returns.exchange": #""id":"\#(orderReturn("exchange"))","line_items":[{"title":"y","quantity":1,"unit_price":5}]"#,
            "orders.split": #""id":"\#(customerOrder("split"))","line_items":[{"line_item_id":"\#(lineOf(customerOrder("split")))","quantity":1}]"#,
            "orders.merge": #""id":"\#(customerOrder("merge1"))","order_ids":["\#(customerOrder("merge2"))"]"#,
            "returns.close": #""id":"\#(orderReturn("close"))""#, "returns.cancel": #""id":"\#(orderReturn("cancel"))""#,
            "sales.list": #""order_id":"\#(orderID)""#, "sales.summary": #""from":"2020-01-01T00:00:00Z","to":"2020-12-01T00:00:00Z""#,
            "orders.sla": #""id":"\#(orderID)""#, "sla.summary": #""from":"2026-01-01T00:00:00Z","to":"2026-12-01T00:00:00Z""#,
            "custom_fields.create": #""key":"\#(fresh.replacingOccurrences(of: "-", with: "_"))","name":"Fresh","type":"text""#,
            "custom_fields.get": #""id":"\#(customField("get"))""#, "custom_fields.list": "",
            "custom_fields.update": #""id":"\#(customField("update"))","validations":{"max_length":10}"#,
            "custom_fields.delete": #""id":"\#(customField("delete"))""#,
            "custom_fields.invalid_orders": #""id":"\#(customField("invalid"))""#, "custom_fields.check": #""id":"\#(customField("check"))""#,
            "orders.audit": #""id":"\#(orderID)""#, "audit.list": "", "consumers.list": "", "audit.verify": "", "integrity.check": "", "events.list": "",
            "expressions.validate": #""expression":"order.total > 1""#,
            "expressions.evaluate": #""expression":"order.total > 1","order_id":"\#(orderID)""#,
            "workflows.create": #""key":"wf_\#(fresh)",\#(Self.twoStates)"#,
            "workflows.get": #""key":"default""#, "workflows.list": "",
            "workflows.update": #""key":"\#(workflowKey("upd"))",\#(Self.twoStates)"#,
            "workflows.archive": #""key":"\#(workflowKey("arch"))""#,
            "workflows.validate": #""key":"v",\#(Self.twoStates)"#,
            "workflows.migrate": #""key":"default""#,
            "workflows.simulate": #""order_id":"\#(orderID)","to":"confirmed""#,
            "approvals.list": "", "approvals.get": #""id":"\#(approvalID("get"))""#,
            "approvals.approve": #""id":"\#(approvalID("approve"))""#,
            "approvals.reject": #""id":"\#(approvalID("reject"))""#,
            "approvals.cancel": #""id":"\#(approvalID("cancel"))""#,
            "webhooks.create": #""url":"https://example.com/hook""#, "webhooks.list": "",
            "webhooks.get": #""id":"\#(endpointID("get"))""#, "webhooks.update": #""id":"\#(endpointID("update"))","description":"d""#,
            "webhooks.delete": #""id":"\#(endpointID("delete"))""#, "webhooks.rotate_secret": #""id":"\#(endpointID("rotate"))""#,
            "webhooks.test": #""id":"\#(endpointID("test"))""#, "webhooks.replay": #""id":"\#(endpointID("replay"))","from_sequence":1"#,
            "deliveries.list": "", "deliveries.get": #""id":"\#(deliveryID)""#, "deliveries.retry": #""id":"\#(deliveryID)""#,
            "notification_channels.create": #""name":"ops","type":"callback""#, "notification_channels.list": "",
            "notification_channels.get": #""id":"\#(channelID("get"))""#,
            "notification_channels.update": #""id":"\#(channelID("update"))","name":"n""#,
            "notification_channels.delete": #""id":"\#(channelID("delete"))""#,
            "notification_templates.create": #""name":"t","channel_id":"\#(channelID("templates"))","text":"{{order.number}}","recipients":[{"type":"staff","address":"ops"}]"#,
            "notification_templates.list": "", "notification_templates.get": #""id":"\#(templateID("get"))""#,
            "notification_templates.update": #""id":"\#(templateID("update"))","text":"Order {{order.number}}""#,
            "notification_templates.delete": #""id":"\#(templateID("delete"))""#,
            "notification_templates.render": #""id":"\#(templateID("render"))","order_id":"\#(orderID)""#,
            "notifications.list": "", "notifications.get": #""id":"\#(notificationID("get"))""#,
            "notifications.send": #""template_id":"\#(templateID("send"))","order_id":"\#(orderID)""#,
            "notifications.retry": #""id":"\#(notificationID("retry"))""#,
            "locations.create": #""name":"Store""#, "locations.list": "", "locations.get": #""id":"\#(locationID)""#,
            "locations.update": #""id":"\#(locationID)","rank":2"#,
            "inventory.get": #""sku":"SKU-1""#, "inventory.update_item": #""sku":"SKU-2","backorder":"allow""#,
            "inventory.list": "", "inventory.movements": "",
            "inventory.adjust": #""sku":"SKU-1","location_id":"\#(locationID)","delta":5,"reason":"received""#,
            "inventory.adjust_many": #""changes":[{"sku":"SKU-1","location_id":"\#(locationID)","delta":1}],"reason":"correction""#,
            "inventory.set": #""sku":"SKU-1","location_id":"\#(locationID)","quantity":50,"reason":"cycle_count""#,
            "inventory.set_many": #""quantities":[{"sku":"SKU-1","location_id":"\#(locationID)","name":"incoming","quantity":4}],"reason":"cycle_count""#,
            "inventory.move": #""sku":"SKU-1","location_id":"\#(locationID)","from":"available","to":"damaged","quantity":1,"reason":"damaged""#,
            "fulfillment_orders.list": "", "fulfillment_orders.get": #""id":"\#(fulfillmentOrderID)""#,
            "fulfillment_orders.hold": #""id":"\#(fulfillmentOrder("hold"))","reason":"other""#,
            "fulfillment_orders.release_hold": #""id":"\#(fulfillmentOrder("release", held: true))""#,
            "fulfillment_orders.cancel": #""id":"\#(fulfillmentOrder("cancel"))""#,
            "fulfillment_orders.move": #""id":"\#(fulfillmentOrder("move"))","location_id":"\#(secondLocationID)""#,
            "fulfillment_orders.split": #""id":"\#(fulfillmentOrder("split", quantity: 2))","lines":[{"line_item_id":"\#(lineItem("split"))","quantity":1}]"#,
            "fulfillment_orders.merge": #""id":"\#(splitPair.1)","into":"\#(splitPair.0)""#,
            "fulfillment_orders.reschedule": #""id":"\#(fulfillmentOrder("reschedule"))","fulfill_at":"2030-01-01T00:00:00Z""#,
            "shipments.create": #""fulfillment_order_id":"\#(fulfillmentOrder("ship"))","tracking":{"carrier":"DHL","number":"1Z"}"#,
            "shipments.list": "", "shipments.get": #""id":"\#(shipmentID)""#,
            "transfers.create": #""from_location_id":"\#(locationID)","to_location_id":"\#(secondLocationID)","lines":[{"sku":"SKU-1","quantity":2}]"#,
            "transfers.list": "", "transfers.get": #""id":"\#(transferID)""#, "transfers.receive": #""id":"\#(transferID)","lines":[{"sku":"SKU-1","quantity":1}]"#,
            "routing_rules.get": "", "routing_rules.update": #""rules":[{"type":"ships_to"},{"type":"expression","expression":"location.rank < 10"},{"type":"rank"}]"#,
            "fulfillment.route_preview": #""line_items":[{"title":"x","sku":"SKU-1","quantity":1,"unit_price":5}],"shipping_address":{"country":"GB"}"#,
            "shipments.update_status": #""id":"\#(shipmentID)","status":"delivered""#,
        ][name]
    }

    /// The smallest workflow definition (without its key).
    static let twoStates = #""name":"Two","states":[{"key":"open","initial":true},{"key":"done","category":"done","final":true}],"transitions":[{"name":"finish","from":"open","to":"done","approval":{"tiers":[{"approvers":1}],"allow_requester":true}}]"#

    private var endpoints: [String: String] = [:]

    /// A location holding 100 of SKU-1, made on first use.
    lazy var locationID: String = {
        let l = try! JSON.parse(try! tenant.core().inventory.createLocation(try! JSON.parse(#"{"name":"Main"}"#)))
        let id = l["id"]!.stringValue!
        _ = try! tenant.core().inventory.adjust(try! JSON.parse(#"{"sku":"SKU-1","location_id":"\#(id)","delta":100,"reason":"received"}"#))
        return id
    }()

    /// A second location holding 100 of SKU-1, made on first use.
    lazy var secondLocationID: String = {
        let l = try! JSON.parse(try! tenant.core().inventory.createLocation(try! JSON.parse(#"{"name":"Second","rank":5}"#)))
        let id = l["id"]!.stringValue!
        _ = try! tenant.core().inventory.adjust(try! JSON.parse(#"{"sku":"SKU-1","location_id":"\#(id)","delta":100,"reason":"received"}"#))
        return id
    }()

    /// `tag`, put on the held order on first use.
    func tagged(_ tag: String) -> String {
        _ = try! tenant.core().orders.addTags(try! JSON.parse(#"{"id":"\#(heldID)","tags":["\#(tag)"]}"#))
        return tag
    }

    /// A text custom field on orders named after `purpose`, defined on first use.
    func customField(_ purpose: String) -> String {
        _ = try? tenant.core().customFields.createDefinition(try! JSON.parse(#"{"key":"cf_\#(purpose)","name":"\#(purpose)","type":"text"}"#))
        return "order.cf_\(purpose)"
    }

    private var made: [String: String] = [:]

    /// An order template (one line), per purpose, saved on first use.
    func template(_ purpose: String) -> String {
        if let id = made["t" + purpose] { return id }
        let t = try! JSON.parse(try! tenant.core().drafts.createTemplate(try! JSON.parse(#"{"name":"\#(purpose)","order":{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}}"#)))
        made["t" + purpose] = t["id"]!.stringValue!
        return made["t" + purpose]!
    }

    /// An attachment (a short text file on the first order), per purpose, made on first use.
    func attachment(_ purpose: String) -> String {
        if let id = made["a" + purpose] { return id }
        let bytes = Array("notes for \(purpose)".utf8)
        let a = try! JSON.parse(try! bytes.withUnsafeBytes { try tenant.core().attachments.attach(try JSON.parse(#"{"order_id":"\#(orderID)","file_name":"\#(purpose).txt"}"#), bytes: $0) })
        made["a" + purpose] = a["id"]!.stringValue!
        return made["a" + purpose]!
    }

    /// An order of total 5, per purpose, made on first use, with a 5 `authorization` or `sale` (or none).
    func payable(_ purpose: String, _ first: String) -> String {
        if let id = made["ord" + purpose] { return id }
        let core = try! tenant.core()
        let o = try! JSON.parse(try! core.orders.createOrder(try! JSON.parse(#"{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}"#)))
        let id = o["id"]!.stringValue!
        if first != "none" {
            made["txn" + purpose] = try! JSON.parse(try! core.payments.createTransaction(try! JSON.parse(
                #"{"order_id":"\#(id)","kind":"\#(first == "pending" ? "sale" : first)","amount":5,"status":"\#(first == "pending" ? "pending" : "success")"}"#)))["id"]!.stringValue!
        }
        made["ord" + purpose] = id
        return id
    }

    /// The first line item of an order.
    func lineOf(_ order: String) -> String {
        let o = try! JSON.parse(try! tenant.core().orders.getOrder(try! JSON.parse(#"{"id":"\#(order)"}"#)))
        guard case .array(let lines)? = o["line_items"] else { return "" }
        return lines[0]["id"]!.stringValue!
    }

    /// A refund (the one unit of a paid order), per purpose.
    func refund(_ purpose: String) -> String {
        if let id = made["rfd" + purpose] { return id }
        let order = payable("r" + purpose, "sale")
        let r = try! JSON.parse(try! tenant.core().payments.createRefund(try! JSON.parse(
            #"{"order_id":"\#(order)","line_items":[{"line_item_id":"\#(lineOf(order))","quantity":1}],"transactions":[{"parent_id":"\#(transaction("r" + purpose, "sale"))","amount":5}]}"#)))
        made["rfd" + purpose] = r["refund"]!["id"]!.stringValue!
        return made["rfd" + purpose]!
    }

    /// An order edit of its own order (`staged`: with one quantity change), per purpose.
    func orderEdit(_ purpose: String, staged: Bool = false) -> String {
        if let id = made["oe" + purpose] { return id }
        let order = payable("e" + purpose, "none")
        let core = try! tenant.core()
        let e = try! JSON.parse(try! core.orderEdits.begin(try! JSON.parse(#"{"order_id":"\#(order)"}"#)))
        let id = e["id"]!.stringValue!
        if staged {
            _ = try! core.orderEdits.stage(try! JSON.parse(#"{"id":"\#(id)","actions":[{"type":"set_quantity","line_item_id":"\#(lineOf(order))","quantity":3}]}"#))
        }
        made["oe" + purpose] = id
        return id
    }

    /// An order fulfilled by hand (one line of 3 units, SKU R-1) and paid, per purpose, made on first use.
    func fulfilled(_ purpose: String) -> String {
        if let id = made["ful" + purpose] { return id }
        let o = try! JSON.parse(try! tenant.core().orders.createOrder(try! JSON.parse(
            #"{"fulfillment_status":"fulfilled","line_items":[{"title":"x","sku":"R-1","quantity":3,"unit_price":5}],"transactions":[{"kind":"sale","amount":15}]}"#)))
        made["ful" + purpose] = o["id"]!.stringValue!
        return made["ful" + purpose]!
    }

    /// An order of customer cus_1 (one line of 2 units), per purpose, made on first use.
    func customerOrder(_ purpose: String) -> String {
        if let id = made["cus" + purpose] { return id }
        let o = try! JSON.parse(try! tenant.core().orders.createOrder(try! JSON.parse(
            #"{"customer":{"id":"cus_1"},"line_items":[{"title":"x","quantity":2,"unit_price":5}]}"#)))
        made["cus" + purpose] = o["id"]!.stringValue!
        return made["cus" + purpose]!
    }

    /// A return of one unit of its own fulfilled order (staff: approved at once; customer: requested), per purpose.
    func orderReturn(_ purpose: String, via: String = "staff") -> String {
        if let id = made["ret" + purpose] { return id }
        let order = fulfilled("r" + purpose)
        let r = try! JSON.parse(try! tenant.core().returns.createReturn(try! JSON.parse(
            #"{"order_id":"\#(order)","requested_via":"\#(via)","line_items":[{"line_item_id":"\#(lineOf(order))","quantity":1}]}"#)))
        made["ret" + purpose] = r["id"]!.stringValue!
        return made["ret" + purpose]!
    }

    /// A transaction (`sale` or a `pending` sale) on its own order, per purpose.
    func transaction(_ purpose: String, _ kind: String) -> String {
        _ = payable(purpose, kind)
        return made["txn" + purpose]!
    }

    /// An SLA policy, per purpose, made on first use.
    func slaPolicy(_ purpose: String) -> String {
        if let id = made["s" + purpose] { return id }
        let p = try! JSON.parse(try! tenant.core().sla.createPolicy(try! JSON.parse(#"{"name":"\#(purpose)","target_fulfillment":"shipped","within_minutes":480}"#)))
        made["s" + purpose] = p["id"]!.stringValue!
        return made["s" + purpose]!
    }

    /// A draft order (one line), per purpose, started on first use.
    func draft(_ purpose: String) -> String {
        if let id = made["d" + purpose] { return id }
        let d = try! JSON.parse(try! tenant.core().drafts.createDraft(try! JSON.parse(#"{"order":{"line_items":[{"title":"x","quantity":1,"unit_price":5}]}}"#)))
        made["d" + purpose] = d["id"]!.stringValue!
        return made["d" + purpose]!
    }

    private var notes: [String: String] = [:]

    /// A note on the first order, per purpose, written on first use.
    func note(_ purpose: String) -> String {
        if let id = notes[purpose] { return id }
        let n = try! JSON.parse(try! tenant.core().timeline.createNote(try! JSON.parse(#"{"order_id":"\#(orderID)","body":"\#(purpose)"}"#)))
        notes[purpose] = n["id"]!.stringValue!
        return notes[purpose]!
    }

    /// A queued job (deleting a tag), made on first use.
    lazy var jobID: String = {
        let job = try! JSON.parse(try! tenant.core().tags.deleteTag(try! JSON.parse(#"{"name":"\#(tagged("job-me"))"}"#)))
        return job["id"]!.stringValue!
    }()

    private var fulfillmentOrders: [String: (fo: String, line: String)] = [:]

    /// The fulfillment order of a new order for `quantity` of SKU-1, per purpose (`held`: put on hold).
    func fulfillmentOrder(_ purpose: String, quantity: Int = 1, held: Bool = false) -> String {
        if let known = fulfillmentOrders[purpose] { return known.fo }
        _ = locationID
        let core = try! tenant.core()
        let o = try! JSON.parse(try! core.orders.createOrder(try! JSON.parse(#"{"line_items":[{"title":"s","sku":"SKU-1","quantity":\#(quantity),"unit_price":5}]}"#)))
        let page = try! JSON.parse(try! core.inventory.listFulfillmentOrders(try! JSON.parse(#"{"order_id":"\#(o["id"]!.stringValue!)"}"#)))
        guard case .array(let fos)? = page["data"], let fo = fos.first?["id"]?.stringValue,
              case .array(let lines)? = o["line_items"], let line = lines.first?["id"]?.stringValue else { return "" }
        if held { _ = try! core.inventory.holdFulfillmentOrder(try! JSON.parse(#"{"id":"\#(fo)","reason":"other"}"#)) }
        fulfillmentOrders[purpose] = (fo, line)
        return fo
    }

    func lineItem(_ purpose: String) -> String { fulfillmentOrders[purpose]!.line }

    /// Two fulfillment orders of one order at one location (a split), made on first use.
    lazy var splitPair: (String, String) = {
        let fo = fulfillmentOrder("pair", quantity: 2)
        let r = try! JSON.parse(try! tenant.core().inventory.splitFulfillmentOrder(try! JSON.parse(#"{"id":"\#(fo)","lines":[{"line_item_id":"\#(lineItem("pair"))","quantity":1}]}"#)))
        guard case .array(let both)? = r["data"], both.count == 2 else { return ("", "") }
        return (both[0]["id"]!.stringValue!, both[1]["id"]!.stringValue!)
    }()

    /// A transfer of 3 SKU-1 between the two locations, made on first use.
    lazy var transferID: String = {
        let t = try! JSON.parse(try! tenant.core().inventory.createTransfer(try! JSON.parse(#"{"from_location_id":"\#(locationID)","to_location_id":"\#(secondLocationID)","lines":[{"sku":"SKU-1","quantity":3}]}"#)))
        return t["id"]!.stringValue!
    }()

    /// A shipment of one SKU-1, made on first use.
    lazy var shipmentID: String = {
        let s = try! JSON.parse(try! tenant.core().inventory.createShipment(try! JSON.parse(#"{"fulfillment_order_id":"\#(fulfillmentOrder("shipment"))"}"#)))
        return s["id"]!.stringValue!
    }()

    /// The fulfillment order of an order for one SKU-1, made on first use.
    lazy var fulfillmentOrderID: String = {
        _ = locationID
        let o = try! JSON.parse(try! tenant.core().orders.createOrder(try! JSON.parse(#"{"line_items":[{"title":"s","sku":"SKU-1","quantity":1,"unit_price":5}]}"#)))
        let page = try! JSON.parse(try! tenant.core().inventory.listFulfillmentOrders(try! JSON.parse(#"{"order_id":"\#(o["id"]!.stringValue!)"}"#)))
        guard case .array(let items)? = page["data"], let first = items.first else { return "" }
        return first["id"]!.stringValue!
    }()

    /// A webhook endpoint made on first use per purpose.
    func endpointID(_ purpose: String) -> String {
        if let id = endpoints[purpose] { return id }
        let e = try! JSON.parse(try! tenant.core().webhooks.createWebhook(try! JSON.parse(#"{"url":"https://example.com/\#(purpose)"}"#)))
        endpoints[purpose] = e["id"]!.stringValue!
        return endpoints[purpose]!
    }

    /// A pending delivery (its first attempt failed), made on first use.
    lazy var deliveryID: String = {
        _ = endpointID("deliveries")
        _ = try! tenant.core().orders.createOrder(try! JSON.parse(#"{"line_items":[{"title":"w","quantity":1,"unit_price":5}]}"#))
        _ = try! engine.pump(maxMilliseconds: 1000)
        let page = try! JSON.parse(try! tenant.core().webhooks.listDeliveries(try! JSON.parse("{}")))
        guard case .array(let items)? = page["data"], let first = items.first else { return "" }
        return first["id"]!.stringValue!
    }()

    private var channels: [String: String] = [:]
    private var templates: [String: String] = [:]
    private var notifications: [String: String] = [:]

    /// A callback notification channel made on first use per purpose.
    func channelID(_ purpose: String) -> String {
        if let id = channels[purpose] { return id }
        let c = try! JSON.parse(try! tenant.core().notifications.createNotificationChannel(try! JSON.parse(#"{"name":"\#(purpose)","type":"callback"}"#)))
        channels[purpose] = c["id"]!.stringValue!
        return channels[purpose]!
    }

    /// A template of a callback channel made on first use per purpose.
    func templateID(_ purpose: String) -> String {
        if let id = templates[purpose] { return id }
        let t = try! JSON.parse(try! tenant.core().notifications.createNotificationTemplate(try! JSON.parse(
            #"{"name":"\#(purpose)","channel_id":"\#(channelID("templates"))","text":"{{order.number}}","recipients":[{"type":"staff","address":"ops"}]}"#)))
        templates[purpose] = t["id"]!.stringValue!
        return templates[purpose]!
    }

    /// A pending notification (manually sent), made on first use per purpose.
    func notificationID(_ purpose: String) -> String {
        if let id = notifications[purpose] { return id }
        let page = try! JSON.parse(try! tenant.core().notifications.sendNotification(try! JSON.parse(#"{"template_id":"\#(templateID("n_" + purpose))","order_id":"\#(orderID)"}"#)))
        guard case .array(let items)? = page["data"], let first = items.first else { return "" }
        notifications[purpose] = first["id"]!.stringValue!
        return notifications[purpose]!
    }

    private var workflows: [String: String] = [:]
    private var approvals: [String: String] = [:]

    /// A workflow made on first use per purpose.
    func workflowKey(_ purpose: String) -> String {
        if let k = workflows[purpose] { return k }
        let key = "wf_\(purpose)"
        _ = try! tenant.core().workflows.createWorkflow(try! JSON.parse(#"{"key":"\#(key)",\#(Self.twoStates)}"#))
        workflows[purpose] = key
        return key
    }

    /// A pending approval request made on first use per purpose (on a new order of a workflow that asks for approval).
    func approvalID(_ purpose: String) -> String {
        if let id = approvals[purpose] { return id }
        let core = try! tenant.core()
        let wf = workflowKey("approvals")
        let order = try! JSON.parse(try! core.orders.createOrder(try! JSON.parse(#"{"workflow":"\#(wf)","line_items":[{"title":"a","quantity":1,"unit_price":5}]}"#)))
        let waiting = try! JSON.parse(try! core.orders.transitionOrder(try! JSON.parse(#"{"id":"\#(order["id"]!.stringValue!)","to":"done"}"#)))
        let id = waiting["pending_approval"]!["id"]!.stringValue!
        approvals[purpose] = id
        return id
    }

    /// A hold of the fixture's order to release, placed on first use.
    lazy var holdID: String = {
        let o = try! JSON.parse(try! tenant.core().orders.holdOrder(try! JSON.parse(#"{"id":"\#(heldID)","reason":"other"}"#)))
        guard case .array(let holds)? = o["holds"], let h = holds.last else { return "" }
        return h["id"]!.stringValue!
    }()

    /// A key of `shop` to revoke, made on first use.
    lazy var keyID: String = {
        let k = try! JSON.parse(try! engine.createAPIKey(try! JSON.parse(#"{"tenant":"shop","scope":"read"}"#)))
        return k["id"]!.stringValue!
    }()

    func run(_ m: OrderbaseAPI.Method, _ json: String) throws -> [UInt8] {
        let bytes = Array(json.utf8)
        return try bytes.withUnsafeBytes { b in
            m.isEngineLevel ? try Catalogue.call(engine, m.name, b) : try Catalogue.call(tenant, m.name, b)
        }
    }
}

/// Checks a value against a catalogue schema (the subset of JSON Schema the
/// catalogue uses), returning the first mismatch as "path: why".
func conformance(_ v: JSON, _ s: Schema, path: String = "$") -> String? {
    switch s {
    case .described(_, let inner):
        return conformance(v, inner, path: path)
    case .nullable(let inner):
        return v == .null ? nil : conformance(v, inner, path: path)
    case .anyValue:
        return nil
    case .ref(let name):
        guard let c = Schemas.components.first(where: { $0.name == name }) else { return "\(path): unknown schema \(name)" }
        return conformance(v, c.schema, path: path)
    case .string(_, let minLength, let values, let format, _):
        guard case .string(let str) = v else { return "\(path): expected a string, got \(v.typeName)" }
        if str.count < minLength { return "\(path): shorter than \(minLength)" }
        if let values, !values.contains(str) { return "\(path): \(str) is not one of \(values)" }
        if format == "date-time", Timestamp.parse(str) == nil { return "\(path): \(str) is not a date-time" }
        return nil
    case .integer(let min, let max):
        guard case .int(let n) = v else { return "\(path): expected an integer, got \(v.typeName)" }
        if let min, n < min { return "\(path): \(n) < \(min)" }
        if let max, n > max { return "\(path): \(n) > \(max)" }
        return nil
    case .number(let min, let max):
        let d: Double
        switch v {
        case .int(let n): d = Double(n)
        case .double(let x): d = x
        default: return "\(path): expected a number, got \(v.typeName)"
        }
        if let min, d < min { return "\(path): \(d) < \(min)" }
        if let max, d > max { return "\(path): \(d) > \(max)" }
        return nil
    case .boolean:
        if case .bool = v { return nil }
        return "\(path): expected a boolean, got \(v.typeName)"
    case .anyObject:
        if case .object = v { return nil }
        return "\(path): expected an object, got \(v.typeName)"
    case .map(let value):
        guard case .object(let o) = v else { return "\(path): expected an object, got \(v.typeName)" }
        for (k, x) in o { if let e = conformance(x, value, path: "\(path).\(k)") { return e } }
        return nil
    case .array(let item, let minItems, let maxItems):
        guard case .array(let a) = v else { return "\(path): expected an array, got \(v.typeName)" }
        if a.count < minItems { return "\(path): fewer than \(minItems) items" }
        if let maxItems, a.count > maxItems { return "\(path): more than \(maxItems) items" }
        for (n, x) in a.enumerated() { if let e = conformance(x, item, path: "\(path)[\(n)]") { return e } }
        return nil
    case .anyOf(let schemas):
        return schemas.contains { conformance(v, $0, path: path) == nil } ? nil : "\(path): matches none of \(schemas.count) schemas"
    case .except(let inner, let values):
        if case .string(let str) = v, values.contains(str) { return "\(path): \(str) is excluded" }
        return conformance(v, inner, path: path)
    case .byAllowHTTP(let allowed, let refused):
        return conformance(v, Schema.httpAllowed ? allowed : refused, path: path)
    case .objectWithRules(let props, let rules):
        if let e = conformance(v, .object(props), path: path) { return e }
        guard case .object(let o) = v else { return nil }
        func given(_ name: String) -> Bool {
            guard let x = o[name] else { return false }
            return x != .null || (props.first { $0.name == name }?.schema.nullIsData ?? false)
        }
        for rule in rules {
            switch rule {
            case .exactlyOne(let names):
                if names.filter(given).count != 1 { return "\(path): \(rule.text)" }
            case .atLeastOne(let names):
                if !names.contains(where: given) { return "\(path): \(rule.text)" }
            case .when(let field, let condition, let require, let forbid, let restrict):
                let holds = switch condition {
                case .equals(let value): o[field] == .string(value)
                case .given: given(field)
                case .absent: !given(field)
                }
                guard holds else { continue }
                if let missing = require.first(where: { !given($0) }) { return "\(path).\(missing): required when \(rule.text)" }
                if let extra = forbid.first(where: { (o[$0] ?? .null) != .null }) { return "\(path).\(extra): forbidden when \(rule.text)" }
                for p in restrict { if let x = o[p.name], let e = conformance(x, p.schema, path: "\(path).\(p.name)") { return e } }
            }
        }
        return nil
    case .object(let props):
        guard case .object(let o) = v else { return "\(path): expected an object, got \(v.typeName)" }
        for p in props where p.required && o[p.name] == nil { return "\(path).\(p.name): required but absent" }
        for (k, x) in o {
            guard let p = props.first(where: { $0.name == k }) else { return "\(path).\(k): not in the schema" }
            if let e = conformance(x, p.schema, path: "\(path).\(k)") { return e }
        }
        return nil
    }
}

/// Answers 500 to everything, without a network: deliveries stay pending.
struct FailingTransport: HTTPTransport {
    func post(_ request: OutboundRequest) -> OutboundResponse {
        OutboundResponse(status: 500, bodyPrefix: "down", latencyMilliseconds: 1)
    }
}
