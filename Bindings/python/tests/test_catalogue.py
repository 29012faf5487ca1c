"""Every method of the catalogue has an idiomatic wrapper (and no wrapper is stale)."""
import pytest

import orderbase


def resolve(root, path):
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_catalogue_method_has_a_wrapper(tenant):
    """Hand-written wrappers (WRAPPERS) where a signature is worth it; every
    other method of the catalogue is derived from it, so none is missing."""
    engine = tenant.engine
    catalogue = {m["name"]: m["level"] for m in engine.methods.list()}
    assert catalogue, "methods.list returned nothing"
    stale = sorted(set(orderbase.WRAPPERS) - set(catalogue))
    assert not stale, f"wrappers for methods the library does not have: {stale}"
    for name, (level, path) in orderbase.WRAPPERS.items():
        assert level == catalogue[name], name
        assert callable(resolve(engine if level == "engine" else tenant, path)), name
    for name, level in catalogue.items():
        assert callable(resolve(engine if level == "engine" else tenant, name)), name


def test_derived_wrappers_follow_the_catalogue(tenant):
    """A method without a hand-written wrapper (consumers.list) is reached as
    tenant.<group>.<verb>; path parameters are positional."""
    assert "consumers.list" not in orderbase.WRAPPERS
    assert tenant.consumers.list()["data"][0]["name"] == "webhooks"
    assert "derived from the catalogue" in tenant.consumers.list.__doc__
    order = tenant.orders.create(line_items=[{"title": "x", "quantity": 1, "unit_price": 5}])
    get = orderbase.derive(tenant, "orders.get")
    assert get(order["id"]) == tenant.orders.get(order["id"])
    assert tenant.orders.transitions(order["id"]) == orderbase.derive(tenant, "orders.transitions")(order["id"])
    with pytest.raises(TypeError):
        get(order["id"], "extra")
    with pytest.raises(AttributeError):
        tenant.orders.no_such_verb
    with pytest.raises(AttributeError):
        tenant.no_such_group
    with pytest.raises(AttributeError):
        orderbase.derive(tenant, "tenants.list")  # an engine method, not a tenant one
    assert orderbase.derive(tenant.engine, "tenants.get")("shop")["id"] == "shop"


def test_api_keys_create_list_revoke(tenant):
    engine = tenant.engine
    key = engine.api_keys.create("shop", "write", name="ci")
    assert key["secret"].startswith("obk.shop.") and key["scope"] == "write"
    assert [k["id"] for k in engine.api_keys.list("shop")] == [key["id"]]
    assert all("secret" not in k for k in engine.api_keys.list("shop"))
    assert engine.api_keys.revoke("shop", key["id"])["revoked_at"] is not None
    assert list(engine.api_keys.list("shop")) == []
    assert len(list(engine.api_keys.list("shop", include_revoked=True))) == 1
    operator = engine.api_keys.create(None, "admin")
    assert operator["secret"].startswith("obo.") and operator["tenant"] is None
    try:
        engine.api_keys.create("nosuch", "read")
        raise AssertionError("expected NotFound")
    except orderbase.NotFound:
        pass


def test_expressions_validate_and_evaluate(tenant):
    order = tenant.orders.create(line_items=[{"title": "x", "quantity": 2, "unit_price": 300}])
    v = tenant.expressions.validate("order.total>500")
    assert v["valid"] and v["text"] == "order.total > 500" and v["fields"] == ["order.total"]
    assert tenant.expressions.validate("order.totl > 1")["valid"] is False
    assert tenant.expressions.evaluate("order.total > 500", order_id=order["id"])["result"] is True
    assert tenant.expressions.evaluate({"+": [{"var": "a"}, 1]}, data={"a": 1})["result"] == 2


def test_holds_block_transitions(tenant):
    order = tenant.orders.create(line_items=[{"title": "x", "quantity": 1, "unit_price": 5}])
    held = tenant.orders.hold(order["id"], "awaiting_payment", note="bank transfer")
    try:
        tenant.orders.transition(order["id"], "confirmed")
        raise AssertionError("expected OnHold")
    except orderbase.OnHold as e:
        assert e.details["holds"][0]["reason"] == "awaiting_payment"
    blocked = {t["to"]: t for t in tenant.orders.transitions(order["id"])["transitions"]}
    assert blocked["confirmed"]["allowed"] is False and blocked["confirmed"]["code"] == "on_hold"
    tenant.orders.release_hold(order["id"], held["holds"][0]["id"])
    assert tenant.orders.transition(order["id"], "confirmed")["status"] == "confirmed"


