import OrderbaseStore

/// A capability's service over one tenant (DESIGN §8): `tenant.orders`,
/// `tenant.workflows`, `tenant.webhooks`, … Each lives in its capability's
/// folder and holds nothing but the tenant's kernel, which it reaches for the
/// write path, scans, ids, clock, settings and counters. `TenantCore` is that
/// kernel and nothing else.
protocol Capability: Sendable {
    var core: TenantCore { get }
}

extension Capability {
    var ids: IDGenerator { core.ids }
    var settings: TenantSettings { core.settings }
    var limits: OrderLimits { core.limits }
    var budgets: Budgets { core.budgets }
    var clock: any EngineClock { core.clock }
    var database: Database { core.database }
    var workflowRegistry: WorkflowRegistry { core.workflowRegistry }
    var outboundConfig: OutboundConfig { core.outboundConfig }

    func write<T>(_ request: RequestContext, _ body: (inout WriteContext) throws(OrderbaseError) -> T) throws(OrderbaseError) -> T {
        try core.write(request, body)
    }
    func scan(from start: [UInt8], to end: [UInt8]?, reverse: Bool = false, snapshot: Snapshot? = nil,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(OrderbaseError) -> Bool) throws(OrderbaseError) {
        try core.scan(from: start, to: end, reverse: reverse, snapshot: snapshot, body)
    }
    func count(_ prefix: UInt8, upTo limit: Int) throws(OrderbaseError) -> Int { try core.count(prefix, upTo: limit) }
    func stored<R: KeyedRecord>(_ type: R.Type, _ id: String, field: String = "id") throws(OrderbaseError) -> R {
        try core.stored(type, id, field: field)
    }
    func cursor(_ name: String) throws(OrderbaseError) -> UInt64 { try core.cursor(name) }
    func events(after sequence: UInt64, upTo bound: UInt64 = .max, limit: Int) throws(OrderbaseError) -> [(UInt64, String, [UInt8], JSON)] {
        try core.events(after: sequence, upTo: bound, limit: limit)
    }
    func lastEventSequence() throws(OrderbaseError) -> UInt64 { try core.lastEventSequence() }
    func outboundChanged(present: Bool?) { core.outboundChanged(present: present) }
    static func listResponse(_ items: [[UInt8]], hasMore: Bool) -> [UInt8] { TenantCore.listResponse(items, hasMore: hasMore) }

    // The other capabilities, for the places one calls another.
    var orders: OrderService { core.orders }
    var approvals: ApprovalService { core.approvals }
    var expressions: ExpressionService { core.expressions }
    var inventory: InventoryService { core.inventory }
    var jobs: JobService { core.jobs }
    var customFields: CustomFieldService { core.customFields }
    var payments: PaymentService { core.payments }
    var returns: ReturnService { core.returns }
    var orderEdits: OrderEditService { core.orderEdits }
}

/// `tenant.orders`: orders, their transitions and holds (Orders/, Workflow/OrderService+Transitions.swift).
public struct OrderService: Capability { let core: TenantCore }
/// `tenant.workflows`: workflow definitions and versions (Workflow/).
public struct WorkflowService: Capability { let core: TenantCore }
/// `tenant.approvals`: approval requests (Workflow/).
public struct ApprovalService: Capability { let core: TenantCore }
/// `tenant.expressions`: checking and evaluating expressions (Expressions/).
public struct ExpressionService: Capability { let core: TenantCore }
/// `tenant.audit`: audit trails, the hash chain, the event log, integrity, consumers (Audit/).
public struct AuditService: Capability { let core: TenantCore }
/// `tenant.webhooks`: endpoints and deliveries (Webhooks/).
public struct WebhookService: Capability { let core: TenantCore }
/// `tenant.notifications`: channels, templates and the log (Notifications/).
public struct NotificationService: Capability { let core: TenantCore }
/// `tenant.inventory`: locations, stock levels and their ledger, commitment, fulfillment orders (Inventory/).
public struct InventoryService: Capability { let core: TenantCore }
/// `tenant.tags`: the tags in use on orders, renaming and deleting them (Tags/).
public struct TagService: Capability { let core: TenantCore }
/// `tenant.customFields`: custom field definitions and the checks of stored values (CustomFields/).
public struct CustomFieldService: Capability { let core: TenantCore }
/// `tenant.timeline`: notes and messages on orders, and an order's timeline (Timeline/).
public struct TimelineService: Capability { let core: TenantCore }
/// `tenant.drafts`: order templates and draft orders (Drafts/).
public struct DraftService: Capability { let core: TenantCore }
/// `tenant.sla`: SLA policies, business hours, orders' SLA entries and the summary (SLA/).
public struct SLAService: Capability { let core: TenantCore }
/// `tenant.attachments`: files on orders and notes in the tenant's file store (Attachments/).
public struct AttachmentService: Capability { let core: TenantCore }
/// `tenant.payments`: the payments ledger of orders, and the payment handler (Payments/).
public struct PaymentService: Capability { let core: TenantCore }
/// `tenant.orderEdits`: change sets over orders, previewed and committed with their stock (OrderEdits/).
public struct OrderEditService: Capability { let core: TenantCore }
/// `tenant.returns`: returns (RMA) and the return policy (Returns/).
public struct ReturnService: Capability { let core: TenantCore }
/// `tenant.jobs`: bulk jobs the scheduler runs in steps (Jobs/).
public struct JobService: Capability { let core: TenantCore }

extension TenantCore {
    public var orders: OrderService { OrderService(core: self) }
    public var workflows: WorkflowService { WorkflowService(core: self) }
    public var approvals: ApprovalService { ApprovalService(core: self) }
    public var expressions: ExpressionService { ExpressionService(core: self) }
    public var audit: AuditService { AuditService(core: self) }
    public var webhooks: WebhookService { WebhookService(core: self) }
    public var notifications: NotificationService { NotificationService(core: self) }
    public var inventory: InventoryService { InventoryService(core: self) }
    public var tags: TagService { TagService(core: self) }
    public var jobs: JobService { JobService(core: self) }
    public var customFields: CustomFieldService { CustomFieldService(core: self) }
    public var timeline: TimelineService { TimelineService(core: self) }
    public var drafts: DraftService { DraftService(core: self) }
    public var attachments: AttachmentService { AttachmentService(core: self) }
    public var sla: SLAService { SLAService(core: self) }
    public var payments: PaymentService { PaymentService(core: self) }
    public var returns: ReturnService { ReturnService(core: self) }
    public var orderEdits: OrderEditService { OrderEditService(core: self) }
}
