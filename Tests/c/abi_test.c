/*
 * abi_test.c — exercises the whole C ABI of liborderbase.so from C, compiled
 * against include/orderbase.h: every function, NULL and closed handles,
 * double close, invalid UTF-8, every error code, two processes on one tenant,
 * and the same tenant through different path spellings.
 */
#include <orderbase.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond, ...) do { \
    if (cond) { passed++; } else { failed++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

/* rc must equal want; the error slot and response must agree with it. */
static void expect_code(int rc, int want, const char *what, char *response) {
    CHECK(rc == want, "%s: got %d (%s), want %d (%s): %s", what, rc, orderbase_strerror(rc), want,
          orderbase_strerror(want), orderbase_error_last()->message);
    const orderbase_error *e = orderbase_error_last();
    CHECK(e != NULL && e->code == want, "%s: error_last code %d", what, e ? e->code : 99);
    CHECK(strcmp(e->category, orderbase_strerror(want)) == 0, "%s: category %s", what, e->category);
    if (want != ORDERBASE_OK && response) {
        char needle[64];
        snprintf(needle, sizeof needle, "\"code\":\"%s\"", orderbase_strerror(want));
        CHECK(strstr(response, needle) != NULL, "%s: response lacks %s: %s", what, needle, response);
        CHECK(strstr(e->json, needle) != NULL, "%s: error json lacks %s", what, needle);
    }
    orderbase_free(response);
}

/* Sequenced: the call runs (and sets resp) before its response is checked and freed. */
#define EXPECT(callexpr, want, what) do { char *r_ = NULL; resp = NULL; int rc_ = (callexpr); r_ = resp; resp = NULL; \
    expect_code(rc_, want, what, r_); } while (0)

static int call(orderbase_tenant *t, const char *method, const char *req, char **resp) {
    return orderbase_call(t, method, req, resp);
}

static void json_str(const char *json, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    out[0] = 0;
    if (!p) return;
    p += strlen(pat);
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < cap) { out[n] = p[n]; n++; }
    out[n] = 0;
}

static const char *ORDER =
    "{\"currency\":\"GBP\",\"line_items\":[{\"sku\":\"85123A\",\"title\":\"Heart holder\",\"quantity\":6,\"unit_price\":255}]}";

/* Another process holds the tenant: a second open must answer busy, not block. */
/* What a subscription's callback saw (its user_data). */
struct seen {
    pthread_mutex_t lock;
    int calls, accepted, refuse, freed;
    long sequences[16];
    char last_type[64];
};

static int on_event(const char *event_json, size_t len, void *user_data) {
    struct seen *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->calls++;
    int refuse = s->refuse;
    if (!refuse) {
        const char *p = strstr(event_json, "\"sequence\":");
        if (p && s->accepted < 16) s->sequences[s->accepted] = atol(p + 11);
        s->accepted++;
        json_str(event_json, "type", s->last_type, sizeof s->last_type);
    }
    CHECK(strlen(event_json) == len, "callback length matches the NUL-terminated event");
    pthread_mutex_unlock(&s->lock);
    return refuse;
}

static void on_free(void *user_data) {
    struct seen *s = user_data;
    s->freed++;
}

