/*
 * tests/bench/ssh-rounds.c — ssh-rounds WORKSPACE RUNS: issue #16's "incremental
 * sync of 100 new ops over the tunnel, connection already open", in one process,
 * so the tunnel is vigil's own (src/net/ssh.c) and stays open: one transport for
 * the workspace's remote, a first round to open it, then RUNS times: 100 notes
 * written through the door and one net_sync round timed, beside one bare HTTP
 * round trip (GET /v1/whoami) over the same transport, the same SSH session.
 * The token is read from the environment (VIGIL_BENCH_TOKEN). Prints
 * "sync_ms_median whoami_ms_median pushed_total". Built with the tests;
 * tests/bench/team-ssh runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ssh.h"
#include "sync_client.h"
#include "vigil/op.h"
#include "vigil/query.h"
#include "vigil/remote.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, const vg_err *err)
{
    fprintf(stderr, "ssh-rounds: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

int main(int argc, char **argv)
{
    const char *token = getenv("VIGIL_BENCH_TOKEN");
    int runs = argc > 2 ? atoi(argv[2]) : 0;
    if (argc < 3 || runs < 1 || runs > 1000 || !token) {
        fprintf(stderr, "usage: VIGIL_BENCH_TOKEN=... ssh-rounds WORKSPACE RUNS\n");
        return 2;
    }
    vg_ws *ws;
    vg_err err = {0};
    vg_remote r;
    if (vg_ws_open(argv[1], 0, &ws, &err) != VG_OK)
        die("open", &err);
    if (vg_remote_get(ws, NULL, &r, &err) != VG_OK)
        die("remote", &err);
    vg_ws_set_actor(ws, r.user);
    vg_op *c = vg_op_case_create("ssh-rounds bench", "low", NULL);
    if (vg_apply(ws, c, &err) != VG_OK)
        die("case", &err);
    char case_id[32];
    snprintf(case_id, sizeof case_id, "%s", c->target);
    vg_op_free(c);

    net_ssh_opts so = {0};
    net_transport t;
    net_transport_for(&t, &r, &so);
    net_sync_opts o = {.transport = &t};
    net_sync_result res;
    if (net_sync(ws, &r, token, &o, &res, &err) != VG_OK) /* opens the tunnel */
        die("first round", &err);
    double *sync_ms = calloc((size_t)runs, sizeof *sync_ms);
    double *who_ms = calloc((size_t)runs, sizeof *who_ms);
    int64_t pushed = 0;
    for (int i = 0; i < runs; i++) {
        for (int k = 0; k < 100; k++) {
            char body[64];
            snprintf(body, sizeof body, "bench note %d.%d", i, k);
            vg_op *n = vg_op_note_add(case_id, body);
            if (vg_apply(ws, n, &err) != VG_OK)
                die("note", &err);
            vg_op_free(n);
        }
        double t0 = now_ms();
        if (net_sync(ws, &r, token, &o, &res, &err) != VG_OK)
            die("round", &err);
        sync_ms[i] = now_ms() - t0;
        pushed += res.pushed;
        net_whoami_result who;
        t0 = now_ms();
        if (net_whoami(&r, token, &o, &who, &err) != VG_OK)
            die("whoami", &err);
        who_ms[i] = now_ms() - t0;
    }
    qsort(sync_ms, (size_t)runs, sizeof *sync_ms, cmp);
    qsort(who_ms, (size_t)runs, sizeof *who_ms, cmp);
    printf("%.2f %.2f %lld %s\n", sync_ms[runs / 2], who_ms[runs / 2], (long long)pushed,
           net_transport_how(&t));
    net_transport_close(&t);
    free(sync_ms);
    free(who_ms);
    vg_ws_close(ws);
    return 0;
}
