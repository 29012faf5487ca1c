"""The REST API over real HTTP: the server process, keys from the CLI, requests from `requests`."""
import concurrent.futures
import re
import socket

import requests

from conftest import ORDER, Server, run_cli


def acme_url(client):
    host, port = client.base.split("//")[1].split(":")
    return host, int(port)


def test_readme_flow_create_and_list_orders_with_a_key(api):
    acme = api("acme:write")
    r = acme.post("/v1/orders", json=ORDER)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["number"] == "#1001" and order["total"] == 1530 and order["currency"] == "GBP"
    assert r.headers["ETag"] == '"1"' and r.headers["Location"] == f"/v1/orders/{order['id']}"
    assert r.headers["Content-Type"] == "application/json"
    listed = acme.get("/v1/orders", params={"status": "pending", "limit": 50}).json()
    assert [o["id"] for o in listed["data"]] == [order["id"]] and listed["has_more"] is False
    assert acme.get(f"/v1/orders/{order['id']}").json() == order
    assert acme.get("/v1/orders/by-number/%231001").json()["id"] == order["id"]


def test_every_catalogue_route_is_served(api, setup):
    """No method of the catalogue is without a working route (none answers 'no route' or 405)."""
    methods = api("acme:read").get("/v1/methods").json()["data"]
    assert len(methods) >= 18
    order = api("acme:write").post("/v1/orders", json=ORDER).json()
    for m in methods:
        key = "operator" if m["name"] in ("tenants.create", "tenants.list", "tenants.delete") else "acme:admin"
        for route in m["routes"]:
            path = route["path"].replace("{id}", order["id"] if m["name"].startswith("orders.") else "zz-missing") \
                                .replace("{number}", "%231001")
            kw = {"json": {}} if route["http_method"] in ("POST", "PATCH") else {}
            r = api(key).request(route["http_method"], path, **kw)
            assert r.status_code < 500, (m["name"], r.status_code, r.text)
            assert r.status_code != 405, (m["name"], r.text)
            assert not (r.status_code == 404 and "no route" in r.text), (m["name"], path)
            assert r.headers["X-Request-Id"]


def test_keys_isolation_and_scopes(api, setup):
    order = api("other:write").post("/v1/orders", json=ORDER).json()
    for key in (None, "acme:read"):
        r = api(key).get(f"/v1/orders/{order['id']}")
        assert r.status_code == (401 if key is None else 404), r.text
    assert api(None).get("/v1/orders").json()["error"]["code"] == "unauthorized"
    assert api("acme:read").post("/v1/orders", json=ORDER).status_code == 403
    assert api("acme:admin").get("/v1/tenants/other").status_code == 404
    assert api("acme:admin").get("/v1/tenants/nosuch").status_code == 404
    # Scope is checked before the tenant, so a read key learns nothing either way.
    assert api("acme:read").get("/v1/tenants/other").status_code == api("acme:read").get("/v1/tenants/acme").status_code == 403
    assert api("operator").get("/v1/orders").status_code == 403
    assert api("operator").get("/v1/tenants").json()["data"] == [{"id": "acme"}, {"id": "other"}]
    assert api("acme:admin").get("/v1/tenants").status_code == 403


def test_a_key_revoked_with_the_cli_stops_working_at_once(api, setup, data):
    acme = api("acme:read")
    assert acme.get("/v1/orders").status_code == 200
    key_id = setup["acme:read"].split(".")[2]
    run_cli("keys", "revoke", "--tenant", "acme", key_id, data=data)
    r = acme.get("/v1/orders")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    listed = run_cli("keys", "list", "--tenant", "acme", "--all", data=data).stdout
    assert key_id in listed and "secret" not in listed and setup["acme:read"].split(".")[3] not in listed