static int accepted(struct seen *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->accepted;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void test_subscriptions(const char *root) {
    orderbase_engine *engine = NULL;
    orderbase_tenant *t = NULL;
    orderbase_subscription *sub = NULL;
    char *resp = NULL;
    struct seen seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, {0}, ""};
    CHECK(orderbase_engine_open(&engine, root, "{\"background\":false}") == 0, "subs: engine_open");
    CHECK(orderbase_tenant_create(engine, "subs", NULL) == 0 && orderbase_tenant_open(&t, engine, "subs") == 0, "subs: tenant");

    expect_code(orderbase_subscribe(NULL, t, "log", NULL, on_event, &seen, on_free), ORDERBASE_EMISUSE, "subscribe out NULL", NULL);
    expect_code(orderbase_subscribe(&sub, t, "log", NULL, NULL, &seen, on_free), ORDERBASE_EMISUSE, "subscribe NULL callback", NULL);
    expect_code(orderbase_subscribe(&sub, t, "Bad Name", NULL, on_event, &seen, on_free), ORDERBASE_EINVALID, "subscribe bad name", NULL);
    expect_code(orderbase_subscribe(&sub, t, "log", "[1]", on_event, &seen, on_free), ORDERBASE_EINVALID, "subscribe bad types", NULL);
    expect_code(orderbase_subscribe(&sub, t, "log", "[\"order.*\"", on_event, &seen, on_free), ORDERBASE_EINVALID, "subscribe malformed types", NULL);
    expect_code(orderbase_subscribe(&sub, NULL, "log", NULL, on_event, &seen, on_free), ORDERBASE_EMISUSE, "subscribe NULL tenant", NULL);
    CHECK(sub == NULL && seen.freed == 0, "failed subscribes leave nothing and free nothing");

    expect_code(orderbase_subscribe(&sub, t, "log", "[\"order.created\"]", on_event, &seen, on_free), ORDERBASE_OK, "subscribe", NULL);
    orderbase_subscription *twin = NULL;
    expect_code(orderbase_subscribe(&twin, t, "log", NULL, on_event, &seen, on_free), ORDERBASE_EEXISTS, "subscribe twice by name", NULL);
    for (int i = 0; i < 3; i++) { EXPECT(call(t, "orders.create", ORDER, &resp), ORDERBASE_OK, "subs: create"); }
    char id[64], req[160];
    CHECK(call(t, "orders.create", ORDER, &resp) == 0, "subs: a fourth order");
    json_str(resp, "id", id, sizeof id);
    orderbase_free(resp);
    snprintf(req, sizeof req, "{\"id\":\"%s\",\"to\":\"confirmed\"}", id);
    CHECK(call(t, "orders.transition", req, &resp) == 0, "subs: a status change (filtered out)");
    orderbase_free(resp);
    CHECK(orderbase_engine_pump(engine, 1000) == 4, "pump delivers the four order.created events");
    CHECK(seen.sequences[0] == 1 && seen.sequences[3] == 4 && strcmp(seen.last_type, "order.created") == 0, "in order, by type");
    CHECK(orderbase_engine_pump(engine, 1000) == 0, "nothing left");

    /* A callback answering non-zero gets the same event again, later. */
    seen.refuse = 1;
    CHECK(call(t, "orders.create", ORDER, &resp) == 0, "subs: fifth");
    orderbase_free(resp);
    CHECK(orderbase_engine_pump(engine, 100) == 0 && seen.calls == 5, "refused: not delivered");
    CHECK(orderbase_engine_pump(engine, 100) == 0 && seen.calls == 5, "not asked again before its retry time");
    seen.refuse = 0;
    struct timespec pause = {1, 100000000};
    nanosleep(&pause, NULL);
    CHECK(orderbase_engine_pump(engine, 100) == 1 && seen.sequences[4] == 6, "after the pause it comes again (sequence 6)");

    expect_code(orderbase_unsubscribe(sub), ORDERBASE_OK, "unsubscribe", NULL);
    CHECK(seen.freed == 1, "user_data_free ran once");
    expect_code(orderbase_unsubscribe(sub), ORDERBASE_EMISUSE, "unsubscribe twice", NULL);
    expect_code(orderbase_unsubscribe(NULL), ORDERBASE_OK, "unsubscribe NULL", NULL);

    /* The cursor is durable: the same name resumes after the last accepted event. */
    CHECK(call(t, "orders.create", ORDER, &resp) == 0, "subs: while unsubscribed");
    orderbase_free(resp);
    CHECK(orderbase_subscribe(&sub, t, "log", "[\"order.created\"]", on_event, &seen, on_free) == 0, "resubscribe");
    CHECK(orderbase_engine_pump(engine, 1000) == 1 && seen.sequences[5] == 7, "resumes at sequence 7");
    orderbase_tenant_close(t);
    orderbase_engine_close(engine);
    CHECK(seen.freed == 2, "engine close ends the subscription");
    expect_code(orderbase_unsubscribe(sub), ORDERBASE_OK, "unsubscribe after engine close frees the handle", NULL);
    CHECK(seen.freed == 2, "and does not free twice");

    /* With background threads, delivery happens on the engine's thread. */
    struct seen bg = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, {0}, ""};
    CHECK(orderbase_engine_open(&engine, root, NULL) == 0 && orderbase_tenant_open(&t, engine, "subs") == 0, "subs: background engine");
    expect_code(orderbase_engine_pump(engine, 10), ORDERBASE_EMISUSE, "pump on a background engine", NULL);
    CHECK(orderbase_subscribe(&sub, t, "other", "[\"order.*\"]", on_event, &bg, on_free) == 0, "subscribe (background)");
    for (int i = 0; i < 100 && accepted(&bg) < 7; i++) nanosleep(&(struct timespec){0, 20000000}, NULL);
    CHECK(accepted(&bg) == 7, "the thread delivered every order event so far: %d", accepted(&bg));
    orderbase_engine_close(engine);
    CHECK(bg.freed == 1, "close stops the thread and ends the subscription");
    orderbase_unsubscribe(sub);
    orderbase_tenant_close(t);
}

/* What the notification handler saw (its user_data). */
struct sent {
    int calls, refuse, freed;
    char tenant[32], text[64], address[64];
};

static int on_notification(const char *tenant_id, const char *json, size_t len, void *user_data) {
    struct sent *s = user_data;
    s->calls++;
    snprintf(s->tenant, sizeof s->tenant, "%s", tenant_id);
    json_str(json, "text", s->text, sizeof s->text);
    json_str(json, "address", s->address, sizeof s->address);
    CHECK(strlen(json) == len, "notification length matches the NUL-terminated JSON");
    return s->refuse;
}

static void on_sent_free(void *user_data) { ((struct sent *)user_data)->freed++; }

