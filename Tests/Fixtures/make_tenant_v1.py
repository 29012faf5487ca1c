"""Makes Tests/Fixtures/tenant-v1: a tenant written by release 0.1.0 (schema 1,
commit 09e252e), for the migration test (OrderbaseTests/MigrationTests.swift).

It was run once, with ORDERBASE_LIBRARY pointing at that release's library:

    ORDERBASE_LIBRARY=build/lib/liborderbase.so python3 Tests/Fixtures/make_tenant_v1.py

Running it against a later release makes a tenant of that release's schema,
which is not what the fixture is for; keep the committed copy.
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Bindings", "python", "src"))
import orderbase  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tenant-v1")


def main() -> None:
    root = tempfile.mkdtemp(prefix="orderbase-v1-")
    with orderbase.Engine(root, background=False, webhook_allow_http=True) as engine:
        engine.tenants.create("v1shop", settings={"default_currency": "GBP"})
        with engine.tenant("v1shop") as t:
            t.workflows.create(key="artwork", name="Artwork", states=[
                {"key": "awaiting_artwork", "label": "Awaiting artwork", "initial": True},
                {"key": "printing"},
                {"key": "done", "category": "done", "final": True},
                {"key": "cancelled", "category": "cancelled", "final": True},
            ], transitions=[
                {"name": "artwork_received", "from": "awaiting_artwork", "to": "printing"},
                {"name": "finish", "from": "printing", "to": "done"},
                {"name": "cancel", "from": ["awaiting_artwork", "printing"], "to": "cancelled"},
            ])
            a = t.orders.create(line_items=[{"sku": "85123A", "title": "Heart holder", "quantity": 6, "unit_price": 255}],
                                customer={"id": "cus_1", "email": "ann@example.com"}, channel="online")
            b = t.orders.create(line_items=[{"sku": "22423", "title": "Cake stand", "quantity": 1, "unit_price": 1275}],
                                channel="phone")
            c = t.orders.create(line_items=[{"sku": "POST", "title": "Poster", "quantity": 2, "unit_price": 900}],
                                customer={"id": "cus_2"}, workflow="artwork")
            t.orders.transition(a["id"], "confirmed", reason="paid")
            t.orders.update(b["id"], note="call before delivery")
            t.orders.transition(c["id"], "printing")
            t.orders.cancel(b["id"], reason="customer changed mind")
            t.webhooks.create(url="http://127.0.0.1:9/hook", event_types=["order.*"])
            ch = t.notification_channels.create(name="host", type="callback")
            t.notification_templates.create(name="thanks", channel_id=ch["id"], event_types=["order.created"],
                                            text="Thanks {{order.number}}", recipients=[{"type": "customer"}])
            t.orders.create(line_items=[{"sku": "85123A", "title": "Heart holder", "quantity": 1, "unit_price": 255}],
                            customer={"id": "cus_1", "email": "ann@example.com"})
            engine.pump()
            assert t.integrity.check()["ok"], "fresh tenant should check"
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    shutil.copytree(os.path.join(root, "tenants", "v1shop"), OUT)
    for dirpath, _, files in os.walk(OUT):
        for f in files:
            if f == "LOCK" or f.startswith("LOG"):
                os.remove(os.path.join(dirpath, f))
    shutil.rmtree(root)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
