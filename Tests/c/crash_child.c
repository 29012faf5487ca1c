/*
 * crash_child.c — the victim of crash_test: creates its tenant, a location and stock
 * for half of its SKUs (S0–S49 tracked; S50–S99 unknown to inventory), then orders
 * (committing stock), confirms, cancels (releasing it) and ships (consuming it)
 * through the C ABI as fast as it can, printing a line only after the call
 * returned OK, until it is killed.
 *   C <id>    order created and acknowledged
 *   T <id>    order acknowledged as confirmed
 *   X <id>    order acknowledged as cancelled
 *   S <id>    order acknowledged as shipped in full
 *   F <id>    attachment (96 KiB, uploaded in 8 KiB chunks) acknowledged
 *   P <id> <n> order paid in full (a sale) and then one unit of its first line refunded (refunds.create,
 *              a recorded refund transaction of n), both acknowledged
 *   E <id> <q> order edited (order_edits.begin, stage, commit: its first line's quantity raised to q, the
 *              added units routed and committed in the commit's write), acknowledged
 */
#include <orderbase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(const char *kind, const char *id) {
    char line[128];
    int n = snprintf(line, sizeof line, "%s %s\n", kind, id);
    if (write(1, line, (size_t)n) != n) _exit(4);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: crash_child ROOT sync|relaxed [TENANT]\n"); return 2; }
    const char *tenant = argc > 3 ? argv[3] : "crash";
    char options[64];
    snprintf(options, sizeof options, "{\"durability\":\"%s\"}", argv[2]);
    orderbase_engine *e = NULL;
    orderbase_tenant *t = NULL;
    if (orderbase_engine_open(&e, argv[1], options) != 0) { fprintf(stderr, "open: %s\n", orderbase_error_last()->message); return 3; }
    int rc = orderbase_tenant_create(e, tenant, NULL);
    if (rc != 0 && rc != ORDERBASE_EEXISTS) { fprintf(stderr, "create: %s\n", orderbase_error_last()->message); return 3; }
    if (orderbase_tenant_open(&t, e, tenant) != 0) { fprintf(stderr, "tenant: %s\n", orderbase_error_last()->message); return 3; }
    srand((unsigned)getpid());
    /* A location (once), and a stock count of S0–S49 there (every start: a count sets, so this is repeatable). */
    char *r = NULL, loc[64], count[8192];
    if (orderbase_call(t, "locations.list", "{}", &r) != 0) { fprintf(stderr, "locations.list: %s\n", r); return 5; }
    const char *found = strstr(r, "\"id\":\"loc_");
    if (!found) {
        orderbase_free(r);
        r = NULL;
        if (orderbase_call(t, "locations.create", "{\"name\":\"Main\"}", &r) != 0) { fprintf(stderr, "locations.create: %s\n", r); return 5; }
        found = strstr(r, "\"id\":\"loc_");
    }
    size_t m = 0;
    for (found += 6; found[m] != '"' && m < 63; m++) loc[m] = found[m];
    loc[m] = 0;
    orderbase_free(r);
    int c = snprintf(count, sizeof count, "{\"reason\":\"cycle_count\",\"quantities\":[");
    for (int k = 0; k < 50; k++)
        c += snprintf(count + c, sizeof count - (size_t)c, "%s{\"sku\":\"S%d\",\"location_id\":\"%s\",\"quantity\":1000000000}", k ? "," : "", k, loc);
    snprintf(count + c, sizeof count - (size_t)c, "]}");
    r = NULL;
    if (orderbase_call(t, "inventory.set_many", count, &r) != 0) { fprintf(stderr, "inventory.set_many: %s\n", r); return 5; }
    orderbase_free(r);
    char prev[64] = "";
    for (unsigned long i = 0;; i++) {
        char req[1024];
        int lines = 1 + rand() % 4;
        int n = snprintf(req, sizeof req, "{\"customer\":{\"id\":\"c%d\"},\"channel\":\"%s\",\"line_items\":[",
                         rand() % 50, (i % 3) ? "online" : "phone");
        for (int l = 0; l < lines; l++)
            n += snprintf(req + n, sizeof req - (size_t)n, "%s{\"sku\":\"S%d\",\"title\":\"Item %d\",\"quantity\":%d,\"unit_price\":%d}",
                          l ? "," : "", rand() % 100, l, 1 + rand() % 5, 100 + rand() % 5000);
        snprintf(req + n, sizeof req - (size_t)n, "]}");
        char *resp = NULL;
        if (orderbase_call(t, "orders.create", req, &resp) != 0) { fprintf(stderr, "create: %s\n", resp); return 5; }
        char id[64];
        const char *p = strstr(resp, "\"id\":\"") + 6;
        size_t k = 0;
        while (p[k] != '"' && k < 63) { id[k] = p[k]; k++; }
        id[k] = 0;
        long total = atol(strstr(resp, "\"total\":") + 8);
        char line[64];
        const char *li = strstr(resp, "\"line_items\":[{\"id\":\"") + 21;
        size_t w = 0;
        while (li[w] != '"' && w < 63) { line[w] = li[w]; w++; }
        line[w] = 0;
        orderbase_free(resp);
        say("C", id);
        int fate = rand() % 6;
        if (fate == 0) {  /* cancel it: its commitment is released in the cancellation's write */
            snprintf(req, sizeof req, "{\"id\":\"%s\"}", id);
            if (orderbase_call(t, "orders.cancel", req, NULL) != 0) { fprintf(stderr, "cancel failed\n"); return 5; }
            say("X", id);
            continue;
        }
        if (fate == 2) {  /* attach a file to it: killed mid-upload, nothing of it may remain */
            orderbase_upload *up = NULL;
            snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"file_name\":\"scan-%lu.pdf\"}", id, i);
            if (orderbase_upload_begin(&up, t, req) != 0) { fprintf(stderr, "upload_begin: %s\n", orderbase_error_last()->message); return 5; }
            static char chunk[8192];
            for (int part = 0; part < 12; part++) {
                int w = snprintf(chunk, sizeof chunk, "%s%s %d ", part ? "" : "%PDF-1.7\n", id, part);
                for (size_t z = (size_t)w; z < sizeof chunk; z++) chunk[z] = (char)('a' + (z + (size_t)part) % 26);
                if (orderbase_upload_write(up, chunk, sizeof chunk) != 0) { fprintf(stderr, "upload_write: %s\n", orderbase_error_last()->message); return 5; }
            }
            resp = NULL;
            if (orderbase_upload_finish(up, &resp) != 0) { fprintf(stderr, "upload_finish: %s\n", resp); return 5; }
            const char *a = strstr(resp, "\"id\":\"att_");
            char att[64];
            size_t q = 0;
            for (a += 6; a[q] != '"' && q < 63; q++) att[q] = a[q];
            att[q] = 0;
            orderbase_free(resp);
            say("F", att);
            continue;
        }
        if (fate == 3) {  /* paid in full, then a third refunded: two ledger writes, each with the order's sums */
            snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"kind\":\"sale\",\"amount\":%ld,\"gateway\":\"stripe\"}", id, total);
            resp = NULL;
            if (orderbase_call(t, "transactions.create", req, &resp) != 0) { fprintf(stderr, "sale: %s\n", resp); return 5; }
            char sale[64];
            const char *q = strstr(resp, "\"id\":\"") + 6;
            size_t z = 0;
            while (q[z] != '"' && z < 63) { sale[z] = q[z]; z++; }
            sale[z] = 0;
            orderbase_free(resp);
            /* What one unit gives back, then the refund with a recorded transaction of exactly that. */
            snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"line_items\":[{\"line_item_id\":\"%s\",\"quantity\":1}]}", id, line);
            resp = NULL;
            if (orderbase_call(t, "refunds.calculate", req, &resp) != 0) { fprintf(stderr, "refunds.calculate: %s\n", resp); return 5; }
            long back = atol(strstr(strstr(resp, "\"return_shipping_fee\""), "\"total\":") + 8);
            orderbase_free(resp);
            snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"line_items\":[{\"line_item_id\":\"%s\",\"quantity\":1}],"
                     "\"transactions\":[{\"parent_id\":\"%s\",\"amount\":%ld}]}", id, line, sale, back);
            resp = NULL;
            if (orderbase_call(t, "refunds.create", req, &resp) != 0) { fprintf(stderr, "refunds.create: %s\n", resp); return 5; }
            orderbase_free(resp);
            char paid[96];
            snprintf(paid, sizeof paid, "%s %ld", id, back);
            say("P", paid);
            continue;
        }
        if (fate == 4) {  /* edit it: two more units of its first line, committed with their stock in one write */
            long q = atol(strstr(strstr(req, "\"title\":\"Item 0\""), "\"quantity\":") + 11) + 2;
            snprintf(req, sizeof req, "{\"order_id\":\"%s\"}", id);
            resp = NULL;
            if (orderbase_call(t, "order_edits.begin", req, &resp) != 0) { fprintf(stderr, "order_edits.begin: %s\n", resp); return 5; }
            char edit[64];
            const char *q0 = strstr(resp, "\"id\":\"") + 6;
            size_t z = 0;
            while (q0[z] != '"' && z < 63) { edit[z] = q0[z]; z++; }
            edit[z] = 0;
            orderbase_free(resp);
            snprintf(req, sizeof req, "{\"id\":\"%s\",\"actions\":[{\"type\":\"set_quantity\",\"line_item_id\":\"%s\",\"quantity\":%ld}]}", edit, line, q);
            if (orderbase_call(t, "order_edits.stage", req, NULL) != 0) { fprintf(stderr, "order_edits.stage failed\n"); return 5; }
            snprintf(req, sizeof req, "{\"id\":\"%s\"}", edit);
            resp = NULL;
            if (orderbase_call(t, "order_edits.commit", req, &resp) != 0) { fprintf(stderr, "order_edits.commit: %s\n", resp); return 5; }
            orderbase_free(resp);
            char edited[96];
            snprintf(edited, sizeof edited, "%s %ld", id, q);
            say("E", edited);
            continue;
        }
        if (fate == 1) {  /* ship all of it: one location holds everything, so one fulfillment order */
            snprintf(req, sizeof req, "{\"order_id\":\"%s\"}", id);
            resp = NULL;
            if (orderbase_call(t, "fulfillment_orders.list", req, &resp) != 0) { fprintf(stderr, "fulfillment_orders.list: %s\n", resp); return 5; }
            const char *f = strstr(resp, "\"id\":\"fo_");
            if (!f || strstr(f + 1, "\"id\":\"fo_")) { fprintf(stderr, "expected one fulfillment order: %s\n", resp); return 5; }
            char fo[64];
            size_t q = 0;
            for (f += 6; f[q] != '"' && q < 63; q++) fo[q] = f[q];
            fo[q] = 0;
            orderbase_free(resp);
            snprintf(req, sizeof req, "{\"fulfillment_order_id\":\"%s\",\"tracking\":{\"carrier\":\"DHL\"}}", fo);
            resp = NULL;
            if (orderbase_call(t, "shipments.create", req, &resp) != 0) { fprintf(stderr, "shipments.create: %s\n", resp); return 5; }
            orderbase_free(resp);
            say("S", id);
            continue;
        }
        if (prev[0] && rand() % 2) {
            snprintf(req, sizeof req, "{\"id\":\"%s\",\"to\":\"confirmed\"}", prev);
            if (orderbase_call(t, "orders.transition", req, NULL) != 0) { fprintf(stderr, "transition failed\n"); return 5; }
            say("T", prev);
            prev[0] = 0;
        } else {
            strcpy(prev, id);
        }
    }
}
