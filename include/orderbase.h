/*
 * orderbase.h — the public C interface of liborderbase, an embeddable
 * order-management engine.
 *
 * Model
 * -----
 * An *engine* is opened on a directory. Each *tenant* inside it has its own
 * LevelDB database (<root>/tenants/<id>/db) and file store
 * (<root>/tenants/<id>/files). Every operation is a named *method* of one
 * catalogue ("orders.create", "orders.list", ...) taking a JSON request and
 * producing a JSON response; the same catalogue backs the REST API and the
 * Python and Ruby bindings. docs/methods.md lists the methods, docs/errors.md
 * the error codes, docs/keyspace.md the on-disk layout.
 *
 * Conventions (modelled on SQLite, libgit2 and LevelDB)
 * -----------------------------------------------------
 * - Fallible functions return int: ORDERBASE_OK (0) or a negative
 *   ORDERBASE_E* code. Codes and their numbers are stable.
 * - Out-parameters come first and are set to NULL on failure.
 * - Strings passed in are NUL-terminated UTF-8; invalid UTF-8 is rejected
 *   with ORDERBASE_EINVALID, never repaired.
 * - Strings returned through `char **` are owned by the caller and must be
 *   released with orderbase_free() (and nothing else).
 * - Every *_close and orderbase_free accept NULL. A handle that was never
 *   returned by this library, or was already closed, yields ORDERBASE_EMISUSE
 *   instead of a crash (handles are checked against a process-wide table).
 * - orderbase_error_last() describes the calling thread's most recent failure.
 * - Thread safety: every function may be called from any thread. Writes to
 *   one tenant are serialized inside the library; reads run concurrently.
 *   Do not fork() while an engine is open.
 * - No function blocks on another process: a tenant held by another process
 *   answers ORDERBASE_EBUSY.
 *
 * Since 0.1.0 unless stated otherwise.
 */
#ifndef ORDERBASE_H
#define ORDERBASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ---------------------------------------------------------- */

#define ORDERBASE_VERSION_MAJOR 0
#define ORDERBASE_VERSION_MINOR 1
#define ORDERBASE_VERSION_PATCH 0
#define ORDERBASE_VERSION_STRING "0.1.0"
/* major * 10000 + minor * 100 + patch */
#define ORDERBASE_VERSION_NUMBER 100

/* ---- Error codes (stable; see docs/errors.md) -------------------------- */

#define ORDERBASE_OK                      0  /* success */
#define ORDERBASE_EINVALID              (-1) /* invalid_argument: bad JSON, wrong type, unknown field, out of range, invalid UTF-8 */
#define ORDERBASE_ENOTFOUND             (-2) /* not_found: no such tenant, order, method */
#define ORDERBASE_EEXISTS               (-3) /* already_exists: e.g. tenant id taken */
#define ORDERBASE_ECONFLICT             (-4) /* version_conflict: expected_version (or inventory.set's compare_quantity) does not match */
#define ORDERBASE_ETRANSITION           (-5) /* invalid_transition: status change not allowed now */
#define ORDERBASE_EIDEMPOTENCY          (-6) /* idempotency_mismatch: key reused with another payload */
#define ORDERBASE_EBUSY                 (-7) /* busy: tenant held by another process, or in use */
#define ORDERBASE_EIO                   (-8) /* io_error: the filesystem or database failed */
#define ORDERBASE_ECORRUPT              (-9) /* corruption: stored data is damaged */
#define ORDERBASE_EMISUSE              (-10) /* misuse: NULL/closed/foreign handle, NULL argument */
#define ORDERBASE_ELIMIT               (-11) /* limit_exceeded: a configured limit was hit (details.budget: a
                                                budget of caller logic; details.quota: a full store, such as
                                                20 holds on an order or 100 webhook endpoints) */
#define ORDERBASE_EINTERNAL            (-12) /* internal: a bug in Orderbase; please report */
#define ORDERBASE_ESTATE               (-13) /* invalid_state: the object's state forbids this (e.g. editing lines of a fulfilled order) */
#define ORDERBASE_EHOLD                (-14) /* on_hold: holds stand on the order; release them before its status changes */
#define ORDERBASE_EGUARD               (-15) /* guard_failed: a workflow transition's guard is false for this order */
#define ORDERBASE_EPERM                (-16) /* not_permitted: the actor may not do this (approving without the tier's role, or its own request) */