/* The callback channel: a template rendered and handed to the host's handler. */
static void test_notification_handler(const char *root) {
    orderbase_engine *engine = NULL;
    orderbase_tenant *t = NULL;
    char *resp = NULL, channel[64], req[512];
    struct sent sent = {0, 1, 0, "", "", ""}, other = {0};
    CHECK(orderbase_engine_open(&engine, root, "{\"background\":false}") == 0, "notify: engine_open");
    CHECK(orderbase_tenant_create(engine, "notify", "{\"name\":\"Caf\xc3\xa9\"}") == 0 && orderbase_tenant_open(&t, engine, "notify") == 0, "notify: tenant");
    expect_code(orderbase_engine_set_notification_handler(NULL, on_notification, &sent, on_sent_free), ORDERBASE_EMISUSE, "handler on NULL engine", NULL);
    CHECK(call(t, "notification_channels.create", "{\"name\":\"host\",\"type\":\"callback\"}", &resp) == 0, "notify: channel");
    json_str(resp, "id", channel, sizeof channel);
    orderbase_free(resp);
    snprintf(req, sizeof req, "{\"name\":\"new\",\"channel_id\":\"%s\",\"event_types\":[\"order.created\"],"
             "\"text\":\"{{shop.name}} {{order.number}} {{order.total_formatted}}\",\"recipients\":[{\"type\":\"staff\",\"address\":\"#sales\"}]}", channel);
    CHECK(call(t, "notification_templates.create", req, &resp) == 0, "notify: template");
    orderbase_free(resp);
    snprintf(req, sizeof req, "{\"name\":\"bad\",\"channel_id\":\"%s\",\"text\":\"{{order.numbr}}\",\"recipients\":[{\"type\":\"customer\"}]}", channel);
    EXPECT(call(t, "notification_templates.create", req, &resp), ORDERBASE_EINVALID, "unknown template variable");
    CHECK(strstr(orderbase_error_last()->message, "did you mean order.number?") != NULL, "the error names the variable: %s", orderbase_error_last()->message);
    expect_code(orderbase_engine_set_notification_handler(engine, on_notification, &other, on_sent_free), ORDERBASE_OK, "set a handler", NULL);
    expect_code(orderbase_engine_set_notification_handler(engine, on_notification, &sent, on_sent_free), ORDERBASE_OK, "replace it", NULL);
    CHECK(other.freed == 1 && other.calls == 0, "the replaced handler's user data is freed once");
    CHECK(call(t, "orders.create", ORDER, &resp) == 0, "notify: order");
    orderbase_free(resp);
    CHECK(orderbase_engine_pump(engine, 1000) == 1 && sent.calls == 1, "the handler is called");
    CHECK(orderbase_engine_pump(engine, 100) == 0 && sent.calls == 1, "refused: not asked again before its retry time");
    CHECK(strcmp(sent.tenant, "notify") == 0 && strcmp(sent.text, "Caf\xc3\xa9 #1001 15.30") == 0 && strcmp(sent.address, "#sales") == 0,
          "rendered: %s / %s / %s", sent.tenant, sent.text, sent.address);
    orderbase_tenant_close(t);
    orderbase_engine_close(engine);
    CHECK(sent.freed == 1 && other.freed == 1, "engine close frees the handler's user data");
}

struct gateway {
    int calls, freed, code;
    const char *reply;   /* copied into the reply buffer; NULL: fill it to the end with 'x' */
    char action[16];
    size_t cap;
};

static int on_payment(const char *tenant_id, const char *json, size_t len, char *reply, size_t cap, void *user_data) {
    struct gateway *g = user_data;
    g->calls++;
    g->cap = cap;
    json_str(json, "action", g->action, sizeof g->action);
    CHECK(strcmp(tenant_id, "pay") == 0 && strlen(json) == len, "payment request: tenant and length");
    CHECK(reply[0] == 0, "the reply buffer starts empty");
    if (g->reply) snprintf(reply, cap, "%s", g->reply);
    else memset(reply, 'x', cap);  /* no NUL at all: the library must still end it */
    return g->code;
}

static void on_gateway_free(void *user_data) { ((struct gateway *)user_data)->freed++; }

/* The payment handler: capture, a failed refund, odd return codes and replies, misuse. */
static void test_payment_handler(const char *root) {
    orderbase_engine *engine = NULL;
    orderbase_tenant *t = NULL;
    char *resp = NULL, order[64], req[512], status[32];
    struct gateway g = {0, 0, ORDERBASE_PAYMENT_SUCCESS, "{\"gateway_id\":\"ch_1\"}", "", 0}, other = {0};
    CHECK(orderbase_engine_open(&engine, root, "{\"background\":false}") == 0, "pay: engine_open");
    CHECK(orderbase_tenant_create(engine, "pay", NULL) == 0 && orderbase_tenant_open(&t, engine, "pay") == 0, "pay: tenant");
    expect_code(orderbase_engine_set_payment_handler(NULL, on_payment, &g, on_gateway_free), ORDERBASE_EMISUSE, "payment handler on NULL engine", NULL);
    CHECK(call(t, "orders.create", ORDER, &resp) == 0, "pay: order");
    json_str(resp, "id", order, sizeof order);
    orderbase_free(resp);
    snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"kind\":\"authorization\",\"amount\":1530,\"gateway\":\"stripe\",\"gateway_id\":\"pi_1\"}", order);
    CHECK(call(t, "transactions.create", req, &resp) == 0, "pay: authorization recorded");
    orderbase_free(resp);
    snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"amount\":500}", order);
    EXPECT(call(t, "payments.capture", req, &resp), ORDERBASE_ESTATE, "capture without a handler");
    expect_code(orderbase_engine_set_payment_handler(engine, on_payment, &other, on_gateway_free), ORDERBASE_OK, "set a payment handler", NULL);
    expect_code(orderbase_engine_set_payment_handler(engine, on_payment, &g, on_gateway_free), ORDERBASE_OK, "replace it", NULL);
    CHECK(other.freed == 1 && other.calls == 0, "the replaced payment handler's user data is freed once");
    CHECK(call(t, "payments.capture", req, &resp) == 0, "capture through the handler");
    CHECK(g.calls == 1 && strcmp(g.action, "capture") == 0 && g.cap == ORDERBASE_PAYMENT_REPLY_MAX, "handler asked to capture, with a %zu-byte reply buffer", g.cap);
    CHECK(strstr(resp, "\"gateway_id\":\"ch_1\"") && strstr(resp, "\"financial_status\":\"partially_paid\""), "capture answered: %s", resp);
    orderbase_free(resp);
    g.code = ORDERBASE_PAYMENT_FAILURE;
    g.reply = "card network says no";
    CHECK(call(t, "payments.refund", req, &resp) == 0, "a declined refund is an answer, not an error");
    json_str(resp, "status", status, sizeof status);
    CHECK(strcmp(status, "failure") == 0 && strstr(resp, "\"message\":\"card network says no\""), "declined refund: %s", resp);
    orderbase_free(resp);
    g.code = 7;
    g.reply = NULL;
    CHECK(call(t, "payments.refund", req, &resp) == 0, "an unknown return code");
    json_str(resp, "status", status, sizeof status);
    CHECK(strcmp(status, "pending") == 0 && strstr(resp, "\"refund_pending\":500"), "an unknown code leaves it pending: %s", resp);
    orderbase_free(resp);
    CHECK(call(t, "integrity.check", "{}", &resp) == 0 && strstr(resp, "\"ok\":true"), "pay: integrity ok");
    orderbase_free(resp);
    expect_code(orderbase_engine_set_payment_handler(engine, NULL, &other, on_gateway_free), ORDERBASE_OK, "remove the handler", NULL);
    CHECK(g.freed == 1 && other.freed == 2, "removing frees the old user data and the one given with NULL");
    orderbase_tenant_close(t);
    orderbase_engine_close(engine);
    CHECK(g.freed == 1, "not freed twice");
}

