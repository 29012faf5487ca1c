"""The callback mechanism: callables stay alive while C holds them, are freed by
user_data_free, run on C threads, and report exceptions instead of swallowing them."""
import ctypes
import gc
import shutil
import subprocess
import sys
import weakref

import pytest

from orderbase._callbacks import CallbackRegistry

PROTOTYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int64, ctypes.c_char_p, ctypes.c_void_p)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.fail("a C compiler is needed to build the callback probe")
    out = tmp_path_factory.mktemp("probe") / "libprobe.so"
    src = __file__.replace("test_callbacks.py", "callback_probe.c")
    subprocess.run([cc, "-shared", "-fPIC", "-O2", src, "-o", str(out), "-lpthread"], check=True)
    lib = ctypes.CDLL(str(out))
    lib.probe_register.argtypes = [PROTOTYPE, ctypes.c_void_p, ctypes.c_void_p]
    lib.probe_fire.argtypes = [ctypes.c_int64]
    lib.probe_fire.restype = ctypes.c_int
    return lib


def test_callable_lives_until_user_data_free(probe):
    registry = CallbackRegistry()
    seen = []

    class Handler:
        def __call__(self, value, text):
            seen.append((value, text.decode()))
            return 0

    handler = Handler()
    alive = weakref.ref(handler)
    thunk, user_data, user_data_free = registry.register(handler, PROTOTYPE)
    probe.probe_register(thunk, user_data, ctypes.cast(user_data_free, ctypes.c_void_p))
    del handler, thunk
    gc.collect()
    assert alive() is not None, "the registry must keep the callable alive while C holds it"
    assert probe.probe_fire(7) == 0
    assert probe.probe_fire(8) == 0
    assert seen == [(7, "from a C thread"), (8, "from a C thread")]
    assert len(registry) == 1
    probe.probe_unregister()          # the library calls user_data_free
    assert len(registry) == 0
    gc.collect()
    assert alive() is None, "after user_data_free the callable is released"


def test_exceptions_are_reported_not_swallowed(probe, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))
    registry = CallbackRegistry()

    def broken(value, text):
        raise ValueError(f"bad {value}")

    thunk, user_data, user_data_free = registry.register(broken, PROTOTYPE, error_result=1)
    probe.probe_register(thunk, user_data, ctypes.cast(user_data_free, ctypes.c_void_p))
    assert probe.probe_fire(3) == 1, "a failing callback answers 'retry later' (non-zero)"
    assert [str(e) for e in reported] == ["bad 3"]
    assert [str(e) for e in registry.errors] == ["bad 3"]
    probe.probe_unregister()
    assert len(registry) == 0
