#!/usr/bin/env python3
"""rest_bench.py — the REST server vs the C ABI, the same calls in the same run.

GET /v1/orders/{id} vs orders.get, and POST /v1/orders vs orders.create, at 1
and 16 concurrent clients, with the engine synced (the default) and relaxed.
The HTTP side is wrk (Debian) on loopback against `orderbase serve`; the C
side is abi_calls.c with as many threads, on a twin data directory built the
same way. Rounds alternate which side goes first; medians are reported.

    make bench-rest [REST_BENCH_ARGS="--seconds 5 --rounds 3"]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ORDER = {"line_items": [{"sku": "85123A", "title": "White hanging heart t-light holder", "quantity": 6, "unit_price": 255}]}


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def setup(cli, root):
    sh(cli, "tenants", "create", "bench", "--data", root)
    key = sh(cli, "keys", "create", "--tenant", "bench", "--scope", "write", "--data", root).stdout.strip()
    seed = os.path.join(root, "seed.jsonl")
    with open(seed, "w") as f:
        for n in range(200):
            f.write(json.dumps({**ORDER, "note": f"seed {n}"}) + "\n")
    sh(cli, "import", "--tenant", "bench", seed, "--progress", "none", "--data", root,
       "--engine-options", '{"durability":"relaxed"}')
    return key


def start_server(cli, root, options):
    log = open(os.path.join(root, "server.log"), "w")
    p = subprocess.Popen([cli, "serve", "--data", root, "--port", "0", "--quiet", "--engine-options", options],
                         stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        m = re.search(r"on (http://127\.0\.0\.1:\d+)", open(os.path.join(root, "server.log")).read())
        if m:
            return p, m.group(1)
        time.sleep(0.05)
    raise SystemExit("server did not start")


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)


def to_us(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v = float(m.group(1))
    return v * {"us": 1, "ms": 1000, "s": 1e6}[m.group(2)]


def wrk(url, key, op, order_id, conns, seconds, tmp):
    script = os.path.join(tmp, "bench.lua")
    with open(script, "w") as f:
        f.write(f'wrk.headers["Authorization"] = "Bearer {key}"\n')
        if op == "create":
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
            f.write(f"wrk.body = [[{json.dumps(ORDER)}]]\n")
    path = "/v1/orders" if op == "create" else f"/v1/orders/{order_id}"
    out = sh("wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{max(1, round(seconds))}s", "--latency", "-s", script, url + path).stdout
    if re.search(r"Non-2xx or 3xx responses", out):
        raise SystemExit("wrk saw errors:\n" + out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_us(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_us(re.search(r"\s99%\s+(\S+)", out).group(1))
    return {"per_second": rps, "p50_us": p50, "p99_us": p99}


def abi(binary, root, op, threads, seconds, options):
    return json.loads(sh(binary, root, "bench", op, str(threads), str(seconds), options).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--abi", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    tmp = tempfile.mkdtemp(prefix="orderbase-rest-bench-")
    rest_root, abi_root = os.path.join(tmp, "rest"), os.path.join(tmp, "abi")
    key = setup(a.cli, rest_root)
    setup(a.cli, abi_root)
    scenarios = [("get", 1, "sync"), ("get", 16, "sync"), ("create", 1, "sync"), ("create", 16, "sync"),
                 ("create", 1, "relaxed"), ("create", 16, "relaxed")]
    results = {}
    for durability in ("sync", "relaxed"):
        options = json.dumps({"durability": durability})
        for op, conns, d in scenarios:
            if d != durability:
                continue
            runs = {"http": [], "abi": []}
            for r in range(a.rounds):
                order = ["abi", "http"] if r % 2 == 0 else ["http", "abi"]
                for side in order:
                    if side == "abi":
                        runs["abi"].append(abi(a.abi, abi_root, op, conns, a.seconds, options))
                    else:
                        server, url = start_server(a.cli, rest_root, options)
                        try:
                            import urllib.request
                            req = urllib.request.Request(url + "/v1/orders?limit=1", headers={"Authorization": f"Bearer {key}"})
                            order_id = json.load(urllib.request.urlopen(req))["data"][0]["id"]
                            runs["http"].append(wrk(url, key, op, order_id, conns, a.seconds, tmp))
                        finally:
                            stop(server)
            results[(op, conns, d)] = {side: {k: statistics.median(x[k] for x in runs[side]) for k in ("per_second", "p50_us", "p99_us")}
                                       for side in runs}
            print(f"done: {op} c={conns} {d}", file=sys.stderr)

    print(f"Orderbase REST vs C ABI, same calls, same run: median of {a.rounds} rounds of {a.seconds:g} s "
          f"(wrk on loopback; abi_calls with as many threads)\n")
    print("| call | clients | durability | HTTP req/s | C ABI calls/s | HTTP/ABI | HTTP p50 | ABI p50 | HTTP p99 | ABI p99 |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for (op, conns, d), r in results.items():
        h, c = r["http"], r["abi"]
        call = "GET /v1/orders/{id} vs orders.get" if op == "get" else "POST /v1/orders vs orders.create"
        print(f"| {call} | {conns} | {d} | {h['per_second']:.0f} | {c['per_second']:.0f} | {h['per_second'] / c['per_second']:.0%} "
              f"| {h['p50_us']:.0f} µs | {c['p50_us']:.0f} µs | {h['p99_us']:.0f} µs | {c['p99_us']:.0f} µs |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
