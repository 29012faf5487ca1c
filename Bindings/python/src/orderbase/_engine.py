"""Engine and Tenant: the Python face of liborderbase.so."""
from __future__ import annotations

import ctypes
import json
import os
import threading
from typing import Any, Dict, Iterator, List, Mapping, Optional, Union

from . import _native
from ._callbacks import CallbackRegistry
from .errors import Error, Misuse, from_error_object

__all__ = ["Engine", "Tenant", "Subscription", "derive"]

Json = Dict[str, Any]
Request = Optional[Mapping[str, Any]]
PathLike = Union[str, "os.PathLike[str]"]


def _encode(request: Request) -> Optional[bytes]:
    if request is None:
        return None
    return json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _merge(request: Request, fields: Mapping[str, Any]) -> Json:
    merged: Json = dict(request or {})
    merged.update({k: v for k, v in fields.items() if v is not None})
    return merged


def _finish(rc: int, out: ctypes.c_void_p) -> Json:
    raw = _native.take_string(out.value)
    if rc == 0:
        return json.loads(raw) if raw else {}
    if raw:
        raise from_error_object(json.loads(raw), rc)
    last = _native.lib.orderbase_error_last().contents
    raise from_error_object({"error": {"code": (last.category or b"unknown").decode(),
                                       "message": (last.message or b"").decode()}}, rc)


def _check(rc: int) -> None:
    """Raises for a return code of a function without a response string."""
    if rc == 0:
        return
    last = _native.lib.orderbase_error_last().contents
    raise from_error_object(json.loads(last.json.decode("utf-8")), rc)


