/* inventory_orders.h — the shop and the order the inventory benchmarks use, shared so they measure the same thing. */
#ifndef ORDERBASE_BENCH_INVENTORY_ORDERS_H
#define ORDERBASE_BENCH_INVENTORY_ORDERS_H
#include <orderbase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Real stock codes of ../shared/data/online-retail; a benchmark prefixes them (T: tracked, U: unknown to inventory). */
static const char *CODES[] = {"85123A", "71053", "84406B", "84029G", "84029E", "22752", "21730", "22633", "22632", "84879",
                              "22745", "22748", "22749", "22310", "84969", "22623", "22622", "21754", "21755", "21777",
                              "48187", "22960", "22913", "22912", "22914"};

/* The i-th create's request: 3 lines of codes i, i+1, i+2 (prefixed), shipping to GB. */
static inline void three_line_order(char *req, size_t cap, const char *prefix, int i) {
    snprintf(req, cap,
             "{\"line_items\":[{\"sku\":\"%s%s\",\"title\":\"White hanging heart t-light holder\",\"quantity\":6,\"unit_price\":255},"
             "{\"sku\":\"%s%s\",\"title\":\"White metal lantern\",\"quantity\":6,\"unit_price\":339},"
             "{\"sku\":\"%s%s\",\"title\":\"Cream cupid hearts coat hanger\",\"quantity\":8,\"unit_price\":275}],"
             "\"shipping_address\":{\"country\":\"GB\"}}",
             prefix, CODES[i % 25], prefix, CODES[(i + 1) % 25], prefix, CODES[(i + 2) % 25]);
}
static void die(const char *what, const char *json) {
    fprintf(stderr, "%s failed: %s\n", what, json ? json : orderbase_error_last()->message);
    exit(1);
}

static char *call(orderbase_tenant *t, const char *method, const char *request) {
    char *out = NULL;
    if (orderbase_call(t, method, request, &out) != ORDERBASE_OK) die(method, out);
    return out;
}

static void id_of(const char *json, char *out) {
    const char *p = strstr(json, "\"id\":\"");
    size_t n = 0;
    if (p) { p += 6; while (p[n] && p[n] != '"' && n < 63) { out[n] = p[n]; n++; } }
    out[n] = 0;
}

static orderbase_tenant *tenant(orderbase_engine *e, const char *id) {
    orderbase_tenant *t;
    if (orderbase_tenant_create(e, id, "{\"default_currency\":\"GBP\"}") != ORDERBASE_OK || orderbase_tenant_open(&t, e, id) != ORDERBASE_OK)
        die("tenant", NULL);
    return t;
}

/* `locations` locations ranked 0, 1, …; each holds `units` of every code prefixed T (their ids in `ids`). */
static void stock(orderbase_tenant *t, int locations, long units, char ids[][64]) {
    char req[512];
    for (int l = 0; l < locations; l++) {
        snprintf(req, sizeof req, "{\"name\":\"L%d\",\"rank\":%d}", l, l);
        char *r = call(t, "locations.create", req);
        id_of(r, ids[l]);
        orderbase_free(r);
        size_t cap = 64 + 25 * 160;
        char *body = malloc(cap);
        size_t n = (size_t)snprintf(body, cap, "{\"reason\":\"cycle_count\",\"quantities\":[");
        for (int c = 0; c < 25; c++)
            n += (size_t)snprintf(body + n, cap - n, "%s{\"sku\":\"T%s\",\"location_id\":\"%s\",\"quantity\":%ld}", c ? "," : "", CODES[c], ids[l], units);
        snprintf(body + n, cap - n, "]}");
        orderbase_free(call(t, "inventory.set_many", body));
        free(body);
    }
}
#endif
