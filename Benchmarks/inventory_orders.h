/* inventory_orders.h — the order the inventory benchmarks create, shared so they measure the same thing. */
#ifndef ORDERBASE_BENCH_INVENTORY_ORDERS_H
#define ORDERBASE_BENCH_INVENTORY_ORDERS_H
#include <stdio.h>

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
#endif