class _Handle:
    """A handle that closes exactly once (with `_release`) and refuses use after close."""

    def __init__(self, what: str, release: Any) -> None:
        self._what = what
        self._release = release
        self._ptr: Optional[int] = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Closes the handle; idempotent."""
        ptr = self._take()
        if ptr is not None:
            self._release(ptr)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _get(self) -> int:
        ptr = self._ptr
        if ptr is None:
            raise Misuse(f"{self._what} is closed")
        return ptr

    def _take(self) -> Optional[int]:
        with self._lock:
            ptr, self._ptr = self._ptr, None
            return ptr

    @property
    def closed(self) -> bool:
        return self._ptr is None


class Engine(_Handle):
    """An Orderbase engine on a directory. Safe to share across threads.

        with orderbase.Engine("/var/lib/shop", durability="sync") as engine:
            engine.tenants.create("acme", settings={"default_currency": "GBP"})
            with engine.tenant("acme") as acme:
                order = acme.orders.create(line_items=[{"title": "Mug", "quantity": 1, "unit_price": 500}])

    Options are the engine options of include/orderbase.h (durability,
    max_open_tenants, background, max_request_bytes, max_line_items,
    max_metadata_bytes, block_cache_bytes, webhook_allow_http,
    webhook_allowed_addresses, webhook_connect_timeout_ms, webhook_timeout_ms,
    tls_ca_file, expression_max_steps, expression_max_bytes, template_max_steps,
    template_max_output_bytes, attachment_max_bytes, attachment_quota_bytes,
    attachment_content_types). `close()` is idempotent and also
    closes tenants opened from this engine.
    """

    def __init__(self, root: PathLike, **options: Any) -> None:
        super().__init__("engine", _native.lib.orderbase_engine_close)
        handle = ctypes.c_void_p()
        _check(_native.lib.orderbase_engine_open(ctypes.byref(handle), os.fsencode(root),
                                                 _encode(options) if options else None))
        self._ptr = handle.value
        self.root = os.fspath(root)
        self.tenants = _Tenants(self)
        self.methods = _Methods(self)
        self.api_keys = _APIKeys(self)
        self.notification_errors: List[BaseException] = []
        self.payment_errors: List[BaseException] = []

    def call(self, method: str, request: Request = None) -> Json:
        """Calls an engine-level method by name (tenants.*, api_keys.*, methods.list)."""
        out = ctypes.c_void_p()
        rc = _native.lib.orderbase_engine_call(self._get(), method.encode("utf-8"), _encode(request), ctypes.byref(out))
        return _finish(rc, out)

    def tenant(self, tenant_id: str) -> "Tenant":
        """Opens a tenant (a context manager; close it when done)."""
        return Tenant(self, tenant_id)

    def __getattr__(self, name: str) -> Any:
        """A method group with no hand-written wrappers: derived from the catalogue."""
        return _derived_namespace(self, name)

    def pump(self, max_ms: int = 1000) -> int:
        """Delivers waiting events to subscriptions and makes due webhook and
        notification attempts on this thread (engines opened with
        background=False); returns how many were delivered or attempted."""
        rc = _native.lib.orderbase_engine_pump(self._get(), int(max_ms))
        if rc < 0:
            _check(rc)
        return rc

    def on_notification(self, callback: Any) -> None:
        """Sends the notifications of "callback" channels (docs/notifications.md):
        `callback(tenant_id, notification)` runs on the delivery thread (or in
        pump()) with the rendered notification; returning None or True means
        sent, False means "try again later" (the retry schedule applies). An
        exception counts as False and is reported (sys.unraisablehook,
        `notification_errors`). `on_notification(None)` removes it."""
        if callback is None:
            _check(_native.lib.orderbase_engine_set_notification_handler(self._get(), _native.NOTIFICATION_CALLBACK(), None, _native.USER_DATA_FREE()))
            return

        def send(tenant: bytes, ptr: int, length: int) -> int:
            try:
                result = callback(tenant.decode("utf-8"), json.loads(ctypes.string_at(ptr, length)))
            except BaseException as exc:
                self.notification_errors.append(exc)
                raise
            return 1 if result is False else 0

        thunk, token, free = _SUBSCRIPTIONS.register(send, _native.NOTIFICATION_CALLBACK, error_result=1)
        rc = _native.lib.orderbase_engine_set_notification_handler(self._get(), thunk, token, free)
        if rc != 0:
            _SUBSCRIPTIONS.release(token)
            _check(rc)

    def on_payment(self, callback: Any) -> None:
        """Moves money for payments.capture, payments.refund and payments.void
        (docs/payments.md, "The payment handler"): `callback(tenant_id, request)`
        runs on the calling thread with {"action", "tenant", "transaction",
        "parent", "order"} and answers what the gateway did: a dict
        {"status": "success" | "failure" | "pending", "gateway_id"?,
        "error_code"?, "message"?} ("status" defaults to "success"), or None
        (success) or False (failure). An exception leaves the transaction
        pending (the engine cannot know whether money moved), with its text
        as the message; it is kept in `payment_errors`. `on_payment(None)`
        removes the handler."""
        if callback is None:
            _check(_native.lib.orderbase_engine_set_payment_handler(self._get(), _native.PAYMENT_CALLBACK(), None, _native.USER_DATA_FREE()))
            return
        codes = {"success": 0, "failure": 1, "pending": 2}

        def pay(tenant: bytes, ptr: int, length: int, reply: int, cap: int) -> int:
            try:
                result = callback(tenant.decode("utf-8"), json.loads(ctypes.string_at(ptr, length)))
                if result is None or result is True:
                    result = {}
                elif result is False:
                    result = {"status": "failure"}
                status = result.get("status", "success")
                if status not in codes:
                    raise ValueError(f"payment handler answered status {status!r}; use success, failure or pending")
                answer = {k: v for k, v in result.items() if k in ("gateway_id", "error_code", "message") and v is not None}
                code = codes[status]
            except BaseException as exc:  # the transaction stays pending; the error is kept
                self.payment_errors.append(exc)
                answer = {"message": f"payment handler raised {type(exc).__name__}: {exc}"[:1000]}
                code = 2
            data = json.dumps(answer).encode("utf-8")[: cap - 1]
            ctypes.memmove(reply, data, len(data))
            ctypes.memset(reply + len(data), 0, 1)
            return code

        thunk, token, free = _SUBSCRIPTIONS.register(pay, _native.PAYMENT_CALLBACK, error_result=2)
        rc = _native.lib.orderbase_engine_set_payment_handler(self._get(), thunk, token, free)
        if rc != 0:
            _SUBSCRIPTIONS.release(token)
            _check(rc)

    def __enter__(self) -> "Engine":
        return self

    def __repr__(self) -> str:
        return f"<orderbase.Engine {self.root!r}{' closed' if self.closed else ''}>"


class Tenant(_Handle):
    """One tenant of an engine: orders, events, audit. Safe to share across threads."""

    def __init__(self, engine: Engine, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id}", _native.lib.orderbase_tenant_close)
        handle = ctypes.c_void_p()
        _check(_native.lib.orderbase_tenant_open(ctypes.byref(handle), engine._get(), tenant_id.encode("utf-8")))
        self._ptr = handle.value
        self.engine = engine
        self.id = tenant_id
        self.orders = _Orders(self)
        self.events = _Events(self)
        self.audit = _Audit(self)
        self.integrity = _Integrity(self)
        self.expressions = _Expressions(self)
        self.workflows = _Workflows(self)
        self.approvals = _Approvals(self)
        self.webhooks = _Webhooks(self)
        self.deliveries = _Deliveries(self)
        self.notification_channels = _NotificationChannels(self)
        self.notification_templates = _NotificationTemplates(self)
        self.notifications = _Notifications(self)
        self.attachments = _Attachments(self)

    def subscribe(self, name: str, callback: Any, event_types: Optional[List[str]] = None) -> "Subscription":
        """Delivers this tenant's events to `callback(event)` at least once, in order,
        from the durable cursor `name` (see Subscription)."""
        return Subscription(self, name, callback, event_types)

    def call(self, method: str, request: Request = None) -> Json:
        """Calls a tenant method by name, e.g. call("orders.create", {...})."""
        out = ctypes.c_void_p()
        rc = _native.lib.orderbase_call(self._get(), method.encode("utf-8"), _encode(request), ctypes.byref(out))
        return _finish(rc, out)

    def __getattr__(self, name: str) -> Any:
        """A method group with no hand-written wrappers (consumers, …): derived from the catalogue."""
        if name in ("engine", "id"):  # not set yet (a failed open): never a method group
            raise AttributeError(name)
        return _derived_namespace(self, name)

    def __enter__(self) -> "Tenant":
        return self

    def __repr__(self) -> str:
        return f"<orderbase.Tenant {self.id!r}{' closed' if self.closed else ''}>"


class Subscription(_Handle):
    """A tenant's events delivered to a Python callable, at least once and in order.

        def on_event(event):
            print(event["sequence"], event["type"])      # return False to be asked again later

        sub = tenant.subscribe("mailer", on_event, event_types=["order.*"])
        ...
        sub.close()                                       # or engine.close()

    The cursor named `name` lives in the tenant's database: subscribing again
    with the same name resumes after the last event the callable accepted.
    The callable runs on the engine's delivery thread (or inside `engine.pump()`
    for engines opened with background=False). Returning None or True accepts
    the event; returning False asks for it again later (after 1 s, 2 s, 4 s …
    at most 60 s). An exception counts as False and is reported, not
    swallowed: it goes to `sys.unraisablehook` and is kept in `errors`. The
    callable and its thunk stay alive until the library frees them
    (`_callbacks.CallbackRegistry`).
    """

    def __init__(self, tenant: "Tenant", name: str, callback: Any, event_types: Optional[List[str]] = None) -> None:
        super().__init__(f"subscription {name}", _native.lib.orderbase_unsubscribe)
        self.name = name
        self.errors: List[BaseException] = []

        def deliver(ptr: int, length: int) -> int:
            try:
                result = callback(json.loads(ctypes.string_at(ptr, length)))
            except BaseException as exc:
                self.errors.append(exc)
                raise
            return 1 if result is False else 0

        thunk, token, free = _SUBSCRIPTIONS.register(deliver, _native.EVENT_CALLBACK, error_result=1)
        handle = ctypes.c_void_p()
        types = json.dumps(list(event_types)).encode("utf-8") if event_types is not None else None
        rc = _native.lib.orderbase_subscribe(ctypes.byref(handle), tenant._get(), name.encode("utf-8"), types, thunk, token, free)
        if rc != 0:
            _SUBSCRIPTIONS.release(token)  # the library frees only what it accepted
            _check(rc)
        self._ptr = handle.value
        self.tenant = tenant

    def __enter__(self) -> "Subscription":
        return self

    def __repr__(self) -> str:
        return f"<orderbase.Subscription {self.name!r}{' closed' if self.closed else ''}>"


_SUBSCRIPTIONS = CallbackRegistry()


# ---- Idiomatic wrappers, one per catalogue method ---------------------------
# tests/test_catalogue.py fails when methods.list names a method without one.


def _pages(call: Any, method: str, request: Json, cursor_field: str, cursor_of: Any) -> Iterator[Json]:
    """Yields every item of a cursor-paginated list, fetching pages lazily."""
    request = dict(request)
    while True:
        page = call(method, request)
        data: List[Json] = page.get("data", [])
        yield from data
        if not page.get("has_more") or not data:
            return
        request[cursor_field] = cursor_of(page, data)


def _catalogue(engine: "Engine") -> Dict[str, Json]:
    """The library's methods by name (methods.list), read once per engine."""
    cached = engine.__dict__.get("_methods_by_name")
    if cached is None:
        cached = {m["name"]: m for m in engine.call("methods.list").get("data", [])}
        engine.__dict__["_methods_by_name"] = cached
    return cached