def test_archive_leaves_default_lists(tenant):
    kept = tenant.orders.create(line_items=[{"title": "x", "quantity": 1, "unit_price": 5}])
    old = tenant.orders.create(line_items=[{"title": "y", "quantity": 1, "unit_price": 5}])
    archived = tenant.orders.archive(old["id"], expected_version=1)  # derived from the catalogue
    assert archived["archived_at"] is not None and archived["version"] == 2
    assert [o["id"] for o in tenant.orders.list()] == [kept["id"]]
    assert [o["id"] for o in tenant.orders.list(include_archived=True)] == [old["id"], kept["id"]]
    assert tenant.orders.unarchive(old["id"])["archived_at"] is None
    assert len(list(tenant.orders.list())) == 2


APPROVAL_WORKFLOW = {
    "key": "big_orders", "name": "Big orders",
    "states": [{"key": "pending", "initial": True}, {"key": "processing"},
               {"key": "completed", "category": "done", "final": True},
               {"key": "cancelled", "category": "cancelled", "final": True}],
    "transitions": [
        {"name": "process", "from": "pending", "to": "processing",
         "approval": {"tiers": [{"approvers": 1, "roles": ["manager"], "when": "order.total > 500000"}]}},
        {"name": "complete", "from": "processing", "to": "completed", "guard": 'order.financial_status == "paid"'},
        {"name": "cancel", "from": "*", "to": "cancelled"},
    ],
}


def test_workflows_guards_and_approvals(tenant):
    assert tenant.workflows.validate(APPROVAL_WORKFLOW)["valid"] is True
    broken = dict(APPROVAL_WORKFLOW, transitions=[{"name": "x", "from": "pending", "to": "nowhere"}])
    assert tenant.workflows.validate(broken)["errors"][0]["field"] == "transitions[0].to"
    assert tenant.workflows.create(APPROVAL_WORKFLOW)["version"] == 1
    order = tenant.orders.create(workflow="big_orders", line_items=[{"title": "Press", "quantity": 1, "unit_price": 600000}])
    assert tenant.workflows.simulate(order["id"], "processing")["outcome"] == "approval_required"
    clerk = {"type": "user", "id": "carl"}
    waiting = tenant.orders.transition(order["id"], "processing", actor=clerk)
    assert waiting["status"] == "pending"
    approval_id = waiting["pending_approval"]["id"]
    assert [a["id"] for a in tenant.approvals.list(status="pending")] == [approval_id]
    try:
        tenant.approvals.approve(approval_id, actor={"type": "user", "id": "ivy", "roles": ["clerk"]})
        raise AssertionError("expected NotPermitted")
    except orderbase.NotPermitted as e:
        assert e.details["roles"] == ["manager"]
    done = tenant.approvals.approve(approval_id, actor={"type": "user", "id": "maria", "roles": ["manager"]})
    assert done["status"] == "approved"
    assert tenant.orders.get(order["id"])["status"] == "processing"
    try:
        tenant.orders.transition(order["id"], "completed")
        raise AssertionError("expected GuardFailed")
    except orderbase.GuardFailed as e:
        assert e.details["values"] == {"order.financial_status": "pending"}
    assert [w["key"] for w in tenant.workflows.list()] == ["big_orders", "default"]
    assert tenant.workflows.get("big_orders")["transitions"][1]["guard_text"] == 'order.financial_status == "paid"'


