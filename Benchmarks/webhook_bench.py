"""webhook_bench — how fast events leave as webhooks, against a loopback receiver.

Creates orders in one tenant with one webhook endpoint and measures, in the
same run:

- deliveries per second, from the first commit to the last receipt, while
  orders are being created as fast as the engine takes them;
- first-attempt latency, from the event's commit (its `at`) to its receipt,
  under that flood (a queue forms) and with orders paced at 50/s (no queue);
- the baseline: the same bodies POSTed by a bare Python http.client loop
  (one keep-alive connection) to the same receiver — what the receiver and
  loopback allow at best from one sender.

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


if __name__ == "__main__":
    main()