static void test_two_processes(const char *root) {
    int ready[2], release[2];
    if (pipe(ready) != 0 || pipe(release) != 0) { perror("pipe"); exit(2); }
    pid_t pid = fork();
    if (pid == 0) {
        orderbase_engine *e = NULL;
        orderbase_tenant *t = NULL;
        char c = 'x';
        if (orderbase_engine_open(&e, root, NULL) != 0 || orderbase_tenant_open(&t, e, "shared") != 0) c = 'e';
        if (write(ready[1], &c, 1) != 1) _exit(3);
        if (read(release[0], &c, 1) < 0) _exit(3);
        orderbase_tenant_close(t);
        orderbase_engine_close(e);
        _exit(0);
    }
    char c = 0;
    CHECK(read(ready[0], &c, 1) == 1 && c == 'x', "child could not open the tenant");
    orderbase_engine *e = NULL;
    orderbase_tenant *t = NULL;
    CHECK(orderbase_engine_open(&e, root, NULL) == 0, "engine_open in parent");
    int rc = orderbase_tenant_open(&t, e, "shared");
    expect_code(rc, ORDERBASE_EBUSY, "second process opens a held tenant", NULL);
    CHECK(t == NULL, "out is NULL on failure");
    if (write(release[1], "x", 1) != 1) perror("write");
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit");
    /* Once the other process is gone the tenant opens. */
    CHECK(orderbase_tenant_open(&t, e, "shared") == 0, "open after the holder exits: %s", orderbase_error_last()->message);
    orderbase_tenant_close(t);
    orderbase_engine_close(e);
    close(ready[0]); close(ready[1]); close(release[0]); close(release[1]);
}

