/* A test-only C library that behaves like the engine will with host callbacks:
   it stores (callback, user_data, user_data_free), calls the callback from a
   thread of its own, and calls user_data_free when the registration ends. */
#include <pthread.h>
#include <stdint.h>

typedef int (*probe_cb)(int64_t value, const char *text, void *user_data);
static probe_cb cb;
static void *ud;
static void (*ud_free)(void *);

void probe_register(probe_cb f, void *user_data, void (*user_data_free)(void *)) { cb = f; ud = user_data; ud_free = user_data_free; }

static int last;
static void *run(void *arg) { last = cb((int64_t)(intptr_t)arg, "from a C thread", ud); return 0; }

/* Calls the callback on a new thread and returns what it returned. */
int probe_fire(int64_t value) {
    pthread_t t;
    pthread_create(&t, 0, run, (void *)(intptr_t)value);
    pthread_join(t, 0);
    return last;
}

void probe_unregister(void) { if (ud_free) ud_free(ud); cb = 0; ud = 0; ud_free = 0; }
