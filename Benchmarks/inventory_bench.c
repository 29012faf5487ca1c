/*
 * inventory_bench.c — stock commitment and routing, measured in one run.
 *
 *   create with commitment   orders.create of 3 tracked lines (routing over 3 locations,
 *                            committed in the order's batch, a fulfillment order)
 *                            vs the same create whose SKUs inventory does not track
 *                            (the baseline: same tenant, same locations), 1 thread,
 *                            alternating rounds, under the engine's default durability
 *                            (sync: each create on disk) and under relaxed (no fsync: the
 *                            CPU-bound case). Each round's ratio is taken against the
 *                            untracked round beside it and the median reported (machine
 *                            speed drifts between rounds here); goal: ratio >= 0.80
 *   hot SKU, 8 threads       8 threads ordering 1 unit of one SKU (sync durability) until
 *                            the stock runs out: creates/s, then the count: committed must
 *                            equal the units sold and never exceed on hand (oversold: 0)
 *   routing decision         fulfillment.route_preview of a 25-line draft over 50 locations
 *                            vs over 1 location (the baseline), µs per decision
 *
 *   inventory_bench ROOT [--quick]
 *
 * Lines use real stock codes of ../shared/data/online-retail (85123A, 71053, 84406B, …).
 * Exits 2 if either create ratio misses 0.80 or anything oversold.
 */
#include <orderbase.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory_orders.h"
#include "timing.h"

static long number(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    return p ? atol(p + strlen(pattern)) : -1;
}

static double creates(orderbase_tenant *t, const char *prefix, int n) {
    char req[1024];
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        three_line_order(req, sizeof req, prefix, i);
        orderbase_free(call(t, "orders.create", req));
    }
    return n / (now_s() - t0);
}

typedef struct { orderbase_tenant *t; long sold, refused, other; } racer;