def derive(owner: Any, name: str) -> Any:
    """A wrapper for catalogue method `name`, derived from the catalogue: the
    path parameters of its first REST route are positional (orders.get(id)),
    everything else is a keyword; None-valued keywords are left out.
    `owner` is the Engine (engine methods) or a Tenant. Every method without
    a hand-written wrapper (WRAPPERS) is reached this way, so a method new
    in the library needs no binding code: tenant.<group>.<verb>(...)."""
    engine = owner if isinstance(owner, Engine) else owner.engine
    method = _catalogue(engine).get(name)
    level = "engine" if isinstance(owner, Engine) else "tenant"
    if method is None or method["level"] != level:
        raise AttributeError(f"the library has no {level} method {name}")
    params = [seg[1:-1] for seg in method["path"].split("/") if seg.startswith("{") and seg.endswith("}")]

    def call(*args: Any, **fields: Any) -> Json:
        # One more positional argument may be a dict of fields, for keys that are not
        # identifiers (tags.rename({"from": "a", "to": "b"})), as hand-written wrappers take.
        extra: Json = {}
        if len(args) == len(params) + 1 and isinstance(args[-1], Mapping):
            extra, args = dict(args[-1]), args[:-1]
        if len(args) > len(params):
            raise TypeError(f"{name} takes at most {len(params)} positional argument(s) ({', '.join(params) or 'none'}) and a dict of fields")
        return owner.call(name, _merge({**extra, **dict(zip(params, args))}, fields))

    call.__name__ = name.split(".", 1)[1]
    call.__qualname__ = name
    call.__doc__ = f"{name}: {method['summary']} (derived from the catalogue)"
    return call


