"""Webhooks through the real library and libcurl to real receivers on 127.0.0.1,
verified with the standardwebhooks package (an implementation nobody here wrote)."""
import os
import signal
import subprocess
import sys
from datetime import datetime

import pytest
from conftest import Receiver, local_engine, wait_for
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import orderbase

LINE = {"sku": "85123A", "title": "Heart holder", "quantity": 2, "unit_price": 255}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_every_delivery_verifies_including_during_rotation(tmp_path, receiver):
    with local_engine(tmp_path / "root") as engine:
        engine.tenants.create("shop", settings={"default_currency": "GBP"})
        with engine.tenant("shop") as shop:
            endpoint = shop.webhooks.create(receiver.url + "/ok", event_types=["order.*"])
            old = endpoint["secret"]
            for _ in range(20):
                o = shop.orders.create(line_items=[LINE])
                shop.orders.transition(o["id"], "confirmed")
            assert wait_for(lambda: len(receiver.messages()) == 40)
            new = shop.webhooks.rotate_secret(endpoint["id"], grace_seconds=3600)["secret"]
            for _ in range(10):
                shop.orders.create(line_items=[LINE])
            assert wait_for(lambda: len(receiver.messages()) == 50)
            events = list(shop.events.list(types=["order.*"]))  # the endpoint's own changes are events too; it takes order.*
    received = receiver.messages()
    assert sorted(h["webhook-id"] for _, h, _, _ in received) == sorted(e["id"] for e in events)
    for n, (_, headers, body, _) in enumerate(received):
        payload = Webhook(old).verify(body, headers)  # every message verifies with the old secret (in grace)
        assert payload["data"]["event_id"] == headers["webhook-id"]
        if n >= 40:
            Webhook(new).verify(body, headers)  # and the later ones with the new one too
            assert len(headers["webhook-signature"].split(" ")) == 2
    _, headers, body, _ = received[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body.replace(b"Heart", b"Heist"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body, headers)  # sent before the new secret existed


def test_failures_against_real_servers(tmp_path, receiver):
    with local_engine(tmp_path / "root", background=False, webhook_timeout_ms=500) as engine:
        engine.tenants.create("shop")
        with engine.tenant("shop") as shop:
            ids = {}
            for name in ["fail", "gone", "slow", "retry-after", "redirect"]:
                ids[name] = shop.webhooks.create(f"{receiver.url}/{name}", event_types=["order.created"])["id"]
            ids["refused"] = shop.webhooks.create("http://127.0.0.1:9/nobody", event_types=["order.created"])["id"]
            shop.orders.create(line_items=[LINE])
            assert engine.pump() == 6
            by_endpoint = {d["endpoint_id"]: d for d in shop.deliveries.list()}

            def attempt(name):
                d = by_endpoint[ids[name]]
                return d, d["attempts"][0]

            def seconds(ts):
                return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()

            d, a = attempt("fail")
            assert a["status_code"] == 500 and d["status"] == "pending"
            assert 5 <= seconds(d["next_attempt_at"]) - seconds(a["at"]) <= 5.5
            d, a = attempt("retry-after")
            assert a["status_code"] == 503 and seconds(d["next_attempt_at"]) - seconds(a["at"]) >= 7
            d, a = attempt("slow")
            assert a["status_code"] is None and "Timeout" in a["error"] and 400 <= a["latency_ms"] <= 2000
            d, a = attempt("refused")
            assert a["status_code"] is None and "onnect" in a["error"]
            d, a = attempt("redirect")
            assert a["status_code"] == 302 and d["status"] == "pending"
            d, a = attempt("gone")
            assert a["status_code"] == 410 and d["status"] == "failed"
            gone = shop.webhooks.get(ids["gone"])
            assert gone["enabled"] is False and "410" in gone["disabled_reason"]
            assert not receiver.messages("/ok"), "the redirect was not followed"
            test = shop.webhooks.test(ids["fail"])
            assert test["succeeded"] is False and test["status_code"] == 500


def test_private_addresses_are_refused_at_connect_time(tmp_path, receiver):
    port = receiver.server.server_address[1]
    with orderbase.Engine(tmp_path / "root", background=False, webhook_allow_http=True) as engine:
        engine.tenants.create("shop")
        with engine.tenant("shop") as shop:
            for url in [f"http://127.0.0.1:{port}/ok", f"http://2130706433:{port}/ok", f"http://localhost:{port}/ok",
                        f"http://[::ffff:127.0.0.1]:{port}/ok"]:
                e = shop.webhooks.create(url)
                result = shop.webhooks.test(e["id"])
                assert result["succeeded"] is False and "not allowed" in (result["error"] or ""), (url, result)
            with pytest.raises(orderbase.InvalidArgument):
                shop.webhooks.create(f"http://user:pw@127.0.0.1:{port}/ok")
    assert receiver.messages() == []
    with orderbase.Engine(tmp_path / "strict", background=False) as engine:
        engine.tenants.create("shop")
        with engine.tenant("shop") as shop:
            with pytest.raises(orderbase.InvalidArgument) as e:
                shop.webhooks.create(receiver.url + "/ok")
            assert "https" in str(e.value)


CHILD = r"""
import sys, time, orderbase
root, url, mode = sys.argv[1], sys.argv[2], sys.argv[3]
engine = orderbase.Engine(root, webhook_allow_http=True, webhook_allowed_addresses=["127.0.0.1"])
if mode == "first":
    engine.tenants.create("shop")
with engine.tenant("shop") as shop:
    if mode in ("first", "write"):
        if mode == "first":
            shop.webhooks.create(url, event_types=["order.*"])
        print("ready", flush=True)
        while True:
            o = shop.orders.create(line_items=[{"title": "x", "quantity": 1, "unit_price": 5}])
            shop.orders.transition(o["id"], "confirmed")
            time.sleep(0.02)
    else:
        # Done when every event has its delivery and none is pending.
        deadline = time.time() + 60
        while time.time() < deadline:
            events = len(list(shop.events.list(types=["order.*"])))
            deliveries = list(shop.deliveries.list())
            if len(deliveries) == events and not any(d["status"] == "pending" for d in deliveries):
                break
            time.sleep(0.05)
        print(events, flush=True)
engine.close()
"""


def test_crash_during_delivery_loses_nothing(tmp_path, receiver):
    """Kill the process mid-delivery: after a restart every event arrives,
    duplicates only with the same webhook-id."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    root = str(tmp_path / "root")
    env = dict(os.environ)
    for round in range(3):  # three kills, each while deliveries are in flight
        writer = subprocess.Popen([sys.executable, str(script), root, receiver.url + "/sluggish", "first" if round == 0 else "write"],
                                  stdout=subprocess.PIPE, env=env, text=True)
        assert writer.stdout.readline().strip() == "ready"
        seen = len(receiver.messages())
        assert wait_for(lambda: len(receiver.messages()) >= seen + 10)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    before = len(receiver.messages())
    drain = subprocess.run([sys.executable, str(script), root, receiver.url + "/sluggish", "drain"],
                           capture_output=True, env=env, text=True, timeout=120)
    assert drain.returncode == 0, drain.stderr
    events = int(drain.stdout.strip())
    received = receiver.messages()
    ids = [h["webhook-id"] for _, h, _, _ in received]
    assert len(set(ids)) == events, f"{len(set(ids))} distinct messages for {events} events ({before} before the kill)"
    print(f"crash test: {events} events, {len(received)} messages, {len(received) - len(set(ids))} duplicates")
    # A duplicate is the same message: same id, same body.
    bodies = {}
    for _, h, body, _ in received:
        assert bodies.setdefault(h["webhook-id"], body) == body
