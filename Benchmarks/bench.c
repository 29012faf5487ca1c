/*
 * bench.c — Orderbase engine vs raw LevelDB, measured in one run.
 *
 * Payloads are real orders: the invoices of ../shared/data/online-retail-*.csv.gz
 * grouped into orders.create requests. Every engine figure is printed next to
 * a raw LevelDB baseline doing the same storage work on the same machine in the
 * same run, as a ratio:
 *
 *   create (sync, 1 thread)   vs a synced WriteBatch with the same key count and
 *                               byte size as one create writes (measured from the
 *                               engine's own database, not guessed)
 *   create (sync, 8 threads)  vs 8 threads writing those batches synced (LevelDB group commit)
 *   create (relaxed, 1 / 8)   vs the same batches unsynced
 *   orders.get                vs leveldb_get of random order records
 *   orders.list limit 100     vs a 100-entry iterator scan of order records
 *   engine overhead           median relaxed create latency minus median raw relaxed batch latency
 *   import                    all invoices of the data set, orders/s
 *   organized create          relaxed creates carrying 10 custom fields (10 types, all validated) and
 *                               5 tags vs the same invoices without them, same run, rounds interleaved
 *   paid create               relaxed creates carrying the checkout's sale (orders.create `transactions`:
 *                               a transaction record, its index entry and event, the order's sums) vs the
 *                               same invoices without, same run, rounds interleaved
 *
 *   make bench [BENCH_ARGS="--quick"]
 */
#include <orderbase.h>
#include <leveldb/c.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "timing.h"

#define DATA "../shared/data/online-retail-2010-12-to-2011-09.csv.gz"

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void die(const char *what) {
    fprintf(stderr, "bench: %s: %s\n", what, orderbase_error_last()->message);
    exit(1);
}

/* ---- Loading the data set into orders.create requests ------------------ */

typedef struct { char *buf; size_t len, cap; } sbuf;
static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) { b->cap = (b->len + n + 1) * 2; b->buf = realloc(b->buf, b->cap); }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_json(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') { sb_put(b, "\\", 1); sb_put(b, s, 1); }
        else if ((unsigned char)*s < 0x20) { char e[8]; snprintf(e, sizeof e, "\\u%04x", *s); sb_str(b, e); }
        else sb_put(b, s, 1);
    }
    sb_put(b, "\"", 1);
}

/* Splits one CSV line (RFC 4180 quoting) into up to 8 fields, in place. */
static int csv_split(char *line, char **f) {
    int n = 0;
    char *p = line;
    while (n < 8) {
        if (*p == '"') {
            char *out = ++p;
            f[n++] = out;
            for (;;) {
                if (*p == '"' && p[1] == '"') { *out++ = '"'; p += 2; }
                else if (*p == '"') { p++; break; }
                else if (!*p) break;
                else *out++ = *p++;
            }
            *out = 0;
            if (*p == ',') p++;
            else break;
        } else {
            f[n++] = p;
            char *c = strchr(p, ',');
            if (!c) { p[strcspn(p, "\r\n")] = 0; break; }
            *c = 0;
            p = c + 1;
        }
    }
    return n;
}

/* "2.555" pounds -> pence, rounding half away from zero at the third decimal. */
static long pence(const char *s) {
    int neg = *s == '-';
    if (neg) s++;
    long whole = 0, frac = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') whole = whole * 10 + (*s++ - '0');
    if (*s == '.') s++;
    int third = 0;
    while (*s >= '0' && *s <= '9') {
        if (digits < 2) frac = frac * 10 + (*s - '0');
        else if (digits == 2) third = *s - '0';
        digits++;
        s++;
    }
    if (digits == 1) frac *= 10;
    long v = whole * 100 + frac + (third >= 5);
    return neg ? -v : v;
}

typedef struct { char invoice[16]; sbuf lines; int nlines; char customer[16], country[64], date[32]; } invoice;
static invoice *invoices;
static int ninvoices;
static char **requests;       /* orders.create bodies, no idempotency key */
static char **import_requests; /* the same with idempotency_key and source */

static int find_invoice(const char *no, int *table, int tsize) {
    unsigned h = 5381;
    for (const char *p = no; *p; p++) h = h * 33 + (unsigned char)*p;
    for (unsigned i = h % (unsigned)tsize;; i = (i + 1) % (unsigned)tsize) {
        if (table[i] < 0) {
            table[i] = ninvoices;
            memset(&invoices[ninvoices], 0, sizeof invoices[0]);
            snprintf(invoices[ninvoices].invoice, sizeof invoices[0].invoice, "%s", no);
            return ninvoices++;
        }
        if (strcmp(invoices[table[i]].invoice, no) == 0) return table[i];
    }
}

