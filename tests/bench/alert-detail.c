/*
 * tests/bench/alert-detail.c — alert-detail WORKSPACE [N]: how long the detail read
 * of one alert takes (vg_alert_get, its raw event read from the op that carries it
 * and decompressed), in process, for N alerts picked at random (default 1,000);
 * prints "p50_us p99_us". Built with the tests; tests/bench/run reports it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "vigil/query.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: alert-detail WORKSPACE [N]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    vg_ws *ws;
    vg_err err = {0};
    if (n < 1 || vg_ws_open(argv[1], VG_OPEN_READONLY, &ws, &err)) {
        fprintf(stderr, "alert-detail: %s\n", err.msg);
        return 1;
    }
    sqlite3_stmt *st;
    sqlite3_prepare_v2(ws->db, "SELECT id FROM alerts WHERE rowid >= abs(random()) % "
                               "(SELECT max(rowid) FROM alerts) ORDER BY rowid LIMIT 1",
                       -1, &st, NULL);
    double *us = calloc((size_t)n, sizeof *us);
    for (int i = 0; i < n; i++) {
        vg_id id = "";
        if (sqlite3_step(st) == SQLITE_ROW)
            col_id(st, 0, id);
        sqlite3_reset(st);
        struct timespec a, b;
        vg_alert al;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (vg_alert_get(ws, id, &al, &err)) {
            fprintf(stderr, "alert-detail: %s\n", err.msg);
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (strlen(al.raw) < 3) {
            fprintf(stderr, "alert-detail: alert %s has no raw event\n", id);
            return 1;
        }
        vg_alert_clear(&al);
        us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
    }
    sqlite3_finalize(st);
    qsort(us, (size_t)n, sizeof *us, cmp);
    printf("%.1f %.1f\n", us[n / 2], us[(n * 99) / 100]);
    free(us);
    vg_ws_close(ws);
    return 0;
}