/* ---- Opaque handles ---------------------------------------------------- */

typedef struct orderbase_engine orderbase_engine;
typedef struct orderbase_tenant orderbase_tenant;

/* The calling thread's last error. All pointers are owned by the library and
 * stay valid until the same thread makes another orderbase_* call that fails
 * or succeeds with a reset (every fallible call resets it on entry). */
typedef struct orderbase_error {
    int code;              /* ORDERBASE_OK or a negative ORDERBASE_E* code */
    const char *category;  /* stable error name: "ok", "invalid_argument", "not_found", ... */
    const char *message;   /* human-readable English message */
    const char *json;      /* {"error":{"code":...,"message":...,"field":...}} or {"error":null} */
} orderbase_error;

/* ---- Engine ------------------------------------------------------------ */

/**
 * orderbase_engine_open — open (creating if needed) an engine on a directory.
 *
 * @param out           [out] receives the engine handle; NULL on failure.
 * @param root_dir      [in]  directory to hold all tenants; created (with missing parents) if missing.
 *                            Canonicalized once with realpath().
 * @param options_json  [in]  NULL or a JSON object. Keys (all optional):
 *   "durability":        "sync" (default; every acknowledged write is fsynced)
 *                        or "relaxed" (no fsync; a crash may lose the last writes)
 *   "max_open_tenants":  idle tenant databases kept open (default 64, 1..4096)
 *   "background":        deliver events on an engine-owned thread (default true);
 *                        false = no threads: the host drives delivery with
 *                        orderbase_engine_pump() (subscriptions, webhooks, notifications).
 *   "max_request_bytes": largest request JSON accepted (default 1048576)
 *   "max_line_items":    line items per order (default 500, 1..10000)
 *   "max_metadata_bytes":serialized size of one metadata object (default 16384)
 *   "block_cache_bytes": LevelDB block cache shared by all tenants (default 33554432)
 *   "webhook_allow_http":        allow http:// webhook URLs (default false: https only)
 *   "webhook_allowed_addresses": addresses or CIDR blocks webhooks may reach beyond the
 *                        public internet (default []: loopback, private, link-local
 *                        and metadata addresses are refused; docs/webhooks.md)
 *   "webhook_connect_timeout_ms": default 5000; "webhook_timeout_ms": default 15000
 *                        (the webhook_* options govern every outbound connection:
 *                        webhooks, SMS gateways and SMTP; docs/notifications.md)
 *   "tls_ca_file":       a readable PEM file of the certificate authorities outbound
 *                        TLS trusts instead of the system's (a private CA)
 *   "expression_max_steps":      nodes one expression evaluation may visit (default 1000000, 1000..100000000)
 *   "expression_max_bytes":      bytes of values one evaluation may produce (default 1048576, 1024..268435456)
 *   "template_max_steps":        nodes one template rendering may visit (default 1000000, 1000..100000000)
 *   "template_max_output_bytes": bytes one rendering may write (default 1048576, 1024..67108864)
 *                        (budgets for caller logic: exceeding one is ORDERBASE_ELIMIT with
 *                        details.budget naming it; docs/limits.md)
 *   "attachment_max_bytes":      the largest attachment file (default 26214400, 1..2^40)
 *   "attachment_quota_bytes":    a tenant's attachments, summed (default 1073741824, 0..2^50)
 *   "attachment_content_types":  the sniffed types accepted (default PDF, PNG, JPEG, GIF, WebP,
 *                        TIFF, text/plain; also "application/zip", "application/octet-stream")
 *   Unknown keys are rejected.
 * @return ORDERBASE_OK, ORDERBASE_EINVALID (bad options or UTF-8),
 *         ORDERBASE_EIO (directory not creatable), ORDERBASE_EMISUSE (out NULL).
 * Thread-safety: any thread. Ownership: close with orderbase_engine_close().
 */
int orderbase_engine_open(orderbase_engine **out, const char *root_dir, const char *options_json);