static void *race(void *arg) {
    racer *r = arg;
    const char *req = "{\"line_items\":[{\"sku\":\"T85123A\",\"title\":\"White hanging heart t-light holder\",\"quantity\":1,\"unit_price\":255}]}";
    for (;;) {
        char *out = NULL;
        int rc = orderbase_call(r->t, "orders.create", req, &out);
        if (rc == ORDERBASE_OK) r->sold++;
        else if (rc == ORDERBASE_ESTATE && strstr(out, "insufficient_stock")) { r->refused++; orderbase_free(out); break; }
        else { r->other++; orderbase_free(out); break; }
        orderbase_free(out);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: inventory_bench ROOT [--quick]\n"); return 2; }
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    int rounds = quick ? 3 : 7, per_round = quick ? 300 : 1500;
    orderbase_engine *relaxed, *sync;
    char root[512];
    snprintf(root, sizeof root, "%s/relaxed", argv[1]);
    if (orderbase_engine_open(&relaxed, root, "{\"durability\":\"relaxed\"}") != ORDERBASE_OK) die("open", NULL);
    snprintf(root, sizeof root, "%s/sync", argv[1]);
    if (orderbase_engine_open(&sync, root, "{\"durability\":\"sync\"}") != ORDERBASE_OK) die("open", NULL);
    int failed = 0;

    /* 1. Create with commitment vs without tracked lines, alternating rounds: relaxed, then sync. */
    orderbase_tenant *shop = tenant(relaxed, "shop"), *durable = tenant(sync, "shop");
    char ids[50][64];
    stock(shop, 3, 100000000L, ids);
    stock(durable, 3, 100000000L, ids);
    struct { orderbase_tenant *t; const char *name; int rounds, per_round; double ratio; } modes[2] = {
        {shop, "relaxed", rounds * 2, per_round / 2, 0}, {durable, "sync", rounds * 2, quick ? 100 : 300, 0}};
    for (int m = 0; m < 2; m++) {
        orderbase_tenant *t = modes[m].t;
        double ratios[64], best_tracked = 0, best_plain = 0;
        int n = modes[m].rounds;
        creates(t, "T", 100); creates(t, "U", 100);  /* warm up */
        for (int r = 0; r < n; r++) {
            double a = creates(t, "T", modes[m].per_round), b = creates(t, "U", modes[m].per_round);
            ratios[r] = a / b;
            if (a > best_tracked) best_tracked = a;
            if (b > best_plain) best_plain = b;
        }
        qsort(ratios, (size_t)n, sizeof ratios[0], cmp_double);
        modes[m].ratio = n % 2 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
        printf("create, 3 tracked lines committed, %-7s %8.0f orders/s (best round)\n", modes[m].name, best_tracked);
        printf("create, the same lines untracked,  %-7s %8.0f orders/s (best round)   ratio %.2f (median of %d paired rounds, %.2f-%.2f; goal >= 0.80)\n",
               modes[m].name, best_plain, modes[m].ratio, n, ratios[0], ratios[n - 1]);
        if (modes[m].ratio < 0.80) failed = 1;
    }

    /* 2. Eight threads on one hot SKU until it runs out (sync durability). */
    orderbase_tenant *hot = tenant(sync, "hot");
    long units = quick ? 400 : 2000;
    char hot_ids[2][64], req[512];
    for (int l = 0; l < 2; l++) {
        snprintf(req, sizeof req, "{\"name\":\"H%d\"}", l);
        char *r = call(hot, "locations.create", req);
        id_of(r, hot_ids[l]);
        orderbase_free(r);
        snprintf(req, sizeof req, "{\"sku\":\"T85123A\",\"location_id\":\"%s\",\"quantity\":%ld,\"reason\":\"cycle_count\"}", hot_ids[l], units / 2);
        orderbase_free(call(hot, "inventory.set", req));
    }
    racer racers[8] = {{0}};
    pthread_t th[8];
    double t0 = now_s();
    for (int i = 0; i < 8; i++) { racers[i].t = hot; pthread_create(&th[i], NULL, race, &racers[i]); }
    long sold = 0, other = 0;
    for (int i = 0; i < 8; i++) { pthread_join(th[i], NULL); sold += racers[i].sold; other += racers[i].other; }
    double secs = now_s() - t0;
    char *item = call(hot, "inventory.get", "{\"sku\":\"T85123A\"}");
    const char *totals = strstr(item, "\"totals\"");
    long committed = number(totals, "committed"), on_hand = number(totals, "on_hand");
    long oversold = committed > on_hand ? committed - on_hand : 0;
    if (committed != sold) oversold += labs(committed - sold);
    printf("hot SKU, 8 threads (sync):           %8.0f orders/s   %ld sold of %ld, committed %ld, oversold %ld, other errors %ld\n",
           sold / secs, sold, units, committed, oversold, other);
    orderbase_free(item);
    if (oversold != 0 || other != 0 || sold != units) failed = 1;

    /* 3. Routing: a 25-line draft over 50 locations vs over 1. */
    orderbase_tenant *many = tenant(relaxed, "many"), *one = tenant(relaxed, "one");
    stock(many, 50, 1000, ids);
    stock(one, 1, 1000, ids);
    size_t cap = 8192;
    char *draft = malloc(cap);
    size_t n = (size_t)snprintf(draft, cap, "{\"line_items\":[");
    for (int c = 0; c < 25; c++)
        n += (size_t)snprintf(draft + n, cap - n, "%s{\"sku\":\"T%s\",\"title\":\"Item %d\",\"quantity\":%d,\"unit_price\":100}", c ? "," : "", CODES[c], c, 1 + c % 4);
    snprintf(draft + n, cap - n, "],\"shipping_address\":{\"country\":\"GB\"}}");
    int decisions = quick ? 200 : 1000;
    double us[2];
    orderbase_tenant *ts[2] = {many, one};
    for (int k = 0; k < 2; k++) {
        orderbase_free(call(ts[k], "fulfillment.route_preview", draft));
        double s0 = now_s();
        for (int i = 0; i < decisions; i++) orderbase_free(call(ts[k], "fulfillment.route_preview", draft));
        us[k] = (now_s() - s0) / decisions * 1e6;
    }
    printf("routing, 25 lines over 50 locations: %8.0f µs per decision   %.1fx the same over 1 location (%.0f µs)\n", us[0], us[0] / us[1], us[1]);
    free(draft);

    orderbase_tenant_close(shop);
    orderbase_tenant_close(durable);
    orderbase_tenant_close(hot);
    orderbase_tenant_close(many);
    orderbase_tenant_close(one);
    orderbase_engine_close(relaxed);
    orderbase_engine_close(sync);
    return failed ? 2 : 0;
}