class _Namespace:
    """A group of methods (orders, webhooks, …): hand-written wrappers, and
    for any other method of the group in the catalogue, a derived one."""

    _prefix = ""

    def __init__(self, owner: Any, prefix: Optional[str] = None) -> None:
        self._owner = owner
        if prefix is not None:
            self._prefix = prefix

    @property
    def _t(self) -> Any:
        return self._owner

    @property
    def _e(self) -> Any:
        return self._owner

    def __getattr__(self, verb: str) -> Any:
        if verb.startswith("_"):
            raise AttributeError(verb)
        return derive(self._owner, f"{self._prefix}.{verb}")


def _derived_namespace(owner: Any, name: str) -> "_Namespace":
    """`owner.<name>` for a group with no hand-written namespace (AttributeError if the catalogue has none)."""
    if name.startswith("_"):
        raise AttributeError(name)
    engine = owner if isinstance(owner, Engine) else owner.engine
    level = "engine" if isinstance(owner, Engine) else "tenant"
    if not any(m["level"] == level and n.startswith(name + ".") for n, m in _catalogue(engine).items()):
        raise AttributeError(f"{type(owner).__name__} has no attribute or method group {name!r}")
    return _Namespace(owner, name)


class _Tenants(_Namespace):
    _prefix = "tenants"

    def create(self, id: str, settings: Optional[Mapping[str, Any]] = None, **fields: Any) -> Json:
        """tenants.create"""
        return self._e.call("tenants.create", _merge({"id": id, "settings": settings}, fields))

    def list(self, **fields: Any) -> Iterator[Json]:
        """tenants.list, following cursors."""
        return _pages(self._e.call, "tenants.list", _merge(None, fields), "starting_after", lambda p, d: d[-1]["id"])

    def get(self, id: str, **fields: Any) -> Json:
        """tenants.get"""
        return self._e.call("tenants.get", _merge({"id": id}, fields))

    def delete(self, id: str, **fields: Any) -> Json:
        """tenants.delete"""
        return self._e.call("tenants.delete", _merge({"id": id}, fields))


class _APIKeys(_Namespace):
    """API keys for the REST server (`orderbase serve`). tenant=None means operator keys."""

    _prefix = "api_keys"

    def create(self, tenant: Optional[str], scope: str, **fields: Any) -> Json:
        """api_keys.create: the answer's "secret" is shown only this once."""
        return self._e.call("api_keys.create", _merge({"tenant": tenant, "scope": scope}, fields))

    def list(self, tenant: Optional[str], **fields: Any) -> Iterator[Json]:
        """api_keys.list, following cursors (include_revoked=True for all)."""
        return _pages(self._e.call, "api_keys.list", _merge({"tenant": tenant}, fields), "starting_after", lambda p, d: d[-1]["id"])

    def revoke(self, tenant: Optional[str], id: str, **fields: Any) -> Json:
        """api_keys.revoke"""
        return self._e.call("api_keys.revoke", _merge({"tenant": tenant, "id": id}, fields))


class _Methods(_Namespace):
    _prefix = "methods"

    def list(self) -> List[Json]:
        """methods.list: the catalogue."""
        return list(self._e.call("methods.list").get("data", []))


