import Testing
@testable import Orderbase
@testable import OrderbaseAPI

/// The catalogue's request and response schemas of the configuration kinds
/// come from their field declarations (Tools/codegen/record_fields.py).
@Suite("Record schemas follow the declarations")
struct RecordSchemaTests {
    @Test("every create field is in the create request, every editable one in the update; answers have exactly the response members")
    func schemasFollowTheDeclaration() throws {
        func names(_ props: [Property]) -> [String] { props.map(\.name) }
        let methods = Dictionary(uniqueKeysWithValues: Catalogue.methods.map { ($0.name, $0) })
        #expect(names(methods["webhooks.create"]!.request) == WebhookEndpoint.creatableFields)
        #expect(names(methods["webhooks.update"]!.request) == ["id"] + WebhookEndpoint.editableFields)
        #expect(names(methods["notification_channels.create"]!.request) == NotificationChannel.creatableFields)
        #expect(names(methods["notification_channels.update"]!.request) == ["id"] + NotificationChannel.editableFields)
        #expect(names(methods["notification_templates.create"]!.request) == NotificationTemplate.creatableFields)
        #expect(names(methods["notification_templates.update"]!.request) == ["id"] + NotificationTemplate.editableFields)
        let fx = try APIFixture()
        let c = try JSON.parse(try fx.run(methods["notification_channels.create"]!, #"{"name":"host","type":"callback"}"#))
        guard case .object(let o) = c else { Issue.record("not an object"); return }
        #expect(o.map(\.key) == names(Schemas.notificationChannel))
        #expect(!names(Schemas.webhookEndpoint).contains("from_sequence") && !names(Schemas.notificationTemplate).contains("from_sequence"))
    }

    @Test("maxLength is the engine's limit in characters; no byte limit is published beside it")
    func lengthsInCharacters() throws {
        guard case .object(let po)? = OpenAPI.document["components"]?["schemas"]?["Order"]?["properties"]?["po_number"] else {
            Issue.record("no po_number schema"); return
        }
        #expect(po["x-max-bytes"] == nil)
        #expect(JSON.object(po).text.contains("\"maxLength\":64"), "\(JSON.object(po).text)")
    }
}
