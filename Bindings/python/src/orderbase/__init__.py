"""Orderbase for Python: an embeddable order-management engine (liborderbase.so).

    import orderbase

    with orderbase.Engine("data/shop") as engine:
        engine.tenants.create("acme", settings={"default_currency": "GBP"})
        with engine.tenant("acme") as acme:
            order = acme.orders.create(line_items=[{"sku": "85123A", "title": "Heart holder",
                                                    "quantity": 6, "unit_price": 255}])
            acme.orders.transition(order["id"], "confirmed")
            for o in acme.orders.list(status="confirmed"):
                print(o["number"], o["total"], o["currency"])

Methods and their requests: docs/methods.md. Errors: one exception per code
(orderbase.NotFound, orderbase.VersionConflict, ...), all subclasses of
orderbase.Error. Calls release the GIL; engines and tenants may be shared
across threads.
"""
from . import _native
from ._engine import WRAPPERS, Engine, Subscription, Tenant, derive
from .errors import (AlreadyExists, Busy, Corruption, Error, IdempotencyMismatch, InternalError, InvalidArgument,
                     InvalidState, InvalidTransition, IoError, LimitExceeded, Misuse, NotFound, OnHold, VersionConflict,
                     GuardFailed, NotPermitted)
from ._native import LibraryNotFound

__version__ = "0.1.0"
library_path = _native.library_path


def library_version() -> str:
    """The version of the loaded liborderbase.so."""
    return _native.lib.orderbase_version_string().decode()


__all__ = [
    "Engine", "Tenant", "Subscription", "WRAPPERS", "derive", "Error", "InvalidArgument", "NotFound", "AlreadyExists", "VersionConflict",
    "InvalidTransition", "IdempotencyMismatch", "Busy", "IoError", "Corruption", "Misuse", "LimitExceeded",
    "InternalError", "InvalidState", "OnHold", "GuardFailed", "NotPermitted", "LibraryNotFound", "library_path", "library_version",
]
