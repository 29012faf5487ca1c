import Orderbase

extension Catalogue {
    /// Engine-level methods: the catalogue itself, tenants and API keys (docs/methods.md, docs/rest.md).
    static let engineMethods: [Method] = [
        Method("methods.list", .read, [Route("GET", "/v1/methods")],
               "List every method of the catalogue with its scope and REST routes.",
               response: Schemas.page(.object([
                   req("name", .string()), req("level", .oneOf(["engine", "tenant"])), req("scope", .oneOf(ValueLists.apiKeyScopes)),
                   req("http_method", .string()), req("path", .string()),
                   req("routes", .list(.object([req("http_method", .string()), req("path", .string())]))),
                   req("summary", .string()),
               ])), access: .anyKey,
               .engine { _, r throws(OrderbaseError) in try listMethods(r) }),

        // MARK: tenants and keys
        Method("tenants.create", .admin, [Route("POST", "/v1/tenants")], "Create a tenant with its settings.",
               request: [req("id", Schemas.tenantID), opt("settings", .ref("TenantSettingsInput"))],
               response: .ref("Tenant"), status: 201, access: .operatorOnly,
               .engine { e, r throws(OrderbaseError) in try e.createTenant(r) }),
        Method("tenants.list", .admin, [Route("GET", "/v1/tenants")], "List tenant ids, sorted.",
               request: [limit100, opt("starting_after", .string(max: 64), "The last id of the previous page.")],
               response: Schemas.page(.object([req("id", Schemas.tenantID)])), access: .operatorOnly,
               .engine { e, r throws(OrderbaseError) in try e.listTenants(r) }),
        Method("tenants.get", .admin, [Route("GET", "/v1/tenants/{id}")], "A tenant and its settings.",
               request: [req("id", Schemas.tenantID)], response: .ref("Tenant"), access: .ownTenant(field: "id"),
               .engine { e, r throws(OrderbaseError) in try e.getTenant(r) }),
        Method("tenants.delete", .admin, [Route("DELETE", "/v1/tenants/{id}")],
               "Delete a tenant and all its data (busy while it is open).",
               request: [req("id", Schemas.tenantID)],
               response: .object([req("id", Schemas.tenantID), req("deleted", .boolean)]), access: .operatorOnly,
               .engine { e, r throws(OrderbaseError) in try e.deleteTenant(r) }),
        Method("api_keys.create", .admin, [Route("POST", "/v1/api_keys")],
               "Create an API key for the REST server; the answer holds its secret, shown only this once.",
               request: [opt("tenant", Schemas.tenantID, "The tenant the key is bound to; absent: an operator key (scope admin)."),
                         req("scope", .oneOf(ValueLists.apiKeyScopes)), opt("name", Schemas.name255)],
               rules: [.when("tenant", .absent, restrict: [req("scope", .oneOf(["admin"]))])],
               response: .described("The key, with its secret.", .object(Schemas.apiKey + [req("secret", .string())])),
               status: 201, access: .ownTenant(field: "tenant"),
               .engine { e, r throws(OrderbaseError) in try e.createAPIKey(r) }),
        Method("api_keys.list", .admin, [Route("GET", "/v1/api_keys")], "A tenant's API keys (or the operator keys), oldest first.",
               request: [opt("tenant", Schemas.tenantID), opt("include_revoked", .boolean), limit100,
                         opt("starting_after", .string(max: 64))],
               response: Schemas.page(.ref("APIKey")), access: .ownTenant(field: "tenant"),
               .engine { e, r throws(OrderbaseError) in try e.listAPIKeys(r) }),
        Method("api_keys.revoke", .admin, [Route("POST", "/v1/api_keys/{id}/revoke")],
               "Revoke an API key; it stops authenticating at once.",
               request: [opt("tenant", Schemas.tenantID), req("id", .string(max: 64))],
               response: .ref("APIKey"), access: .ownTenant(field: "tenant"),
               .engine { e, r throws(OrderbaseError) in try e.revokeAPIKey(r) }),

        // MARK: orders
    ]
}
