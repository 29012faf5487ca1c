"""Where the package looks for liborderbase.so, and what it says when it cannot find it."""
import os
import subprocess
import sys

import orderbase


def run(env_changes):
    env = dict(os.environ)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return subprocess.run([sys.executable, "-c", "import orderbase; print(orderbase.library_path)"],
                          env=env, capture_output=True, text=True)


def test_orderbase_library_variable_wins():
    r = run({"ORDERBASE_LIBRARY": orderbase.library_path})
    assert r.returncode == 0 and r.stdout.strip() == orderbase.library_path


def test_a_bad_orderbase_library_is_an_error_naming_it():
    r = run({"ORDERBASE_LIBRARY": "/nowhere/liborderbase.so"})
    assert r.returncode != 0
    assert "ORDERBASE_LIBRARY=/nowhere/liborderbase.so could not be loaded" in r.stderr


def test_without_the_variable_the_package_finds_a_library_and_says_where():
    r = run({"ORDERBASE_LIBRARY": None})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("liborderbase.so") or ".so." in r.stdout


def test_not_found_lists_every_place_tried():
    from orderbase import _native
    # The real message, from a run that cannot find anything: no variable, a
    # package copy outside any checkout, an empty loader path.
    code = ("import sys, types, importlib.util, pathlib;"
            "spec = importlib.util.spec_from_file_location('n', sys.argv[1]);"
            "m = importlib.util.module_from_spec(spec)\n"
            "try:\n spec.loader.exec_module(m)\nexcept ImportError as e:\n print(e)")
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, "_native.py")
        shutil.copy(_native.__file__, copy)
        env = {k: v for k, v in os.environ.items() if k not in ("ORDERBASE_LIBRARY", "LD_LIBRARY_PATH")}
        r = subprocess.run([sys.executable, "-c", code, copy], env=env, capture_output=True, text=True, cwd=d)
    out = r.stdout
    assert "liborderbase.so not found" in out
    assert "ORDERBASE_LIBRARY (not set)" in out
    assert os.path.join(d, "lib", "liborderbase.so") in out
    assert "system loader path" in out
