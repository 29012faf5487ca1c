"""schemathesis hooks: the rules of the API that JSON Schema cannot state.

The OpenAPI document states every rule JSON Schema can (lengths, patterns,
enums, nullability, exactly one of two fields, fields by type). A few rules are
beyond it, and docs/rest.md ("Rules beyond the schema") lists them:

- the expression language (guards, conditions, `expressions.evaluate`) and the
  Mustache templates are languages, not shapes;
- a workflow definition is a graph: unique state keys, exactly one initial
  state, a final one, transitions between its own states, every state
  reachable and able to finish;
- an order's money adds up: every line (quantity x unit price, and quantity x
  unit cost) and every total stays within +-10^15 minor units;
- `workflows.migrate` maps states of the versions it names;
- routing rules name each type but `expression` at most once, and an
  expression rule's expression is the expression language; `commit_at` names
  a workflow state;
- an item's `backorder_locations` keys name stored locations;
- a custom field's validations fit its type (docs/custom-fields.md; an
  update's, the stored type), a
  pattern is the linear-time subset, and an order's `custom_fields` name
  defined fields with values of their types;
- `tags.rename` changes the tag's spelling (`to` is not `from` as it is);
- an auto-archive rule's condition is the expression language, and rule names
  are unique; so are a return policy's condition and its tiers' `when`;
- an order edit's added lines and shipping lines keep an order's money rules,
  its changes to stored lines keep their money within bounds, an address
  gives latitude and longitude together, and an action carries only its own
  type's members (the schema lets the others be null; the engine refuses any);
- a partial order (templates, drafts, overrides) keeps an order's money rules
  and names defined custom fields and an existing workflow.
- an SLA policy's `at_risk_minutes` is less than its `within_minutes` (the
  stored one on an update), and an update keeps one target; business hours on
  one day do not overlap, and holidays are real dates; an SLA summary's (and a
  sales summary's) `to` is after its `from`, at most 366 days on.

For the positive-data checks these hooks turn each generated request into one
that keeps those rules, changing only what the rules need. Negative cases
(schema-violating on purpose) pass through untouched, so the checks that the
server refuses them stay as strict as before.
"""
import uuid

import schemathesis

EXPRESSIONS = [True, {"==": [1, 1]}, "1 < 2", {"if": [True, "a", "b"]}]
MONEY_CAP = 10 ** 12
# What each order edit action takes besides its type (EditAction.members).
ACTION_MEMBERS = {"add_line": ("line_item",), "set_quantity": ("line_item_id", "quantity"), "set_price": ("line_item_id", "unit_price"),
                  "set_line_discount": ("line_item_id", "amount"), "add_shipping_line": ("shipping_line",),
                  "remove_shipping_line": ("index",), "set_shipping_address": ("address",), "set_billing_address": ("address",)}


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is None or not meta.generation.mode.is_negative


def _expression(value):
    return EXPRESSIONS[len(repr(value)) % len(EXPRESSIONS)]


def _plain_text(value):
    # Mustache: keep the text, drop what would open or close a tag.
    return value.replace("{", "(").replace("}", ")") if isinstance(value, str) else value


