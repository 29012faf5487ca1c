import pytest

import orderbase
from conftest import LINE


def test_create_computes_totals_and_numbers(tenant):
    o = tenant.orders.create(line_items=[dict(LINE, discounts=[{"code": "SPRING", "amount": 100}],
                                              tax_lines=[{"name": "VAT", "rate": "0.20"}])],
                             shipping_lines=[{"title": "Standard", "price": 495}])
    assert (o["subtotal"], o["total_discount"], o["total_tax"], o["total"]) == (1530, 100, 286, 2211)
    assert o["number"] == "SO-1001" and o["currency"] == "GBP" and o["status"] == "pending"
    assert tenant.orders.get(number="SO-1001")["id"] == o["id"]
    assert tenant.call("orders.get", {"id": o["id"]}) == tenant.orders.get(o["id"])


def test_lifecycle_update_cancel_and_audit(tenant):
    o = tenant.orders.create(line_items=[LINE], actor={"type": "user", "id": "u1"})
    tenant.orders.transition(o["id"], "confirmed", reason="paid")
    u = tenant.orders.update(o["id"], note="ring the bell", expected_version=2)
    assert u["version"] == 3 and u["note"] == "ring the bell"
    c = tenant.orders.cancel(o["id"], reason="customer")
    assert c["status"] == "cancelled" and c["cancel_reason"] == "customer"
    actions = [(a["action"], a["actor"]["type"]) for a in tenant.orders.audit(o["id"])]
    assert actions == [("order.created", "user"), ("order.status_changed", "api"),
                       ("order.updated", "api"), ("order.cancelled", "api")]
    assert tenant.audit.verify()["ok"] is True
    assert tenant.integrity.check()["ok"] is True


def test_list_iterates_across_pages(tenant):
    ids = [tenant.orders.create(line_items=[LINE])["id"] for _ in range(7)]
    for i in ids[:3]:
        tenant.orders.transition(i, "confirmed")
    listed = [o["id"] for o in tenant.orders.list(limit=2, sort="created_asc")]
    assert listed == ids
    assert [o["id"] for o in tenant.orders.list(status="confirmed", limit=1)] == list(reversed(ids[:3]))
    events = list(tenant.events.list(limit=3))
    assert [e["sequence"] for e in events] == list(range(1, 11))
    assert len(list(tenant.events.list(types=["order.status_changed"]))) == 3


def test_errors_are_exceptions_per_code(tenant):
    with pytest.raises(orderbase.NotFound) as e:
        tenant.orders.get("ord_missing")
    assert e.value.code == "not_found" and e.value.number == -2 and e.value.field == "id"
    with pytest.raises(orderbase.InvalidArgument) as e:
        tenant.orders.create(line_items=[dict(LINE, quantity=0)])
    assert e.value.field == "line_items[0].quantity"
    with pytest.raises(orderbase.InvalidArgument) as e:
        tenant.orders.create(line_items=[LINE], colour="red")
    assert e.value.details["unknown_fields"] == ["colour"]
    o = tenant.orders.create(line_items=[LINE])
    with pytest.raises(orderbase.InvalidTransition) as e:
        tenant.orders.transition(o["id"], "completed")
    assert e.value.details["allowed"] == ["confirmed", "on_hold", "cancelled"]
    with pytest.raises(orderbase.VersionConflict) as e:
        tenant.orders.update(o["id"], note="x", expected_version=9)
    assert e.value.details == {"expected": 9, "actual": 1}
    tenant.orders.create(line_items=[LINE], idempotency_key="k1")
    with pytest.raises(orderbase.IdempotencyMismatch):
        tenant.orders.create(line_items=[dict(LINE, quantity=2)], idempotency_key="k1")
    with pytest.raises(orderbase.NotFound):
        tenant.call("orders.nope")
    with pytest.raises(orderbase.Error):          # the base class catches them all
        tenant.orders.get("ord_missing")
    assert issubclass(orderbase.LimitExceeded, orderbase.Error)


def test_idempotent_repeat_returns_the_first_result(tenant):
    a = tenant.orders.create(line_items=[LINE], idempotency_key="imp", request_id="r1")
    b = tenant.orders.create(line_items=[LINE], idempotency_key="imp", request_id="r2")
    assert a == b
    assert len(list(tenant.orders.list())) == 1


def test_unicode_round_trips(tenant):
    o = tenant.orders.create(line_items=[dict(LINE, title="Crème brûlée ☕ 日本")], note="über 😀")
    got = tenant.orders.get(o["id"])
    assert got["line_items"][0]["title"] == "Crème brûlée ☕ 日本" and got["note"] == "über 😀"


def test_close_is_idempotent_and_use_after_close_raises(tmp_path):
    engine = orderbase.Engine(tmp_path / "r")
    engine.tenants.create("a")
    t = engine.tenant("a")
    t.close()
    t.close()
    with pytest.raises(orderbase.Misuse):
        t.orders.list().__next__()
    engine.close()
    engine.close()
    with pytest.raises(orderbase.Misuse):
        engine.tenants.get("a")
    with pytest.raises(orderbase.Misuse):
        engine.tenant("a")


def test_engine_close_closes_its_tenants(tmp_path):
    engine = orderbase.Engine(tmp_path / "r")
    engine.tenants.create("a")
    t = engine.tenant("a")
    engine.close()
    with pytest.raises(orderbase.Misuse):   # the library refuses a handle whose engine closed
        t.orders.create(line_items=[LINE])
    t.close()