/* Attachments: an upload in chunks, the one-call form, reads in pieces, refusals, misuse. */
static void test_attachments(const char *root) {
    orderbase_engine *engine = NULL;
    orderbase_tenant *t = NULL;
    char *resp = NULL;
    CHECK(orderbase_engine_open(&engine, root, "{\"background\":false,\"attachment_max_bytes\":100000}") == 0, "files: engine_open");
    CHECK(orderbase_tenant_create(engine, "files", NULL) == 0 && orderbase_tenant_open(&t, engine, "files") == 0, "files: tenant");
    CHECK(call(t, "orders.create", "{\"line_items\":[{\"title\":\"Mug\",\"quantity\":1,\"unit_price\":500}]}", &resp) == 0, "files: order");
    char order[64], req[256], id[64];
    json_str(resp, "id", order, sizeof order);
    orderbase_free(resp);
    snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"file_name\":\"scan.pdf\"}", order);
    unsigned char pdf[50000];
    memcpy(pdf, "%PDF-1.7\n", 9);
    for (size_t i = 9; i < sizeof pdf; i++) pdf[i] = (unsigned char)(i * 7);
    orderbase_upload *up = NULL;
    expect_code(orderbase_upload_begin(&up, t, req), ORDERBASE_OK, "upload_begin", NULL);
    for (size_t off = 0; off < sizeof pdf; off += 4096) {
        size_t n = sizeof pdf - off < 4096 ? sizeof pdf - off : 4096;
        expect_code(orderbase_upload_write(up, pdf + off, n), ORDERBASE_OK, "upload_write", NULL);
    }
    EXPECT(orderbase_upload_finish(up, &resp), ORDERBASE_OK, "upload_finish");
    /* EXPECT freed the answer: fetch the id again through the list. */
    snprintf(req, sizeof req, "{\"order_id\":\"%s\"}", order);
    CHECK(call(t, "attachments.list", req, &resp) == 0 && strstr(resp, "\"application/pdf\"") && strstr(resp, "\"size\":50000"), "attachments.list: %s", resp);
    json_str(resp, "id", id, sizeof id);
    orderbase_free(resp);
    unsigned char back[sizeof pdf + 10];
    size_t got = 0, total = 0;
    for (;;) {
        size_t n = 0;
        size_t room = sizeof back - total < 7000 ? sizeof back - total : 7000;
        expect_code(orderbase_attachment_read(t, id, total, back + total, room, &n), ORDERBASE_OK, "attachment_read", NULL);
        if (n == 0) break;
        total += n;
        got++;
    }
    CHECK(total == sizeof pdf && memcmp(back, pdf, sizeof pdf) == 0 && got == 8, "read back %zu bytes in %zu reads", total, got);
    /* Refusals: too big while streaming (the upload is gone), an unknown owner, a hostile name, a type not allowed. */
    snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"file_name\":\"big.pdf\"}", order);
    expect_code(orderbase_upload_begin(&up, t, req), ORDERBASE_OK, "upload_begin big", NULL);
    expect_code(orderbase_upload_write(up, pdf, sizeof pdf), ORDERBASE_OK, "write 50000", NULL);
    expect_code(orderbase_upload_write(up, pdf, sizeof pdf), ORDERBASE_OK, "write up to attachment_max_bytes", NULL);
    expect_code(orderbase_upload_write(up, pdf, 1), ORDERBASE_ELIMIT, "write past attachment_max_bytes", NULL);
    expect_code(orderbase_upload_write(up, pdf, 1), ORDERBASE_ESTATE, "write after the limit", NULL);
    orderbase_upload_abort(up);
    expect_code(orderbase_upload_finish(up, NULL), ORDERBASE_EMISUSE, "finish after abort", NULL);
    expect_code(orderbase_upload_begin(&up, t, "{\"order_id\":\"ord_nope\",\"file_name\":\"a.pdf\"}"), ORDERBASE_ENOTFOUND, "unknown owner", NULL);
    CHECK(up == NULL, "begin failure leaves out NULL");
    snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"file_name\":\"../../etc/passwd\"}", order);
    expect_code(orderbase_upload_begin(&up, t, req), ORDERBASE_EINVALID, "hostile file name", NULL);
    snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"file_name\":\"x.bin\"}", order);
    EXPECT(orderbase_attach(t, req, "\x00\x01\x02", 3, &resp), ORDERBASE_EINVALID, "binary not allowed");
    EXPECT(orderbase_attach(t, req, "plain text", 10, &resp), ORDERBASE_OK, "attach text");
    EXPECT(orderbase_attach(t, req, NULL, 5, &resp), ORDERBASE_EMISUSE, "attach NULL bytes");
    size_t n = 0;
    expect_code(orderbase_attachment_read(t, "att_nope", 0, back, 10, &n), ORDERBASE_ENOTFOUND, "read unknown", NULL);
    expect_code(orderbase_attachment_read(t, id, 0, back, 10, NULL), ORDERBASE_EMISUSE, "read bytes_read NULL", NULL);
    expect_code(orderbase_upload_write(NULL, pdf, 1), ORDERBASE_EMISUSE, "write NULL upload", NULL);
    orderbase_upload_abort(NULL);
    CHECK(call(t, "integrity.check", "{\"verify_files\":true}", &resp) == 0 && strstr(resp, "\"ok\":true"), "integrity: %s", resp);
    orderbase_free(resp);
    orderbase_tenant_close(t);
    orderbase_engine_close(engine);
}