static void load(const char *path, int limit) {
    gzFile gz = gzopen(path, "rb");
    if (!gz) { fprintf(stderr, "bench: cannot open %s (run from the project root with ../shared beside it)\n", path); exit(1); }
    int tsize = 65536, *table = malloc(sizeof(int) * (size_t)tsize);
    for (int i = 0; i < tsize; i++) table[i] = -1;
    invoices = calloc(30000, sizeof *invoices);
    char line[4096], *f[8];
    long skipped_lines = 0;
    gzgets(gz, line, sizeof line); /* header */
    while (gzgets(gz, line, sizeof line)) {
        if (csv_split(line, f) < 8) continue;
        if (f[0][0] == 'C') continue;                 /* cancellations: the returns issue */
        long qty = atol(f[3]), price = pence(f[5]);
        if (qty <= 0 || price < 0) { skipped_lines++; continue; } /* stock adjustments, bad-debt entries */
        if (ninvoices >= 30000) break;
        int k = find_invoice(f[0], table, tsize);
        invoice *inv = &invoices[k];
        if (inv->nlines == 0) {
            char *dot = strchr(f[6], '.');
            if (dot) *dot = 0;
            snprintf(inv->customer, sizeof inv->customer, "%s", f[6]);
            snprintf(inv->country, sizeof inv->country, "%s", f[7]);
            snprintf(inv->date, sizeof inv->date, "%.10sT%.8sZ", f[4], f[4] + 11);
        }
        char *end = f[2] + strlen(f[2]);
        while (end > f[2] && end[-1] == ' ') *--end = 0; /* trailing spaces in descriptions */
        if (!*f[2]) f[2] = f[1];
        sbuf *b = &inv->lines;
        if (inv->nlines++) sb_str(b, ",");
        char num[64];
        sb_str(b, "{\"sku\":"); sb_json(b, f[1]);
        sb_str(b, ",\"title\":"); sb_json(b, f[2]);
        snprintf(num, sizeof num, ",\"quantity\":%ld,\"unit_price\":%ld}", qty, price);
        sb_str(b, num);
    }
    gzclose(gz);
    free(table);
    if (limit > 0 && ninvoices > limit) ninvoices = limit;
    requests = calloc((size_t)ninvoices, sizeof *requests);
    import_requests = calloc((size_t)ninvoices, sizeof *import_requests);
    for (int i = 0; i < ninvoices; i++) {
        invoice *inv = &invoices[i];
        sbuf r = {0};
        sb_str(&r, "{\"currency\":\"GBP\",\"placed_at\":\""); sb_str(&r, inv->date); sb_str(&r, "\"");
        if (inv->customer[0]) { sb_str(&r, ",\"customer\":{\"id\":"); sb_json(&r, inv->customer); sb_str(&r, "}"); }
        sb_str(&r, ",\"metadata\":{\"country\":"); sb_json(&r, inv->country); sb_str(&r, "}");
        sb_str(&r, ",\"line_items\":["); sb_put(&r, inv->lines.buf, inv->lines.len); sb_str(&r, "]");
        sbuf imp = {0};
        sb_put(&imp, r.buf, r.len);
        sb_str(&imp, ",\"source\":{\"name\":\"online-retail\",\"external_id\":"); sb_json(&imp, inv->invoice);
        sb_str(&imp, "},\"idempotency_key\":\"online-retail:"); sb_str(&imp, inv->invoice); sb_str(&imp, "\"}");
        sb_str(&r, "}");
        requests[i] = r.buf;
        import_requests[i] = imp.buf;
    }
    fprintf(stderr, "loaded %d invoices (%ld non-positive quantity/price lines skipped)\n", ninvoices, skipped_lines);
}

/* ---- Engine workloads --------------------------------------------------- */

typedef struct {
    orderbase_tenant *t;
    int from, count;
    double *lat;     /* per-call seconds, or NULL */
    char **ids;      /* created ids, or NULL */
    int use_import;
} job;

static void *create_worker(void *arg) {
    job *j = arg;
    for (int i = 0; i < j->count; i++) {
        int k = (j->from + i) % ninvoices;
        char *resp = NULL;
        double t0 = now_s();
        if (orderbase_call(j->t, "orders.create", j->use_import ? import_requests[k] : requests[k], &resp) != 0) {
            fprintf(stderr, "create failed: %s\n", resp);
            exit(1);
        }
        if (j->lat) j->lat[i] = now_s() - t0;
        if (j->ids) {
            const char *p = strstr(resp, "\"id\":\"") + 6;
            j->ids[j->from + i] = strndup(p, 30);
        }
        orderbase_free(resp);
    }
    return NULL;
}

