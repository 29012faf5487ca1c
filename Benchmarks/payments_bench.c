/*
 * payments_bench.c — refunds on a 25-line order, each against a baseline measured in the same run.
 *
 *   refunds.calculate   every line (1 unit each) and all the shipping of a 25-line paid order, with its
 *                         discounts and taxes: each unit's shares worked out, the transactions planned
 *                         vs orders.get of the same order (the read it does first), µs per call
 *   refunds.create      one unit with a recorded refund transaction (a refund record, a transaction,
 *                         the order's change, a sales line, their events and audit entries: one write)
 *                         vs orders.update of the same order's note (one write of the order), µs per call
 *
 *   order_edits.commit  one unit fewer of one line of a 25-line order with stock committed at one location
 *                         (the order, its fulfillment order, the released stock and its movement, a sales
 *                         line, their events and audit entries: one write; begin and stage untimed)
 *                         vs orders.update of the same order's note, µs per call
 *
 * (Create with payments against create without is in bench.c, "paid create".)
 *
 *   make bench-payments [PAYMENTS_BENCH_ARGS="--quick"]
 */
#include <orderbase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

static orderbase_tenant *t;

static char *call(const char *method, const char *req) {
    char *out = NULL;
    if (orderbase_call(t, method, req, &out) != ORDERBASE_OK) { fprintf(stderr, "%s: %s\n", method, out); exit(1); }
    return out;
}

static void field(const char *json, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    size_t n = 0;
    if (p) {
        p += strlen(pat);
        if (*p == '"') p++;
        for (; p[n] && p[n] != '"' && p[n] != ',' && p[n] != '}' && n + 1 < cap; n++) out[n] = p[n];
    }
    out[n] = 0;
}

