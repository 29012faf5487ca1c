/*
 * create_instructions.c — the commitment's cost in instructions, not seconds.
 *
 *   create_instructions ROOT tracked|untracked N
 *
 * The inventory bench's create (3 lines over 3 stocked locations, relaxed
 * durability), N times, of one kind: `tracked` (the SKUs inventory tracks: routed,
 * committed, a movement and an event per level) or `untracked` (the same lines
 * with SKUs inventory does not know: routed, a fulfillment order, no stock).
 * `make bench-inventory-instructions` runs both kinds under callgrind, counting
 * only inside create_orders() (--toggle-collect), and prints instructions per
 * create and their ratio. Instruction counts do not swing with the machine's
 * load as times do here (paired timed rounds range 0.3–1.4 around the same
 * median), so they show what a change to the create path costs in one run each.
 * They are not time: cache misses, fsync and LevelDB's compaction thread are
 * outside them. Benchmarks/README.md, "Inventory".
 */
#include <orderbase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory_orders.h"

/* N creates of the bench's 3-line order, SKUs prefixed T (tracked) or U (unknown to inventory). */
__attribute__((noinline)) void create_orders(orderbase_tenant *t, const char *prefix, int n) {
    char req[1024];
    for (int i = 0; i < n; i++) {
        three_line_order(req, sizeof req, prefix, i);
        orderbase_free(call(t, "orders.create", req));
    }
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[2], "tracked") && strcmp(argv[2], "untracked")) || atoi(argv[3]) < 1) {
        fprintf(stderr, "usage: create_instructions ROOT tracked|untracked N\n");
        return 2;
    }
    orderbase_engine *e;
    if (orderbase_engine_open(&e, argv[1], "{\"durability\":\"relaxed\"}") != ORDERBASE_OK) die("open", NULL);
    orderbase_tenant *t = tenant(e, "shop");
    char ids[3][64], req[512];
    stock(t, 3, 100000000L, ids);
    const char *prefix = strcmp(argv[2], "tracked") ? "U" : "T";
    /* Warm up outside the counted function: caches, memos, lazily built tables. */
    for (int i = 0; i < 50; i++) {
        snprintf(req, sizeof req, "{\"line_items\":[{\"sku\":\"%s%s\",\"title\":\"w\",\"quantity\":1,\"unit_price\":1}]}", prefix, CODES[i % 25]);
        orderbase_free(call(t, "orders.create", req));
    }
    create_orders(t, prefix, atoi(argv[3]));
    orderbase_tenant_close(t);
    orderbase_engine_close(e);
    return 0;
}
