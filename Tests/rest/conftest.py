"""The real `orderbase` command: a server on a free loopback port, driven over HTTP;
and what the webhook and notification suites share (a recording HTTP server,
an engine that may reach 127.0.0.1, waiting)."""
import os
import pathlib
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

CLI = os.environ.get("ORDERBASE_CLI", str(pathlib.Path(__file__).resolve().parents[2] / "build" / "bin" / "orderbase"))


def run_cli(*args, data, check=True, **kw):
    """Runs `orderbase ARGS --data DATA`; returns the CompletedProcess."""
    p = subprocess.run([CLI, *args, "--data", str(data)], capture_output=True, text=True, timeout=600, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"orderbase {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


class Server:
    def __init__(self, data, log, *extra):
        self.data = data
        self.log_path = log
        self.log = open(log, "w")
        self.proc = subprocess.Popen([CLI, "serve", "--data", str(data), "--port", "0", *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            m = re.search(r"serving .* on (http://127\.0\.0\.1:\d+)", pathlib.Path(log).read_text())
            if m:
                self.url = m.group(1)
                return
            if self.proc.poll() is not None:
                raise AssertionError("server exited: " + pathlib.Path(log).read_text())
            time.sleep(0.05)
        raise AssertionError("server did not start: " + pathlib.Path(log).read_text())

    def lines(self):
        return pathlib.Path(self.log_path).read_text().splitlines()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def data(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def setup(data):
    """Tenants acme and other, keys of each scope, an operator key."""
    run_cli("tenants", "create", "acme", "--settings", '{"default_currency":"GBP"}', data=data)
    run_cli("tenants", "create", "other", data=data)
    keys = {}
    for t in ("acme", "other"):
        for s in ("read", "write", "admin"):
            keys[f"{t}:{s}"] = run_cli("keys", "create", "--tenant", t, "--scope", s, data=data).stdout.strip()
    keys["operator"] = run_cli("keys", "create", "--operator", data=data).stdout.strip()
    return keys


@pytest.fixture
def server(data, setup, tmp_path):
    s = Server(data, tmp_path / "server.log")
    yield s
    s.stop()


@pytest.fixture
def api(server, setup):
    """api("acme:write").post("/v1/orders", json=...) — a requests session per key."""
    def make(key=None):
        session = requests.Session()
        if key:
            session.headers["Authorization"] = f"Bearer {setup[key]}"

        class Client:
            base = server.url
            auth = session.headers.get("Authorization")

            def request(self, method, path, **kw):
                return session.request(method, server.url + path, timeout=30, **kw)

            def get(self, path, **kw):
                return self.request("GET", path, **kw)

            def post(self, path, **kw):
                return self.request("POST", path, **kw)

            def patch(self, path, **kw):
                return self.request("PATCH", path, **kw)

            def delete(self, path, **kw):
                return self.request("DELETE", path, **kw)
        return Client()
    return make


ORDER = {"line_items": [{"sku": "85123A", "title": "White hanging heart t-light holder", "quantity": 6, "unit_price": 255}]}


class Receiver:
    """An HTTP server whose paths answer as told: /ok 200, /fail 500, /gone 410,
    /slow (2 s, then 200), /retry-after (503, Retry-After: 7), /redirect (302 to /ok),
    /sluggish (20 ms, then 200); anything else 200. `received` holds
    (path, lower-cased headers, body, time) per request."""

    def __init__(self, context=None):
        self.received = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                if self.path == "/slow":
                    time.sleep(2)
                if self.path == "/sluggish":
                    time.sleep(0.02)
                status, headers = {"/fail": (500, {}), "/gone": (410, {}), "/retry-after": (503, {"Retry-After": "7"}),
                                   "/redirect": (302, {"Location": "/ok"})}.get(self.path, (200, {}))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if context:  # https, with the certificate of this ssl.SSLContext
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if context else 'http'}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages(self, path=None):
        with self.lock:
            return [r for r in self.received if path is None or r[0] == path]

    def close(self):
        self.server.shutdown()


def local_engine(root, **options):
    """An engine through the Python binding that may use http and reach 127.0.0.1."""
    import orderbase  # here: the REST suites that do not use the library must not need it

    return orderbase.Engine(root, webhook_allow_http=True, webhook_allowed_addresses=["127.0.0.1"], **options)


def wait_for(predicate, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
