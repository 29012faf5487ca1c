"""The payments ledger through the binding: transactions recorded by the host,
and the payment handler as a Python callable (docs/payments.md)."""
import threading

import pytest

import orderbase

LINE = {"sku": "85123A", "title": "Heart holder", "quantity": 2, "unit_price": 255}


def test_recorded_transactions_and_derived_status(tenant):
    order = tenant.orders.create(line_items=[LINE])
    auth = tenant.transactions.create(order_id=order["id"], kind="authorization", amount=510, gateway="stripe", gateway_id="pi_1")
    assert auth["capturable"] == 510
    tenant.transactions.create(order_id=order["id"], kind="capture", amount=510, parent_id=auth["id"], gateway="stripe")
    got = tenant.orders.get(order["id"])
    assert got["financial_status"] == "paid" and got["payments"]["captured"] == 510 and got["payments"]["outstanding"] == 0
    with pytest.raises(orderbase.InvalidState) as e:
        tenant.transactions.create(order_id=order["id"], kind="capture", amount=1, parent_id=auth["id"])
    assert e.value.details["reason"] == "exceeds_capturable"
    assert [t["kind"] for t in tenant.transactions.list(order_id=order["id"])["data"]] == ["capture", "authorization"]


def test_payment_handler(engine, tenant):
    asked = []

    def gateway(tenant_id, request):
        asked.append((tenant_id, request["action"], request["transaction"]["amount"], request["parent"]["gateway_id"]))
        if request["action"] == "refund" and request["transaction"]["amount"] > 100:
            return {"status": "failure", "error_code": "limit", "message": "refunds over 1.00 need a manager"}
        if request["action"] == "void":
            raise RuntimeError("gateway timed out")
        return {"gateway_id": "ch_" + request["transaction"]["id"][-4:]}

    with pytest.raises(orderbase.InvalidState) as e:
        tenant.payments.capture("ord_x")
    assert e.value.details["reason"] == "no_payment_handler"
    engine.on_payment(gateway)
    order = tenant.orders.create(line_items=[LINE])
    tenant.transactions.create(order_id=order["id"], kind="authorization", amount=600, gateway="stripe", gateway_id="pi_9")
    captured = tenant.payments.capture(order["id"])
    cap = captured["transactions"][0]
    assert cap["status"] == "success" and cap["amount"] == 510 and cap["gateway_id"].startswith("ch_")
    assert captured["order"]["financial_status"] == "paid"
    declined = tenant.payments.refund(order["id"], amount=200)["transactions"][0]
    assert declined["status"] == "failure" and declined["error_code"] == "limit"
    refunded = tenant.payments.refund(order["id"], amount=50)
    assert refunded["order"]["financial_status"] == "partially_refunded" and refunded["order"]["payments"]["refunded"] == 50
    voided = tenant.payments.void(order["id"])["transactions"][0]
    assert voided["status"] == "pending" and "gateway timed out" in voided["message"]
    assert [str(x) for x in engine.payment_errors] == ["gateway timed out"]
    settled = tenant.transactions.update(voided["id"], status="success")
    assert settled["status"] == "success" and tenant.orders.get(order["id"])["payments"]["voided"] == 90
    assert [a[1] for a in asked] == ["capture", "refund", "refund", "void"] and asked[0][0] == "shop" and asked[0][3] == "pi_9"
    engine.on_payment(None)
    with pytest.raises(orderbase.InvalidState):
        tenant.payments.refund(order["id"], amount=1)
    assert tenant.integrity.check()["ok"] is True


