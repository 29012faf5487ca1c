/*
 * crash_child.c — the victim of crash_test: creates its tenant, then orders (and confirms
 * some) through the C ABI as fast as it can, printing a line only after the
 * call returned OK, until it is killed.
 *   C <id>    order created and acknowledged
 *   T <id>    order acknowledged as confirmed
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
        orderbase_free(resp);
        say("C", id);
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