class _Orders(_Namespace):
    _prefix = "orders"

    def create(self, request: Request = None, /, **fields: Any) -> Json:
        """orders.create: create(line_items=[...], currency="GBP", idempotency_key=...)"""
        return self._t.call("orders.create", _merge(request, fields))

    def get(self, id: Optional[str] = None, *, number: Optional[str] = None, **fields: Any) -> Json:
        """orders.get by id or number."""
        return self._t.call("orders.get", _merge({"id": id, "number": number}, fields))

    def list(self, **filters: Any) -> Iterator[Json]:
        """orders.list as an iterator that follows cursors: list(status="pending")."""
        return _pages(self._t.call, "orders.list", _merge(None, filters), "starting_after", lambda p, d: d[-1]["id"])

    def update(self, id: str, request: Request = None, /, **fields: Any) -> Json:
        """orders.update: update(id, note="...", expected_version=3)"""
        return self._t.call("orders.update", _merge(_merge(request, {"id": id}), fields))

    def transition(self, id: str, to: str, **fields: Any) -> Json:
        """orders.transition: transition(id, "confirmed", reason="...")"""
        return self._t.call("orders.transition", _merge({"id": id, "to": to}, fields))

    def cancel(self, id: str, **fields: Any) -> Json:
        """orders.cancel: cancel(id, reason="...")"""
        return self._t.call("orders.cancel", _merge({"id": id}, fields))

    def transitions(self, id: str, **fields: Any) -> Json:
        """orders.transitions: where the order may go now, and why not elsewhere."""
        return self._t.call("orders.transitions", _merge({"id": id}, fields))

    def hold(self, id: str, reason: str, **fields: Any) -> Json:
        """orders.hold: hold(id, "high_risk_of_fraud", note="...")"""
        return self._t.call("orders.hold", _merge({"id": id, "reason": reason}, fields))

    def release_hold(self, id: str, hold_id: str, **fields: Any) -> Json:
        """orders.release_hold"""
        return self._t.call("orders.release_hold", _merge({"id": id, "hold_id": hold_id}, fields))

    def split(self, id: str, line_items: List[Json], **fields: Any) -> Json:
        """orders.split: split(id, [{"line_item_id": ..., "quantity": 1}], note="...") -> {order, new_order, transactions}"""
        return self._t.call("orders.split", _merge({"id": id, "line_items": line_items}, fields))

    def merge(self, id: str, order_ids: List[str], **fields: Any) -> Json:
        """orders.merge: merge(id, [other_id, ...]) -> {order, merged, transactions}"""
        return self._t.call("orders.merge", _merge({"id": id, "order_ids": order_ids}, fields))

    def audit(self, id: str, **fields: Any) -> Iterator[Json]:
        """orders.audit, oldest first, following cursors."""
        return _pages(self._t.call, "orders.audit", _merge({"id": id}, fields), "starting_after", lambda p, d: d[-1]["seq"])


class _Events(_Namespace):
    _prefix = "events"

    def list(self, **fields: Any) -> Iterator[Json]:
        """events.list from after_sequence on, following last_sequence."""
        return _pages(self._t.call, "events.list", _merge(None, fields), "after_sequence", lambda p, d: p["last_sequence"])


class _Audit(_Namespace):
    _prefix = "audit"

    def list(self, subject_type: Optional[str] = None, subject_id: Optional[str] = None, **fields: Any) -> Iterator[Json]:
        """audit.list, oldest first, following cursors: the whole chain; one
        record's trail (subject_type "order", "workflow", "webhook_endpoint", … with its subject_id);
        every entry about an id (subject_id alone) or about one kind (subject_type alone)."""
        request = _merge({"subject_type": subject_type, "subject_id": subject_id} if subject_type or subject_id else None, fields)
        return _pages(self._t.call, "audit.list", request, "starting_after", lambda p, d: d[-1]["seq"])

    def verify(self, **fields: Any) -> Json:
        """audit.verify: walk the hash chain."""
        return self._t.call("audit.verify", _merge(None, fields))


class _Expressions(_Namespace):
    """Expressions in the text form (a str) or JSON-Logic (anything else): docs/expressions.md."""

    _prefix = "expressions"

    def validate(self, expression: Any, **fields: Any) -> Json:
        """expressions.validate: {"valid", "json", "text", "fields"} or {"valid": False, "error"}."""
        return self._t.call("expressions.validate", _merge({"expression": expression}, fields))

    def evaluate(self, expression: Any, **fields: Any) -> Json:
        """expressions.evaluate against order_id=... or data=..."""
        return self._t.call("expressions.evaluate", _merge({"expression": expression}, fields))


class _Workflows(_Namespace):
    """Custom status workflows as data (docs/workflows.md): definitions are dicts with
    key, name, states, transitions and applies_to."""

    _prefix = "workflows"

    def create(self, definition: Request = None, /, **fields: Any) -> Json:
        """workflows.create: version 1 of a new workflow."""
        return self._t.call("workflows.create", _merge(definition, fields))

    def get(self, key: str, **fields: Any) -> Json:
        """workflows.get: the latest version, or version=N."""
        return self._t.call("workflows.get", _merge({"key": key}, fields))

    def list(self, **fields: Any) -> List[Json]:
        """workflows.list: the latest version of each (include_archived=True for all)."""
        return list(self._t.call("workflows.list", _merge(None, fields)).get("data", []))

    def update(self, definition: Request = None, /, **fields: Any) -> Json:
        """workflows.update: the whole definition again, as a new version (expected_version=N guards it)."""
        return self._t.call("workflows.update", _merge(definition, fields))

    def archive(self, key: str, **fields: Any) -> Json:
        """workflows.archive"""
        return self._t.call("workflows.archive", _merge({"key": key}, fields))

    def validate(self, definition: Request = None, /, **fields: Any) -> Json:
        """workflows.validate: {"valid", "errors": [{"field", "message"}]}, saving nothing."""
        return self._t.call("workflows.validate", _merge(definition, fields))

    def migrate(self, key: str, **fields: Any) -> Json:
        """workflows.migrate: migrate(key, mapping={"old": "new"}, to_version=N, dry_run=True)"""
        return self._t.call("workflows.migrate", _merge({"key": key}, fields))

    def simulate(self, order_id: str, to: str, **fields: Any) -> Json:
        """workflows.simulate: what orders.transition would do now (outcome transition, approval_required or refused)."""
        return self._t.call("workflows.simulate", _merge({"order_id": order_id, "to": to}, fields))


