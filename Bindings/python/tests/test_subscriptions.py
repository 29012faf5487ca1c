"""Host subscriptions: a tenant's events to a Python callable, at least once, in
order, from a durable cursor; exceptions reported, not swallowed."""
import sys
import threading
import time

import orderbase

LINE = {"sku": "85123A", "title": "Heart holder", "quantity": 1, "unit_price": 255}


def test_pumped_delivery_retries_and_resume(tmp_path, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))
    with orderbase.Engine(tmp_path / "root", background=False) as engine:
        engine.tenants.create("shop")
        with engine.tenant("shop") as shop:
            seen = []
            mode = {"answer": None}

            def on_event(event):
                if mode["answer"] == "raise":
                    raise RuntimeError("mail server down")
                if mode["answer"] is False:
                    return False
                seen.append((event["sequence"], event["type"]))

            sub = shop.subscribe("mailer", on_event, event_types=["order.created"])
            first = shop.orders.create(line_items=[LINE])
            shop.orders.transition(first["id"], "confirmed")  # not subscribed to
            shop.orders.create(line_items=[LINE])
            assert engine.pump() == 2
            assert seen == [(1, "order.created"), (3, "order.created")]

            mode["answer"] = "raise"
            shop.orders.create(line_items=[LINE])
            assert engine.pump() == 0
            assert [str(e) for e in sub.errors] == ["mail server down"]
            assert [str(e) for e in reported] == ["mail server down"]
            mode["answer"] = None
            assert engine.pump() == 0, "not again before its retry time"
            time.sleep(1.1)
            assert engine.pump() == 1 and seen[-1] == (4, "order.created")

            sub.close()
            shop.orders.create(line_items=[LINE])
            with shop.subscribe("mailer", on_event, event_types=["order.created"]):
                assert engine.pump() == 1 and seen[-1] == (5, "order.created"), "resumes from the durable cursor"
            try:
                shop.subscribe("Bad Name", on_event)
                raise AssertionError("expected InvalidArgument")
            except orderbase.InvalidArgument as e:
                assert e.field == "name"


def test_background_thread_delivers(tmp_path):
    with orderbase.Engine(tmp_path / "root") as engine:
        engine.tenants.create("shop")
        with engine.tenant("shop") as shop:
            got = threading.Event()
            threads = []

            def on_event(event):
                threads.append(threading.get_ident())
                got.set()

            sub = shop.subscribe("audit-feed", on_event)
            shop.orders.create(line_items=[LINE])
            assert got.wait(10), "the engine's thread delivers without a pump"
            assert threads[0] != threading.get_ident()
            try:
                engine.pump()
                raise AssertionError("expected Misuse")
            except orderbase.Misuse:
                pass
    assert sub.closed is False  # the handle object stays; the engine ended the subscription
    sub.close()
