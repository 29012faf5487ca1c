"""Every method of the catalogue has an idiomatic wrapper (and no wrapper is stale)."""
import orderbase


def resolve(root, path):
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_catalogue_method_has_a_wrapper(tenant):
    engine = tenant.engine
    catalogue = {m["name"]: m["level"] for m in engine.methods.list()}
    assert catalogue, "methods.list returned nothing"
    missing = sorted(set(catalogue) - set(orderbase.WRAPPERS))
    assert not missing, f"catalogue methods without a Python wrapper: {missing}"
    stale = sorted(set(orderbase.WRAPPERS) - set(catalogue))
    assert not stale, f"wrappers for methods the library does not have: {stale}"
    for name, (level, path) in orderbase.WRAPPERS.items():
        assert level == catalogue[name], name
        assert callable(resolve(engine if level == "engine" else tenant, path)), name


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
    assert blocked["confirmed"]["allowed"] is False and blocked["confirmed"]["reason"] == "on hold: awaiting_payment"
    tenant.orders.release_hold(order["id"], held["holds"][0]["id"])
    assert tenant.orders.transition(order["id"], "confirmed")["status"] == "confirmed"