class _Approvals(_Namespace):
    """Approval requests made by transitions that need approval. Pass actor={"type": "user", "id": ..., "roles": [...]}."""

    _prefix = "approvals"

    def list(self, **fields: Any) -> Iterator[Json]:
        """approvals.list, newest first, following cursors: list(status="pending")."""
        return _pages(self._t.call, "approvals.list", _merge(None, fields), "starting_after", lambda p, d: d[-1]["id"])

    def get(self, id: str, **fields: Any) -> Json:
        """approvals.get"""
        return self._t.call("approvals.get", _merge({"id": id}, fields))

    def approve(self, id: str, **fields: Any) -> Json:
        """approvals.approve: the last approval needed performs the transition."""
        return self._t.call("approvals.approve", _merge({"id": id}, fields))

    def reject(self, id: str, **fields: Any) -> Json:
        """approvals.reject"""
        return self._t.call("approvals.reject", _merge({"id": id}, fields))

    def cancel(self, id: str, **fields: Any) -> Json:
        """approvals.cancel"""
        return self._t.call("approvals.cancel", _merge({"id": id}, fields))


class _Webhooks(_Namespace):
    """Webhook endpoints (docs/webhooks.md). create() and rotate_secret() answer the secret, once."""

    _prefix = "webhooks"

    def create(self, url: str, **fields: Any) -> Json:
        """webhooks.create: create("https://…", event_types=["order.*"], payload="full")"""
        return self._t.call("webhooks.create", _merge({"url": url}, fields))

    def get(self, id: str, **fields: Any) -> Json:
        """webhooks.get"""
        return self._t.call("webhooks.get", _merge({"id": id}, fields))

    def list(self, **fields: Any) -> List[Json]:
        """webhooks.list"""
        return list(self._t.call("webhooks.list", _merge(None, fields)).get("data", []))

    def update(self, id: str, **fields: Any) -> Json:
        """webhooks.update: update(id, enabled=True, event_types=[...])"""
        return self._t.call("webhooks.update", _merge({"id": id}, fields))

    def delete(self, id: str, **fields: Any) -> Json:
        """webhooks.delete"""
        return self._t.call("webhooks.delete", _merge({"id": id}, fields))

    def rotate_secret(self, id: str, **fields: Any) -> Json:
        """webhooks.rotate_secret: the old secret keeps signing for grace_seconds (default 86400)."""
        return self._t.call("webhooks.rotate_secret", _merge({"id": id}, fields))

    def test(self, id: str, **fields: Any) -> Json:
        """webhooks.test: send a signed webhook.test message now."""
        return self._t.call("webhooks.test", _merge({"id": id}, fields))

    def replay(self, id: str, from_sequence: int, **fields: Any) -> Json:
        """webhooks.replay: queue events from a sequence on again."""
        return self._t.call("webhooks.replay", _merge({"id": id, "from_sequence": from_sequence}, fields))


class _Deliveries(_Namespace):
    _prefix = "deliveries"

    def list(self, **fields: Any) -> Iterator[Json]:
        """deliveries.list, newest first, following cursors: list(endpoint_id=..., status="failed")."""
        return _pages(self._t.call, "deliveries.list", _merge(None, fields), "starting_after", lambda p, d: d[-1]["id"])

    def get(self, id: str, **fields: Any) -> Json:
        """deliveries.get: every attempt with status code, latency and error."""
        return self._t.call("deliveries.get", _merge({"id": id}, fields))

    def retry(self, id: str, **fields: Any) -> Json:
        """deliveries.retry"""
        return self._t.call("deliveries.retry", _merge({"id": id}, fields))


