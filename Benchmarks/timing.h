/* timing.h — the clock and sort helpers the C benchmark programs share. */
#ifndef ORDERBASE_BENCH_TIMING_H
#define ORDERBASE_BENCH_TIMING_H
#include <time.h>

/* Monotonic seconds. */
static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* qsort comparator for doubles, ascending. */
static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
#endif
