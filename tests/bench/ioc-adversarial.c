/*
 * tests/bench/ioc-adversarial.c — ioc-adversarial [KB]: how long vg_ioc_extract
 * takes on KB kilobytes (default 16384, the longest line `vigil iocs` reads) of
 * each hostile shape in tests/unit/ioc_shapes.h, beside the same amount of log
 * text; in process, the best of three runs each. Prints one line per shape on
 * stderr, and "WORST_S PLAIN_S NAME" (the slowest shape) on stdout. Built with
 * the tests; tests/bench/run reports the ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../unit/ioc_shapes.h"
#include "vigil/ioc.h"

/* The best of three extractions from text[0..len), in seconds. */
static double best_of_3(const char *text, size_t len)
{
    double best = 0;
    for (int r = 0; r < 3; r++) {
        struct timespec t0, t1;
        vg_ioc_list l = {0};
        clock_gettime(CLOCK_MONOTONIC, &t0);
        vg_ioc_extract(text, len, &l);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        vg_ioc_list_free(&l);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (r == 0 || s < best)
            best = s;
    }
    return best;
}

int main(int argc, char **argv)
{
    long kb = argc > 1 ? strtol(argv[1], NULL, 10) : 16384;
    if (kb < 1 || kb > (1L << 22)) {
        fprintf(stderr, "usage: ioc-adversarial [KB]\n");
        return 2;
    }
    size_t n = (size_t)kb << 10, len;
    vg_ioc_list warm = {0};
    vg_ioc_extract("8.8.8.8", 7, &warm); /* the suffix list is loaded before any clock */
    vg_ioc_list_free(&warm);
    char *t = ioc_plain_text(n);
    double plain = best_of_3(t, n), worst = 0;
    free(t);
    fprintf(stderr, "%-26s %9.3f s\n", "log text", plain);
    const char *worst_name = "";
    for (size_t k = 0; k < IOC_NSHAPES; k++) {
        t = ioc_shape_text(&ioc_shapes[k], n, &len);
        double s = best_of_3(t, len);
        free(t);
        fprintf(stderr, "%-26s %9.3f s %7.2fx\n", ioc_shapes[k].name, s, s / plain);
        if (s > worst) {
            worst = s;
            worst_name = ioc_shapes[k].name;
        }
    }
    printf("%.4f %.4f %s\n", worst, plain, worst_name);
    return 0;
}