def test_engine_level_methods_and_options(tmp_path):
    with pytest.raises(orderbase.InvalidArgument):
        orderbase.Engine(tmp_path / "x", durability="fast")
    with pytest.raises(orderbase.InvalidArgument):
        orderbase.Engine(tmp_path / "x", colour=1)
    with orderbase.Engine(tmp_path / "x", max_line_items=2) as e:
        e.tenants.create("a", settings={"name": "A"})
        e.tenants.create("b")
        assert [t["id"] for t in e.tenants.list(limit=1)] == ["a", "b"]
        assert e.tenants.get("a")["settings"]["name"] == "A"
        with pytest.raises(orderbase.AlreadyExists):
            e.tenants.create("a")
        with pytest.raises(orderbase.InvalidArgument):
            e.tenants.create("../etc")
        with e.tenant("a") as t, pytest.raises(orderbase.LimitExceeded):
            t.orders.create(line_items=[LINE, LINE, LINE])
        e.tenants.delete("b")
        with pytest.raises(orderbase.NotFound):
            e.tenant("b")


def test_library_version():
    assert orderbase.library_version() == "0.1.0"


def test_configuration_changes_are_audited_with_secrets_redacted(tenant):
    """Who repointed the webhook: audit.list by subject, from Python."""
    e = tenant.webhooks.create("https://example.com/hooks", event_types=["order.*"])
    tenant.webhooks.update(e["id"], url="https://attacker.example/steal", actor={"type": "user", "id": "mallory"})
    tenant.webhooks.rotate_secret(e["id"])
    trail = list(tenant.audit.list("webhook_endpoint", e["id"], limit=1))  # follows cursors one entry at a time
    assert [a["action"] for a in trail] == ["webhook_endpoint.created", "webhook_endpoint.updated",
                                           "webhook_endpoint.secret_rotated"]
    change = {c["field"]: c for c in trail[1]["changes"]}
    assert trail[1]["actor"] == {"type": "user", "id": "mallory"}
    assert (change["url"]["before"], change["url"]["after"]) == ("https://example.com/hooks", "https://attacker.example/steal")
    assert {c["field"]: c["after"] for c in trail[2]["changes"]}["secrets"] == "[redacted]"
    everything = repr(list(tenant.audit.list())) + repr(list(tenant.events.list()))
    assert e["secret"] not in everything
    consumers = {c["name"]: c for c in tenant.consumers.list()["data"]}
    assert consumers["webhooks"]["active"] is True and consumers["notifications"]["active"] is False
    # Half a subject: the kind alone is every entry about that kind.
    assert [a["action"] for a in tenant.audit.list("webhook_endpoint")] == [a["action"] for a in trail]


def test_po_number_through_the_wrappers(tenant):
    o = tenant.orders.create(line_items=[LINE], po_number="PO-42")
    tenant.orders.create(line_items=[LINE])
    assert [x["id"] for x in tenant.orders.list(po_number="PO-42")] == [o["id"]]
    assert tenant.orders.update(o["id"], po_number="PO-43")["po_number"] == "PO-43"
    with pytest.raises(orderbase.InvalidArgument):
        tenant.orders.update(o["id"], po_number="x" * 65)


def test_sla_policies_through_the_derived_wrappers(tenant):
    p = tenant.sla_policies.create(name="Urgent in 1 hour", priorities=["urgent"], target_states=["confirmed"],
                                   within_minutes=60, clock="calendar")
    assert p["at_risk_minutes"] == 12
    o = tenant.orders.create(line_items=[LINE], priority="urgent")
    assert o["sla_status"] == "pending" and o["sla"][0]["policy_id"] == p["id"]
    sla = tenant.orders.sla(o["id"])
    assert 0 < sla["entries"][0]["remaining_ms"] <= 3_600_000
    assert [x["id"] for x in tenant.orders.list(sla_status="pending")] == [o["id"]]
    met = tenant.orders.transition(o["id"], "confirmed")
    assert met["sla_status"] == "met" and met["sla"][0]["met_at"] is not None
    assert tenant.business_hours.update(hours=[{"day": "friday", "start": "09:00", "end": "17:00"}])["hours"][0]["day"] == "friday"
    with pytest.raises(orderbase.InvalidArgument):
        tenant.sla_policies.create(name="x", within_minutes=60)
    assert tenant.sla.summary(**{"from": "2020-01-01T00:00:00Z", "to": "2020-06-01T00:00:00Z"})["policies"][0]["met"] == 0


def test_attachments_upload_bytes_and_file_objects_and_download(tenant, tmp_path):
    import io
    o = tenant.orders.create(line_items=[LINE])
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 9000  # 2.3 MB: three chunks of 1 MiB
    a = tenant.attachments.upload(order_id=o["id"], file_name="invoice.pdf", data=pdf)
    assert a["content_type"] == "application/pdf" and a["size"] == len(pdf) and a["file_name"] == "invoice.pdf"
    assert tenant.attachments.download(a["id"]) == pdf
    path = tmp_path / "proof.txt"
    path.write_text("delivered to the neighbour, nº 12\n", encoding="utf-8")
    with open(path, "rb") as f:
        b = tenant.attachments.upload(file_name="proof.txt", data=f, owner_type="order", owner_id=o["id"])
    out = io.BytesIO()
    assert tenant.attachments.download(b["id"], out=out) is None and out.getvalue() == path.read_bytes()
    assert [x["id"] for x in tenant.attachments.list(order_id=o["id"])["data"]] == [b["id"], a["id"]]
    with pytest.raises(orderbase.InvalidArgument):
        tenant.attachments.upload(order_id=o["id"], file_name="../x", data=b"abc")
    with pytest.raises(orderbase.InvalidArgument):
        tenant.attachments.upload(order_id=o["id"], file_name="x.bin", data=b"\x00\x01")
    with pytest.raises(orderbase.NotFound):
        tenant.attachments.download("att_nope")
    tenant.attachments.delete(a["id"])
    assert tenant.integrity.check(verify_files=True)["ok"] is True