/* Creates `per_thread` orders on each of `threads` threads; returns orders/s. */
static double run_creates(orderbase_tenant *t, int threads, int per_thread, double *lat, char **ids, int use_import) {
    pthread_t th[16];
    job jobs[16];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){t, i * per_thread, per_thread, (lat && threads == 1) ? lat : NULL, ids, use_import};
        pthread_create(&th[i], NULL, create_worker, &jobs[i]);
    }
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    return threads * per_thread / (now_s() - t0);
}

static orderbase_tenant *fresh_tenant(orderbase_engine *e, const char *id) {
    orderbase_tenant *t = NULL;
    if (orderbase_tenant_create(e, id, "{\"default_currency\":\"GBP\"}") != 0) die(id);
    if (orderbase_tenant_open(&t, e, id) != 0) die(id);
    return t;
}

/* ---- Organizing: custom fields and tags (issue 15) ---------------------- */

static const char *CUSTOM_FIELDS[] = {
    "{\"key\":\"gift_message\",\"name\":\"Gift message\",\"type\":\"text\",\"validations\":{\"max_length\":100,\"pattern\":\"[A-Za-z0-9 ]+\"}}",
    "{\"key\":\"boxes\",\"name\":\"Boxes\",\"type\":\"integer\",\"validations\":{\"min\":1,\"max\":50}}",
    "{\"key\":\"deliver_on\",\"name\":\"Deliver on\",\"type\":\"date\",\"validations\":{\"min\":\"2026-01-01\"}}",
    "{\"key\":\"call_at\",\"name\":\"Call at\",\"type\":\"datetime\"}",
    "{\"key\":\"wrap\",\"name\":\"Wrap\",\"type\":\"choice\",\"validations\":{\"choices\":[\"paper\",\"cloth\"]}}",
    "{\"key\":\"gift\",\"name\":\"Gift\",\"type\":\"boolean\"}",
    "{\"key\":\"budget\",\"name\":\"Budget\",\"type\":\"money\",\"validations\":{\"max\":{\"amount\":100000000,\"currency\":\"GBP\"}}}",
    "{\"key\":\"contact\",\"name\":\"Contact\",\"type\":\"email\"}",
    "{\"key\":\"site\",\"name\":\"Site\",\"type\":\"url\",\"validations\":{\"allowed_domains\":[\"example.com\"]}}",
    "{\"key\":\"phone\",\"name\":\"Phone\",\"type\":\"phone\"}",
};

/* The invoice's orders.create body with 10 custom fields and 5 tags (of 40) in front. */
static char *organized_body(int k) {
    char head[1024];
    snprintf(head, sizeof head,
             "{\"custom_fields\":{\"gift_message\":\"Order %d\",\"boxes\":%d,\"deliver_on\":\"2026-12-%02d\",\"call_at\":\"2026-12-01T10:00:00Z\","
             "\"wrap\":\"%s\",\"gift\":%s,\"budget\":{\"amount\":%d,\"currency\":\"GBP\"},\"contact\":\"buyer%d@example.com\","
             "\"site\":\"https://shop.example.com/o/%d\",\"phone\":\"+44 20 7946 %04d\"},"
             "\"tags\":[\"t%d\",\"t%d\",\"t%d\",\"t%d\",\"t%d\"],",
             k, k % 50 + 1, k % 28 + 1, k % 2 ? "paper" : "cloth", k % 3 ? "true" : "false", k * 10, k, k, k % 10000,
             k % 40, (k + 7) % 40, (k + 14) % 40, (k + 21) % 40, (k + 28) % 40);
    size_t hl = strlen(head), rl = strlen(requests[k]);
    char *body = malloc(hl + rl);
    memcpy(body, head, hl);
    memcpy(body + hl, requests[k] + 1, rl); /* the invoice's body less its opening brace, with its NUL */
    return body;
}

/* The invoice's orders.create body with its total paid at checkout (a sale) in front. */
static char *paid_body(int k) {
    long total = 0;
    for (const char *p = requests[k]; (p = strstr(p, "\"quantity\":")) != NULL; p++) {
        long qty = atol(p + 11);
        const char *u = strstr(p, "\"unit_price\":");
        if (u) total += qty * atol(u + 13);
    }
    if (total <= 0) return strdup(requests[k]);  /* an invoice of free items: nothing to pay */
    char head[160];
    snprintf(head, sizeof head, "{\"transactions\":[{\"kind\":\"sale\",\"amount\":%ld,\"gateway\":\"stripe\",\"gateway_id\":\"ch_%d\"}],", total, k);
    size_t hl = strlen(head), rl = strlen(requests[k]);
    char *body = malloc(hl + rl);
    memcpy(body, head, hl);
    memcpy(body + hl, requests[k] + 1, rl);
    return body;
}

