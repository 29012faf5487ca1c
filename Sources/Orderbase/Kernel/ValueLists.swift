/// The value lists of the engine's enumerations, public so that the
/// catalogue's schemas (and through them the OpenAPI document and the
/// bindings) read the same lists the engine checks, instead of copies
/// (issue 12, "shared enums"). Each is defined beside the code that uses it;
/// this is where the API layer finds them. Order statuses, channels and hold
/// reasons are on `OrderStatus` and `Hold`; record kinds on `RecordKind`.
public enum ValueLists {
    public static let orderSorts = OrderStatus.sorts
    public static let workflowStateCategories = Workflow.State.categories
    public static let approvalStatuses = ApprovalRequest.statuses
    public static let webhookPayloads = WebhookEndpoint.payloads
    public static let webhookDeliveryStatuses = WebhookDelivery.statuses
    public static let notificationChannelTypes = NotificationChannel.types
    public static let emailSecurities = NotificationChannel.Email.securities
    public static let smsContentTypes = NotificationChannel.SMS.contentTypes
    public static let recipientTypes = NotificationTemplate.Recipient.types
    /// A notification's recipient type: a template's, or `manual` (`notifications.send` with `to`).
    public static let notificationRecipientTypes = NotificationTemplate.Recipient.types + ["manual"]
    public static let notificationStatuses = NotificationRecord.statuses
    public static let simulationOutcomes = ["transition", "approval_required", "refused"]
    public static let consumerKinds = ["engine", "subscription"]
    public static let locationTypes = Location.types
    public static let backorderPolicies = InventoryItem.backorderPolicies
    public static let inventoryQuantities = InventoryLevel.quantities
    /// The quantities a caller may adjust or set (`committed` moves only with orders).
    public static let adjustableQuantities = InventoryLevel.adjustable
    /// The buckets `inventory.move` moves between.
    public static let moveBuckets = InventoryLevel.moveBuckets
    /// The buckets units may move into (not `incoming`).
    public static let moveTargets = InventoryLevel.moveBuckets.filter { $0 != "incoming" }
    public static let movementReasons = InventoryMovement.reasons
    public static let callerMovementReasons = InventoryMovement.callerReasons
    public static let fulfillmentOrderStatuses = FulfillmentOrder.statuses
    public static let fulfillmentOrderActions = FulfillmentOrder.actions
    public static let routingRuleTypes = RoutingRules.types
    public static let transferStatuses = Transfer.statuses
    public static let shipmentStatuses = Shipment.statuses
    public static let reportedShipmentStatuses = Shipment.reported
    public static let jobTypes = Job.types
    public static let draftStatuses = DraftOrder.statuses
    public static let transactionKinds = Transaction.kinds
    public static let transactionStatuses = Transaction.statuses
    public static let transactionSources = Transaction.sources
    public static let refundStatuses = Refund.statuses
    public static let returnStatuses = OrderReturn.statuses
    public static let orderEditStatuses = OrderEdit.statuses
    public static let editActionTypes = EditAction.types
    public static let editActionMembers = EditAction.members
    public static let returnChannels = OrderReturn.channels
    public static let returnReasons = OrderReturn.reasons
    public static let returnDeclineReasons = OrderReturn.declineReasons
    public static let returnConditions = ReturnReceipt.conditions
    public static let returnDispositions = ReturnReceipt.dispositions
    public static let salesLineKinds = SalesLine.kinds
    /// A payment gateway's name (`Transaction.readGateway` checks the same).
    public static let gatewayPattern = Transaction.gatewayPattern
    public static let archiveAgeFields = ArchiveRule.ageFields
    public static let noteKinds = OrderNote.kinds
    public static let noteDirections = OrderNote.directions
    public static let noteChannels = OrderNote.channels
    public static let timelineTypes = OrderNote.timelineTypes
    public static let customFieldOwners = CustomFieldDefinition.owners
    public static let customFieldTypes = CustomFieldDefinition.types
    public static let customFieldValidationStatuses = CustomFieldDefinition.validationStatuses
    public static let jobStatuses = Job.statuses
    public static let attachmentOwnerTypes = Attachment.ownerTypes
    public static let attachmentContentTypes = FileLimits.sniffedTypes
    public static let slaFulfillmentTargets = SLAPolicy.fulfillmentTargets
    public static let slaClocks = SLAPolicy.clocks
    public static let slaStatuses = SLAEntry.statuses
    public static let apiKeyScopes = APIKey.Scope.allCases.map(\.rawValue)
}