class _NotificationChannels(_Namespace):
    """Notification channels (docs/notifications.md): email (SMTP), sms (HTTP gateway), callback."""

    _prefix = "notification_channels"

    def create(self, name: str, type: str, **fields: Any) -> Json:
        """notification_channels.create: create("mail", "email", email={"host": ..., "from": ...})"""
        return self._t.call("notification_channels.create", _merge({"name": name, "type": type}, fields))

    def get(self, id: str, **fields: Any) -> Json:
        """notification_channels.get"""
        return self._t.call("notification_channels.get", _merge({"id": id}, fields))

    def list(self, **fields: Any) -> List[Json]:
        """notification_channels.list"""
        return list(self._t.call("notification_channels.list", _merge(None, fields)).get("data", []))

    def update(self, id: str, **fields: Any) -> Json:
        """notification_channels.update"""
        return self._t.call("notification_channels.update", _merge({"id": id}, fields))

    def delete(self, id: str, **fields: Any) -> Json:
        """notification_channels.delete"""
        return self._t.call("notification_channels.delete", _merge({"id": id}, fields))


class _NotificationTemplates(_Namespace):
    """Notification templates: Mustache parts, recipients, a condition; render() previews."""

    _prefix = "notification_templates"

    def create(self, name: str, channel_id: str, **fields: Any) -> Json:
        """notification_templates.create: create("Shipped", channel_id, event_types=[...], subject=..., text=..., recipients=[...])"""
        return self._t.call("notification_templates.create", _merge({"name": name, "channel_id": channel_id}, fields))

    def get(self, id: str, **fields: Any) -> Json:
        """notification_templates.get"""
        return self._t.call("notification_templates.get", _merge({"id": id}, fields))

    def list(self, **fields: Any) -> List[Json]:
        """notification_templates.list"""
        return list(self._t.call("notification_templates.list", _merge(None, fields)).get("data", []))

    def update(self, id: str, **fields: Any) -> Json:
        """notification_templates.update"""
        return self._t.call("notification_templates.update", _merge({"id": id}, fields))

    def delete(self, id: str, **fields: Any) -> Json:
        """notification_templates.delete"""
        return self._t.call("notification_templates.delete", _merge({"id": id}, fields))

    def render(self, order_id: str, **fields: Any) -> Json:
        """notification_templates.render: render(order_id, id=...) or render(order_id, template={...})"""
        return self._t.call("notification_templates.render", _merge({"order_id": order_id}, fields))


class _Notifications(_Namespace):
    """The notification log, manual sends and retries."""

    _prefix = "notifications"

    def list(self, **fields: Any) -> Iterator[Json]:
        """notifications.list, newest first, following cursors: list(order_id=..., status="failed")."""
        return _pages(self._t.call, "notifications.list", _merge(None, fields), "starting_after", lambda p, d: d[-1]["id"])

    def get(self, id: str, **fields: Any) -> Json:
        """notifications.get"""
        return self._t.call("notifications.get", _merge({"id": id}, fields))

    def send(self, template_id: str, order_id: str, **fields: Any) -> List[Json]:
        """notifications.send: send(template_id, order_id, to=["a@example.com"])"""
        return list(self._t.call("notifications.send", _merge({"template_id": template_id, "order_id": order_id}, fields)).get("data", []))

    def retry(self, id: str, **fields: Any) -> Json:
        """notifications.retry"""
        return self._t.call("notifications.retry", _merge({"id": id}, fields))


class _Integrity(_Namespace):
    _prefix = "integrity"

    def check(self, **fields: Any) -> Json:
        """integrity.check"""
        return self._t.call("integrity.check", _merge(None, fields))


class _Attachments(_Namespace):
    """Files on orders and notes (docs/attachments.md). get, list, delete and collect
    are derived from the catalogue; upload and download move the bytes."""

    _prefix = "attachments"
    CHUNK = 1 << 20

    def upload(self, file_name: str, data: Any, order_id: Optional[str] = None, **fields: Any) -> Json:
        """Uploads `data` (bytes, or a binary file object read in 1 MiB chunks) as an attachment of
        `order_id`, or of `owner_type` / `owner_id`; answers the attachment."""
        request = _merge({"order_id": order_id, "file_name": file_name}, fields)
        handle = ctypes.c_void_p()
        _check(_native.lib.orderbase_upload_begin(ctypes.byref(handle), self._t._get(), _encode(request)))
        try:
            if isinstance(data, (bytes, bytearray, memoryview)):
                view = bytes(data)
                for i in range(0, len(view), self.CHUNK):
                    chunk = view[i:i + self.CHUNK]
                    _check(_native.lib.orderbase_upload_write(handle, chunk, len(chunk)))
            else:
                while True:
                    chunk = data.read(self.CHUNK)
                    if not chunk:
                        break
                    if not isinstance(chunk, (bytes, bytearray)):
                        raise TypeError("data must be bytes or a binary file object")
                    _check(_native.lib.orderbase_upload_write(handle, bytes(chunk), len(chunk)))
        except BaseException:
            _native.lib.orderbase_upload_abort(handle)
            raise
        out = ctypes.c_void_p()
        return _finish(_native.lib.orderbase_upload_finish(handle, ctypes.byref(out)), out)

    def download(self, id: str, out: Any = None) -> Optional[bytes]:
        """The attachment's bytes; with `out` (a binary file object), written to it in 1 MiB chunks instead."""
        buf = ctypes.create_string_buffer(self.CHUNK)
        got = ctypes.c_size_t()
        offset = 0
        parts: List[bytes] = []
        while True:
            _check(_native.lib.orderbase_attachment_read(self._t._get(), id.encode("utf-8"), offset, buf, self.CHUNK, ctypes.byref(got)))
            if got.value == 0:
                break
            chunk = buf.raw[:got.value]
            offset += got.value
            if out is None:
                parts.append(chunk)
            else:
                out.write(chunk)
        return b"".join(parts) if out is None else None