static double timed_creates(orderbase_tenant *t, char **bodies, int from, int n) {
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        char *resp = NULL;
        if (orderbase_call(t, "orders.create", bodies[(from + i) % ninvoices], &resp) != 0) {
            fprintf(stderr, "create failed: %s\n", resp);
            exit(1);
        }
        orderbase_free(resp);
    }
    return now_s() - t0;
}

/* ---- Raw LevelDB baselines ---------------------------------------------- */

static leveldb_options_t *raw_options(leveldb_cache_t *cache) {
    leveldb_options_t *o = leveldb_options_create();
    leveldb_options_set_create_if_missing(o, 1);
    leveldb_options_set_write_buffer_size(o, 2 << 20);
    leveldb_options_set_max_open_files(o, 64);
    leveldb_options_set_cache(o, cache);
    leveldb_options_set_filter_policy(o, leveldb_filterpolicy_create_bloom(10));
    return o;
}

static leveldb_t *raw_open(const char *path, leveldb_cache_t *cache) {
    char *err = NULL;
    leveldb_t *db = leveldb_open(raw_options(cache), path, &err);
    if (err) { fprintf(stderr, "leveldb_open %s: %s\n", path, err); exit(1); }
    return db;
}

/* The shape of one create's batch, measured from a tenant the engine wrote,
   and a pool of the value bytes it wrote: raw batches carry real bytes, so
   snappy compresses them as much as the engine's (a run of one byte would
   compress to nothing and flatter the baseline's flushes and compactions). */
static double keys_per_create, bytes_per_create;
static char *pool;
static size_t pool_len;

static void measure_shape(const char *dbpath, int creates, leveldb_cache_t *cache) {
    pool_len = 0;
    leveldb_t *db = raw_open(dbpath, cache);
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_iterator_t *it = leveldb_create_iterator(db, ro);
    long keys = 0, bytes = 0, meta_bytes = 0;
    for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const char *k = leveldb_iter_key(it, &kl);
        leveldb_iter_value(it, &vl);
        if (k[0] == 'M') { meta_bytes += (long)(kl + vl); continue; } /* settings, schema, counters */
        if (pool_len + vl < (16u << 20)) {
            if (!pool) pool = malloc(16u << 20);
            memcpy(pool + pool_len, leveldb_iter_value(it, &vl), vl);
            pool_len += vl;
        }
        keys++;
        bytes += (long)(kl + vl);
    }
    leveldb_iter_destroy(it);
    leveldb_readoptions_destroy(ro);
    leveldb_close(db);
    /* Every create also rewrites the counters record (~110 bytes). */
    keys_per_create = (double)keys / creates + 1;
    bytes_per_create = (double)bytes / creates + 110;
    (void)meta_bytes;
}

typedef struct { leveldb_t *db; int sync, count, base; double *lat; double keys, bytes; } raw_job;
static void *raw_writer(void *arg) {
    raw_job *j = arg;
    int nkeys = (int)(j->keys + 0.5);
    int vsize = (int)(j->bytes / nkeys) - 23;
    if (vsize < 1) vsize = 1;
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(wo, (unsigned char)j->sync);
    for (int i = 0; i < j->count; i++) {
        double t0 = now_s(); /* building the batch is part of the cost, as it is for the engine */
        leveldb_writebatch_t *b = leveldb_writebatch_create();
        for (int k = 0; k < nkeys; k++) {
            char key[24];
            snprintf(key, sizeof key, "%c%010d%012d", 'A' + k, j->base + i, k);
            size_t off = ((size_t)(j->base + i) * (size_t)nkeys + (size_t)k) * (size_t)vsize % (pool_len - (size_t)vsize);
            leveldb_writebatch_put(b, key, 23, pool + off, (size_t)vsize);
        }
        char *err = NULL;
        leveldb_write(j->db, wo, b, &err);
        if (j->lat) j->lat[i] = now_s() - t0;
        if (err) { fprintf(stderr, "raw write: %s\n", err); exit(1); }
        leveldb_writebatch_destroy(b);
    }
    return NULL;
}

static double raw_writes(leveldb_t *db, int sync, int threads, int per_thread, double *lat) {
    pthread_t th[16];
    raw_job jobs[16];
    static int base = 0;
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (raw_job){db, sync, per_thread, base + i * per_thread, threads == 1 ? lat : NULL, keys_per_create, bytes_per_create};
        if (threads == 1) raw_writer(&jobs[0]); /* inline: no thread start in the measured loop */
        else pthread_create(&th[i], NULL, raw_writer, &jobs[i]);
    }
    for (int i = 0; threads > 1 && i < threads; i++) pthread_join(th[i], NULL);
    base += threads * per_thread;
    return threads * per_thread / (now_s() - t0);
}

/* The engine's key for an order record: 'O' + id + 0x00 0x01 (docs/keyspace.md). */
static size_t order_key(char *out, const char *id) {
    size_t n = strlen(id);
    out[0] = 'O';
    memcpy(out + 1, id, n);
    out[n + 1] = 0;
    out[n + 2] = 1;
    return n + 3;
}

