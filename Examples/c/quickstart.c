/*
 * quickstart.c — the smallest complete Orderbase program.
 *
 * Opens an engine on a directory, creates a tenant, creates two orders, moves
 * one through its lifecycle, then prints the order list and one audit trail.
 *
 *   make run                       # builds liborderbase.so and runs this
 *   make lib && cc -Iinclude Examples/c/quickstart.c -Lbuild/lib -lorderbase \
 *      -Wl,-rpath,$PWD/build/lib -o quickstart && ./quickstart data/quickstart
 */
#include <orderbase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calls a tenant method; on failure prints the error object and exits. */
static char *call(orderbase_tenant *t, const char *method, const char *request) {
    char *response = NULL;
    int rc = orderbase_call(t, method, request, &response);
    if (rc != ORDERBASE_OK) {
        fprintf(stderr, "%s failed (%s): %s\n", method, orderbase_strerror(rc), response ? response : "");
        orderbase_free(response);
        exit(1);
    }
    return response;
}

/* Copies the value of the first "key": after json into out (strings without
   their quotes). Enough for this example; real hosts use a JSON library. */
static const char *field(const char *json, const char *key, char *out, size_t cap) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    out[0] = 0;
    if (!p) return NULL;
    p += strlen(pattern);
    int quoted = *p == '"';
    if (quoted) p++;
    size_t n = 0;
    while (p[n] && n + 1 < cap && (quoted ? p[n] != '"' : (p[n] != ',' && p[n] != '}'))) { out[n] = p[n]; n++; }
    out[n] = 0;
    return p + n;
}

int main(int argc, char **argv) {
    const char *root = argc > 1 ? argv[1] : "data/quickstart";
    orderbase_engine *engine = NULL;
    if (orderbase_engine_open(&engine, root, "{\"durability\":\"sync\"}") != ORDERBASE_OK) {
        fprintf(stderr, "engine_open: %s\n", orderbase_error_last()->message);
        return 1;
    }
    printf("Orderbase %s, data in %s\n", orderbase_version_string(), root);

    int rc = orderbase_tenant_create(engine, "demo", "{\"name\":\"Demo Shop\",\"default_currency\":\"GBP\"}");
    if (rc != ORDERBASE_OK && rc != ORDERBASE_EEXISTS) {
        fprintf(stderr, "tenant_create: %s\n", orderbase_error_last()->message);
        return 1;
    }
    orderbase_tenant *demo = NULL;
    if (orderbase_tenant_open(&demo, engine, "demo") != ORDERBASE_OK) {
        fprintf(stderr, "tenant_open: %s\n", orderbase_error_last()->message);
        return 1;
    }

    /* Totals are computed by the engine; money is in minor units (pence). */
    char *first = call(demo, "orders.create",
        "{\"currency\":\"GBP\",\"channel\":\"online\","
        "\"customer\":{\"id\":\"17850\",\"email\":\"ann@example.com\",\"name\":\"Ann Lee\"},"
        "\"shipping_address\":{\"name\":\"Ann Lee\",\"line1\":\"1 High St\",\"city\":\"London\",\"postal_code\":\"N1 1AA\",\"country\":\"GB\"},"
        "\"line_items\":[{\"sku\":\"85123A\",\"title\":\"White hanging heart t-light holder\",\"quantity\":6,\"unit_price\":255,"
        "\"discounts\":[{\"code\":\"SPRING\",\"amount\":100}],\"tax_lines\":[{\"name\":\"VAT\",\"rate\":\"0.20\"}]}],"
        "\"shipping_lines\":[{\"title\":\"Standard\",\"price\":495}],"
        "\"actor\":{\"type\":\"user\",\"id\":\"staff-1\"},\"request_id\":\"req-quickstart-1\"}");
    char id[64], number[32];
    field(first, "id", id, sizeof id);
    field(first, "number", number, sizeof number);
    printf("created %s (%s)\n", number, id);
    orderbase_free(first);

    orderbase_free(call(demo, "orders.create",
        "{\"channel\":\"phone\",\"line_items\":[{\"sku\":\"22423\",\"title\":\"Regency cakestand 3 tier\",\"quantity\":1,\"unit_price\":1275}]}"));

    const char *steps[] = {"confirmed", "processing", "completed"};
    for (int i = 0; i < 3; i++) {
        char request[256];
        snprintf(request, sizeof request, "{\"id\":\"%s\",\"to\":\"%s\",\"reason\":\"quickstart\"}", id, steps[i]);
        orderbase_free(call(demo, "orders.transition", request));
        printf("%s -> %s\n", number, steps[i]);
    }

    /* An illegal transition is refused with a stable code and changes nothing. */
    char request[256], *error = NULL;
    snprintf(request, sizeof request, "{\"id\":\"%s\",\"to\":\"pending\"}", id);
    rc = orderbase_call(demo, "orders.transition", request, &error);
    printf("completed -> pending: %s: %s\n", orderbase_strerror(rc), orderbase_error_last()->message);
    orderbase_free(error);

    /* The newest orders first. Money is in minor units: 2211 GBP = £22.11. */
    char *list = call(demo, "orders.list", "{\"limit\":10}");
    printf("\norders.list (newest first):\n");
    for (const char *p = strstr(list, "\"number\":"); p; p = strstr(p + 1, "\"number\":")) {
        char num[32], status[32], channel[32], currency[8], total[32];
        field(p, "number", num, sizeof num);
        field(p, "status", status, sizeof status);
        field(p, "channel", channel, sizeof channel);
        field(p, "currency", currency, sizeof currency);
        field(p, "total", total, sizeof total);
        printf("  %-8s %-10s %-7s %s %s\n", num, status, channel, total, currency);
    }
    orderbase_free(list);

    snprintf(request, sizeof request, "{\"id\":\"%s\"}", id);
    char *order = call(demo, "orders.get", request);
    printf("\norders.get %s:\n%s\n", number, order);
    orderbase_free(order);

    /* Every change is audited with the actor and the fields it changed. */
    char *audit = call(demo, "orders.audit", request);
    printf("\norders.audit %s:\n", number);
    for (const char *p = strstr(audit, "\"seq\":"); p; ) {
        const char *next = strstr(p + 1, "\"seq\":");
        char seq[16], at[32], action[48], actor[16], reason[64];
        field(p, "seq", seq, sizeof seq);
        field(p, "at", at, sizeof at);
        field(p, "action", action, sizeof action);
        field(strstr(p, "\"actor\":"), "type", actor, sizeof actor);
        field(p, "reason", reason, sizeof reason);
        printf("  #%s %s %-22s by %-6s changed:", seq, at, action, actor);
        for (const char *c = strstr(p, "\"field\":"); c && (!next || c < next); c = strstr(c + 1, "\"field\":")) {
            char name[32];
            field(c, "field", name, sizeof name);
            printf(" %s", name);
        }
        printf("%s%s\n", strcmp(reason, "null") ? "  reason: " : "", strcmp(reason, "null") ? reason : "");
        p = next;
    }
    orderbase_free(audit);

    char *verify = call(demo, "audit.verify", NULL);
    printf("\naudit.verify: %s\n", verify);
    orderbase_free(verify);

    orderbase_tenant_close(demo);
    orderbase_engine_close(engine);
    return 0;
}