/* Median µs of n calls of method with req (after a warm-up tenth). */
static double median_us(const char *method, const char *req, int n) {
    double *v = malloc(sizeof(double) * (size_t)n);
    for (int i = 0; i < n / 10; i++) orderbase_free(call(method, req));
    for (int i = 0; i < n; i++) {
        double t0 = now_s();
        orderbase_free(call(method, req));
        v[i] = (now_s() - t0) * 1e6;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double m = v[n / 2];
    free(v);
    return m;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: payments_bench DIR [--quick]\n"); return 2; }
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    int n = quick ? 500 : 3000;
    orderbase_engine *e = NULL;
    if (orderbase_engine_open(&e, argv[1], "{\"durability\":\"relaxed\",\"background\":false}") != 0) return 1;
    orderbase_tenant_create(e, "shop", "{\"default_currency\":\"GBP\"}");
    if (orderbase_tenant_open(&t, e, "shop") != 0) return 1;

    /* A 25-line order: each line 40 units (room for every refund below), a line discount on odd lines,
       20% VAT, two order discounts, taxed shipping; paid in full at checkout. */
    static char body[32768];
    int k = snprintf(body, sizeof body, "{\"line_items\":[");
    for (int i = 0; i < 25; i++) {
        long price = 199 + 37 * i, qty = 4000, d = i % 2 ? 100 + i : 0;
        char disc[64] = "";
        if (d) snprintf(disc, sizeof disc, ",\"discounts\":[{\"amount\":%ld}]", d);
        k += snprintf(body + k, sizeof body - (size_t)k,
                      "%s{\"sku\":\"S%d\",\"title\":\"Item %d\",\"quantity\":%ld,\"unit_price\":%ld,\"unit_cost\":%ld%s,"
                      "\"tax_lines\":[{\"name\":\"VAT\",\"rate\":\"0.2\"}]}",
                      i ? "," : "", i, i, qty, price, price / 2, disc);
    }
    snprintf(body + k, sizeof body - (size_t)k, "],\"discounts\":[{\"amount\":1500},{\"amount\":999}],"
             "\"shipping_lines\":[{\"title\":\"Courier\",\"price\":995,\"tax_lines\":[{\"name\":\"VAT\",\"rate\":\"0.2\"}]}]}");
    char *order = call("orders.create", body);
    char id[64], total[32], req[4096];
    field(order, "id", id, sizeof id);
    field(order, "total", total, sizeof total);
    orderbase_free(order);
    snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"kind\":\"sale\",\"amount\":%s}", id, total);
    char *sale = call("transactions.create", req);
    char sale_id[64];
    field(sale, "id", sale_id, sizeof sale_id);
    orderbase_free(sale);
    snprintf(req, sizeof req, "{\"id\":\"%s\"}", id);
    order = call("orders.get", req);
    /* The line ids, in order. */
    char lines[25][64];
    const char *p = strstr(order, "\"line_items\":[");
    for (int i = 0; i < 25; i++) { p = strstr(p, "{\"id\":\"li_"); field(p, "id", lines[i], sizeof lines[i]); p++; }
    orderbase_free(order);

    /* refunds.calculate of every line and all the shipping vs orders.get. */
    k = snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"line_items\":[", id);
    for (int i = 0; i < 25; i++) k += snprintf(req + k, sizeof req - (size_t)k, "%s{\"line_item_id\":\"%s\",\"quantity\":1}", i ? "," : "", lines[i]);
    snprintf(req + k, sizeof req - (size_t)k, "],\"shipping\":{\"full\":true},\"restocking_fee_percent\":\"5\"}");
    char get[128];
    snprintf(get, sizeof get, "{\"id\":\"%s\"}", id);
    double calc = median_us("refunds.calculate", req, n), read = median_us("orders.get", get, n);

    /* refunds.create of one unit (line by line, round robin) vs orders.update of the note. */
    int m = quick ? 300 : 900;  /* an order takes at most 1,000 transactions */
    double *cv = malloc(sizeof(double) * (size_t)m), *uv = malloc(sizeof(double) * (size_t)m);
    for (int i = 0; i < m; i++) {
        char one[512], upd[256], quote_total[32];
        snprintf(one, sizeof one, "{\"order_id\":\"%s\",\"line_items\":[{\"line_item_id\":\"%s\",\"quantity\":1}]}", id, lines[i % 25]);
        char *q = call("refunds.calculate", one);
        field(strstr(q, "\"return_shipping_fee\""), "total", quote_total, sizeof quote_total);
        orderbase_free(q);
        snprintf(one, sizeof one, "{\"order_id\":\"%s\",\"line_items\":[{\"line_item_id\":\"%s\",\"quantity\":1}],"
                 "\"transactions\":[{\"parent_id\":\"%s\",\"amount\":%s}]}", id, lines[i % 25], sale_id, quote_total);
        snprintf(upd, sizeof upd, "{\"id\":\"%s\",\"note\":\"n%d\"}", id, i);
        double t0 = now_s();
        orderbase_free(call("refunds.create", one));
        cv[i] = (now_s() - t0) * 1e6;
        t0 = now_s();
        orderbase_free(call("orders.update", upd));
        uv[i] = (now_s() - t0) * 1e6;
    }
    qsort(cv, (size_t)m, sizeof *cv, cmp_double);
    qsort(uv, (size_t)m, sizeof *uv, cmp_double);

    /* order_edits.commit on a second order whose stock is committed at one location. */
    char *loc = call("locations.create", "{\"name\":\"Warehouse\"}");
    char loc_id[64];
    field(loc, "id", loc_id, sizeof loc_id);
    orderbase_free(loc);
    static char stock[8192];
    k = snprintf(stock, sizeof stock, "{\"reason\":\"received\",\"changes\":[");
    for (int i = 0; i < 25; i++) k += snprintf(stock + k, sizeof stock - (size_t)k, "%s{\"sku\":\"S%d\",\"location_id\":\"%s\",\"delta\":100000}", i ? "," : "", i, loc_id);
    snprintf(stock + k, sizeof stock - (size_t)k, "]}");
    orderbase_free(call("inventory.adjust_many", stock));
    order = call("orders.create", body);
    char eid[64];
    field(order, "id", eid, sizeof eid);
    p = strstr(order, "\"line_items\":[");
    for (int i = 0; i < 25; i++) { p = strstr(p, "{\"id\":\"li_"); field(p, "id", lines[i], sizeof lines[i]); p++; }
    orderbase_free(order);
    double *ev = malloc(sizeof(double) * (size_t)m), *bv = malloc(sizeof(double) * (size_t)m);
    for (int i = 0; i < m; i++) {
        char begin[128], stage[512], commit[128], upd[256], edit_id[64];
        snprintf(begin, sizeof begin, "{\"order_id\":\"%s\"}", eid);
        char *ed = call("order_edits.begin", begin);
        field(ed, "id", edit_id, sizeof edit_id);
        orderbase_free(ed);
        snprintf(stage, sizeof stage, "{\"id\":\"%s\",\"actions\":[{\"type\":\"set_quantity\",\"line_item_id\":\"%s\",\"quantity\":%d}]}",
                 edit_id, lines[i % 25], 4000 - 1 - i / 25);
        orderbase_free(call("order_edits.stage", stage));
        snprintf(commit, sizeof commit, "{\"id\":\"%s\"}", edit_id);
        double t0 = now_s();
        orderbase_free(call("order_edits.commit", commit));
        ev[i] = (now_s() - t0) * 1e6;
        snprintf(upd, sizeof upd, "{\"id\":\"%s\",\"note\":\"n%d\"}", eid, i);
        t0 = now_s();
        orderbase_free(call("orders.update", upd));
        bv[i] = (now_s() - t0) * 1e6;
    }
    qsort(ev, (size_t)m, sizeof *ev, cmp_double);
    qsort(bv, (size_t)m, sizeof *bv, cmp_double);
    char *check = call("integrity.check", "{}");
    if (!strstr(check, "\"ok\":true")) { fprintf(stderr, "integrity: %s\n", check); return 1; }
    orderbase_free(check);
    printf("Orderbase %s — refunds on a 25-line order (relaxed durability, medians)\n", orderbase_version_string());
    printf("refunds.calculate (25 lines + shipping): %7.1f µs   %.2fx orders.get of the order (%.1f µs)\n", calc, calc / read, read);
    printf("refunds.create (1 unit, recorded):       %7.1f µs   %.2fx orders.update of its note (%.1f µs)\n", cv[m / 2], cv[m / 2] / uv[m / 2], uv[m / 2]);
    printf("order_edits.commit (1 unit fewer):       %7.1f µs   %.2fx orders.update of its note (%.1f µs)\n", ev[m / 2], ev[m / 2] / bv[m / 2], bv[m / 2]);
    orderbase_tenant_close(t);
    orderbase_engine_close(e);
    return 0;
}