/* ---- Main ---------------------------------------------------------------- */

typedef struct { const char *name; double engine, raw, target; const char *unit; } row;
static row rows[16];
static int nrows;
static void report(const char *name, double engine, double raw, double target, const char *unit) {
    rows[nrows++] = (row){name, engine, raw, target, unit};
}

static const char *SMALL_ORDER =
    "{\"currency\":\"GBP\",\"customer\":{\"id\":\"17850\",\"email\":\"a@example.com\",\"name\":\"Ann Lee\"},"
    "\"line_items\":[{\"sku\":\"85123A\",\"title\":\"White hanging heart t-light holder\",\"quantity\":6,\"unit_price\":255,"
    "\"discounts\":[{\"code\":\"SPRING\",\"amount\":100}],\"tax_lines\":[{\"name\":\"VAT\",\"rate\":\"0.20\"}]}],"
    "\"shipping_lines\":[{\"title\":\"Standard\",\"price\":495}]}";

static double engine_latency_median(orderbase_tenant *t, const char *body, int n) {
    double *lat = calloc((size_t)n, sizeof(double));
    for (int i = 0; i < n; i++) {
        char *resp = NULL;
        double t0 = now_s();
        if (orderbase_call(t, "orders.create", body, &resp) != 0) die("create");
        lat[i] = now_s() - t0;
        orderbase_free(resp);
    }
    double m = median(lat, n);
    free(lat);
    return m;
}

