/*
 * crash_test.c — crash consistency. Runs crash_child, SIGKILLs it at a random
 * moment, reopens the tenant and checks: every order whose create returned OK
 * is present with its audit entries, every acknowledged confirmation,
 * cancellation, shipment, attachment and payment (a sale, then a refund of a unit) stuck,
 * and integrity.check finds records, indexes, numbers, the event log, the
 * stock and payments ledgers and the audit chain in agreement (nothing
 * half-written). Repeats N times on the same
 * data directory (sync durability: nothing acknowledged may be lost). Then
 * kills children while they create fresh tenants: a tenant must afterwards be
 * absent (and creatable) or whole, never half-made.
 *
 *   crash_test CHILD ITERATIONS [relaxed]
 */
#include <orderbase.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct { char id[40]; int confirmed, cancelled, shipped; long refunded, edited; } acked;
static acked *orders;
static size_t count, cap;

/* Acknowledged attachments: each must be whole after any crash (96 KiB, readable to the end). */
static char (*files)[40];
static size_t nfiles, capfiles;
/* Acknowledged payments (a sale, then a refund of one unit). */
static size_t npaid, nedited;

static acked *find(const char *id) {
    for (size_t i = count; i > 0; i--) if (strcmp(orders[i - 1].id, id) == 0) return &orders[i - 1];
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: crash_test CHILD ITERATIONS [relaxed]\n"); return 2; }
    int iterations = atoi(argv[2]);
    const char *mode = argc > 3 ? argv[3] : "sync";
    char root[] = "/tmp/orderbase-crash-XXXXXX";
    if (!mkdtemp(root)) { perror("mkdtemp"); return 2; }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    int failures = 0, verified = 0;
    size_t killed_mid = 0;

    for (int it = 0; it < iterations; it++) {
        int fds[2];
        if (pipe(fds) != 0) { perror("pipe"); return 2; }
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fds[1], 1);
            close(fds[0]);
            execl(argv[1], argv[1], root, mode, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        /* Random moment: 5–150 ms after start (opening takes a few ms). */
        struct timespec pause = {0, (long)(5000 + rand() % 145000) * 1000L};
        nanosleep(&pause, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        /* The child never stops by itself: anything but our SIGKILL is a failure
           (an exit means it hit an error; another signal means it crashed). */
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) killed_mid++;
        else if (WIFSIGNALED(status)) { fprintf(stderr, "iteration %d: child died of signal %d\n", it, WTERMSIG(status)); failures++; }
        else if (WIFEXITED(status)) { fprintf(stderr, "iteration %d: child exited with %d\n", it, WEXITSTATUS(status)); failures++; }
        FILE *in = fdopen(fds[0], "r");
        char line[128];
        while (fgets(line, sizeof line, in)) {
            size_t n = strlen(line);
            if (n == 0 || line[n - 1] != '\n') break;  /* a torn last line was never acknowledged */
            line[n - 1] = 0;
            if (line[0] == 'C') {
                if (count == cap) { cap = cap ? cap * 2 : 1024; orders = realloc(orders, cap * sizeof *orders); }
                snprintf(orders[count].id, sizeof orders[count].id, "%.39s", line + 2); /* ids are 30 chars */
                orders[count].confirmed = orders[count].cancelled = orders[count].shipped = 0;
                orders[count].refunded = orders[count].edited = -1;
                count++;
            } else if (line[0] == 'F') {
                if (nfiles == capfiles) { capfiles = capfiles ? capfiles * 2 : 256; files = realloc(files, capfiles * sizeof *files); }
                snprintf(files[nfiles++], sizeof files[0], "%.39s", line + 2);
            } else if (line[0] == 'P') {
                npaid++;
                char *space = strchr(line + 2, ' ');
                if (space) *space = 0;
                acked *a = find(line + 2);
                if (a && space) a->refunded = atol(space + 1);
            } else if (line[0] == 'E') {
                nedited++;
                char *space = strchr(line + 2, ' ');
                if (space) *space = 0;
                acked *a = find(line + 2);
                if (a && space) a->edited = atol(space + 1);
            } else if (line[0] == 'T' || line[0] == 'X' || line[0] == 'S') {
                acked *a = find(line + 2);
                if (a && line[0] == 'T') a->confirmed = 1;
                if (a && line[0] == 'X') a->cancelled = 1;
                if (a && line[0] == 'S') a->shipped = 1;
            }
        }
        fclose(in);

        orderbase_engine *e = NULL;
        orderbase_tenant *t = NULL;
        if (orderbase_engine_open(&e, root, NULL) != 0) { fprintf(stderr, "reopen: %s\n", orderbase_error_last()->message); return 1; }
        int orc = orderbase_tenant_open(&t, e, "crash");
        if (orc == ORDERBASE_ENOTFOUND && count == 0) {
            /* Killed before the tenant was created: nothing was acknowledged. */
            orderbase_engine_close(e);
            continue;
        }
        if (orc != ORDERBASE_OK) {
            fprintf(stderr, "iteration %d: tenant does not reopen: %s: %s\n", it, orderbase_strerror(orc), orderbase_error_last()->message);
            failures++;
            orderbase_engine_close(e);
            break;
        }
        for (size_t i = 0; i < count; i++) {
            char req[128], *resp = NULL;
            snprintf(req, sizeof req, "{\"id\":\"%s\"}", orders[i].id);
            if (orderbase_call(t, "orders.get", req, &resp) != 0) {
                fprintf(stderr, "iteration %d: acknowledged order %s is missing (%s)\n", it, orders[i].id, resp);
                failures++;
            } else if (orders[i].confirmed && !strstr(resp, "\"status\":\"confirmed\"")) {
                fprintf(stderr, "iteration %d: acknowledged confirmation of %s was lost\n", it, orders[i].id);
                failures++;
            } else if (orders[i].cancelled && !strstr(resp, "\"status\":\"cancelled\"")) {
                fprintf(stderr, "iteration %d: acknowledged cancellation of %s was lost\n", it, orders[i].id);
                failures++;
            } else if (orders[i].shipped && !strstr(resp, "\"fulfillment_status\":\"fulfilled\"")) {
                fprintf(stderr, "iteration %d: acknowledged shipment of %s was lost\n", it, orders[i].id);
                failures++;
            } else if (orders[i].edited >= 0) {
                char want[64];
                snprintf(want, sizeof want, "\"title\":\"Item 0\",\"quantity\":%ld,", orders[i].edited);
                if (!strstr(resp, want)) {
                    fprintf(stderr, "iteration %d: acknowledged edit of %s was lost: %s\n", it, orders[i].id, resp);
                    failures++;
                }
            } else if (orders[i].refunded >= 0) {
                char want[64];
                snprintf(want, sizeof want, "\"refunded\":%ld,", orders[i].refunded);
                if (!strstr(resp, want) || !strstr(resp, "\"outstanding\":0,") || !strstr(resp, "\"refunded_quantity\":1")) {
                    fprintf(stderr, "iteration %d: acknowledged sale and refund of %s were lost: %s\n", it, orders[i].id, resp);
                    failures++;
                }
            }
            orderbase_free(resp);
            resp = NULL;
            if (orderbase_call(t, "orders.audit", req, &resp) != 0 || !strstr(resp, "\"action\":\"order.created\"")) {
                fprintf(stderr, "iteration %d: order %s has no creation audit entry\n", it, orders[i].id);
                failures++;
            }
            orderbase_free(resp);
            verified++;
        }
        static char buf[1 << 17];
        for (size_t i = 0; i < nfiles; i++) {
            size_t got = 0;
            if (orderbase_attachment_read(t, files[i], 0, buf, sizeof buf, &got) != 0 || got != 12 * 8192) {
                fprintf(stderr, "iteration %d: acknowledged attachment %s reads %zu bytes (%s)\n", it, files[i], got, orderbase_error_last()->message);
                failures++;
            }
        }
        /* Uploads cut short left nothing: no .part once the tenant is open again. */
        char tmpdir[512], cmd[600];
        snprintf(tmpdir, sizeof tmpdir, "%s/tenants/crash/files/tmp", root);
        snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s 2>/dev/null)\"", tmpdir);
        if (system(cmd) != 0) { fprintf(stderr, "iteration %d: %s holds partial uploads after reopening\n", it, tmpdir); failures++; }
        char *check = NULL;
        if (orderbase_call(t, "integrity.check", "{\"verify_files\":true}", &check) != 0 || !strstr(check, "\"ok\":true")) {
            fprintf(stderr, "iteration %d: integrity.check: %s\n", it, check ? check : orderbase_error_last()->message);
            failures++;
        }
        orderbase_free(check);
        orderbase_tenant_close(t);
        orderbase_engine_close(e);
        if (failures) break;
    }
    /* Phase 2: kills aimed at tenant creation. Each child creates a new tenant
       and is killed 0-20 ms in (process start to past creation); afterwards the tenant must be absent or whole. */
    int births = failures ? 0 : (iterations / 5 < 20 ? 20 : iterations / 5), absent = 0, whole = 0;
    for (int it = 0; it < births && !failures; it++) {
        char tenant[32];
        snprintf(tenant, sizeof tenant, "born-%d", it);
        pid_t pid = fork();
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            execl(argv[1], argv[1], root, mode, tenant, (char *)NULL);
            _exit(127);
        }
        struct timespec pause = {0, (long)(rand() % 20000) * 1000L};
        nanosleep(&pause, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
            fprintf(stderr, "creation %d: child ended by itself (status %d)\n", it, status);
            failures++;
            break;
        }
        orderbase_engine *e = NULL;
        orderbase_tenant *t = NULL;
        if (orderbase_engine_open(&e, root, NULL) != 0) { fprintf(stderr, "reopen: %s\n", orderbase_error_last()->message); return 1; }
        int orc = orderbase_tenant_open(&t, e, tenant);
        if (orc == ORDERBASE_ENOTFOUND) {
            absent++;
            /* ... and the id is free to create now. */
            if (orderbase_tenant_create(e, tenant, NULL) != 0) {
                fprintf(stderr, "creation %d: cannot create after the crash: %s\n", it, orderbase_error_last()->message);
                failures++;
            }
        } else if (orc == ORDERBASE_OK) {
            char *check = NULL;
            if (orderbase_call(t, "integrity.check", NULL, &check) != 0 || !strstr(check, "\"ok\":true")) {
                fprintf(stderr, "creation %d: integrity.check: %s\n", it, check ? check : "");
                failures++;
            } else {
                whole++;
            }
            orderbase_free(check);
            orderbase_tenant_close(t);
        } else {
            fprintf(stderr, "creation %d: a crash during creation left a broken tenant: %s: %s\n", it,
                    orderbase_strerror(orc), orderbase_error_last()->message);
            failures++;
        }
        orderbase_engine_close(e);
    }

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    printf("crash_test (%s): %d kills (%zu mid-write), %zu acknowledged orders, %zu acknowledged attachments, %zu acknowledged payments, %zu acknowledged edits, %d order checks; "
           "%d kills around tenant creation (%d tenants absent, %d whole)\n",
           mode, iterations, killed_mid, count, nfiles, npaid, nedited, verified, births, absent, whole);
    printf("crash_test: %d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