int main(void) {
    char root[] = "/tmp/orderbase-abi-XXXXXX";
    if (!mkdtemp(root)) { perror("mkdtemp"); return 2; }
    char *resp = NULL;

    /* Version. */
    CHECK(strcmp(orderbase_version_string(), ORDERBASE_VERSION_STRING) == 0, "version string");
    CHECK(orderbase_version_number() == ORDERBASE_VERSION_NUMBER, "version number");

    /* strerror for every code, and unknown codes. */
    const char *names[] = {"ok", "invalid_argument", "not_found", "already_exists", "version_conflict",
                           "invalid_transition", "idempotency_mismatch", "busy", "io_error", "corruption",
                           "misuse", "limit_exceeded", "internal", "invalid_state", "on_hold", "guard_failed", "not_permitted"};
    for (int i = 0; i <= 16; i++) CHECK(strcmp(orderbase_strerror(-i), names[i]) == 0, "strerror(%d)", -i);
    CHECK(strcmp(orderbase_strerror(-999), "unknown") == 0 && strcmp(orderbase_strerror(5), "unknown") == 0, "strerror unknown");
    CHECK(orderbase_error_last() != NULL, "error_last never NULL");

    /* Two processes: done first, before this process opens any engine (never fork with engines open). */
    {
        orderbase_engine *e = NULL;
        CHECK(orderbase_engine_open(&e, root, NULL) == 0, "open for shared");
        CHECK(orderbase_tenant_create(e, "shared", NULL) == 0, "create shared");
        orderbase_engine_close(e);
        test_two_processes(root);
    }

    /* Engine open: misuse and bad options. */
    orderbase_engine *engine = NULL;
    expect_code(orderbase_engine_open(NULL, root, NULL), ORDERBASE_EMISUSE, "engine_open out NULL", NULL);
    expect_code(orderbase_engine_open(&engine, NULL, NULL), ORDERBASE_EMISUSE, "engine_open root NULL", NULL);
    expect_code(orderbase_engine_open(&engine, root, "{\"durability\":\"fast\"}"), ORDERBASE_EINVALID, "bad durability", NULL);
    expect_code(orderbase_engine_open(&engine, root, "{\"max_open_tenants\":0}"), ORDERBASE_EINVALID, "out of range option", NULL);
    expect_code(orderbase_engine_open(&engine, root, "{\"colour\":1}"), ORDERBASE_EINVALID, "unknown option", NULL);
    expect_code(orderbase_engine_open(&engine, root, "{\"background\":"), ORDERBASE_EINVALID, "malformed options", NULL);
    expect_code(orderbase_engine_open(&engine, "/tmp/\xff\xfe", NULL), ORDERBASE_EINVALID, "invalid UTF-8 root", NULL);
    expect_code(orderbase_engine_open(&engine, "/dev/null/orderbase", NULL), ORDERBASE_EIO, "root under a file", NULL);
    CHECK(engine == NULL, "out stays NULL on failure");
    expect_code(orderbase_engine_open(&engine, root, "{\"durability\":\"sync\",\"max_request_bytes\":4096,\"max_line_items\":3,\"background\":false}"),
                ORDERBASE_OK, "engine_open", NULL);

    /* Tenants. */
    expect_code(orderbase_tenant_create(engine, "acme", "{\"name\":\"Acme\",\"order_number_prefix\":\"A-\",\"order_number_start\":1,\"default_currency\":\"GBP\"}"),
                ORDERBASE_OK, "tenant_create", NULL);
    expect_code(orderbase_tenant_create(engine, "acme", NULL), ORDERBASE_EEXISTS, "tenant_create twice", NULL);
    const char *hostile[] = {"../etc", "Acme", "", "a/b", "-x", ".", "..", "a b", "ten\xc3\xa9", NULL};
    for (int i = 0; hostile[i]; i++) expect_code(orderbase_tenant_create(engine, hostile[i], NULL), ORDERBASE_EINVALID, hostile[i], NULL);
    char longid[80];
    memset(longid, 'a', 64); longid[64] = 0;
    expect_code(orderbase_tenant_create(engine, longid, NULL), ORDERBASE_EINVALID, "64-char tenant id", NULL);
    expect_code(orderbase_tenant_create(engine, "t\xff", NULL), ORDERBASE_EINVALID, "invalid UTF-8 tenant id", NULL);
    expect_code(orderbase_tenant_create(engine, "beta", "{\"default_currency\":\"XXX1\"}"), ORDERBASE_EINVALID, "bad settings", NULL);
    expect_code(orderbase_tenant_create(NULL, "x", NULL), ORDERBASE_EMISUSE, "tenant_create NULL engine", NULL);

    orderbase_tenant *t = NULL;
    expect_code(orderbase_tenant_open(&t, engine, "nobody"), ORDERBASE_ENOTFOUND, "open missing tenant", NULL);
    expect_code(orderbase_tenant_open(&t, engine, "../acme"), ORDERBASE_EINVALID, "open hostile id", NULL);
    expect_code(orderbase_tenant_open(NULL, engine, "acme"), ORDERBASE_EMISUSE, "tenant_open out NULL", NULL);
    expect_code(orderbase_tenant_open(&t, engine, "acme"), ORDERBASE_OK, "tenant_open", NULL);

    /* Engine-level methods. */
    expect_code(orderbase_engine_call(engine, "tenants.list", NULL, &resp), ORDERBASE_OK, "tenants.list", NULL);
    CHECK(resp && strstr(resp, "\"acme\"") && strstr(resp, "\"shared\""), "tenants.list content: %s", resp);
    orderbase_free(resp);
    expect_code(orderbase_engine_call(engine, "tenants.get", "{\"id\":\"acme\"}", &resp), ORDERBASE_OK, "tenants.get", NULL);
    CHECK(resp && strstr(resp, "\"order_number_prefix\":\"A-\""), "tenants.get settings: %s", resp);
    orderbase_free(resp);
    EXPECT(orderbase_engine_call(engine, "orders.create", "{}", &resp), ORDERBASE_EMISUSE, "tenant method at engine level");
    EXPECT(orderbase_engine_call(engine, "no.such", "{}", &resp), ORDERBASE_ENOTFOUND, "unknown engine method");
    expect_code(orderbase_engine_call(engine, "methods.list", NULL, &resp), ORDERBASE_OK, "methods.list", NULL);
    CHECK(resp && strstr(resp, "\"orders.create\""), "methods.list content");
    orderbase_free(resp);
    /* A NULL response pointer is allowed. */
    expect_code(orderbase_engine_call(engine, "tenants.list", NULL, NULL), ORDERBASE_OK, "engine_call NULL response", NULL);

    /* Orders: the happy path. */
    expect_code(call(t, "orders.create", ORDER, &resp), ORDERBASE_OK, "orders.create", NULL);
    char id[64] = "", number[32] = "";
    CHECK(resp != NULL, "create response");
    json_str(resp, "id", id, sizeof id);
    json_str(resp, "number", number, sizeof number);
    CHECK(strncmp(id, "ord_", 4) == 0 && strlen(id) == 30, "order id %s", id);
    CHECK(strcmp(number, "A-1") == 0, "order number %s", number);
    CHECK(strstr(resp, "\"total\":1530") != NULL, "total computed: %s", resp);
    orderbase_free(resp);

    char req[512];
    snprintf(req, sizeof req, "{\"number\":\"%s\"}", number);
    expect_code(call(t, "orders.get", req, &resp), ORDERBASE_OK, "get by number", NULL);
    CHECK(resp && strstr(resp, id), "get by number returns the order");
    orderbase_free(resp);

    /* Every error code reachable through orderbase_call. */
    EXPECT(call(t, "orders.create", "{\"line_items\":[", &resp), ORDERBASE_EINVALID, "malformed JSON");
    EXPECT(call(t, "orders.create", "[1,2]", &resp), ORDERBASE_EINVALID, "non-object request");
    EXPECT(call(t, "orders.create", "{\"line_items\":[{\"title\":\"x\",\"quantity\":\"6\",\"unit_price\":1}]}", &resp),
                ORDERBASE_EINVALID, "wrong type");
    EXPECT(call(t, "orders.create", "{\"colour\":\"red\",\"line_items\":[{\"title\":\"x\",\"quantity\":1,\"unit_price\":1}]}", &resp),
                ORDERBASE_EINVALID, "unknown field");
    EXPECT(call(t, "orders.create", "{\"line_items\":[{\"title\":\"x\",\"quantity\":0,\"unit_price\":1}]}", &resp),
                ORDERBASE_EINVALID, "out of range");
    EXPECT(call(t, "orders.create", "{\"note\":\"\xc3\x28\",\"line_items\":[{\"title\":\"x\",\"quantity\":1,\"unit_price\":1}]}", &resp),
                ORDERBASE_EINVALID, "invalid UTF-8 in request");
    EXPECT(call(t, "orders.cr\xe9" "ate", "{}", &resp), ORDERBASE_EINVALID, "invalid UTF-8 method");
    EXPECT(call(t, "orders.get", "{\"id\":\"ord_nope\"}", &resp), ORDERBASE_ENOTFOUND, "not_found");
    EXPECT(call(t, "orders.nope", "{}", &resp), ORDERBASE_ENOTFOUND, "unknown method");
    snprintf(req, sizeof req, "{\"id\":\"%s\",\"expected_version\":7,\"note\":\"x\"}", id);
    EXPECT(call(t, "orders.update", req, &resp), ORDERBASE_ECONFLICT, "version_conflict");
    snprintf(req, sizeof req, "{\"id\":\"%s\",\"to\":\"completed\"}", id);
    EXPECT(call(t, "orders.transition", req, &resp), ORDERBASE_ETRANSITION, "invalid_transition");
    EXPECT(call(t, "orders.create", "{\"idempotency_key\":\"k1\",\"line_items\":[{\"title\":\"x\",\"quantity\":1,\"unit_price\":1}]}", &resp), ORDERBASE_OK, "idempotent create");
    EXPECT(call(t, "orders.create", "{\"idempotency_key\":\"k1\",\"line_items\":[{\"title\":\"x\",\"quantity\":2,\"unit_price\":1}]}", &resp),
                ORDERBASE_EIDEMPOTENCY, "idempotency_mismatch");
    EXPECT(call(t, "orders.create", "{\"line_items\":[{\"title\":\"a\",\"quantity\":1,\"unit_price\":1},{\"title\":\"b\",\"quantity\":1,\"unit_price\":1},"
                                         "{\"title\":\"c\",\"quantity\":1,\"unit_price\":1},{\"title\":\"d\",\"quantity\":1,\"unit_price\":1}]}", &resp),
                ORDERBASE_ELIMIT, "max_line_items");
    {
        size_t n = 5000;
        char *big = malloc(n + 1);
        memset(big, ' ', n);
        big[0] = '{'; big[n - 1] = '}'; big[n] = 0;
        EXPECT(call(t, "orders.create", big, &resp), ORDERBASE_ELIMIT, "max_request_bytes");
        free(big);
    }
    snprintf(req, sizeof req, "{\"id\":\"%s\",\"reason\":\"test\"}", id);
    EXPECT(call(t, "orders.cancel", req, &resp), ORDERBASE_OK, "cancel");
    snprintf(req, sizeof req, "{\"id\":\"%s\",\"line_items\":[{\"title\":\"x\",\"quantity\":1,\"unit_price\":1}]}", id);
    EXPECT(call(t, "orders.update", req, &resp), ORDERBASE_ESTATE, "invalid_state");
    EXPECT(orderbase_engine_call(engine, "tenants.delete", "{\"id\":\"acme\"}", &resp), ORDERBASE_EBUSY, "delete an open tenant");

    /* The same tenant through other spellings of the root is the same database. */
    {
        char alias1[300], alias2[300];
        snprintf(alias1, sizeof alias1, "%s//", root);
        snprintf(alias2, sizeof alias2, "%s/./", root);
        orderbase_engine *e1 = NULL, *e2 = NULL;
        orderbase_tenant *t1 = NULL, *t2 = NULL;
        CHECK(orderbase_engine_open(&e1, alias1, NULL) == 0 && orderbase_engine_open(&e2, alias2, NULL) == 0, "alias engines");
        CHECK(orderbase_tenant_open(&t1, e1, "acme") == 0, "open via //: %s", orderbase_error_last()->message);
        CHECK(orderbase_tenant_open(&t2, e2, "acme") == 0, "open via /./: %s", orderbase_error_last()->message);
        expect_code(call(t1, "orders.create", ORDER, &resp), ORDERBASE_OK, "create via alias", NULL);
        char id2[64];
        json_str(resp ? resp : "", "id", id2, sizeof id2);
        orderbase_free(resp);
        snprintf(req, sizeof req, "{\"id\":\"%s\"}", id2);
        expect_code(call(t, "orders.get", req, NULL), ORDERBASE_OK, "visible through the first handle", NULL);
        expect_code(call(t2, "orders.get", req, NULL), ORDERBASE_OK, "visible through the other alias", NULL);
        orderbase_tenant_close(t1);
        orderbase_tenant_close(t2);
        orderbase_engine_close(e1);
        orderbase_engine_close(e2);
        /* The first handle still works after the alias handles closed. */
        expect_code(call(t, "orders.get", req, NULL), ORDERBASE_OK, "original handle after alias close", NULL);
    }

    /* Corruption: a damaged CURRENT file. */
    {
        expect_code(orderbase_tenant_create(engine, "broken", NULL), ORDERBASE_OK, "create broken", NULL);
        char path[400];
        snprintf(path, sizeof path, "%s/tenants/broken/db/CURRENT", root);
        int fd = open(path, O_WRONLY | O_TRUNC);
        CHECK(fd >= 0 && write(fd, "garbage", 7) == 7, "damage CURRENT");
        if (fd >= 0) close(fd);
        orderbase_tenant *b = NULL;
        expect_code(orderbase_tenant_open(&b, engine, "broken"), ORDERBASE_ECORRUPT, "corrupt database", NULL);
    }

    /* A symlink in place of a tenant directory is refused, never followed. */
    {
        char target[400], link[400];
        snprintf(target, sizeof target, "%s/tenants/acme", root);
        snprintf(link, sizeof link, "%s/tenants/sneaky", root);
        CHECK(symlink(target, link) == 0, "make symlink");
        orderbase_tenant *s = NULL;
        expect_code(orderbase_tenant_open(&s, engine, "sneaky"), ORDERBASE_EINVALID, "symlinked tenant", NULL);
    }

    /* Handles: NULL, closed, foreign, double close. */
    EXPECT(call(NULL, "orders.list", NULL, &resp), ORDERBASE_EMISUSE, "call NULL tenant");
    EXPECT(call(t, NULL, NULL, &resp), ORDERBASE_EMISUSE, "call NULL method");
    EXPECT(call((orderbase_tenant *)(void *)&passed, "orders.list", NULL, &resp), ORDERBASE_EMISUSE, "call foreign pointer");
    EXPECT(orderbase_engine_call((orderbase_engine *)(void *)t, "tenants.list", NULL, &resp), ORDERBASE_EMISUSE, "tenant used as engine");
    orderbase_tenant_close(t);
    EXPECT(call(t, "orders.list", NULL, &resp), ORDERBASE_EMISUSE, "call closed tenant");
    orderbase_tenant_close(t);      /* double close: harmless */
    orderbase_tenant_close(NULL);   /* NULL: harmless */

    /* Closing the engine closes handles opened from it. */
    orderbase_tenant *t3 = NULL;
    CHECK(orderbase_tenant_open(&t3, engine, "shared") == 0, "open before engine close");
    orderbase_engine_close(engine);
    EXPECT(call(t3, "orders.list", NULL, &resp), ORDERBASE_EMISUSE, "tenant after engine close");
    orderbase_tenant_close(t3);
    EXPECT(orderbase_engine_call(engine, "tenants.list", NULL, &resp), ORDERBASE_EMISUSE, "closed engine");
    expect_code(orderbase_tenant_create(engine, "z", NULL), ORDERBASE_EMISUSE, "create on closed engine", NULL);
    orderbase_engine_close(engine); /* double close */
    orderbase_engine_close(NULL);
    orderbase_free(NULL);

    /* Reopen: everything acknowledged is there, then delete a tenant. */
    CHECK(orderbase_engine_open(&engine, root, NULL) == 0, "reopen");
    CHECK(orderbase_tenant_open(&t, engine, "acme") == 0, "reopen tenant");
    snprintf(req, sizeof req, "{\"id\":\"%s\"}", id);
    EXPECT(call(t, "orders.get", req, &resp), ORDERBASE_OK, "order survives reopen");
    EXPECT(call(t, "integrity.check", NULL, &resp), ORDERBASE_OK, "integrity.check");
    orderbase_tenant_close(t);
    EXPECT(orderbase_engine_call(engine, "tenants.delete", "{\"id\":\"shared\"}", &resp), ORDERBASE_OK, "tenants.delete");
    expect_code(orderbase_tenant_open(&t, engine, "shared"), ORDERBASE_ENOTFOUND, "deleted tenant is gone", NULL);
    orderbase_engine_close(engine);

    test_attachments(root);
    test_subscriptions(root);
    test_payment_handler(root);
    test_notification_handler(root);

    /* The error slot is per thread and resets on success. */
    CHECK(orderbase_error_last()->code == ORDERBASE_ENOTFOUND || orderbase_error_last()->code == ORDERBASE_OK, "slot after close");

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    printf("abi_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