def _int(v):
    """A JSON integer as generated: an int, or a float with no fraction (JSON Schema's integer)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def _cap(obj, key, most):
    if isinstance(obj, dict) and _int(obj.get(key)) is not None:
        obj[key] = min(_int(obj[key]), most)
        return obj[key]
    return 0


def _cap_discounts(discounts, room):
    """Discounts may not exceed what they discount: take each up to what is left."""
    for d in discounts or []:
        room -= _cap(d, "amount", room)
    return room


def _money(body):
    lines = body.get("line_items") if isinstance(body.get("line_items"), list) else []
    n = max(1, len(lines) + len(body.get("shipping_lines") or []))
    cap = MONEY_CAP // (4 * n)
    left = 0
    for line in lines:
        if not isinstance(line, dict):
            continue
        q = _int(line.get("quantity")) or 1
        price = _cap(line, "unit_price", cap // q)
        _cap(line, "unit_cost", cap // q)
        left += _cap_discounts(line.get("discounts"), q * price)
        for t in line.get("tax_lines") or []:
            _cap(t, "amount", cap // 10)
    for s in body.get("shipping_lines") or []:
        _cap(s, "price", cap)
        for t in (s.get("tax_lines") if isinstance(s, dict) else None) or []:
            _cap(t, "amount", cap // 10)
    if "line_items" in body:
        _cap_discounts(body.get("discounts"), left)
    else:
        # An edit without lines discounts the stored ones, which the generator cannot see.
        body.pop("discounts", None)


def _workflow(body, key):
    states = body.get("states")
    if not isinstance(states, list):
        return
    while len(states) < 2:
        states.append({"key": "s"})
    for n, s in enumerate(states):
        s["key"] = f"s{n}"
        s["initial"] = n == 0
        s["final"] = n == len(states) - 1
        if s["final"]:
            s["category"] = "done"
        elif s.get("category") in ("done", "cancelled") or s.get("category") is None:
            s["category"] = "open"
    given = body.get("transitions") if isinstance(body.get("transitions"), list) else []
    chain = []
    for n in range(len(states) - 1):
        t = dict(given[n]) if n < len(given) and isinstance(given[n], dict) else {}
        t.update({"name": f"t{n}", "from": states[n]["key"], "to": states[n + 1]["key"]})
        t.pop("required_fields", None)
        if t.get("guard") is not None:
            t["guard"] = _expression(t["guard"])
        approval = t.get("approval")
        if isinstance(approval, dict):
            for tier in approval.get("tiers") or []:
                if isinstance(tier, dict) and tier.get("when") is not None:
                    tier["when"] = _expression(tier["when"])
        chain.append(t)
    body["transitions"] = chain
    applies = body.get("applies_to")
    if key == "default" or body.get("key") == "default":
        body.pop("applies_to", None)
    elif isinstance(applies, dict) and applies.get("condition") is not None:
        applies["condition"] = _expression(applies["condition"])


@schemathesis.hook
def map_case(context, case):
    if not _positive(case):
        return case
    # An idempotency key is for one request: a key reused with another body is refused (422
    # idempotency_mismatch, as the IETF Idempotency-Key draft says), so each case has its own.
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if f"{case.operation.method.upper()} {case.operation.path}" in ("GET /v1/sla/summary", "GET /v1/sales/summary") and isinstance(case.query, dict):
        # A period is from before to, at most 366 days long.
        if "from" in case.query or "to" in case.query:
            case.query["from"], case.query["to"] = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
    return _positive_body(case)


def _positive_body(case):
    if not isinstance(case.body, dict):
        return case
    body = case.body
    label = f"{case.operation.method.upper()} {case.operation.path}"
    if label in ("POST /v1/orders", "PATCH /v1/orders/{id}"):
        _money(body)
        # custom_fields name defined fields (generated keys name none) with values of their types.
        body.pop("custom_fields", None)
        for line in body.get("line_items") or []:
            if isinstance(line, dict):
                line.pop("custom_fields", None)
        # A line's id names a line of the stored order; generated ones name none, so they become new lines.
        for line in body.get("line_items") or []:
            if isinstance(line, dict):
                line.pop("id", None)
    elif label in ("POST /v1/expressions/evaluate", "POST /v1/expressions/validate"):
        if "expression" in body:
            body["expression"] = _expression(body["expression"])
    elif label in ("POST /v1/workflows", "POST /v1/workflows/validate", "POST /v1/workflows/{key}/versions"):
        _workflow(body, (case.path_parameters or {}).get("key"))
    elif label == "PATCH /v1/routing_rules":
        # A rule type other than expression appears once; an expression is a language.
        seen, rules = set(), []
        for r in body.get("rules") or []:
            if isinstance(r, dict) and r.get("type") != "expression":
                if r.get("type") in seen:
                    continue
                seen.add(r.get("type"))
            if isinstance(r, dict) and r.get("type") == "expression":
                r["expression"] = _expression(r.get("expression"))
            rules.append(r)
        if "rules" in body:
            body["rules"] = rules
        # commit_at must name a state of a workflow; generated keys name none.
        if "commit_at" in body:
            body["commit_at"] = "create"
    elif label == "PATCH /v1/inventory/item":
        # backorder_locations keys name stored locations; generated ones name none.
        if isinstance(body.get("backorder_locations"), dict):
            body["backorder_locations"] = {}
    elif label in ("POST /v1/custom_fields", "PATCH /v1/custom_fields/{id}"):
        # Which validations apply depends on the type; a required field would make every generated order fail.
        # Keys come from a small set, so the tenant stays under 100 definitions (a repeat is 409).
        validations = {"choices": ["a", "b"]} if str(body.get("type", "")).endswith("choice") else {}
        if label.startswith("PATCH"):
            # The stored field's type is unknown here (a choice field needs its choices): leave them as they are.
            body.pop("validations", None)
        elif "validations" in body or validations:
            body["validations"] = validations
        if isinstance(body.get("key"), str):
            body["key"] = "k" + str(sum(body["key"].encode()) % 40)
    elif label in ("POST /v1/sla_policies", "PATCH /v1/sla_policies/{id}"):
        within, risk = _int(body.get("within_minutes")), _int(body.get("at_risk_minutes"))
        if label.startswith("POST"):
            if within is not None and risk is not None and risk >= within:
                body["at_risk_minutes"] = within - 1
        else:
            # The stored policy's minutes are unknown here: a warning of 0 fits any promise.
            if within is not None or risk is not None:
                body["at_risk_minutes"] = 0
            if "target_fulfillment" in body and body["target_fulfillment"] is None and body.get("target_states") is None:
                del body["target_fulfillment"]  # clearing the only target is refused (null target_states is absent)
    elif label == "PATCH /v1/business_hours":
        if isinstance(body.get("hours"), list):
            seen = set()
            kept = []
            for i in body["hours"]:
                if isinstance(i, dict) and i.get("day") not in seen:
                    seen.add(i.get("day"))
                    if isinstance(i.get("start"), str) and isinstance(i.get("end"), str) and i["start"] >= i["end"]:
                        i["start"], i["end"] = "00:00", "24:00"
                    kept.append(i)
            body["hours"] = kept
        if isinstance(body.get("holidays"), list):
            body["holidays"] = ["2026-12-25" for _ in body["holidays"]][:1]
    elif label == "PATCH /v1/archive_rules":
        for n, r in enumerate(body.get("rules") or []):
            if isinstance(r, dict):
                if r.get("condition") is not None:
                    r["condition"] = _expression(r["condition"])
                if isinstance(r.get("name"), str):
                    r["name"] = f"{n}-{r['name']}"[:100]  # names are unique
    elif label in ("POST /v1/order_templates", "PATCH /v1/order_templates/{id}", "POST /v1/draft_orders",
                   "PATCH /v1/draft_orders/{id}", "POST /v1/orders/from_template"):
        partial = body.get("overrides") if "overrides" in body else body.get("order")
        if isinstance(partial, dict):
            _money(partial)
            partial.pop("custom_fields", None)
            partial.pop("workflow", None)  # names a workflow the tenant has; generated keys name none
            for line in partial.get("line_items") or []:
                if isinstance(line, dict):
                    line.pop("id", None)
                    line.pop("custom_fields", None)
    elif label == "PATCH /v1/return_policy":
        if body.get("condition") is not None:
            body["condition"] = _expression(body["condition"])
        for tier in body.get("approval_tiers") or []:
            if isinstance(tier, dict) and tier.get("when") is not None:
                tier["when"] = _expression(tier["when"])
    elif label == "POST /v1/order_edits/{id}/actions":
        for a in body.get("actions") or []:
            if isinstance(a, dict) and isinstance(a.get("line_item"), dict):
                _money({"line_items": [a["line_item"]]})
            if isinstance(a, dict) and isinstance(a.get("shipping_line"), dict):
                _money({"shipping_lines": [a["shipping_line"]]})
            # A stored line (quantity up to 10^6, amount up to 10^12) changed: its money stays within bounds, and a
            # line discount within the line's amount, which the generator cannot see.
            _cap(a, "unit_price", 1000)
            _cap(a, "quantity", 5)
            _cap(a, "amount", 0)
            # An address gives latitude and longitude together (AddressInput's rule; an action's address is
            # declared as Address: schemathesis mis-reads a nullable reference to AddressInput inside array items).
            # Another type's members are unknown fields: the schema's rule lets them be null, the engine refuses them.
            own = ACTION_MEMBERS.get(a.get("type"), ()) if isinstance(a, dict) else ()
            for k in [k for k, v in (a.items() if isinstance(a, dict) else []) if v is None and k != "type" and k not in own]:
                del a[k]
            address = a.get("address") if isinstance(a, dict) else None
            if isinstance(address, dict) and ("latitude" in address) != ("longitude" in address):
                address.pop("latitude", None)
                address.pop("longitude", None)
    elif label == "POST /v1/tags/rename":
        if isinstance(body.get("from"), str) and body.get("to") == body.get("from"):
            body["to"] = body["from"][:99] + ("y" if body["from"][-1:] != "y" else "z")
    elif label == "POST /v1/workflows/{key}/migrate":
        if body.get("mapping"):
            body["mapping"] = {}
    elif label in ("POST /v1/notification_templates", "PATCH /v1/notification_templates/{id}",
                   "POST /v1/notification_templates/render", "POST /v1/notification_templates/{id}/render",
                   "POST /v1/notification_channels", "PATCH /v1/notification_channels/{id}"):
        target = body.get("template") if isinstance(body.get("template"), dict) else body
        for part in ("subject", "text", "html", "body"):
            if part in target:
                target[part] = _plain_text(target[part])
        if target.get("condition") is not None:
            target["condition"] = _expression(target["condition"])
        sms = body.get("sms")
        if isinstance(sms, dict) and "body" in sms:
            sms["body"] = _plain_text(sms["body"])
    return case