def test_concurrent_refunds_never_exceed_captured(tenant):
    order = tenant.orders.create(line_items=[LINE])
    sale = tenant.transactions.create(order_id=order["id"], kind="sale", amount=510)
    done, refused = [], []

    def worker():
        for _ in range(10):
            try:
                tenant.transactions.create(order_id=order["id"], kind="refund", amount=17, parent_id=sale["id"])
                done.append(1)
            except orderbase.InvalidState as e:
                refused.append(e.details["reason"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 30 and set(refused) == {"exceeds_refundable"} and len(refused) == 50
    assert tenant.orders.get(order["id"])["payments"]["refunded"] == 510


def test_refunds_and_the_sales_ledger(tenant):
    order = tenant.orders.create(line_items=[dict(LINE, quantity=3, unit_cost=100)], discounts=[{"amount": 100}],
                                 transactions=[{"kind": "sale", "amount": 665}])
    assert order["financial_status"] == "paid" and order["margin_percent"] == "54.89"
    line = order["line_items"][0]["id"]
    quote = tenant.refunds.calculate(order["id"], line_items=[{"line_item_id": line, "quantity": 1}])
    assert quote["subtotal"] == 255 and quote["discount"] == 33 and quote["total"] == 222
    sale = tenant.transactions.list(order_id=order["id"])["data"][0]
    made = tenant.refunds.create(order_id=order["id"], line_items=[{"line_item_id": line, "quantity": 1}],
                                 transactions=[{"parent_id": sale["id"], "amount": 222}])
    assert made["refund"]["status"] == "success" and made["order"]["net_sales"] == 665 - 222
    kinds = [x["kind"] for x in tenant.sales.list(order_id=order["id"])["data"]]
    assert kinds == ["sale", "return"]
    with pytest.raises(orderbase.InvalidState) as e:
        tenant.refunds.calculate(order["id"], line_items=[{"line_item_id": line, "quantity": 3}])
    assert e.value.details["reason"] == "exceeds_refundable_quantity"


def test_return_received_then_refunded_through_the_handler(engine, tenant):
    """docs/returns.md: a return of fulfilled units, received (one damaged), refunded by the handler."""
    engine.on_payment(lambda tenant_id, request: {"gateway_id": "re_" + request["transaction"]["id"][-4:]})
    try:
        order = tenant.orders.create(line_items=[LINE], fulfillment_status="fulfilled",
                                     transactions=[{"kind": "sale", "amount": 510, "gateway": "stripe"}])
        line = order["line_items"][0]["id"]
        with pytest.raises(orderbase.InvalidState) as e:
            tenant.returns.create(order_id=order["id"], line_items=[{"line_item_id": line, "quantity": 3}])
        assert e.value.details == {"reason": "exceeds_returnable_quantity", "returnable_quantity": 2}
        ret = tenant.returns.create(order_id=order["id"], requested_via="customer", line_items=[{"line_item_id": line, "quantity": 2, "reason": "defective"}])
        assert ret["status"] == "requested" and ret["value"] == 510
        assert tenant.returns.approve(ret["id"], note="ok")["status"] == "approved"
        got = tenant.returns.receive(ret["id"], line_items=[{"line_item_id": line, "quantity": 1, "disposition": "not_restocked"},
                                                            {"line_item_id": line, "quantity": 1, "condition": "damaged", "disposition": "not_restocked"}])
        assert got["status"] == "received" and got["line_items"][0]["damaged_quantity"] == 1
        with pytest.raises(orderbase.InvalidState) as e:
            tenant.returns.receive(ret["id"], line_items=[{"line_item_id": line, "quantity": 1, "condition": "missing"}])
        assert e.value.details["reason"] == "invalid_return_status"
        refund = tenant.refunds.create(order_id=order["id"], return_id=ret["id"])
        assert refund["refund"]["total"] == 510 and refund["transactions"][0]["gateway_id"].startswith("re_")
        assert refund["order"]["financial_status"] == "refunded"
        assert tenant.returns.get(ret["id"])["line_items"][0]["refunded_quantity"] == 2
        assert tenant.returns.close(ret["id"])["status"] == "closed"
        assert tenant.integrity.check()["ok"] is True
    finally:
        engine.on_payment(None)


def test_split_and_merge(tenant):
    """docs/order-edits.md "Split and merge": a paid order split, then merged back; refusals are InvalidState."""
    order = tenant.orders.create(customer={"id": "cus_9"}, line_items=[dict(LINE, quantity=4)], transactions=[{"kind": "sale", "amount": 1020}])
    line = order["line_items"][0]["id"]
    split = tenant.orders.split(order["id"], [{"line_item_id": line, "quantity": 1}], note="later")
    assert split["order"]["total"] + split["new_order"]["total"] == 1020
    assert [t["gateway"] for t in split["transactions"]] == ["split", "split"]
    assert split["new_order"]["payments"]["outstanding"] == 0 and split["order"]["payments"]["outstanding"] == 0
    with pytest.raises(orderbase.InvalidState) as e:
        tenant.orders.split(order["id"], [{"line_item_id": line, "quantity": 3}])
    assert e.value.details["reason"] == "nothing_left"
    merged = tenant.orders.merge(order["id"], [split["new_order"]["id"]])
    assert merged["order"]["total"] == 1020 and merged["merged"][0]["status"] == "cancelled"
    assert [l["relation"] for l in merged["order"]["related_orders"]] == ["split_into", "merged_from"]
    assert tenant.integrity.check()["ok"] is True


def test_order_edit_of_a_paid_order(tenant):
    """docs/order-edits.md: a paid order edited; the preview's balance; the commit's order."""
    order = tenant.orders.create(line_items=[LINE], transactions=[{"kind": "sale", "amount": 510}])
    line = order["line_items"][0]["id"]
    edit = tenant.order_edits.begin(order_id=order["id"], note="one more")
    tenant.order_edits.stage(edit["id"], actions=[{"type": "set_quantity", "line_item_id": line, "quantity": 3}])
    preview = tenant.order_edits.preview(edit["id"])
    assert preview["total_after"] == 765 and preview["balance_due"] == 255 and preview["stock"][0]["delta"] == 1
    done = tenant.order_edits.commit(edit["id"], notify_customer=True)
    assert done["edit"]["status"] == "committed" and done["order"]["financial_status"] == "partially_paid"
    with pytest.raises(orderbase.InvalidState) as e:
        tenant.order_edits.discard(edit["id"])
    assert e.value.details["reason"] == "invalid_edit_status"
    assert tenant.integrity.check()["ok"] is True
