/*
 * files_bench.c — attachment upload and download throughput against `cp` of the
 * same file, in the same run (issue 15, "Proof").
 *
 *   upload     the file read in 1 MiB chunks and given to orderbase_upload_write
 *              (a .part file, SHA-256 and content sniffing as the bytes pass), then
 *              orderbase_upload_finish (fsync, rename onto the blob, the record's write)
 *   cp         `cp SRC DST` followed by an fsync of DST (the upload syncs what it
 *              writes; cp alone would leave the bytes in the page cache)
 *   write      the file read in 1 MiB chunks and written to a new file, then fsync:
 *              the least any upload through user space does (cp may copy in the kernel)
 *   download   orderbase_attachment_read in 1 MiB pieces into memory, against
 *              read() of the same file in 1 MiB pieces (both from the page cache)
 *
 * Rounds alternate cp and upload; each upload changes one byte, so every round
 * publishes a new blob (no deduplication shortcut). Medians of the rounds.
 *
 *   files_bench ROOT [--quick]     (64 MiB, 5 rounds; --quick: 16 MiB, 3 rounds)
 */
#include <orderbase.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timing.h"

#define CHUNK (1 << 20)

static void die(const char *what, const char *json) {
    fprintf(stderr, "%s failed: %s\n", what, json ? json : orderbase_error_last()->message);
    exit(1);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: files_bench ROOT [--quick]\n"); return 2; }
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    size_t size = (size_t)(quick ? 16 : 64) << 20;
    int rounds = quick ? 3 : 5;
    const char *root = argv[1];
    char src[512], dst[512], cmd[1200];
    snprintf(src, sizeof src, "%s/source.pdf", root);
    snprintf(dst, sizeof dst, "%s/copy.pdf", root);

    /* The source: a PDF header, then bytes that do not compress or repeat. */
    unsigned char *buf = malloc(CHUNK);
    if (!buf) return 1;
    int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { perror(src); return 1; }
    unsigned long long x = 88172645463325252ULL;
    for (size_t off = 0; off < size; off += CHUNK) {
        for (size_t i = 0; i < CHUNK; i += 8) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; memcpy(buf + i, &x, 8); }
        if (off == 0) memcpy(buf, "%PDF-1.7\n", 9);
        if (write(fd, buf, CHUNK) != CHUNK) { perror("write"); return 1; }
    }
    fsync(fd);
    close(fd);

    orderbase_engine *e = NULL;
    orderbase_tenant *t = NULL;
    if (orderbase_engine_open(&e, root, "{\"background\":false,\"attachment_max_bytes\":1073741824,\"attachment_quota_bytes\":1099511627776}") != 0)
        die("engine_open", NULL);
    int rc = orderbase_tenant_create(e, "files", NULL);
    if (rc != 0 && rc != ORDERBASE_EEXISTS) die("tenant_create", NULL);
    if (orderbase_tenant_open(&t, e, "files") != 0) die("tenant_open", NULL);
    char *resp = NULL;
    if (orderbase_call(t, "orders.create", "{\"line_items\":[{\"sku\":\"85123A\",\"title\":\"WHITE HANGING HEART T-LIGHT HOLDER\",\"quantity\":6,\"unit_price\":255}]}", &resp) != 0)
        die("orders.create", resp);
    char order[64] = "", req[256], att[64] = "";
    const char *p = strstr(resp, "\"id\":\"") + 6;
    for (size_t i = 0; p[i] != '"' && i < 63; i++) order[i] = p[i], order[i + 1] = 0;
    orderbase_free(resp);

    double t_cp[8], t_up[8], t_wr[8];
    for (int r = 0; r < rounds; r++) {
        /* cp + fsync of the copy. */
        unlink(dst);
        double a = now_s();
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, dst);
        if (system(cmd) != 0) { fprintf(stderr, "cp failed\n"); return 1; }
        int d = open(dst, O_RDONLY);
        if (d < 0 || fsync(d) != 0) { perror("fsync copy"); return 1; }
        close(d);
        t_cp[r] = now_s() - a;

        /* A plain copy through user space, then fsync. */
        unlink(dst);
        a = now_s();
        int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ssize_t got;
        while ((got = read(in, buf, CHUNK)) > 0) if (write(out, buf, (size_t)got) != got) { perror("write copy"); return 1; }
        if (fsync(out) != 0) { perror("fsync"); return 1; }
        close(in);
        close(out);
        t_wr[r] = now_s() - a;

        /* The upload, reading the same file. */
        snprintf(req, sizeof req, "{\"order_id\":\"%s\",\"file_name\":\"scan-%d.pdf\"}", order, r);
        a = now_s();
        orderbase_upload *up = NULL;
        if (orderbase_upload_begin(&up, t, req) != 0) die("upload_begin", NULL);
        int s = open(src, O_RDONLY);
        ssize_t n;
        int first = 1;
        while ((n = read(s, buf, CHUNK)) > 0) {
            if (first) { buf[100] = (unsigned char)r; first = 0; }  /* a new blob every round */
            if (orderbase_upload_write(up, buf, (size_t)n) != 0) die("upload_write", NULL);
        }
        close(s);
        if (orderbase_upload_finish(up, &resp) != 0) die("upload_finish", resp);
        t_up[r] = now_s() - a;
        p = strstr(resp, "\"id\":\"att_") + 6;
        for (size_t i = 0; p[i] != '"' && i < 63; i++) att[i] = p[i], att[i + 1] = 0;
        orderbase_free(resp);
    }

    /* Downloads of the last upload vs read() of the source, both warm. */
    double t_dl[8], t_rd[8];
    for (int r = 0; r < rounds; r++) {
        double a = now_s();
        size_t off = 0, got = 0;
        do {
            if (orderbase_attachment_read(t, att, off, buf, CHUNK, &got) != 0) die("attachment_read", NULL);
            off += got;
        } while (got > 0);
        t_dl[r] = now_s() - a;
        if (off != size) { fprintf(stderr, "downloaded %zu of %zu bytes\n", off, size); return 1; }
        a = now_s();
        int s = open(src, O_RDONLY);
        while (read(s, buf, CHUNK) > 0) {}
        close(s);
        t_rd[r] = now_s() - a;
    }
    if (orderbase_call(t, "integrity.check", "{\"verify_files\":true}", &resp) != 0 || !strstr(resp, "\"ok\":true")) die("integrity.check", resp);
    orderbase_free(resp);

    double mb = (double)size / (1 << 20);
    double cp = median(t_cp, rounds), wr = median(t_wr, rounds), upl = median(t_up, rounds), dl = median(t_dl, rounds), rd = median(t_rd, rounds);
    printf("file: %.0f MiB, %d rounds (medians)\n", mb, rounds);
    printf("cp + fsync     %8.1f MiB/s  (%.3f s)\n", mb / cp, cp);
    printf("write + fsync  %8.1f MiB/s  (%.3f s)\n", mb / wr, wr);
    printf("upload         %8.1f MiB/s  (%.3f s)   upload/cp throughput ratio %.2f, upload/write %.2f\n", mb / upl, upl, cp / upl, wr / upl);
    printf("read()         %8.1f MiB/s  (%.3f s)\n", mb / rd, rd);
    printf("download       %8.1f MiB/s  (%.3f s)   download/read throughput ratio %.2f\n", mb / dl, dl, rd / dl);
    orderbase_tenant_close(t);
    orderbase_engine_close(e);
    unlink(dst);
    unlink(src);
    free(buf);
    return 0;
}
