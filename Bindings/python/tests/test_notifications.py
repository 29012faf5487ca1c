"""Notifications of a callback channel handed to a Python callable (kept
alive by the library; exceptions reported, not swallowed); templates checked
when saved."""
import sys

import pytest

import orderbase

LINE = {"sku": "85123A", "title": "Heart holder", "quantity": 2, "unit_price": 255}


def test_callback_channel(tmp_path, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))
    with orderbase.Engine(tmp_path / "root", background=False) as engine:
        engine.tenants.create("shop", settings={"name": "Café", "default_currency": "GBP"})
        with engine.tenant("shop") as shop:
            channel = shop.notification_channels.create("host", "callback")
            with pytest.raises(orderbase.InvalidArgument) as e:
                shop.notification_templates.create("bad", channel["id"], text="{{order.totl}}", recipients=[{"type": "customer"}])
            assert e.value.field == "text" and "did you mean order.total?" in str(e.value)
            template = shop.notification_templates.create(
                "new", channel["id"], event_types=["order.created"], text="{{shop.name}} {{order.number}} {{order.total_formatted}}",
                recipients=[{"type": "staff", "address": "#sales"}])
            got = []
            mode = {"raise": True}

            def send(tenant, n):
                if mode["raise"]:
                    raise RuntimeError("chat is down")
                got.append((tenant, n["text"], n["recipient"]["address"]))

            engine.on_notification(send)
            order = shop.orders.create(line_items=[LINE])
            assert engine.pump() == 1
            assert [str(x) for x in engine.notification_errors] == ["chat is down"]
            assert [str(x) for x in reported] == ["chat is down"]
            mode["raise"] = False
            assert len(shop.notifications.send(template["id"], order["id"])) == 1
            assert engine.pump() == 1
            assert got == [("shop", "Café #1001 5.10", "#sales")]
            assert sorted(n["status"] for n in shop.notifications.list()) == ["pending", "sent"]
            engine.on_notification(None)
            preview = shop.notification_templates.render(order["id"], id=template["id"])
            assert preview["condition"] is True and preview["notifications"][0]["text"] == "Café #1001 5.10"
            assert len(list(shop.notifications.list())) == 2  # a preview writes nothing
