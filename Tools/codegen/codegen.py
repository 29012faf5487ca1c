"""Helpers shared by the field generators (order_fields.py, record_fields.py)."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def camel(s):
    parts = s.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def indent(text, n):
    pad = " " * n
    return "\n".join(pad + line if line.strip() else line for line in text.split("\n"))


def emit(outputs, what, script):
    """Writes each {path: text} that differs, or with --check only reports them and exits 1."""
    check = "--check" in sys.argv[1:]
    stale = []
    for path, text in outputs.items():
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            stale.append(os.path.relpath(path, ROOT))
            if not check:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
    if check and stale:
        print(f"stale generated {what} (run python3 {script}):", ", ".join(stale))
        sys.exit(1)
    print(f"{what}:", "rewrote " + ", ".join(stale) if stale else "up to date")