/**
 * orderbase_engine_close — close an engine and every tenant it opened.
 * Accepts NULL. Closing twice, or using the handle afterwards, is reported as
 * ORDERBASE_EMISUSE by later calls (never a crash). Tenant handles opened from
 * it become closed too. Stops the delivery thread after the callback or the
 * webhook request running now, if any (a request waits at most
 * "webhook_timeout_ms"), and ends every subscription (their user_data_free runs).
 * Any thread; do not race with calls on the same engine.
 */
void orderbase_engine_close(orderbase_engine *engine);

/**
 * orderbase_engine_call — call an engine-level method ("tenants.create",
 * "tenants.list", "tenants.get", "tenants.delete", "methods.list", and, since
 * 0.1.0 of the REST server, "api_keys.create", "api_keys.list",
 * "api_keys.revoke": keys for `orderbase serve`, docs/rest.md).
 *
 * @param engine         [in]  an open engine.
 * @param method         [in]  method name.
 * @param request_json   [in]  JSON object, or NULL for {}.
 * @param response_json  [out] on success the response object; on failure the
 *                             error object {"error":{...}}. Free with orderbase_free().
 *                             May be NULL if the caller does not want it.
 * @return ORDERBASE_OK or a negative code (also in orderbase_error_last()).
 * Thread-safety: any thread, concurrently.
 */
int orderbase_engine_call(orderbase_engine *engine, const char *method, const char *request_json, char **response_json);

/* ---- Tenants ----------------------------------------------------------- */

/**
 * orderbase_tenant_create — create a tenant (its database and file store).
 *
 * @param engine         [in] an open engine.
 * @param tenant_id      [in] matches ^[a-z0-9][a-z0-9_-]{0,62}$ (else ORDERBASE_EINVALID).
 * @param settings_json  [in] NULL or a JSON object: "name", "order_number_prefix"
 *                            (default "#"), "order_number_start" (default 1001),
 *                            "default_currency" (ISO 4217, default "USD").
 * @return ORDERBASE_OK, ORDERBASE_EEXISTS, ORDERBASE_EINVALID, ORDERBASE_EIO,
 *         ORDERBASE_EMISUSE. Same as engine method "tenants.create".
 */
int orderbase_tenant_create(orderbase_engine *engine, const char *tenant_id, const char *settings_json);

/**
 * orderbase_tenant_open — open a tenant for calls.
 *
 * @param out        [out] receives the tenant handle; NULL on failure.
 * @param engine     [in]  an open engine.
 * @param tenant_id  [in]  an existing tenant id.
 * @return ORDERBASE_OK, ORDERBASE_ENOTFOUND, ORDERBASE_EINVALID (bad id),
 *         ORDERBASE_EBUSY (another process holds the tenant's database),
 *         ORDERBASE_EIO, ORDERBASE_ECORRUPT, ORDERBASE_EMISUSE.
 * Opening the same tenant twice in one process — through any engine, any path
 * spelling — shares one database handle. Close with orderbase_tenant_close().
 */
int orderbase_tenant_open(orderbase_tenant **out, orderbase_engine *engine, const char *tenant_id);

/**
 * orderbase_tenant_close — release a tenant handle. Accepts NULL; a second
 * close is harmless (later calls on the handle return ORDERBASE_EMISUSE).
 */
void orderbase_tenant_close(orderbase_tenant *tenant);

/**
 * orderbase_call — call a tenant method ("orders.create", "orders.get", ...;
 * docs/methods.md lists them with their request and response shapes).
 *
 * @param tenant         [in]  an open tenant.
 * @param method         [in]  method name.
 * @param request_json   [in]  JSON object, or NULL for {}. At most
 *                             "max_request_bytes" bytes (else ORDERBASE_ELIMIT).
 * @param response_json  [out] on success the response JSON; on failure the error
 *                             object {"error":{"code","message","field","details"}}.
 *                             Free with orderbase_free(). May be NULL.
 * @return ORDERBASE_OK or a negative code; a failed call changed nothing.
 * Thread-safety: any thread, concurrently; writes to one tenant are serialized,
 * and in "sync" durability OK means the change is on disk.
 */
int orderbase_call(orderbase_tenant *tenant, const char *method, const char *request_json, char **response_json);

/* ---- Attachments: files in the tenant's file store ------------------------ */

/* Files are not JSON: they go in and out through these typed functions
 * (docs/attachments.md). The attachment records are read, listed and deleted
 * with orderbase_call ("attachments.get", "attachments.list", ...). */