# The wrapper for each catalogue method, as (level, attribute path).
WRAPPERS: Dict[str, "tuple[str, str]"] = {
    "methods.list": ("engine", "methods.list"),
    "tenants.create": ("engine", "tenants.create"),
    "tenants.list": ("engine", "tenants.list"),
    "tenants.get": ("engine", "tenants.get"),
    "tenants.delete": ("engine", "tenants.delete"),
    "api_keys.create": ("engine", "api_keys.create"),
    "api_keys.list": ("engine", "api_keys.list"),
    "api_keys.revoke": ("engine", "api_keys.revoke"),
    "orders.create": ("tenant", "orders.create"),
    "orders.get": ("tenant", "orders.get"),
    "orders.list": ("tenant", "orders.list"),
    "orders.update": ("tenant", "orders.update"),
    "orders.transition": ("tenant", "orders.transition"),
    "orders.cancel": ("tenant", "orders.cancel"),
    "orders.transitions": ("tenant", "orders.transitions"),
    "orders.hold": ("tenant", "orders.hold"),
    "orders.release_hold": ("tenant", "orders.release_hold"),
    "orders.audit": ("tenant", "orders.audit"),
    "audit.list": ("tenant", "audit.list"),
    "audit.verify": ("tenant", "audit.verify"),
    "integrity.check": ("tenant", "integrity.check"),
    "events.list": ("tenant", "events.list"),
    "expressions.validate": ("tenant", "expressions.validate"),
    "expressions.evaluate": ("tenant", "expressions.evaluate"),
    "workflows.create": ("tenant", "workflows.create"),
    "workflows.get": ("tenant", "workflows.get"),
    "workflows.list": ("tenant", "workflows.list"),
    "workflows.update": ("tenant", "workflows.update"),
    "workflows.archive": ("tenant", "workflows.archive"),
    "workflows.validate": ("tenant", "workflows.validate"),
    "workflows.migrate": ("tenant", "workflows.migrate"),
    "workflows.simulate": ("tenant", "workflows.simulate"),
    "approvals.list": ("tenant", "approvals.list"),
    "approvals.get": ("tenant", "approvals.get"),
    "approvals.approve": ("tenant", "approvals.approve"),
    "approvals.reject": ("tenant", "approvals.reject"),
    "approvals.cancel": ("tenant", "approvals.cancel"),
    "webhooks.create": ("tenant", "webhooks.create"),
    "webhooks.get": ("tenant", "webhooks.get"),
    "webhooks.list": ("tenant", "webhooks.list"),
    "webhooks.update": ("tenant", "webhooks.update"),
    "webhooks.delete": ("tenant", "webhooks.delete"),
    "webhooks.rotate_secret": ("tenant", "webhooks.rotate_secret"),
    "webhooks.test": ("tenant", "webhooks.test"),
    "webhooks.replay": ("tenant", "webhooks.replay"),
    "deliveries.list": ("tenant", "deliveries.list"),
    "deliveries.get": ("tenant", "deliveries.get"),
    "deliveries.retry": ("tenant", "deliveries.retry"),
    "notification_channels.create": ("tenant", "notification_channels.create"),
    "notification_channels.get": ("tenant", "notification_channels.get"),
    "notification_channels.list": ("tenant", "notification_channels.list"),
    "notification_channels.update": ("tenant", "notification_channels.update"),
    "notification_channels.delete": ("tenant", "notification_channels.delete"),
    "notification_templates.create": ("tenant", "notification_templates.create"),
    "notification_templates.get": ("tenant", "notification_templates.get"),
    "notification_templates.list": ("tenant", "notification_templates.list"),
    "notification_templates.update": ("tenant", "notification_templates.update"),
    "notification_templates.delete": ("tenant", "notification_templates.delete"),
    "notification_templates.render": ("tenant", "notification_templates.render"),
    "notifications.list": ("tenant", "notifications.list"),
    "notifications.get": ("tenant", "notifications.get"),
    "notifications.send": ("tenant", "notifications.send"),
    "notifications.retry": ("tenant", "notifications.retry"),
}
