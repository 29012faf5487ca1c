"""The real `orderbase` command: a server on a free loopback port, driven over HTTP."""
import os
import pathlib
import re
import signal
import subprocess
import time

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