static void close_all(orderbase_engine **e, int n) {
    for (int i = 0; i < n; i++) { orderbase_engine_close(e[i]); e[i] = NULL; }
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int n_sync = quick ? 640 : 4800, n_relaxed = quick ? 2000 : 10000, n_get = quick ? 5000 : 20000, n_list = quick ? 300 : 2000;
    srand(42);
    load(DATA, 0);

    char root[] = "/tmp/orderbase-bench-XXXXXX";
    if (!mkdtemp(root)) { perror("mkdtemp"); return 1; }
    char path[512];
    leveldb_cache_t *cache = leveldb_cache_create_lru(32 << 20);
    orderbase_engine *eng[2] = {NULL, NULL};
    const char *SYNC = "{\"durability\":\"sync\",\"max_line_items\":1000}", *RELAXED = "{\"durability\":\"relaxed\",\"max_line_items\":1000}";

    /* 1. Relaxed creates (real invoices, and the example order). */
    if (orderbase_engine_open(&eng[1], root, RELAXED) != 0) die("open");
    orderbase_tenant *r1 = fresh_tenant(eng[1], "relaxed1"), *r8 = fresh_tenant(eng[1], "relaxed8");
    orderbase_tenant *small = fresh_tenant(eng[1], "small");
    double *lat_engine = calloc((size_t)n_relaxed, sizeof(double));
    double e_rel1 = run_creates(r1, 1, n_relaxed, lat_engine, NULL, 0);
    double e_rel8 = run_creates(r8, 8, n_relaxed / 8, NULL, NULL, 0);
    double engine_create_median = median(lat_engine, n_relaxed);
    int shape_creates = 500;
    engine_latency_median(small, SMALL_ORDER, shape_creates); /* only to learn the example order's batch shape */
    orderbase_tenant_close(r1); orderbase_tenant_close(r8); orderbase_tenant_close(small);
    close_all(&eng[1], 1); /* LevelDB finishes its compactions on close */

    /* 2. The batch shapes those creates wrote, and raw relaxed writes of them. */
    snprintf(path, sizeof path, "%s/tenants/small/db", root);
    measure_shape(path, shape_creates, cache);
    double small_keys = keys_per_create, small_bytes = bytes_per_create;
    /* Engine overhead, paired: one engine create, then one raw batch of the same
       shape, alternating, so drift (compactions, cache) hits both alike. */
    snprintf(path, sizeof path, "%s/raw-small", root);
    leveldb_t *raw = raw_open(path, cache);
    double *lat_raw = calloc((size_t)n_relaxed, sizeof(double));
    double *lat_small = calloc((size_t)n_relaxed, sizeof(double));
    if (orderbase_engine_open(&eng[1], root, RELAXED) != 0) die("open");
    small = fresh_tenant(eng[1], "small-paired");
    for (int i = 0; i < n_relaxed; i++) {
        char *resp = NULL;
        double c0 = now_s();
        if (orderbase_call(small, "orders.create", SMALL_ORDER, &resp) != 0) die("create");
        lat_small[i] = now_s() - c0;
        orderbase_free(resp);
        raw_writes(raw, 0, 1, 1, &lat_raw[i]);
    }
    orderbase_tenant_close(small);
    close_all(&eng[1], 1);
    double engine_small_median = median(lat_small, n_relaxed);
    double raw_small_median = median(lat_raw, n_relaxed);
    leveldb_close(raw);
    snprintf(path, sizeof path, "%s/tenants/relaxed1/db", root);
    measure_shape(path, n_relaxed, cache);
    snprintf(path, sizeof path, "%s/raw", root);
    raw = raw_open(path, cache);
    double r_rel1 = raw_writes(raw, 0, 1, n_relaxed, lat_raw);
    double r_rel8 = raw_writes(raw, 0, 8, n_relaxed / 8, NULL);
    double raw_write_median = median(lat_raw, n_relaxed);
    leveldb_close(raw); /* waits for its compactions: the next phase starts quiet */

    /* 3. Synced creates, interleaved with raw synced batches in rounds so both
       see the same disk (fsync latency on a VM drifts over a run), each on a
       fresh database: every database of a process shares LevelDB's one
       compaction thread, so a backlog in one stalls writes to all. */
    /* Two raw databases, as the engine writes two tenants. */
    snprintf(path, sizeof path, "%s/raw-sync1", root);
    raw = raw_open(path, cache);
    snprintf(path, sizeof path, "%s/raw-sync8", root);
    leveldb_t *raw8 = raw_open(path, cache);
    if (orderbase_engine_open(&eng[0], root, SYNC) != 0) die("open");
    orderbase_tenant *s1 = fresh_tenant(eng[0], "sync1"), *s8 = fresh_tenant(eng[0], "sync8");
    double te1 = 0, tr1 = 0, te8 = 0, tr8 = 0;
    int rounds = 8, per = n_sync / rounds;
    /* Each phase leaves compaction work that the next phase pays for, so the
       order flips every round: engine first on even rounds, raw first on odd. */
    int verbose = getenv("BENCH_VERBOSE") != NULL;
    for (int r = 0; r < rounds; r++) {
        double b1 = te1, b2 = tr1, b3 = te8, b4 = tr8;
        if (r % 2 == 0) {
            te1 += per / run_creates(s1, 1, per, NULL, NULL, 0);
            tr1 += per / raw_writes(raw, 1, 1, per, NULL);
            te8 += per / run_creates(s8, 8, per / 8, NULL, NULL, 0);
            tr8 += per / raw_writes(raw8, 1, 8, per / 8, NULL);
        } else {
            tr1 += per / raw_writes(raw, 1, 1, per, NULL);
            te1 += per / run_creates(s1, 1, per, NULL, NULL, 0);
            tr8 += per / raw_writes(raw8, 1, 8, per / 8, NULL);
            te8 += per / run_creates(s8, 8, per / 8, NULL, NULL, 0);
        }
        if (verbose)
            fprintf(stderr, "round %d: sync1 engine %.0f/s raw %.0f/s, sync8 engine %.0f/s raw %.0f/s\n", r,
                    per / (te1 - b1), per / (tr1 - b2), per / (te8 - b3), per / (tr8 - b4));
    }
    double e_sync1 = n_sync / te1, r_sync1 = n_sync / tr1, e_sync8 = n_sync / te8, r_sync8 = n_sync / tr8;
    orderbase_tenant_close(s1); orderbase_tenant_close(s8);
    close_all(&eng[0], 1);
    leveldb_close(raw);
    leveldb_close(raw8);

    /* 3. Import every invoice (relaxed, idempotency keys, sources). */
    if (orderbase_engine_open(&eng[1], root, RELAXED) != 0) die("open");
    orderbase_tenant *retail = fresh_tenant(eng[1], "retail");
    char **ids = calloc((size_t)ninvoices, sizeof *ids);
    double import_rate = run_creates(retail, 1, ninvoices, NULL, ids, 1);
    orderbase_tenant_close(retail);
    close_all(&eng[1], 1);
    retail = NULL;

    /* 4. Reads on the imported tenant: engine and raw take turns on the same
       database (each reopens it and warms up untimed), so neither reads a
       cache the other warmed. */
    double *lat_get = calloc((size_t)n_get, sizeof(double));
    double te_get = 0, tr_get = 0, te_list = 0, tr_list = 0;
    int read_rounds = 3, gets = n_get / read_rounds, lists = n_list / read_rounds, lat_n = 0;
    snprintf(path, sizeof path, "%s/tenants/retail/db", root);
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    for (int r = 0; r < read_rounds; r++) {
        if (orderbase_engine_open(&eng[1], root, RELAXED) != 0 || orderbase_tenant_open(&retail, eng[1], "retail") != 0) die("open");
        for (int pass = 0; pass < 2; pass++) {
            double t0 = now_s();
            for (int i = 0; i < gets; i++) {
                char req[64], *resp = NULL;
                snprintf(req, sizeof req, "{\"id\":\"%s\"}", ids[rand() % ninvoices]);
                double c0 = now_s();
                if (orderbase_call(retail, "orders.get", req, &resp) != 0) die("get");
                if (pass) lat_get[lat_n++] = now_s() - c0;
                orderbase_free(resp);
            }
            if (pass) te_get += now_s() - t0;
            t0 = now_s();
            for (int i = 0; i < lists; i++) {
                char req[128], *resp = NULL;
                snprintf(req, sizeof req, "{\"limit\":100,\"sort\":\"created_asc\",\"starting_after\":\"%s\"}", ids[rand() % (ninvoices - 200)]);
                if (orderbase_call(retail, "orders.list", req, &resp) != 0) die("list");
                orderbase_free(resp);
            }
            if (pass) te_list += now_s() - t0;
        }
        orderbase_tenant_close(retail);
        close_all(&eng[1], 1);

        leveldb_t *rdb = raw_open(path, cache);
        for (int pass = 0; pass < 2; pass++) {
            double t0 = now_s();
            for (int i = 0; i < gets; i++) {
                char key[64], *err = NULL;
                size_t kl = order_key(key, ids[rand() % ninvoices]), vl;
                char *v = leveldb_get(rdb, ro, key, kl, &vl, &err);
                if (!v) { fprintf(stderr, "raw get missed\n"); return 1; }
                free(v);
            }
            if (pass) tr_get += now_s() - t0;
            t0 = now_s();
            for (int i = 0; i < lists; i++) {
                leveldb_iterator_t *it = leveldb_create_iterator(rdb, ro);
                char key[64];
                size_t kl = order_key(key, ids[rand() % (ninvoices - 200)]);
                leveldb_iter_seek(it, key, kl);
                for (int k = 0; k < 101 && leveldb_iter_valid(it); k++, leveldb_iter_next(it)) {
                    size_t vl;
                    const char *v = leveldb_iter_value(it, &vl);
                    char *copy = malloc(vl);   /* the engine copies each record into its response */
                    memcpy(copy, v, vl);
                    free(copy);
                }
                leveldb_iter_destroy(it);
            }
            if (pass) tr_list += now_s() - t0;
        }
        leveldb_close(rdb);
    }
    double e_get = gets * read_rounds / te_get, r_get = gets * read_rounds / tr_get;
    double e_list = lists * read_rounds / te_list, r_list = lists * read_rounds / tr_list;
    n_get = lat_n;

    /* 5. Organized creates: custom fields and tags against the same invoices without, relaxed, rounds
       interleaved (engine phases alternate first) on two fresh tenants of one engine. */
    if (orderbase_engine_open(&eng[1], root, RELAXED) != 0) die("open");
    orderbase_tenant *plain = fresh_tenant(eng[1], "plain"), *organized = fresh_tenant(eng[1], "organized");
    for (size_t i = 0; i < sizeof CUSTOM_FIELDS / sizeof *CUSTOM_FIELDS; i++) {
        char *resp = NULL;
        if (orderbase_call(organized, "custom_fields.create", CUSTOM_FIELDS[i], &resp) != 0) { fprintf(stderr, "%s\n", resp); return 1; }
        orderbase_free(resp);
    }
    char **org_bodies = calloc((size_t)ninvoices, sizeof *org_bodies);
    for (int k = 0; k < ninvoices; k++) org_bodies[k] = organized_body(k);
    double t_plain = 0, t_org = 0;
    int org_rounds = 4, org_per = n_relaxed / 4;
    for (int r = 0; r < org_rounds; r++) {
        if (r % 2 == 0) { t_plain += timed_creates(plain, requests, r * org_per, org_per); t_org += timed_creates(organized, org_bodies, r * org_per, org_per); }
        else { t_org += timed_creates(organized, org_bodies, r * org_per, org_per); t_plain += timed_creates(plain, requests, r * org_per, org_per); }
    }
    double e_plain = org_rounds * org_per / t_plain, e_org = org_rounds * org_per / t_org;
    {
        char *resp = NULL;
        if (orderbase_call(organized, "integrity.check", "{}", &resp) != 0 || !strstr(resp, "\"ok\":true")) { fprintf(stderr, "integrity: %s\n", resp); return 1; }
        orderbase_free(resp);
    }
    orderbase_tenant_close(plain); orderbase_tenant_close(organized);
    close_all(&eng[1], 1);

    /* 6. Paid creates: the checkout's sale recorded with the order against the same invoices without. */
    if (orderbase_engine_open(&eng[1], root, RELAXED) != 0) die("open");
    orderbase_tenant *unpaid = fresh_tenant(eng[1], "unpaid"), *paid = fresh_tenant(eng[1], "paid");
    char **paid_bodies = calloc((size_t)ninvoices, sizeof *paid_bodies);
    for (int k = 0; k < ninvoices; k++) paid_bodies[k] = paid_body(k);
    double t_unpaid = 0, t_paid = 0;
    for (int r = 0; r < org_rounds; r++) {
        if (r % 2 == 0) { t_unpaid += timed_creates(unpaid, requests, r * org_per, org_per); t_paid += timed_creates(paid, paid_bodies, r * org_per, org_per); }
        else { t_paid += timed_creates(paid, paid_bodies, r * org_per, org_per); t_unpaid += timed_creates(unpaid, requests, r * org_per, org_per); }
    }
    double e_unpaid = org_rounds * org_per / t_unpaid, e_paid = org_rounds * org_per / t_paid;
    {
        char *resp = NULL;
        if (orderbase_call(paid, "integrity.check", "{}", &resp) != 0 || !strstr(resp, "\"ok\":true")) { fprintf(stderr, "integrity: %s\n", resp); return 1; }
        orderbase_free(resp);
    }
    orderbase_tenant_close(unpaid); orderbase_tenant_close(paid);
    close_all(&eng[1], 1);

    double mean_lines = 0;
    for (int i = 0; i < ninvoices; i++) mean_lines += invoices[i].nlines;
    mean_lines /= ninvoices;
    report("create, sync, 1 thread", e_sync1, r_sync1, 0.70, "orders/s");
    report("create, sync, 8 threads", e_sync8, r_sync8, 0.80, "orders/s");
    report("create, relaxed, 1 thread", e_rel1, r_rel1, 0, "orders/s");
    report("create, relaxed, 8 threads", e_rel8, r_rel8, 0, "orders/s");
    report("orders.get", e_get, r_get, 0.50, "calls/s");
    report("orders.list limit 100", e_list, r_list, 0.50, "calls/s");

    printf("\nOrderbase %s — engine through the C ABI vs raw LevelDB, same run\n", orderbase_version_string());
    printf("payloads: %d real invoices of the online-retail data set (mean %.1f lines)\n", ninvoices, mean_lines);
    printf("batch shape of one create (measured from the engine's database): invoices %.1f keys, %.0f bytes; example order %.1f keys, %.0f bytes\n\n",
           keys_per_create, bytes_per_create, small_keys, small_bytes);
    printf("| %-27s | %14s | %14s | %6s | %6s |\n", "workload", "engine", "raw LevelDB", "ratio", "target");
    printf("|-----------------------------|----------------|----------------|--------|--------|\n");
    int misses = 0;
    for (int i = 0; i < nrows; i++) {
        double ratio = rows[i].engine / rows[i].raw;
        char target[16] = "-";
        if (rows[i].target > 0) snprintf(target, sizeof target, "%s%.0f%%", ratio >= rows[i].target ? "≥" : "MISS ", rows[i].target * 100);
        if (rows[i].target > 0 && ratio < rows[i].target) misses++;
        printf("| %-27s | %9.0f %-4s | %9.0f %-4s | %5.0f%% | %6s |\n", rows[i].name, rows[i].engine, rows[i].unit[0] == 'o' ? "/s" : "/s",
               rows[i].raw, "/s", ratio * 100, target);
    }
    double overhead = (engine_small_median - raw_small_median) * 1e6;
    double overhead_inv = (engine_create_median - raw_write_median) * 1e6;
    printf("\nengine overhead per create, excluding fsync (median relaxed create − median raw relaxed batch of the same shape):\n");
    printf("  the issue's example order (1 line):  %.1f µs − %.1f µs = %.1f µs (target ≤ 20 µs)%s\n",
           engine_small_median * 1e6, raw_small_median * 1e6, overhead, overhead <= 20 ? "" : " MISS");
    printf("  real invoices (mean %.1f lines):     %.1f µs − %.1f µs = %.1f µs\n",
           mean_lines, engine_create_median * 1e6, raw_write_median * 1e6, overhead_inv);
    printf("orders.get median latency: %.1f µs\n", median(lat_get, n_get) * 1e6);
    printf("import of the data set (relaxed, 1 thread, idempotency keys): %d orders, %.0f orders/s\n", ninvoices, import_rate);
    printf("organized create (10 custom fields, 5 tags) vs the same invoices without, relaxed, 1 thread: %.0f vs %.0f orders/s = %.0f%%\n",
           e_org, e_plain, e_org / e_plain * 100);
    printf("paid create (the checkout's sale in the order's batch) vs the same invoices without, relaxed, 1 thread: %.0f vs %.0f orders/s = %.0f%%\n",
           e_paid, e_unpaid, e_paid / e_unpaid * 100);
    if (overhead > 20) misses++;

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return misses ? 2 : 0;
}