def test_tags_and_a_rename_job(tmp_path):
    with orderbase.Engine(tmp_path / "root", background=False) as engine:
        engine.tenants.create("shop")
        with engine.tenant("shop") as tenant:
            a = tenant.orders.create(line_items=[{"title": "x", "quantity": 1, "unit_price": 5}], tags=[" VIP ", "vip", "猫"])
            assert a["tags"] == ["VIP", "猫"]
            b = tenant.orders.create(line_items=[{"title": "y", "quantity": 1, "unit_price": 5}])
            assert tenant.orders.add_tags(b["id"], tags=["vip", "gift"])["tags"] == ["vip", "gift"]  # derived from the catalogue
            assert tenant.orders.remove_tags(b["id"], tags=["GIFT"])["tags"] == ["vip"]
            assert [o["id"] for o in tenant.orders.list(tag="Vip")] == [b["id"], a["id"]]
            assert tenant.tags.list()["data"] == [{"name": "VIP", "count": 2}, {"name": "猫", "count": 1}]
            with pytest.raises(orderbase.InvalidArgument) as bad:
                tenant.orders.add_tags(b["id"], tags=["a,b"])
            assert bad.value.field == "tags[0]"
            job = tenant.tags.rename({"from": "vip", "to": "priority"})
            assert job["status"] == "queued" and job["total"] == 2
            engine.pump(1000)
            assert tenant.jobs.get(job["id"])["status"] == "completed"
            assert tenant.orders.get(a["id"])["tags"] == ["priority", "猫"]
            assert [j["id"] for j in tenant.jobs.list()["data"]] == [job["id"]]


def test_custom_fields(tmp_path):
    with orderbase.Engine(tmp_path / "root", background=False) as engine:
        engine.tenants.create("shop")
        with engine.tenant("shop") as tenant:
            d = tenant.custom_fields.create(key="gift_message", name="Gift message", type="text", validations={"max_length": 20})
            assert d["id"] == "order.gift_message" and d["validation_status"] == "all_valid"
            o = tenant.orders.create(line_items=[{"title": "x", "quantity": 1, "unit_price": 5}], custom_fields={"gift_message": "Happy"})
            assert o["custom_fields"] == {"gift_message": "Happy"}
            with pytest.raises(orderbase.InvalidArgument) as bad:
                tenant.orders.update(o["id"], custom_fields={"gift_message": "x" * 21})
            assert bad.value.field == "custom_fields.gift_message" and bad.value.details["rule"] == "max_length"
            assert [x["id"] for x in tenant.orders.list(custom_field="gift_message=Happy")] == [o["id"]]
            checked = tenant.custom_fields.update("order.gift_message", validations={"max_length": 3})
            assert checked["validation_status"] == "in_progress"
            engine.pump(1000)
            assert tenant.custom_fields.get("order.gift_message")["validation_status"] == "some_invalid"
            assert [x["order_id"] for x in tenant.custom_fields.invalid_orders("order.gift_message")["data"]] == [o["id"]]


def test_notes_and_timeline(tenant):
    order = tenant.orders.create(line_items=[{"title": "x", "quantity": 1, "unit_price": 5}])
    note = tenant.notes.create(order_id=order["id"], body="Customer asked for gift wrap", mentions=["sam"])
    msg = tenant.notes.create(order_id=order["id"], kind="message", direction="inbound", channel="email", body="Where is it?")
    assert tenant.notes.update(note["id"], body="Gift wrap: paper", expected_version=1)["version"] == 2
    assert [n["id"] for n in tenant.notes.list(mention="sam")["data"]] == [note["id"]]
    entries = tenant.orders.timeline(order["id"])["data"]
    assert [e["type"] for e in entries if e["type"] != "audit"] == ["note", "message"]
    assert any(e["type"] == "audit" and e["audit"]["action"] == "order_note.updated" for e in entries)
    assert tenant.notes.delete(msg["id"])["id"] == msg["id"]
    with pytest.raises(orderbase.NotFound):
        tenant.notes.get(msg["id"])


def test_templates_and_drafts(tenant):
    LINE = {"sku": "85123A", "title": "White hanging heart t-light holder", "quantity": 6, "unit_price": 255}
    template = tenant.order_templates.create(name="Weekly", order={"line_items": [LINE], "tags": ["wholesale"], "note": "back door"})
    order = tenant.orders.create_from_template(template_id=template["id"], overrides={"note": "front door"})
    assert order["note"] == "front door" and order["tags"] == ["wholesale"] and order["number"] == "SO-1001"
    draft = tenant.draft_orders.create(template_id=template["id"])
    assert draft["preview"]["total"] == 6 * 255 and draft["status"] == "open"
    draft = tenant.draft_orders.update(draft["id"], order={"note": None}, expected_version=1)
    assert "note" not in draft["order"]
    placed = tenant.draft_orders.place(draft["id"])
    assert placed["draft"]["status"] == "placed" and placed["order"]["number"] == "SO-1002"
    assert tenant.draft_orders.place(draft["id"])["order"]["id"] == placed["order"]["id"]
