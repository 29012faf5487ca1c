/*
 * crash_test.c — crash consistency. Runs crash_child, SIGKILLs it at a random
 * moment, reopens the tenant and checks: every order whose create returned OK
 * is present with its audit entries, every acknowledged confirmation stuck,
 * and integrity.check finds records, indexes, numbers, the event log and the
 * audit chain in agreement (nothing half-written). Repeats N times on the same
 * data directory (sync durability: nothing acknowledged may be lost).
 *
 *   crash_test CHILD ITERATIONS [relaxed]
 */
#include <orderbase.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct { char id[40]; int confirmed; } acked;
static acked *orders;
static size_t count, cap;

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
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) killed_mid++;
        else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) { fprintf(stderr, "child failed with %d\n", WEXITSTATUS(status)); failures++; }
        FILE *in = fdopen(fds[0], "r");
        char line[128];
        while (fgets(line, sizeof line, in)) {
            size_t n = strlen(line);
            if (n == 0 || line[n - 1] != '\n') break;  /* a torn last line was never acknowledged */
            line[n - 1] = 0;
            if (line[0] == 'C') {
                if (count == cap) { cap = cap ? cap * 2 : 1024; orders = realloc(orders, cap * sizeof *orders); }
                snprintf(orders[count].id, sizeof orders[count].id, "%.39s", line + 2); /* ids are 30 chars */
                orders[count++].confirmed = 0;
            } else if (line[0] == 'T') {
                acked *a = find(line + 2);
                if (a) a->confirmed = 1;
            }
        }
        fclose(in);

        orderbase_engine *e = NULL;
        orderbase_tenant *t = NULL;
        if (orderbase_engine_open(&e, root, NULL) != 0) { fprintf(stderr, "reopen: %s\n", orderbase_error_last()->message); return 1; }
        if (orderbase_tenant_open(&t, e, "crash") != 0) {
            /* Killed before the tenant existed. */
            if (count == 0) { orderbase_engine_close(e); continue; }
            fprintf(stderr, "tenant reopen: %s\n", orderbase_error_last()->message);
            return 1;
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
        char *check = NULL;
        if (orderbase_call(t, "integrity.check", NULL, &check) != 0 || !strstr(check, "\"ok\":true")) {
            fprintf(stderr, "iteration %d: integrity.check: %s\n", it, check ? check : orderbase_error_last()->message);
            failures++;
        }
        orderbase_free(check);
        orderbase_tenant_close(t);
        orderbase_engine_close(e);
        if (failures) break;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    printf("crash_test (%s): %d kills (%zu mid-write), %zu acknowledged orders, %d order checks\n",
           mode, iterations, killed_mid, count, verified);
    printf("crash_test: %d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
