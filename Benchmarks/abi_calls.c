/*
 * abi_calls.c — the C ABI side of the REST benchmark (rest_bench.py): the same
 * calls the HTTP side makes (orders.get of one order, orders.create of one
 * order), from N threads for a fixed time, with per-call latencies.
 *
 *   abi_calls ROOT TENANT get|create THREADS SECONDS [ENGINE_OPTIONS_JSON]
 *
 * Prints one JSON line: {"op", "threads", "calls", "seconds", "per_second", "p50_us", "p99_us"}.
 */
#include <orderbase.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"

static const char *ORDER =
    "{\"line_items\":[{\"sku\":\"85123A\",\"title\":\"White hanging heart t-light holder\",\"quantity\":6,\"unit_price\":255}]}";

typedef struct {
    orderbase_tenant *tenant;
    const char *op;
    char get_request[128];
    double until;
    double *lat;
    long n, cap;
    int failed;
} worker;

static void *run(void *arg) {
    worker *w = arg;
    const char *req = strcmp(w->op, "get") == 0 ? w->get_request : ORDER;
    const char *method = strcmp(w->op, "get") == 0 ? "orders.get" : "orders.create";
    while (now_s() < w->until) {
        char *out = NULL;
        double t0 = now_s();
        int rc = orderbase_call(w->tenant, method, req, &out);
        double t1 = now_s();
        orderbase_free(out);
        if (rc != ORDERBASE_OK) { w->failed = 1; break; }
        if (w->n == w->cap) { w->cap = w->cap ? w->cap * 2 : 65536; w->lat = realloc(w->lat, (size_t)w->cap * sizeof *w->lat); }
        w->lat[w->n++] = t1 - t0;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: abi_calls ROOT TENANT get|create THREADS SECONDS [ENGINE_OPTIONS_JSON]\n");
        return 2;
    }
    const char *op = argv[3];
    int threads = atoi(argv[4]);
    double seconds = atof(argv[5]);
    orderbase_engine *engine;
    orderbase_tenant *tenant;
    if (orderbase_engine_open(&engine, argv[1], argc > 6 ? argv[6] : NULL) != ORDERBASE_OK ||
        orderbase_tenant_open(&tenant, engine, argv[2]) != ORDERBASE_OK) {
        fprintf(stderr, "abi_calls: %s\n", orderbase_error_last()->message);
        return 1;
    }
    /* The order that gets read: the tenant's newest. */
    char *page = NULL;
    char id[64] = "";
    if (orderbase_call(tenant, "orders.list", "{\"limit\":1}", &page) == ORDERBASE_OK) {
        const char *p = strstr(page, "\"id\":\"");
        if (p) { p += 6; size_t k = 0; while (p[k] && p[k] != '"' && k < sizeof id - 1) { id[k] = p[k]; k++; } id[k] = 0; }
    }
    orderbase_free(page);
    if (strcmp(op, "get") == 0 && !id[0]) { fprintf(stderr, "abi_calls: the tenant has no order to get\n"); return 1; }

    worker *w = calloc((size_t)threads, sizeof *w);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    double start = now_s();
    for (int i = 0; i < threads; i++) {
        w[i].tenant = tenant;
        w[i].op = op;
        snprintf(w[i].get_request, sizeof w[i].get_request, "{\"id\":\"%s\"}", id);
        w[i].until = start + seconds;
        pthread_create(&tid[i], NULL, run, &w[i]);
    }
    long total = 0;
    int failed = 0;
    for (int i = 0; i < threads; i++) { pthread_join(tid[i], NULL); total += w[i].n; failed |= w[i].failed; }
    double elapsed = now_s() - start;
    double *all = malloc((size_t)(total ? total : 1) * sizeof *all);
    long k = 0;
    for (int i = 0; i < threads; i++) { memcpy(all + k, w[i].lat, (size_t)w[i].n * sizeof *all); k += w[i].n; free(w[i].lat); }
    qsort(all, (size_t)total, sizeof *all, cmp_double);
    if (failed || total == 0) { fprintf(stderr, "abi_calls: a call failed: %s\n", orderbase_error_last()->message); return 1; }
    printf("{\"op\":\"%s\",\"threads\":%d,\"calls\":%ld,\"seconds\":%.3f,\"per_second\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
           op, threads, total, elapsed, (double)total / elapsed, all[total / 2] * 1e6, all[(long)((double)total * 0.99)] * 1e6);
    free(all); free(w); free(tid);
    orderbase_tenant_close(tenant);
    orderbase_engine_close(engine);
    return 0;
}
