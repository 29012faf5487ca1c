"""Conformance: schemathesis (PyPI) against the live server and its own /v1/openapi.json.

Every check runs, positive data acceptance included: no server error (5xx), no
response that breaks the schema, no schema-violating request accepted, and no
schema-valid request refused. State answers count as accepted (409, 412:
`schemathesis.toml`). The few rules JSON Schema cannot state (the expression
and template languages, a workflow's graph, money that must add up, references
to stored records) are kept by `schemathesis_hooks.py` in positive cases only;
docs/rest.md lists them. SCHEMATHESIS_EXCLUDE=check,… leaves checks out;
SCHEMATHESIS_FULL=1 prints every failure.
"""
import os
import shutil
import subprocess
import sys
import pathlib

CHECKS = ["all"]
EXCLUDE = [c for c in os.environ.get("SCHEMATHESIS_EXCLUDE", "").split(",") if c]


def st(server, key, *args, tmp_path):
    exe = shutil.which("st", path=str(pathlib.Path(sys.executable).parent)) or "st"
    config = pathlib.Path(__file__).with_name("schemathesis.toml")
    cmd = [exe, "--config-file", str(config), "run", server.url + "/v1/openapi.json", "-H", f"Authorization: Bearer {key}",
           "--checks", ",".join(CHECKS), *(["--exclude-checks", ",".join(EXCLUDE)] if EXCLUDE else []),
           # Examples per operation: schemathesis.toml (40; fewer for the whole-tenant scans). A command-line -n
           # would override the per-operation setting, so it is passed only when asked for.
           *(["-n", os.environ["SCHEMATHESIS_EXAMPLES"]] if "SCHEMATHESIS_EXAMPLES" in os.environ else []),
           "--seed", os.environ.get("SCHEMATHESIS_SEED", "20261126"),
           # Two cores, with the deliveries of every endpoint the run made behind each event:
           # a slow answer is for the benchmarks to find, not a conformance failure (schemathesis waits 10 s by default).
           "--request-timeout", "60",
           "--no-color", "--report", "junit", "--report-dir", str(tmp_path), *args]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
           "PYTHONPATH": os.pathsep.join([str(pathlib.Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=tmp_path, env=env)
    print(p.stdout if os.environ.get("SCHEMATHESIS_FULL") else p.stdout[-6000:])
    return p


def test_tenant_routes_conform(server, setup, tmp_path):
    p = st(server, setup["acme:admin"], "--exclude-tag", "tenants", tmp_path=tmp_path)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-2000:]
    assert "generated" in p.stdout


def test_operator_routes_conform(server, setup, tmp_path):
    p = st(server, setup["operator"], "--include-tag", "tenants", "--include-tag", "api_keys", "--include-tag", "methods",
           tmp_path=tmp_path)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-2000:]