def test_idempotency_key_and_if_match_headers(api):
    acme = api("acme:write")
    a = acme.post("/v1/orders", json=ORDER, headers={"Idempotency-Key": "imp-1"})
    b = acme.post("/v1/orders", json=ORDER, headers={"Idempotency-Key": "imp-1"})
    assert a.status_code == b.status_code == 201 and a.content == b.content
    c = acme.post("/v1/orders", json={**ORDER, "note": "other"}, headers={"Idempotency-Key": "imp-1"})
    assert c.status_code == 422 and c.json()["error"]["code"] == "idempotency_mismatch"
    oid = a.json()["id"]
    stale = acme.patch(f"/v1/orders/{oid}", json={"note": "x"}, headers={"If-Match": '"5"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "version_conflict"
    ok = acme.patch(f"/v1/orders/{oid}", json={"note": "x"}, headers={"If-Match": a.headers["ETag"]})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    body_stale = acme.post(f"/v1/orders/{oid}/transition", json={"to": "confirmed", "expected_version": 1})
    assert body_stale.status_code == 409
    illegal = acme.post(f"/v1/orders/{oid}/transition", json={"to": "completed"})
    assert illegal.status_code == 409 and illegal.json()["error"]["details"]["allowed"] == ["confirmed", "on_hold", "cancelled"]


def test_errors_malformed_json_unknown_fields_and_oversized_bodies(api):
    acme = api("acme:write")
    r = acme.post("/v1/orders", data=b'{"line_items": [1,]}', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_argument" and err["details"]["line"] == 1 and err["details"]["column"] == 19
    r = acme.post("/v1/orders", json={**ORDER, "total": 1})
    assert r.status_code == 422 and r.json()["error"]["field"] == "total"
    big = b'{"note":"' + b"x" * (1 << 20) + b'"}'
    r = acme.post("/v1/orders", data=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "limit_exceeded"
    # A client that waits for "100 Continue" (curl does past 1 KiB) is refused before it sends.
    import http.client
    host, port = acme_url(acme)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.putrequest("POST", "/v1/orders")
    conn.putheader("Authorization", acme.auth)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(big)))
    conn.putheader("Expect", "100-continue")
    conn.endheaders()
    early = conn.getresponse()
    assert early.status == 413 and early.getheader("Connection") == "close"
    conn.close()
    # Streamed without a length: the limit still holds.
    r = acme.post("/v1/orders", data=iter([big[:600000], big[600000:]]), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert acme.get("/v1/orders?limit=abc").status_code == 400
    assert acme.get("/v1/nowhere").status_code == 404
    r = acme.request("PUT", "/v1/orders")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST"
    assert api("acme:read").get("/v1/orders").json()["data"] == []  # nothing above wrote


def test_request_ids_are_echoed_or_generated_and_logged_one_line_per_request(api, server):
    acme = api("acme:write")
    r = acme.post("/v1/orders", json=ORDER, headers={"X-Request-Id": "trace-7"})
    assert r.headers["X-Request-Id"] == "trace-7"
    generated = acme.get("/v1/orders").headers["X-Request-Id"]
    assert generated.startswith("req_")
    audit = acme.get(f"/v1/orders/{r.json()['id']}/audit").json()["data"]
    assert audit[0]["request_id"] == "trace-7" and audit[0]["actor"]["id"].startswith("key_")
    lines = [l for l in server.lines() if " /v1/" in l]
    assert len(lines) == 3, lines  # each line is written before its answer
    assert re.match(r"^\d{4}-\d\d-\d\dT\S+Z POST /v1/orders 201 [\d.]+ms trace-7$", lines[0]), lines
    assert lines[1].endswith(generated) and " GET /v1/orders 200 " in lines[1]


def test_healthz_metrics_and_openapi(api):
    assert api().get("/healthz").json()["status"] == "ok"
    head = api().request("HEAD", "/healthz")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) > 0
    assert api("acme:read").request("HEAD", "/v1/orders").status_code == 200
    api("acme:write").post("/v1/orders", json=ORDER)
    api("acme:read").get("/v1/orders/ord_missing")
    text = api().get("/metrics").text
    assert 'orderbase_http_requests_total{method="POST",route="/v1/orders",status="201"} 1' in text
    assert 'orderbase_http_requests_total{method="GET",route="/v1/orders/{id}",status="404"} 1' in text
    assert re.search(r'orderbase_http_request_duration_seconds_count\{method="POST",route="/v1/orders"\} 1', text)
    assert re.search(r"^orderbase_open_tenants 1$", text, re.M)
    doc = api().get("/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0" and "/v1/orders/{id}/transition" in doc["paths"]


def test_concurrent_writes_all_succeed_with_distinct_numbers(api):
    acme = api("acme:write")
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: acme.post("/v1/orders", json={**ORDER, "note": str(n)}), range(64)))
    assert all(a.status_code == 201 for a in answers)
    assert len({a.json()["number"] for a in answers}) == 64
    assert api("acme:admin").get("/v1/integrity").json()["ok"] is True


def test_rate_limit_answers_429_with_retry_after(data, setup, tmp_path):
    s = Server(data, tmp_path / "limited.log", "--rate-limit", "5", "--quiet")
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {setup['acme:read']}"
        codes = [session.get(s.url + "/v1/orders").status_code for _ in range(40)]
        assert codes[:5] == [200] * 5 and 429 in codes
        r = session.get(s.url + "/v1/orders")
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1 and r.json()["error"]["code"] == "rate_limited"
        other = requests.get(s.url + "/v1/orders", headers={"Authorization": f"Bearer {setup['other:read']}"})
        assert other.status_code == 200
    finally:
        assert s.stop() == 0


def test_sigterm_stops_the_server_cleanly_and_frees_the_tenant(data, setup, tmp_path):
    s = Server(data, tmp_path / "stop.log")
    requests.post(s.url + "/v1/orders", json=ORDER, headers={"Authorization": f"Bearer {setup['acme:write']}"})
    port = int(s.url.rsplit(":", 1)[1])
    assert s.stop() == 0
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
    out = run_cli("export", "--tenant", "acme", data=data).stdout  # the database is free again
    assert out.count("\n") == 1


def test_cli_on_a_busy_tenant_and_bad_arguments(data, setup, server):
    requests.get(server.url + "/v1/orders", headers={"Authorization": f"Bearer {setup['acme:read']}"})
    p = run_cli("export", "--tenant", "acme", data=data, check=False)
    assert p.returncode == 1 and "stop the server first" in p.stderr
    assert run_cli("tenants", "create", "Bad/Id", data=data, check=False).returncode == 1
    assert run_cli("keys", "create", "--tenant", "acme", "--operator", data=data, check=False).returncode != 0
    assert run_cli("keys", "create", "--tenant", "nosuch", "--scope", "read", data=data, check=False).returncode == 1
    assert run_cli("tenants", "delete", "other", data=data, check=False).returncode == 2
    # Tenants and keys can be managed while the server runs.
    run_cli("tenants", "create", "third", data=data)
    k = run_cli("keys", "create", "--tenant", "third", "--scope", "write", data=data).stdout.strip()
    r = requests.post(server.url + "/v1/orders", json=ORDER, headers={"Authorization": f"Bearer {k}"})
    assert r.status_code == 201 and r.json()["number"] == "#1001"


def raw_request(client, payload: bytes) -> bytes:
    """Sends bytes as they are (no client library repairs them) and reads the answer until the server closes."""
    with socket.create_connection(acme_url(client), timeout=10) as s:
        s.sendall(payload)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_requests_the_http_parser_refuses_get_the_error_object(api):
    """Oversized and folded headers, bare CR or LF, NUL, a bad Content-Length and a 500 KB URL answered 400 with an empty body."""
    acme = api("acme:read")
    cases = {
        "folded header": b"GET /v1/orders HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n",
        "bare CR": b"GET /v1/orders HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n",
        "NUL in a header": b"GET /v1/orders HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
        "bad Content-Length": b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n{}",
        "oversized header": b"GET /v1/orders HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
        "500 KB URL": b"GET /v1/orders?" + b"a" * 500_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    }
    for name, payload in cases.items():
        answer = raw_request(acme, payload)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), (name, head[:80])
        error = __import__("json").loads(body)["error"]
        assert error["code"] == "invalid_argument" and error["message"].startswith("malformed HTTP request"), (name, error)


