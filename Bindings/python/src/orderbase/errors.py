"""Errors: one exception class per stable error code (docs/errors.md)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Type

__all__ = [
    "Error", "InvalidArgument", "NotFound", "AlreadyExists", "VersionConflict", "InvalidTransition",
    "IdempotencyMismatch", "Busy", "IoError", "Corruption", "Misuse", "LimitExceeded", "InternalError",
    "InvalidState",
    "OnHold",
    "GuardFailed",
    "NotPermitted",
]


class Error(Exception):
    """An Orderbase error. `code` is the stable name ("not_found"), `number` the C
    return code, `field` the offending request field path, `details` extras."""

    code = "unknown"
    number = 0

    def __init__(self, message: str, *, code: Optional[str] = None, number: Optional[int] = None,
                 field: Optional[str] = None, details: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if number is not None:
            self.number = number
        self.field = field
        self.details = details or {}

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.code}: {self.message}{where}"


class InvalidArgument(Error):
    code, number = "invalid_argument", -1


class NotFound(Error):
    code, number = "not_found", -2


class AlreadyExists(Error):
    code, number = "already_exists", -3


class VersionConflict(Error):
    code, number = "version_conflict", -4


class InvalidTransition(Error):
    code, number = "invalid_transition", -5


class IdempotencyMismatch(Error):
    code, number = "idempotency_mismatch", -6


class Busy(Error):
    code, number = "busy", -7


class IoError(Error):
    code, number = "io_error", -8


class Corruption(Error):
    code, number = "corruption", -9


class Misuse(Error):
    """NULL/closed handle use; also raised by the bindings for use after close."""
    code, number = "misuse", -10


class LimitExceeded(Error):
    code, number = "limit_exceeded", -11


class InternalError(Error):
    code, number = "internal", -12


class InvalidState(Error):
    code, number = "invalid_state", -13


class OnHold(Error):
    code, number = "on_hold", -14


class GuardFailed(Error):
    code, number = "guard_failed", -15


class NotPermitted(Error):
    code, number = "not_permitted", -16


BY_CODE: Dict[str, Type[Error]] = {
    cls.code: cls
    for cls in (InvalidArgument, NotFound, AlreadyExists, VersionConflict, InvalidTransition, IdempotencyMismatch,
                Busy, IoError, Corruption, Misuse, LimitExceeded, InternalError, InvalidState, OnHold,
                GuardFailed, NotPermitted)
}


def from_error_object(obj: Dict[str, Any], number: int) -> Error:
    """Builds the exception for an {"error": {...}} object."""
    err = obj.get("error") or {}
    code = err.get("code", "unknown")
    cls = BY_CODE.get(code, Error)
    return cls(err.get("message", ""), code=code, number=number, field=err.get("field"), details=err.get("details"))
