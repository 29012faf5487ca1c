"""`orderbase import` and `export` on the real data set of ../shared/data."""
import csv
import gzip
import io
import json
import pathlib

from conftest import run_cli

DATA = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "online-retail-2010-12-to-2011-09.csv.gz"


def first_lines(n, dest):
    with gzip.open(DATA, "rt", newline="") as src, open(dest, "w", newline="") as out:
        for i, line in enumerate(src):
            if i > n:
                break
            out.write(line)
    return dest


def test_import_the_real_csv_resumes_and_exports(tmp_path):
    data = tmp_path / "data"
    run_cli("tenants", "create", "retail", "--settings", '{"default_currency":"GBP"}', data=data)
    part = first_lines(20000, tmp_path / "part.csv")
    # Expected from the file itself: invoices, credit notes, stock adjustments.
    invoices = {}
    with open(part, newline="") as f:
        for row in csv.DictReader(f):
            invoices.setdefault(row["InvoiceNo"], []).append(row)
    credit = sum(1 for k in invoices if k.startswith("C"))
    adjust = sum(1 for k, rows in invoices.items() if not k.startswith("C")
                 and all(int(r["Quantity"]) <= 0 or r["UnitPrice"].startswith("-") for r in rows))
    orders = len(invoices) - credit - adjust
    opts = ["--engine-options", '{"max_line_items":1000}']
    first = json.loads(run_cli("import", "--tenant", "retail", str(part), "--json", "--progress", "lines", *opts, data=data).stdout)
    assert first["created"] == orders and first["skipped_credit_notes"] == credit
    assert first["skipped_adjustments"] == adjust and first["failed"] == 0
    again = json.loads(run_cli("import", "--tenant", "retail", str(part), "--json", "--progress", "none", *opts, data=data).stdout)
    assert again["created"] == 0 and again["skipped_duplicates"] == orders

    exported = run_cli("export", "--tenant", "retail", "--format", "jsonl", data=data)
    lines = exported.stdout.splitlines()
    assert len(lines) == orders and f"exported {orders} orders" in exported.stderr
    first_order = json.loads(lines[0])
    assert first_order["source"] == {"name": "online-retail", "external_id": "536365"}
    assert first_order["placed_at"] == "2010-12-01T08:26:00.000Z" and first_order["customer"] == {"id": "17850"}
    rows = list(csv.DictReader(io.StringIO(run_cli("export", "--tenant", "retail", "--format", "csv", data=data).stdout)))
    lines_in = sum(len(r) for k, r in invoices.items() if not k.startswith("C") and len(r) and
                   not all(int(x["Quantity"]) <= 0 or x["UnitPrice"].startswith("-") for x in r))
    assert len(rows) == lines_in and rows[0]["sku"] == "85123A" and rows[0]["unit_price"] == "255"


def test_the_default_line_limit_stops_a_large_invoice_with_a_hint(tmp_path):
    data = tmp_path / "data"
    run_cli("tenants", "create", "retail", data=data)
    p = run_cli("import", "--tenant", "retail", str(first_lines(3000, tmp_path / "p.csv")), "--progress", "none",
                data=data, check=False)
    assert p.returncode == 1
    assert "line_items has more than 500 entries" in p.stdout and "max_line_items" in p.stdout
    p = run_cli("import", "--tenant", "retail", str(tmp_path / "p.csv"), "--progress", "none", "--on-error", "skip",
                data=data, check=False)
    with open(tmp_path / "p.csv", newline="") as f:
        sizes = {}
        for row in csv.DictReader(f):
            sizes[row["InvoiceNo"]] = sizes.get(row["InvoiceNo"], 0) + 1
    large = sum(1 for n in sizes.values() if n > 500)
    assert large >= 1 and p.returncode == 3 and f"failed: {large}\n" in p.stdout
    assert p.stdout.count("raise the engine option max_line_items") == large


def test_jsonl_import_reports_bad_lines(tmp_path):
    data = tmp_path / "data"
    run_cli("tenants", "create", "shop", data=data)
    f = tmp_path / "orders.jsonl"
    f.write_text('{"line_items":[{"title":"a","quantity":1,"unit_price":5}]}\n{"line_items":[]}\nnot json\n')
    p = run_cli("import", "--tenant", "shop", str(f), "--on-error", "skip", "--progress", "none", data=data, check=False)
    assert p.returncode == 3
    assert "created: 1" in p.stdout and "line 2: invalid_argument" in p.stdout and "line 3: invalid_argument: malformed JSON" in p.stdout


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise(tmp_path):
    import os
    import subprocess

    from conftest import CLI
    data = tmp_path / "data"
    run_cli("tenants", "create", "shop", data=data)
    f = tmp_path / "orders.jsonl"
    f.write_text("".join('{"line_items":[{"title":"t%d","quantity":1,"unit_price":5}]}\n' % n for n in range(50)))
    # stderr on a pseudo-terminal: --progress auto draws the bar.
    master, slave = os.openpty()
    p = subprocess.run([CLI, "import", "--tenant", "shop", str(f), "--data", str(data)], stderr=slave,
                       stdout=subprocess.PIPE, timeout=120)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.returncode == 0
    assert b"\r[" in out and b"] 100%" in out and b"50 orders" in out
    # A pipe: plain lines.
    lines = run_cli("import", "--tenant", "shop", str(f), data=data).stderr
    assert "\r" not in lines and lines.startswith("done: 100% of the file, 50 orders")
