"""The documentation's walkthroughs, run exactly as written.

A page marks its runnable parts with HTML comments before fenced blocks:

    <!-- doctest: file NAME -->      the block is written to NAME in the run's directory
    <!-- doctest: c NAME -->         the block is a C program: compiled against liborderbase, run with `data`
    <!-- doctest: output NAME -->    what that program prints, exactly
    <!-- doctest: sh -->             the blocks, in order, are one bash session (`set -euo pipefail`),
                                     with the `orderbase` command on PATH
    <!-- doctest: output sh -->      what the session prints on stdout, in order

Ids and times vary between runs: `apr_01M8…` prints as `apr_…`, and an RFC 3339
time as `…`, before comparing.
"""
import os
import pathlib
import re
import signal
import socket
import time
import subprocess
import sys

import pytest

from conftest import CLI

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIB_DIR = os.environ.get("ORDERBASE_LIB_DIR", str(ROOT / "build" / "lib"))
PAGES = ["docs/workflows.md", "docs/notifications.md", "docs/fulfillment.md", "docs/attachments.md", "docs/sla.md", "docs/custom-fields.md", "docs/payments.md", "docs/refunds.md", "docs/returns.md", "docs/order-edits.md"]


def blocks(page):
    """(kind, name, text) for each marked block of a page, in order."""
    text = (ROOT / page).read_text()
    found = re.findall(r"<!-- doctest: (\w+)(?: ([\w.-]+))? -->\n```\w*\n(.*?)```", text, re.S)
    assert found, f"{page} has no doctest blocks"
    return found


def normalized(s):
    s = re.sub(r"\b(ord|apr|key|evt|li|hold|ntf|ntt|nch|loc|fo|shp|trf|mov|att|slap)_[0-9A-Z]{26}\b", r"\1_…", s)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "…", s)


@pytest.mark.parametrize("page", PAGES)
def test_c_walkthrough(page, tmp_path):
    found = blocks(page)
    for kind, name, body in found:
        if kind == "file":
            (tmp_path / name).write_text(body)
    programs = [(name, body) for kind, name, body in found if kind == "c"]
    assert programs, f"{page} has no C walkthrough"
    for name, body in programs:
        (tmp_path / name).write_text(body)
        exe = tmp_path / name.removesuffix(".c")
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-std=c99", "-D_POSIX_C_SOURCE=200809L",
                        f"-I{ROOT / 'include'}", name, f"-L{LIB_DIR}", "-lorderbase", f"-Wl,-rpath,{LIB_DIR}", "-o", str(exe)],
                       cwd=tmp_path, check=True)
        run = subprocess.run([str(exe), "data"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        expected = "".join(b for k, n, b in found if k == "output" and n == name)
        assert normalized(run.stdout) == expected


@pytest.mark.parametrize("page", PAGES)
def test_rest_walkthrough(page, tmp_path):
    found = blocks(page)
    # The previous walkthrough's server may still be closing: wait (bounded) for the port.
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", 8080)) != 0:
                break
        if time.monotonic() > deadline:
            pytest.fail("the walkthrough serves on port 8080, which something else is using")
        time.sleep(0.1)
    for kind, name, body in found:
        if kind == "file":
            (tmp_path / name).write_text(body)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "orderbase").symlink_to(CLI)
    # The harness stops whatever the session left running, even when it fails.
    # It waits for them to exit, so the port is free when the next walkthrough starts.
    script = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT\n" + "".join(b for k, n, b in found if k == "sh")
    # python3 is the suite's own (its venv has aiosmtpd, which docs/notifications.md runs).
    env = dict(os.environ, PATH=f"{bin_dir}:{pathlib.Path(sys.executable).parent}:{os.environ['PATH']}")
    env.pop("ORDERBASE_DATA", None)
    log = tmp_path / "serve.log"
    # Its own process group: a session that hangs is killed whole, servers included,
    # so the next walkthrough finds its port free.
    proc = subprocess.Popen(["bash", "-c", script], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail("the walkthrough did not finish in 300 s:\n" + stderr + (log.read_text() if log.exists() else ""))
    run = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert run.returncode == 0, run.stderr + (log.read_text() if log.exists() else "")
    expected = "".join(b for k, n, b in found if k == "output" and n == "sh")
    assert normalized(run.stdout) == expected
