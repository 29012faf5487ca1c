"""Keeping Python callables alive while C code holds them.

The C ABI registers callbacks as (function, user_data, user_data_free): the
library may call `function(..., user_data)` on its own threads until it calls
`user_data_free(user_data)`. Python must keep both the callable and the ctypes
thunk wrapping it alive for exactly that long, or the library would call freed
memory. `CallbackRegistry` does that:

- `register()` returns the thunk, an integer token as `user_data`, and a
  `user_data_free` thunk; the registry holds strong references until the
  library calls `user_data_free` with that token (or the owner calls `release`).
- An exception raised by the callable is never swallowed: it is reported
  through `sys.unraisablehook` (the standard place for errors raised in
  callbacks that cannot propagate; pytest turns them into warnings) and kept in
  `errors`, and the callback returns `error_result` (non-zero means "retry
  later" for event subscriptions).

Event subscriptions (a later issue) are built on this; tests/test_callbacks.py
exercises it against a small C library that calls back from its own thread.
"""
from __future__ import annotations

import ctypes
import sys
import threading
from typing import Any, Callable, Dict, List, Tuple

__all__ = ["CallbackRegistry", "USER_DATA_FREE"]

USER_DATA_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class CallbackRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 1
        self._live: Dict[int, Tuple[Callable[..., Any], Any]] = {}
        self.errors: List[BaseException] = []
        self._free_thunk = USER_DATA_FREE(self._free)  # lives as long as the registry

    def register(self, fn: Callable[..., Any], prototype: Any, error_result: Any = 1) -> Tuple[Any, int, Any]:
        """Wraps `fn` in a ctypes thunk of `prototype` (a CFUNCTYPE whose last
        argument is the void* user_data). Returns (thunk, user_data, user_data_free)."""

        def trampoline(*args: Any) -> Any:
            try:
                return fn(*args[:-1])
            except BaseException as e:  # reported, never swallowed
                with self._lock:
                    self.errors.append(e)
                sys.unraisablehook(_Unraisable(e, fn))
                return error_result

        thunk = prototype(trampoline)
        with self._lock:
            token = self._next
            self._next += 1
            self._live[token] = (fn, thunk)
        return thunk, token, self._free_thunk

    def _free(self, user_data: Any) -> None:
        with self._lock:
            self._live.pop(int(user_data or 0), None)

    def release(self, token: int) -> None:
        """Drops a registration the library will never free (e.g. it failed)."""
        self._free(token)

    def __len__(self) -> int:
        with self._lock:
            return len(self._live)


class _Unraisable:
    """The argument sys.unraisablehook expects."""

    def __init__(self, exc: BaseException, obj: Any) -> None:
        self.exc_type = type(exc)
        self.exc_value = exc
        self.exc_traceback = exc.__traceback__
        self.err_msg = "Exception ignored in orderbase callback"
        self.object = obj