typedef struct orderbase_upload orderbase_upload;

/**
 * orderbase_upload_begin — start uploading one file.
 *
 * @param out           [out] receives the upload; NULL on failure.
 * @param tenant        [in]  an open tenant.
 * @param request_json  [in]  {"order_id": "ord_…", "file_name": "invoice.pdf"}, or
 *                            {"owner_type": "order"|"note", "owner_id": "…", "file_name": …};
 *                            optional "actor" and "request_id" as for orderbase_call.
 *                            The owner must exist; file_name is 1-255 characters, not "." or
 *                            "..", with no '/', '\' or control characters (metadata, never a path).
 * @return ORDERBASE_OK, ORDERBASE_EINVALID, ORDERBASE_ENOTFOUND (no such owner), ORDERBASE_EIO.
 * Thread-safety: an upload is used by one thread at a time; uploads run concurrently.
 * Ownership: end it with orderbase_upload_finish() or orderbase_upload_abort().
 */
int orderbase_upload_begin(orderbase_upload **out, orderbase_tenant *tenant, const char *request_json);

/**
 * orderbase_upload_write — append bytes (any chunk size). They go to a temporary
 * file, hashed (SHA-256) and sniffed as they pass; nothing is visible until finish.
 * Past the engine option "attachment_max_bytes" the upload is dropped and this
 * returns ORDERBASE_ELIMIT (details.reason "file_too_large"); only abort is left.
 */
int orderbase_upload_write(orderbase_upload *upload, const void *bytes, size_t len);

/**
 * orderbase_upload_finish — make the attachment: the content type is sniffed from the
 * bytes and checked against "attachment_content_types" (ORDERBASE_EINVALID,
 * details.reason "content_type_not_allowed"), the tenant's quota
 * ("attachment_quota_bytes", ORDERBASE_ELIMIT, details.reason "quota"), then the file is
 * synced and published under its SHA-256 in the same step as the record is written.
 * @param attachment_json [out] the attachment (free with orderbase_free()), or the error
 *                              object on failure. May be NULL.
 * The upload handle is gone after this call, whatever it returns; a failed finish
 * leaves nothing behind.
 */
int orderbase_upload_finish(orderbase_upload *upload, char **attachment_json);

/** orderbase_upload_abort — drop an upload and its temporary file. NULL is a no-op. */
void orderbase_upload_abort(orderbase_upload *upload);

/**
 * orderbase_attach — begin, write and finish in one call, for bytes already in memory.
 */
int orderbase_attach(orderbase_tenant *tenant, const char *request_json, const void *bytes, size_t len, char **attachment_json);

/**
 * orderbase_attachment_read — copy up to `capacity` bytes of an attachment's file,
 * from `offset`, into `buffer`; *bytes_read is 0 at (or past) the end.
 * @return ORDERBASE_OK, ORDERBASE_ENOTFOUND (no such attachment), ORDERBASE_EIO,
 *         ORDERBASE_ECORRUPT (its file is missing from the store).
 * Thread-safety: any thread.
 */
int orderbase_attachment_read(orderbase_tenant *tenant, const char *attachment_id, uint64_t offset,
                              void *buffer, size_t capacity, size_t *bytes_read);

/* ---- Subscriptions ------------------------------------------------------ */

typedef struct orderbase_subscription orderbase_subscription;

/**
 * orderbase_event_callback — receives one event of a subscription.
 *
 * @param event_json  [in] the event, as events.list returns it (docs/methods.md),
 *                         NUL-terminated; valid only during the call.
 * @param len         its length in bytes.
 * @param user_data   as given to orderbase_subscribe().
 * @return 0 when handled: the subscription's cursor moves past the event.
 *         Non-zero: "retry later" — the same event comes again after a pause
 *         (1 s, 2 s, 4 s … at most 60 s), and no later event comes before it.
 * Runs on the engine's delivery thread, or, for an engine opened with
 * "background": false, on the thread calling orderbase_engine_pump(); never on
 * two threads at once for one subscription. It may call the library (even
 * orderbase_call on the same tenant, or orderbase_unsubscribe on its own
 * subscription), but must not close the engine.
 */
typedef int (*orderbase_event_callback)(const char *event_json, size_t len, void *user_data);

