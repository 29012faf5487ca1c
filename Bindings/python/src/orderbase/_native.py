"""Loading liborderbase.so and declaring its C functions (ctypes).

Search order (the first that exists wins):
  1. the ORDERBASE_LIBRARY environment variable (a path; if set and unloadable, that is an error)
  2. a copy shipped inside this package (orderbase/lib/liborderbase.so, put there by `make python-wheel`)
  3. the project's build folder, when the package is imported from a checkout (build/lib/liborderbase.so)
  4. the system loader path (liborderbase.so.0, then liborderbase.so)
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import List, Optional

try:
    from ._callbacks import USER_DATA_FREE
except ImportError:  # this file loaded on its own (tests/test_loading.py copies it)
    USER_DATA_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

__all__ = ["lib", "library_path", "LibraryNotFound"]


class LibraryNotFound(ImportError):
    """liborderbase.so could not be loaded; the message lists every place tried."""


class ErrorStruct(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_int),
        ("category", ctypes.c_char_p),
        ("message", ctypes.c_char_p),
        ("json", ctypes.c_char_p),
    ]


def _candidates() -> List[str]:
    here = Path(__file__).resolve().parent
    found: List[str] = [str(here / "lib" / "liborderbase.so")]
    for parent in list(here.parents)[:6]:
        found.append(str(parent / "build" / "lib" / "liborderbase.so"))
    return found


def _load() -> "tuple[ctypes.CDLL, str]":
    tried: List[str] = []
    explicit = os.environ.get("ORDERBASE_LIBRARY")
    if explicit:
        try:
            return ctypes.CDLL(explicit), explicit
        except OSError as e:
            raise LibraryNotFound(f"ORDERBASE_LIBRARY={explicit} could not be loaded: {e}") from None
    tried.append("ORDERBASE_LIBRARY (not set)")
    for path in _candidates():
        if os.path.exists(path):
            try:
                return ctypes.CDLL(path), path
            except OSError as e:
                tried.append(f"{path} ({e})")
        else:
            tried.append(f"{path} (missing)")
    for name in ("liborderbase.so.0", "liborderbase.so", ctypes.util.find_library("orderbase")):
        if not name:
            continue
        try:
            return ctypes.CDLL(name), name
        except OSError:
            tried.append(f"{name} on the system loader path (not found)")
    raise LibraryNotFound(
        "liborderbase.so not found. Build it with `make lib` in the Orderbase checkout, or set "
        "ORDERBASE_LIBRARY to its path. Looked in:\n  " + "\n  ".join(tried)
    )


lib, library_path = _load()

_vp = ctypes.c_void_p
_cp = ctypes.c_char_p
_int = ctypes.c_int

# Every call into the library releases the GIL (ctypes.CDLL does so for each
# foreign call), so threads sharing an engine run concurrently in the engine.
lib.orderbase_engine_open.argtypes = [ctypes.POINTER(_vp), _cp, _cp]
lib.orderbase_engine_open.restype = _int
lib.orderbase_engine_close.argtypes = [_vp]
lib.orderbase_engine_close.restype = None
lib.orderbase_engine_call.argtypes = [_vp, _cp, _cp, ctypes.POINTER(_vp)]
lib.orderbase_engine_call.restype = _int
lib.orderbase_tenant_create.argtypes = [_vp, _cp, _cp]
lib.orderbase_tenant_create.restype = _int
lib.orderbase_tenant_open.argtypes = [ctypes.POINTER(_vp), _vp, _cp]
lib.orderbase_tenant_open.restype = _int
lib.orderbase_tenant_close.argtypes = [_vp]
lib.orderbase_tenant_close.restype = None
lib.orderbase_call.argtypes = [_vp, _cp, _cp, ctypes.POINTER(_vp)]
lib.orderbase_call.restype = _int
lib.orderbase_free.argtypes = [_vp]
lib.orderbase_free.restype = None
lib.orderbase_error_last.argtypes = []
lib.orderbase_error_last.restype = ctypes.POINTER(ErrorStruct)
lib.orderbase_strerror.argtypes = [_int]
lib.orderbase_strerror.restype = _cp
lib.orderbase_version_string.argtypes = []
lib.orderbase_version_string.restype = _cp
lib.orderbase_version_number.argtypes = []
lib.orderbase_version_number.restype = _int

# Attachments: files in and out of the tenant's file store (docs/attachments.md).
lib.orderbase_upload_begin.argtypes = [ctypes.POINTER(_vp), _vp, _cp]
lib.orderbase_upload_begin.restype = _int
lib.orderbase_upload_write.argtypes = [_vp, ctypes.c_char_p, ctypes.c_size_t]
lib.orderbase_upload_write.restype = _int
lib.orderbase_upload_finish.argtypes = [_vp, ctypes.POINTER(_vp)]
lib.orderbase_upload_finish.restype = _int
lib.orderbase_upload_abort.argtypes = [_vp]
lib.orderbase_upload_abort.restype = None
lib.orderbase_attachment_read.argtypes = [_vp, _cp, ctypes.c_uint64, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
lib.orderbase_attachment_read.restype = _int

# Subscriptions: the event callback gets (event_json, len, user_data); user_data
# is a CallbackRegistry token (_callbacks.py keeps the callable alive until freed).
EVENT_CALLBACK = ctypes.CFUNCTYPE(_int, _vp, ctypes.c_size_t, _vp)
lib.orderbase_subscribe.argtypes = [ctypes.POINTER(_vp), _vp, _cp, _cp, EVENT_CALLBACK, _vp, USER_DATA_FREE]
lib.orderbase_subscribe.restype = _int
# int (*)(const char *tenant_id, const char *notification_json, size_t len, void *user_data)
NOTIFICATION_CALLBACK = ctypes.CFUNCTYPE(_int, _cp, _vp, ctypes.c_size_t, _vp)
lib.orderbase_engine_set_notification_handler.argtypes = [_vp, NOTIFICATION_CALLBACK, _vp, USER_DATA_FREE]
lib.orderbase_engine_set_notification_handler.restype = _int
# int (*)(const char *tenant_id, const char *request_json, size_t len, char *reply, size_t reply_cap, void *user_data)
PAYMENT_CALLBACK = ctypes.CFUNCTYPE(_int, _cp, _vp, ctypes.c_size_t, _vp, ctypes.c_size_t, _vp)
lib.orderbase_engine_set_payment_handler.argtypes = [_vp, PAYMENT_CALLBACK, _vp, USER_DATA_FREE]
lib.orderbase_engine_set_payment_handler.restype = _int
lib.orderbase_unsubscribe.argtypes = [_vp]
lib.orderbase_unsubscribe.restype = _int
lib.orderbase_engine_pump.argtypes = [_vp, _int]
lib.orderbase_engine_pump.restype = _int


def take_string(ptr: Optional[int]) -> Optional[bytes]:
    """Copies a library-owned string and frees it with orderbase_free."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr)
    finally:
        lib.orderbase_free(ptr)
