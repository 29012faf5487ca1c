"""quickstart.py — what Examples/c/quickstart.c does, from Python.

    pip install ./Bindings/python
    python Examples/python/quickstart.py [DATA_DIR]

The package finds liborderbase.so through ORDERBASE_LIBRARY, a copy inside the
package, or build/lib of this checkout (run `make lib` first).
"""
import json
import shutil
import sys

import orderbase

root = sys.argv[1] if len(sys.argv) > 1 else "data/quickstart-python"
shutil.rmtree(root, ignore_errors=True)

with orderbase.Engine(root, durability="sync") as engine:
    print(f"Orderbase {orderbase.library_version()}, data in {root}")
    engine.tenants.create("demo", settings={"name": "Demo Shop", "default_currency": "GBP"})
    with engine.tenant("demo") as demo:
        # Totals are computed by the engine; money is in minor units (pence).
        order = demo.orders.create(
            customer={"id": "17850", "email": "ann@example.com", "name": "Ann Lee"},
            shipping_address={"name": "Ann Lee", "line1": "1 High St", "city": "London",
                              "postal_code": "N1 1AA", "country": "GB"},
            line_items=[{"sku": "85123A", "title": "White hanging heart t-light holder", "quantity": 6,
                         "unit_price": 255, "discounts": [{"code": "SPRING", "amount": 100}],
                         "tax_lines": [{"name": "VAT", "rate": "0.20"}]}],
            shipping_lines=[{"title": "Standard", "price": 495}],
            actor={"type": "user", "id": "staff-1"}, request_id="req-quickstart-1")
        print(f"created {order['number']} ({order['id']})")
        demo.orders.create(channel="phone", line_items=[
            {"sku": "22423", "title": "Regency cakestand 3 tier", "quantity": 1, "unit_price": 1275}])

        for status in ("confirmed", "processing", "completed"):
            demo.orders.transition(order["id"], status, reason="quickstart")
            print(f"{order['number']} -> {status}")

        # An illegal transition is refused with a stable error and changes nothing.
        try:
            demo.orders.transition(order["id"], "pending")
        except orderbase.InvalidTransition as e:
            print(f"completed -> pending: {e.code}: {e.message}")

        print("\norders.list (newest first):")
        for o in demo.orders.list():
            print(f"  {o['number']:<8} {o['status']:<10} {o['channel']:<7} {o['total']} {o['currency']}")

        print(f"\norders.audit {order['number']}:")
        for a in demo.orders.audit(order["id"]):
            changed = " ".join(c["field"] for c in a["changes"])
            print(f"  #{a['seq']} {a['at']} {a['action']:<22} by {a['actor']['type']:<6} changed: {changed}")

        print("\naudit.verify:", json.dumps(demo.audit.verify()))