/**
 * orderbase_subscribe — deliver a tenant's events to a callback in this process.
 *
 * At least once, in order: the subscription's cursor, named by `name`, is kept
 * in the tenant's database and moves only past events the callback accepted
 * (returned 0), so a restarted host that subscribes with the same name resumes
 * where it left off. An event may come again after a crash; each carries its
 * "sequence" to tell.
 *
 * @param out               [out] receives the subscription handle; NULL on failure.
 * @param tenant            [in]  an open tenant (the subscription keeps its
 *                                database open until orderbase_unsubscribe).
 * @param name              [in]  the durable cursor's name: 1-64 of a-z 0-9 _ - .,
 *                                starting with a letter or digit.
 * @param event_types_json  [in]  NULL for every event, or a JSON list of types and
 *                                wildcards: ["order.created", "approval.*"].
 * @param callback          [in]  see orderbase_event_callback.
 * @param user_data         [in]  passed to every callback.
 * @param user_data_free    [in]  NULL, or called once with user_data when no
 *                                callback can run any more (after unsubscribe,
 *                                or engine close). Not called on failure.
 * @return ORDERBASE_OK; ORDERBASE_EINVALID (bad name or types);
 *         ORDERBASE_EEXISTS (an active subscription of this tenant and name in
 *         this engine); ORDERBASE_EMISUSE (NULL out or callback, closed handle).
 */
int orderbase_subscribe(orderbase_subscription **out, orderbase_tenant *tenant, const char *name,
                        const char *event_types_json, orderbase_event_callback callback, void *user_data,
                        void (*user_data_free)(void *user_data));

/**
 * orderbase_unsubscribe — stop a subscription. When it returns, no callback of
 * it is running or will run (called from inside its own callback: none after
 * that callback returns), and user_data_free has run. The cursor stays in the
 * database for the next subscribe with the same name. Accepts NULL. After the
 * engine closed (which already ended the subscription) it just frees the handle.
 * @return ORDERBASE_OK, or ORDERBASE_EMISUSE for a handle already unsubscribed
 *         or never valid (never a crash).
 */
int orderbase_unsubscribe(orderbase_subscription *subscription);

/**
 * orderbase_engine_pump — run delivery work on the calling thread: for an
 * engine opened with "background": false, deliver to its subscriptions and
 * make the webhook and notification attempts that are due (docs/webhooks.md,
 * docs/notifications.md) until nothing is
 * waiting or max_ms milliseconds have passed (a callback or HTTP request
 * running then finishes first).
 * @return the number of events delivered and attempts made (>= 0), or a negative code:
 *         ORDERBASE_EMISUSE (the engine has its own delivery thread, or is closed).
 */
int orderbase_engine_pump(orderbase_engine *engine, int max_ms);

/* ---- Notifications ------------------------------------------------------ */

/**
 * orderbase_notification_callback — sends one notification of a channel of
 * type "callback" (docs/notifications.md): the host's own mailer, push
 * service or chat hook.
 *
 * @param tenant_id          [in] the tenant's id, NUL-terminated.
 * @param notification_json  [in] the notification as notifications.get returns
 *                                it plus "tenant": recipient, rendered subject,
 *                                text, html and body; NUL-terminated; valid only
 *                                during the call.
 * @param len                its length in bytes.
 * @param user_data          as given to orderbase_engine_set_notification_handler().
 * @return 0 when sent (the notification becomes "sent"); non-zero: "try again
 *         later", on the retry schedule of webhooks (5 s, 5 min, 30 min … ten
 *         attempts in all, then "failed").
 * Runs on the engine's delivery thread (or in orderbase_engine_pump()), one
 * notification at a time. It may call the library, but must not close the engine.
 */
typedef int (*orderbase_notification_callback)(const char *tenant_id, const char *notification_json, size_t len,
                                               void *user_data);

/**
 * orderbase_engine_set_notification_handler — register the callback that sends
 * notifications of "callback" channels for every tenant of this engine
 * (replacing any earlier one). Until one is registered, such notifications
 * wait ("pending", looked at again every minute).
 *
 * @param callback        the handler, or NULL to remove the current one.
 * @param user_data       passed to every call.
 * @param user_data_free  if not NULL, called once with user_data when the
 *                        handler is replaced or removed or the engine closes,
 *                        after any running call of it has returned (with
 *                        callback NULL: at once).
 * @return ORDERBASE_OK, or ORDERBASE_EMISUSE (NULL, closed or invalid engine).
 */