def test_every_401_reads_the_same(api, setup):
    bodies = set()
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer obk.acme.nope.nope"},
                    {"Authorization": "Bearer " + setup["acme:read"] + "x"}):
        r = requests.get(api("acme:read").base + "/v1/orders", headers=headers, timeout=10)
        assert r.status_code == 401
        bodies.add(r.text)
    assert len(bodies) == 1, bodies


def test_sla_policies_business_hours_and_an_orders_sla_over_http(api):
    admin, write = api("acme:admin"), api("acme:write")
    body = {"name": "Urgent in 2 hours", "priorities": ["urgent"], "target_states": ["confirmed"], "within_minutes": 120, "clock": "calendar"}
    assert write.post("/v1/sla_policies", json=body).status_code == 403
    r = admin.post("/v1/sla_policies", json=body)
    assert r.status_code == 201, r.text
    policy = r.json()
    assert policy["at_risk_minutes"] == 24 and policy["target_fulfillment"] is None
    bad = admin.post("/v1/sla_policies", json={**body, "target_fulfillment": "shipped"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "target_fulfillment"
    hours = admin.patch("/v1/business_hours", json={"time_zone": "Europe/London", "hours": [{"day": "monday", "start": "09:00", "end": "17:00"}]})
    assert hours.status_code == 200 and hours.json()["hours"] == [{"day": "monday", "start": "09:00", "end": "17:00"}]
    assert admin.get("/v1/business_hours").json()["time_zone"] == "Europe/London"
    order = write.post("/v1/orders", json={**ORDER, "priority": "urgent"}).json()
    assert order["sla_status"] == "pending" and order["sla"][0]["policy_id"] == policy["id"]
    sla = write.get(f"/v1/orders/{order['id']}/sla").json()
    assert sla["sla_status"] == "pending" and 0 < sla["entries"][0]["remaining_ms"] <= 120 * 60_000
    listed = write.get("/v1/orders", params={"sla_status": "pending"}).json()["data"]
    assert order["id"] in [o["id"] for o in listed]
    assert write.get("/v1/orders", params={"sla_status": "late"}).status_code == 422
    summary = write.get("/v1/sla/summary", params={"from": "2020-01-01T00:00:00Z", "to": "2020-12-31T00:00:00Z", "policy_id": policy["id"]}).json()
    assert summary["policies"][0]["pending"] == 0
    assert admin.delete(f"/v1/sla_policies/{policy['id']}").json()["id"] == policy["id"]
    assert admin.get(f"/v1/sla_policies/{policy['id']}").status_code == 404


def test_payments_refunds_and_sales_over_http(api):
    write, read = api("acme:write"), api("acme:read")
    order = write.post("/v1/orders", json=ORDER).json()
    total = order["total"]
    assert order["payments"]["outstanding"] == total and order["payments"]["transactions"] == 0
    body = {"order_id": order["id"], "kind": "authorization", "amount": total, "gateway": "stripe", "gateway_id": "pi_1"}
    assert read.post("/v1/transactions", json=body).status_code == 403
    r = write.post("/v1/transactions", json=body, headers={"Idempotency-Key": "auth-1"})
    assert r.status_code == 201, r.text
    auth = r.json()
    assert auth["capturable"] == total and auth["source"] == "recorded"
    again = write.post("/v1/transactions", json=body, headers={"Idempotency-Key": "auth-1"})
    assert again.status_code == 201 and again.json()["id"] == auth["id"]
    assert write.post("/v1/transactions", json={**body, "amount": 1}, headers={"Idempotency-Key": "auth-1"}).status_code == 422
    pending = write.post("/v1/transactions", json={"order_id": order["id"], "kind": "capture", "amount": total, "parent_id": auth["id"], "status": "pending"}).json()
    over = write.post("/v1/transactions", json={"order_id": order["id"], "kind": "capture", "amount": 1, "parent_id": auth["id"]})
    assert over.status_code == 409 and over.json()["error"]["details"]["reason"] == "exceeds_capturable"
    stale = write.patch(f"/v1/transactions/{pending['id']}", json={"status": "success"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412, stale.text
    settled = write.patch(f"/v1/transactions/{pending['id']}", json={"status": "success", "gateway_id": "ch_1"})
    assert settled.status_code == 200 and settled.json()["status"] == "success" and settled.json()["refundable"] == total
    got = read.get(f"/v1/orders/{order['id']}").json()
    assert got["financial_status"] == "paid" and got["payments"]["captured"] == total
    listed = read.get("/v1/transactions", params={"order_id": order["id"], "kind": "capture"}).json()["data"]
    assert [t["id"] for t in listed] == [pending["id"]]
    assert read.get(f"/v1/transactions/{auth['id']}").json()["capturable"] == 0
    # The server has no payment handler: payments.* say so; transactions.create is the way.
    no = write.post(f"/v1/orders/{order['id']}/refund", json={"amount": 100})
    assert no.status_code == 409 and no.json()["error"]["details"]["reason"] == "no_payment_handler"
    bad = write.post("/v1/transactions", json={"order_id": order["id"], "kind": "refund", "amount": 1, "parent_id": pending["id"], "gateway": "Stripe!"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "gateway"
    wrong = write.post("/v1/transactions", json={"order_id": order["id"], "kind": "refund", "amount": 1, "parent_id": auth["id"]})
    assert wrong.status_code == 409 and wrong.json()["error"]["details"]["reason"] == "wrong_parent"
    # A refund of one unit, worked out, then recorded with the gateway's refund; the sales ledger shows it.
    line = got["line_items"][0]["id"]
    ask = {"line_items": [{"line_item_id": line, "quantity": 1}], "restocking_fee_percent": "10"}
    quote = read.post(f"/v1/orders/{order['id']}/refunds/calculate", json=ask)
    assert quote.status_code == 200, quote.text
    q = quote.json()
    assert q["subtotal"] == got["line_items"][0]["unit_price"] and q["maximum_refundable"] == total and q["transactions"][0]["parent_id"] == pending["id"]
    made = write.post("/v1/refunds", json={"order_id": order["id"], **ask, "transactions": [{"parent_id": pending["id"], "amount": q["total"]}]},
                      headers={"Idempotency-Key": "refund-1"})
    assert made.status_code == 201, made.text
    refund = made.json()["refund"]
    assert refund["status"] == "success" and refund["total"] == q["total"] and made.json()["order"]["line_items"][0]["refunded_quantity"] == 1
    assert read.get(f"/v1/refunds/{refund['id']}").json()["id"] == refund["id"]
    assert [x["id"] for x in read.get("/v1/refunds", params={"order_id": order["id"]}).json()["data"]] == [refund["id"]]
    short = write.post("/v1/refunds", json={"order_id": order["id"], **ask, "transactions": [{"parent_id": pending["id"], "amount": 1}]})
    assert short.status_code == 409 and short.json()["error"]["details"]["reason"] == "transactions_do_not_add_up"
    lines = read.get("/v1/sales", params={"order_id": order["id"]}).json()["data"]
    assert [x["kind"] for x in lines] == ["sale", "return"] and lines[1]["returns"] == -q["subtotal"]
    summary = read.get("/v1/sales/summary", params={"from": "2020-01-01T00:00:00Z", "to": "2020-12-31T00:00:00Z"}).json()
    assert summary["currencies"] == []
    assert read.get("/v1/sales/summary", params={"from": "2020-01-01T00:00:00Z"}).status_code == 422


def test_split_and_merge_over_http(api):
    write, read = api("acme:write"), api("acme:read")
    def order(lines, paid):
        return write.post("/v1/orders", json={"customer": {"id": "cus_3"}, "line_items": lines,
                                              "transactions": [{"kind": "sale", "amount": paid}]}).json()
    a = order([{"title": "Mug", "quantity": 3, "unit_price": 800}], 2400)
    line = a["line_items"][0]["id"]
    assert read.post(f"/v1/orders/{a['id']}/split", json={"line_items": [{"line_item_id": line, "quantity": 1}]}).status_code == 403
    bad = write.post(f"/v1/orders/{a['id']}/split", json={"line_items": [{"line_item_id": line, "quantity": 0}]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "line_items[0].quantity"
    stale = write.post(f"/v1/orders/{a['id']}/split", json={"line_items": [{"line_item_id": line, "quantity": 1}], "expected_version": 7})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    split = write.post(f"/v1/orders/{a['id']}/split", json={"line_items": [{"line_item_id": line, "quantity": 1}], "note": "later"})
    assert split.status_code == 201, split.text
    body = split.json()
    assert body["order"]["total"] == 1600 and body["new_order"]["total"] == 800 and body["new_order"]["financial_status"] == "paid"
    b = order([{"title": "Cap", "quantity": 1, "unit_price": 500}], 500)
    other = write.post("/v1/orders", json={"customer": {"id": "cus_4"}, "line_items": [{"title": "x", "quantity": 1, "unit_price": 5}]}).json()
    refused = write.post(f"/v1/orders/{a['id']}/merge", json={"order_ids": [b["id"], other["id"]]})
    assert refused.status_code == 409 and refused.json()["error"]["details"]["reason"] == "customer_mismatch", refused.text
    merged = write.post(f"/v1/orders/{a['id']}/merge", json={"order_ids": [body["new_order"]["id"], b["id"]]})
    assert merged.status_code == 200, merged.text
    m = merged.json()
    assert m["order"]["total"] == 2900 and m["order"]["payments"]["outstanding"] == 0 and [o["status"] for o in m["merged"]] == ["cancelled", "cancelled"]
    assert read.get(f"/v1/orders/{b['id']}").json()["related_orders"][0]["relation"] == "merged_into"


def test_order_edits_over_http(api):
    write, read = api("acme:write"), api("acme:read")
    order = write.post("/v1/orders", json={"line_items": [{"sku": "MUG", "title": "Mug", "quantity": 2, "unit_price": 800},
                                                          {"sku": "PIN", "title": "Pin", "quantity": 1, "unit_price": 150}],
                                           "transactions": [{"kind": "sale", "amount": 1750}]}).json()
    mug, pin = (l["id"] for l in order["line_items"])
    assert read.post("/v1/order_edits", json={"order_id": order["id"]}).status_code == 403
    begun = write.post("/v1/order_edits", json={"order_id": order["id"], "note": "phone call"})
    assert begun.status_code == 201, begun.text
    edit = begun.json()
    assert edit["status"] == "open" and edit["base_version"] == order["version"]
    # A bad action is named by its index; nothing is staged.
    bad = write.post(f"/v1/order_edits/{edit['id']}/actions", json={"actions": [
        {"type": "set_price", "line_item_id": pin, "unit_price": 100}, {"type": "set_quantity", "line_item_id": "li_nope", "quantity": 1}]})
    assert bad.status_code == 404 and bad.json()["error"]["field"] == "actions[1].line_item_id"
    shape = write.post(f"/v1/order_edits/{edit['id']}/actions", json={"actions": [{"type": "set_quantity", "line_item_id": pin}]})
    assert shape.status_code == 422 and shape.json()["error"]["field"] == "actions[0].quantity"
    staged = write.post(f"/v1/order_edits/{edit['id']}/actions", json={"actions": [
        {"type": "set_quantity", "line_item_id": pin, "quantity": 0},
        {"type": "add_line", "line_item": {"sku": "CUP", "title": "Cup", "quantity": 1, "unit_price": 450}},
        {"type": "set_line_discount", "line_item_id": mug, "amount": 100}]})
    assert staged.status_code == 200 and len(staged.json()["actions"]) == 3
    preview = read.get(f"/v1/order_edits/{edit['id']}/preview").json()
    # 1600 − 100 + 450 = 1950; 1750 paid: 200 due.
    assert preview["total_after"] == 1950 and preview["balance_due"] == 200 and [s["delta"] for s in preview["stock"]] == [-1, 1]
    assert read.get(f"/v1/orders/{order['id']}").json()["total"] == 1750
    done = write.post(f"/v1/order_edits/{edit['id']}/commit", json={"notify_customer": True})
    assert done.status_code == 200, done.text
    o = done.json()["order"]
    assert o["total"] == 1950 and o["financial_status"] == "partially_paid" and [l["title"] for l in o["line_items"]] == ["Mug", "Cup"]
    again = write.post(f"/v1/order_edits/{edit['id']}/commit", json={})
    assert again.status_code == 409 and again.json()["error"]["details"]["reason"] == "invalid_edit_status"
    assert [e["id"] for e in read.get("/v1/order_edits", params={"order_id": order["id"]}).json()["data"]] == [edit["id"]]
    assert read.get(f"/v1/order_edits/{edit['id']}").json()["total_after"] == 1950
    # The order changed since this edit began: 409 (412 when If-Match named the version).
    late = write.post("/v1/order_edits", json={"order_id": order["id"]}).json()
    write.post(f"/v1/order_edits/{late['id']}/actions", json={"actions": [{"type": "set_quantity", "line_item_id": mug, "quantity": 3}]})
    write.patch(f"/v1/orders/{order['id']}", json={"note": "gift wrap"})
    conflict = write.post(f"/v1/order_edits/{late['id']}/commit", json={})
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "version_conflict"
    assert write.post(f"/v1/order_edits/{late['id']}/commit", json={}, headers={"If-Match": '"1"'}).status_code == 412
    assert write.post(f"/v1/order_edits/{late['id']}/discard", json={"note": "stale"}).json()["status"] == "discarded"


def test_returns_over_http(api):
    write, read, admin = api("acme:write"), api("acme:read"), api("acme:admin")
    # The policy is admin's: a window, and a manager tier for returns worth 1000 or more.
    assert write.patch("/v1/return_policy", json={"window_days": 30}).status_code == 403
    policy = admin.patch("/v1/return_policy", json={"window_days": 30, "approval_tiers": [{"name": "manager", "roles": ["manager"], "when": "return.value >= 1000"}]})
    assert policy.status_code == 200, policy.text
    assert read.get("/v1/return_policy").json()["approval_tiers"][0]["when_text"] == "return.value >= 1000"
    bad = admin.patch("/v1/return_policy", json={"condition": "return.valeu > 1"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "condition"
    order = write.post("/v1/orders", json={"fulfillment_status": "fulfilled", "line_items": [
        {"sku": "MUG", "title": "Mug", "quantity": 3, "unit_price": 800}, {"sku": "PIN", "title": "Pin", "quantity": 2, "unit_price": 150}]}).json()
    mug, pin = (l["id"] for l in order["line_items"])
    body = {"order_id": order["id"], "line_items": [{"line_item_id": pin, "quantity": 2, "reason": "unwanted"}]}
    assert read.post("/v1/returns", json=body).status_code == 403
    r = write.post("/v1/returns", json=body, headers={"Idempotency-Key": "ret-1"})
    assert r.status_code == 201, r.text
    small = r.json()
    assert small["status"] == "approved" and small["value"] == 300 and small["window_ends_at"]
    assert write.post("/v1/returns", json=body, headers={"Idempotency-Key": "ret-1"}).json()["id"] == small["id"]
    over = write.post("/v1/returns", json={**body, "line_items": [{"line_item_id": pin, "quantity": 1}]})
    assert over.status_code == 409 and over.json()["error"]["details"] == {"reason": "exceeds_returnable_quantity", "returnable_quantity": 0}
    # Worth 1600: waits for a manager (the actor's roles come from the key's host; here none, so it cannot approve).
    big = write.post("/v1/returns", json={"order_id": order["id"], "line_items": [{"line_item_id": mug, "quantity": 2}]}).json()
    assert big["status"] == "requested" and len(big["approval"]) == 1
    refused = write.post(f"/v1/returns/{big['id']}/approve", json={})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_permitted"
    declined = write.post(f"/v1/returns/{big['id']}/decline", json={"reason": "other"})
    assert declined.status_code == 403
    assert write.post(f"/v1/returns/{big['id']}/cancel", json={"note": "asked by mistake"}).json()["status"] == "cancelled"
    # Receive the pins: one back on no shelf, one missing; the shapes are checked first (422), the state after (409).
    shape = write.post(f"/v1/returns/{small['id']}/receive", json={"line_items": [{"line_item_id": pin, "quantity": 1}]})
    assert shape.status_code == 422 and shape.json()["error"]["field"] == "line_items[0].disposition"
    got = write.post(f"/v1/returns/{small['id']}/receive", json={"line_items": [
        {"line_item_id": pin, "quantity": 1, "disposition": "not_restocked"}, {"line_item_id": pin, "quantity": 1, "condition": "missing"}]},
        headers={"If-Match": '"1"'})
    assert got.status_code == 200, got.text
    assert got.json()["status"] == "received" and got.json()["line_items"][0]["missing_quantity"] == 1
    more = write.post(f"/v1/returns/{small['id']}/receive", json={"line_items": [{"line_item_id": pin, "quantity": 1, "condition": "missing"}]})
    assert more.status_code == 409 and more.json()["error"]["details"]["reason"] == "invalid_return_status"
    quote = read.post(f"/v1/orders/{order['id']}/refunds/calculate", json={"return_id": small["id"]}).json()
    assert [(l["line_item_id"], l["quantity"]) for l in quote["line_items"]] == [(pin, 1)]
    closed = write.post(f"/v1/returns/{small['id']}/close", json={})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    # The missing pin is let go: it can be asked for again.
    assert write.post("/v1/returns", json={**body, "line_items": [{"line_item_id": pin, "quantity": 1}]}).status_code == 201
    listed = read.get("/v1/returns", params={"order_id": order["id"], "status": "closed"}).json()["data"]
    assert [x["id"] for x in listed] == [small["id"]]
    assert read.get(f"/v1/returns/{small['id']}").json()["receipts"][0]["disposition"] == "not_restocked"
    assert read.get("/v1/returns/ret_nope").status_code == 404
    assert admin.get("/v1/integrity").json()["ok"] is True


def test_attachments_streamed_up_raw_and_multipart_and_down(api):
    write, read = api("acme:write"), api("acme:read")
    order = write.post("/v1/orders", json=ORDER).json()
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 8000
    assert read.post("/v1/attachments/upload", params={"order_id": order["id"], "file_name": "x.pdf"}, data=pdf).status_code == 403
    r = write.post("/v1/attachments/upload", params={"order_id": order["id"], "file_name": "Facture n°1.pdf"}, data=pdf,
                   headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["content_type"] == "application/pdf" and a["size"] == len(pdf)
    got = read.get(f"/v1/attachments/{a['id']}/content")
    assert got.status_code == 200 and got.content == pdf
    assert got.headers["Content-Type"] == "application/pdf" and got.headers["ETag"] == f'"{a["sha256"]}"'
    assert got.headers["Content-Disposition"] == "attachment; filename=\"Facture n__1.pdf\"; filename*=UTF-8''Facture%20n%C2%B01.pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    # Multipart: fields first, then the file part (its filename names it); a body larger than max_request_bytes streams.
    big = b"\x89PNG\r\n\x1a\n" + b"\x01" * (3 << 20)
    m = write.post("/v1/attachments/upload", data={"order_id": order["id"]}, files={"file": ("photo.png", big, "image/png")})
    assert m.status_code == 201, m.text
    assert m.json()["file_name"] == "photo.png" and m.json()["size"] == len(big)
    assert read.get(f"/v1/attachments/{m.json()['id']}/content").content == big
    listed = read.get("/v1/attachments", params={"order_id": order["id"]}).json()["data"]
    assert [x["id"] for x in listed] == [m.json()["id"], a["id"]]
    # Refusals: a hostile name, a type not allowed, no file part, an unknown order, a missing attachment.
    bad = write.post("/v1/attachments/upload", params={"order_id": order["id"], "file_name": "../etc/passwd"}, data=pdf)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "file_name"
    binary = write.post("/v1/attachments/upload", params={"order_id": order["id"], "file_name": "x.bin"}, data=b"\x00\x01\x02")
    assert binary.status_code == 422 and binary.json()["error"]["details"]["reason"] == "content_type_not_allowed"
    nofile = write.post("/v1/attachments/upload", data={"order_id": order["id"]}, files={"other": ("x", b"y")})
    assert nofile.status_code == 422
    assert write.post("/v1/attachments/upload", params={"order_id": "ord_nope", "file_name": "a.pdf"}, data=pdf).status_code == 404
    assert read.get("/v1/attachments/att_nope/content").status_code == 404
    assert write.delete(f"/v1/attachments/{a['id']}").status_code == 200
    assert api("acme:admin").get("/v1/integrity", params={"verify_files": "true"}).json()["ok"] is True
