import Orderbase

extension Catalogue {
    static let slaPolicyID = req("id", .string(max: 64), "The policy (slap_…).")
    static let slaEntry = Schema.object([
        req("policy_id", .string(max: 64)), req("policy_name", .string(max: 255)),
        req("status", .oneOf(ValueLists.slaStatuses)),
        req("started_at", .timestamp, "The order's placed_at."),
        req("due_at", .timestamp, "When the promise runs out, on the policy's clock."),
        req("at_risk_at", .timestamp, "When at_risk_minutes of open time are left (= due_at without a warning)."),
        req("met_at", .nullable(.timestamp), "When the target was reached (a breached entry too, if it was reached late)."),
        req("breached_at", .nullable(.timestamp)),
        req("paused_at", .nullable(.timestamp), "While paused by a hold (pause_on_hold)."),
        req("remaining_ms", .nullable(.integer(min: nil, max: nil)),
            "On the order: the open time kept while paused. From orders.sla: the open time left now (negative: past due); null when finished."),
    ])
    static let openInterval = Schema.object([
        req("day", .oneOf(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])),
        req("start", .string(max: 5, min: 5, pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"), "Local time HH:MM."),
        req("end", .string(max: 5, min: 5, pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"), "Local time HH:MM after start (24:00: midnight)."),
    ])
    static let slaCount = Schema.int(0...Int64.max)

    /// SLA policies, business hours, an order's SLA and the summary (docs/sla.md).
    static let slaMethods: [Method] = [
        Method("sla_policies.create", .admin, [Route("POST", "/v1/sla_policies")],
               "Add an SLA policy: orders of some priorities and channels reach a state or fulfillment milestone within so many minutes of placement.",
               request: Schemas.slaPolicyCreate, rules: [.exactlyOne(["target_states", "target_fulfillment"])],
               response: .ref("SLAPolicy"), status: 201,
               .tenant { t, r throws(OrderbaseError) in try t.sla.createPolicy(r) }),
        Method("sla_policies.get", .read, [Route("GET", "/v1/sla_policies/{id}")], "An SLA policy.",
               request: [slaPolicyID], response: .ref("SLAPolicy"),
               .tenant { t, r throws(OrderbaseError) in try t.sla.getPolicy(r) }),
        Method("sla_policies.list", .read, [Route("GET", "/v1/sla_policies")], "SLA policies, newest first.",
               request: [opt("active", .boolean, "Only active (true) or inactive (false) ones."), opt("limit", .int(1...250), "Page size (default 100)."),
                         opt("starting_after", .string(max: 64, min: 1), "The last id of the previous page.")],
               response: Schemas.page(.ref("SLAPolicy")),
               .tenant { t, r throws(OrderbaseError) in try t.sla.listPolicies(r) }),
        Method("sla_policies.update", .admin, [Route("PATCH", "/v1/sla_policies/{id}")],
               "Change an SLA policy (entries already started keep their due times; giving one target clears the other).",
               request: [slaPolicyID] + Schemas.slaPolicyUpdate, rules: [.when("target_states", .given, forbid: ["target_fulfillment"])],
               response: .ref("SLAPolicy"),
               .tenant { t, r throws(OrderbaseError) in try t.sla.updatePolicy(r) }),
        Method("sla_policies.delete", .admin, [Route("DELETE", "/v1/sla_policies/{id}")],
               "Delete an SLA policy (running entries are dropped at each order's next change; finished ones stay).",
               request: [slaPolicyID], response: .ref("SLAPolicy"),
               .tenant { t, r throws(OrderbaseError) in try t.sla.deletePolicy(r) }),
        Method("business_hours.get", .read, [Route("GET", "/v1/business_hours")], "The tenant's business hours (open all the time until set).",
               response: .ref("BusinessHours"),
               .tenant { t, r throws(OrderbaseError) in try t.sla.getBusinessHours(r) }),
        Method("business_hours.update", .admin, [Route("PATCH", "/v1/business_hours")],
               "Set the tenant's opening hours, holidays and their time zone (SLA entries started from now on use them).",
               request: Schemas.businessHoursUpdate, response: .ref("BusinessHours"),
               .tenant { t, r throws(OrderbaseError) in try t.sla.updateBusinessHours(r) }),
        Method("orders.sla", .read, [Route("GET", "/v1/orders/{id}/sla")], "An order's SLA entries with the open time left now.",
               request: [orderID],
               response: .object([req("order_id", .string(max: 64)), req("sla_status", .nullable(.oneOf(ValueLists.slaStatuses))),
                                  req("entries", .list(.ref("SLAEntry")))]),
               .tenant { t, r throws(OrderbaseError) in try t.sla.orderSLA(r) }),
        Method("sla.summary", .read, [Route("GET", "/v1/sla/summary")],
               "Per SLA policy: its entries started in [from, to) by status (met, breached, met_late, at_risk, pending, cancelled).",
               request: [req("from", .timestamp, "Start of the period (inclusive)."), req("to", .timestamp, "End of the period (exclusive; at most 366 days after from)."),
                         opt("policy_id", .string(max: 64, min: 1), "Only this policy.")],
               response: .object([req("from", .timestamp), req("to", .timestamp),
                                  req("policies", .list(.object([req("policy_id", .string(max: 64)), req("name", .string(max: 255)),
                                                                 req("met", slaCount), req("breached", slaCount), req("met_late", slaCount),
                                                                 req("at_risk", slaCount), req("pending", slaCount), req("cancelled", slaCount)])))]),
               .tenant { t, r throws(OrderbaseError) in try t.sla.summary(r) }),
    ]
}