int orderbase_engine_set_notification_handler(orderbase_engine *engine, orderbase_notification_callback callback,
                                              void *user_data, void (*user_data_free)(void *user_data));

/* ---- Payments ----------------------------------------------------------- */

/** The size of the reply buffer a payment handler may fill (bytes, NUL included). */
#define ORDERBASE_PAYMENT_REPLY_MAX 4096

/** What a payment handler returns (docs/payments.md, "The payment handler"). */
#define ORDERBASE_PAYMENT_SUCCESS 0 /**< the gateway did it: the transaction becomes "success" */
#define ORDERBASE_PAYMENT_FAILURE 1 /**< the gateway refused: "failure", nothing moved */
#define ORDERBASE_PAYMENT_PENDING 2 /**< the gateway answers later: stays "pending" (settle with transactions.update) */

/**
 * orderbase_payment_callback — asks the host's payment gateway to capture,
 * refund or void, for payments.capture, payments.refund and payments.void.
 *
 * @param tenant_id     [in] the tenant's id, NUL-terminated.
 * @param request_json  [in] {"action": "capture"|"refund"|"void", "tenant",
 *                           "transaction" (the pending transaction: kind,
 *                           amount, currency, gateway, parent_id…), "parent"
 *                           (the transaction it acts on, with its gateway_id),
 *                           "order" (the order)}; NUL-terminated; valid only
 *                           during the call.
 * @param len           its length in bytes.
 * @param reply         [out] optional: a NUL-terminated JSON object
 *                           {"gateway_id", "error_code", "message"} (any
 *                           other text is kept as the message); starts empty.
 * @param reply_cap     the reply buffer's size (ORDERBASE_PAYMENT_REPLY_MAX).
 * @param user_data     as given to orderbase_engine_set_payment_handler().
 * @return ORDERBASE_PAYMENT_SUCCESS, _FAILURE or _PENDING. Any other value
 *         leaves the transaction pending (the engine cannot know whether
 *         money moved) with a message saying so.
 * Runs on the thread that called the payments method (orderbase_call), outside
 * the tenant's lock, once per transaction; it may call the library (not
 * payments.* of the same order, which would wait on nothing but is pointless),
 * but must not close the engine.
 */
typedef int (*orderbase_payment_callback)(const char *tenant_id, const char *request_json, size_t len, char *reply,
                                          size_t reply_cap, void *user_data);

/**
 * orderbase_engine_set_payment_handler — register the callback that moves
 * money for payments.capture, payments.refund and payments.void for every
 * tenant of this engine (replacing any earlier one). Without one those
 * methods answer invalid_state (details.reason "no_payment_handler");
 * transactions.create records what the host's gateway did either way.
 *
 * @param callback        the handler, or NULL to remove the current one.
 * @param user_data       passed to every call.
 * @param user_data_free  if not NULL, called once with user_data when the
 *                        handler is replaced or removed or the engine closes
 *                        (with callback NULL: at once).
 * @return ORDERBASE_OK, or ORDERBASE_EMISUSE (NULL, closed or invalid engine).
 */
int orderbase_engine_set_payment_handler(orderbase_engine *engine, orderbase_payment_callback callback, void *user_data,
                                         void (*user_data_free)(void *user_data));

/* ---- Memory, errors, version ------------------------------------------- */

/** orderbase_free — free a string returned by this library. Accepts NULL. */
void orderbase_free(void *ptr);

/**
 * orderbase_error_last — the calling thread's last error (never NULL).
 * After a successful call, code is ORDERBASE_OK. Owned by the library.
 */
const orderbase_error *orderbase_error_last(void);

/**
 * orderbase_strerror — the stable name of an error code ("not_found", ...);
 * "unknown" for codes this version does not define. Never NULL; static storage.
 */
const char *orderbase_strerror(int code);

/** orderbase_version_string — "MAJOR.MINOR.PATCH" of the loaded library. Static. */
const char *orderbase_version_string(void);

/** orderbase_version_number — MAJOR*10000 + MINOR*100 + PATCH of the loaded library. */
int orderbase_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* ORDERBASE_H */
