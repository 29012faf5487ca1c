"""webhook_bench — how fast events leave as webhooks and notifications.

Creates orders in one tenant with one webhook endpoint and measures, in the
same run:

- deliveries per second, from the first commit to the last receipt, while
  orders are being created as fast as the engine takes them;
- first-attempt latency, from the event's commit (its `at`) to its receipt,
  under that flood (a queue forms) and with orders paced at 50/s (no queue);
- the baseline: the same bodies POSTed by a bare Python http.client loop
  (one keep-alive connection) to the same receiver — what the receiver and
  loopback allow at best from one sender.

Then notifications, pumped on one thread (`background=False`) over the same
number of already-committed orders, each pass timed from the first pump to
the last message:

- the baseline: a host subscription with a no-op Python callback (reading
  the event log and calling into Python, nothing else);
- a callback-channel template (subject and a text part looping over the line
  items) to the same kind of no-op Python handler: fan-out, rendering, the
  log, the call and the outcome;
- an SMS template to a loopback gateway through libcurl, next to the bare
  http.client loop posting the same number of form bodies.

    make lib && ORDERBASE_LIBRARY=build/lib/liborderbase.so build/venv/bin/python Benchmarks/webhook_bench.py [--orders 2000]
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Bindings", "python", "src"))
import orderbase  # noqa: E402


class Receiver:
    def __init__(self):
        self.times = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.time()
                with outer.lock:
                    outer.times.setdefault(self.headers.get("webhook-id", str(len(outer.times))), now)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                del body

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self):
        with self.lock:
            return len(self.times)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=2000)
    args = ap.parse_args()
    receiver = Receiver()
    line = {"sku": "85123A", "title": "White hanging heart t-light holder", "quantity": 6, "unit_price": 255}
    with tempfile.TemporaryDirectory() as d:
        with orderbase.Engine(os.path.join(d, "root"), durability="relaxed", webhook_allow_http=True,
                              webhook_allowed_addresses=["127.0.0.1"]) as engine:
            engine.tenants.create("shop", settings={"default_currency": "GBP"})
            with engine.tenant("shop") as shop:
                shop.webhooks.create(f"http://127.0.0.1:{receiver.port}/hook", event_types=["order.created"])
                start = time.time()
                for _ in range(args.orders):
                    shop.orders.create(line_items=[line])
                created = time.time()
                deadline = time.time() + 600
                while receiver.count() < args.orders and time.time() < deadline:
                    time.sleep(0.01)
                done = time.time()
                flood = dict(receiver.times)
                # Paced: one order every 20 ms, so each delivery finds the queue empty.
                for _ in range(200):
                    shop.orders.create(line_items=[line])
                    time.sleep(0.02)
                while receiver.count() < args.orders + 200 and time.time() < deadline:
                    time.sleep(0.01)
                events = {e["id"]: e for e in shop.events.list()}
                bodies = [json.dumps({"type": e["type"], "timestamp": e["at"], "data": {"order": e["order"]}}).encode()
                          for e in list(events.values())[: args.orders]]
    assert receiver.count() == args.orders + 200, f"received {receiver.count()} of {args.orders + 200}"

    def latency(eid, at):
        return (at - datetime.fromisoformat(events[eid]["at"].replace("Z", "+00:00")).timestamp()) * 1000

    latencies = [latency(e, at) for e, at in flood.items()]
    paced = [latency(e, at) for e, at in receiver.times.items() if e not in flood]
    rate = args.orders / (done - start)

    # Baseline: the same bodies from a bare keep-alive client, one at a time.
    base = Receiver()
    conn = http.client.HTTPConnection("127.0.0.1", base.port)
    b0 = time.time()
    per = []
    for n, body in enumerate(bodies):
        t = time.time()
        conn.request("POST", "/hook", body=body, headers={"Content-Type": "application/json", "webhook-id": str(n)})
        conn.getresponse().read()
        per.append((time.time() - t) * 1000)
    base_rate = len(bodies) / (time.time() - b0)

    print(f"webhook_bench: {args.orders} orders, one endpoint, loopback receiver (relaxed durability)\n")
    print("| | deliveries/s | latency p50 | latency p99 |")
    print("|---|---:|---:|---:|")
    print(f"| Orderbase, flood (commit → receipt) | {rate:,.0f} | {statistics.median(latencies):.1f} ms | {percentile(latencies, 0.99):.1f} ms |")
    print(f"| Orderbase, paced 50/s (commit → receipt) | — | {statistics.median(paced):.2f} ms | {percentile(paced, 0.99):.2f} ms |")
    print(f"| bare http.client loop (request → response) | {base_rate:,.0f} | {statistics.median(per):.2f} ms | {percentile(per, 0.99):.2f} ms |")
    print(f"\nratio: {rate / base_rate:.2f}× the bare loop's rate; orders were created at {args.orders / (created - start):,.0f}/s")
    notifications(args.orders, line)


def notifications(n, line):
    """Messages per second out of the notification pass, against a bare subscription and a bare HTTP loop."""
    gateway = Receiver()
    lines = [line, dict(line, sku="71053", title="White metal lantern", unit_price=339),
             dict(line, sku="84406B", title="Cream cupid hearts coat hanger", unit_price=275)]
    customer = {"name": "Zoë", "email": "zoe@example.com", "phone": "+447700900123"}
    text = "Hello {{customer.name}},\n{{#order.line_items}}\n{{quantity}} x {{title}} {{unit_price_formatted}}\n{{/order.line_items}}\nTotal {{order.total_formatted}} {{order.currency}}"
    results = {}
    with tempfile.TemporaryDirectory() as d:
        with orderbase.Engine(os.path.join(d, "root"), durability="relaxed", background=False, webhook_allow_http=True,
                              webhook_allowed_addresses=["127.0.0.1"]) as engine:
            seen = [0]

            def count(*_):
                seen[0] += 1

            engine.on_notification(count)

            def run(name, setup):
                engine.tenants.create(name, settings={"name": "Shop", "default_currency": "GBP"})
                with engine.tenant(name) as t:
                    keep = setup(t)
                    for _ in range(n):
                        t.orders.create(customer=customer, line_items=lines)
                    seen[0] = 0
                    start = time.time()
                    while time.time() - start < 600:
                        engine.pump(1000)
                        if (gateway.count() if name == "sms" else seen[0]) >= n:
                            break
                    results[name] = n / (time.time() - start)
                    del keep

            run("subscription", lambda t: t.subscribe("bench", count, event_types=["order.created"]))
            run("callback", lambda t: t.notification_templates.create(
                "c", t.notification_channels.create("c", "callback")["id"], event_types=["order.created"],
                subject="Order {{order.number}}", text=text, recipients=[{"type": "customer"}]))
            run("sms", lambda t: t.notification_templates.create(
                "s", t.notification_channels.create("s", "sms", sms={"url": f"http://127.0.0.1:{gateway.port}/sms", "from": "Shop"})["id"],
                event_types=["order.created"], body="Order {{order.number}}: {{order.total_formatted}} {{order.currency}}",
                recipients=[{"type": "customer"}]))
    base = Receiver()
    conn = http.client.HTTPConnection("127.0.0.1", base.port)
    body = b"To=%2B447700900123&From=Shop&Body=Order+%231001%3A+52.07+GBP"
    b0 = time.time()
    for i in range(n):
        conn.request("POST", "/sms", body=body, headers={"Content-Type": "application/x-www-form-urlencoded", "webhook-id": str(i)})
        conn.getresponse().read()
    base_rate = n / (time.time() - b0)
    print(f"\nnotifications: {n} orders (3 lines each) per case, pumped on one thread\n")
    print("| | messages/s | ratio |")
    print("|---|---:|---:|")
    print(f"| host subscription, no-op Python callback (baseline) | {results['subscription']:,.0f} | 1.00× |")
    print(f"| callback channel: fan-out, render, log, no-op Python handler | {results['callback']:,.0f} | {results['callback'] / results['subscription']:.2f}× |")
    print(f"| SMS to a loopback gateway (libcurl) | {results['sms']:,.0f} | {results['sms'] / base_rate:.2f}× the bare loop |")
    print(f"| bare http.client loop, same form body | {base_rate:,.0f} | |")


if __name__ == "__main__":
    main()
