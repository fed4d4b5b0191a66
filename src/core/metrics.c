/*
 * metrics.c — the dashboard (definitions in metrics.h). Each number is one SQL
 * aggregate over the columns the write door keeps right on every path
 * (created_at, acknowledged_at, closed_at), so the TUI, the CLI and any later
 * report agree by construction.
 */
#include "internal.h"
#include "vigil/intel.h"
#include "vigil/metrics.h"
#include "vigil/model.h"
#include "vigil/query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static vg_rc run(vg_ws *ws, const char *sql, sqlite3_stmt **st, vg_err *err)
{
    if (sqlite3_prepare_v2(ws->db, sql, -1, st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "computing the dashboard");
    return VG_OK;
}

/* Count per day bucket of a time column, into per[]. */
static vg_rc per_day(vg_ws *ws, const vg_dash *d, const char *sql, int64_t *per, vg_err *err)
{
    sqlite3_stmt *st;
    vg_rc rc = run(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, d->start_ms);
    sqlite3_bind_int64(st, 2, d->now_ms);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t day = sqlite3_column_int64(st, 0);
        if (day >= 0 && day < d->days)
            per[day] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return VG_OK;
}

/* A mean duration over the window (count, avg from sql with ?1 start, ?2 now): has
 * stays false, the mean "none", when nothing counted. */
static vg_rc mean_over(vg_ws *ws, const vg_dash *d, const char *sql, bool *has, int64_t *mean_ms,
                       int64_t *n, vg_err *err)
{
    sqlite3_stmt *st;
    vg_rc rc = run(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, d->start_ms);
    sqlite3_bind_int64(st, 2, d->now_ms);
    if (sqlite3_step(st) == SQLITE_ROW && (*n = sqlite3_column_int64(st, 0)) > 0) {
        *has = true;
        *mean_ms = (int64_t)sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    return VG_OK;
}

/* Whether an open case is past its SLA target: severity ?3 .. ?7's, now ?1. */
#define OVERDUE_SQL WS_SLA_OVERDUE("?3", "?4", "?5", "?6", "?7", "?1")

/* Who holds the open cases and how many of them are late, and the late ones by
 * severity. */
static vg_rc sla_figures(vg_ws *ws, const int64_t *sla_ms, vg_dash *out, vg_err *err)
{
    for (int i = 0; i < 5; i++)
        out->has_sla = out->has_sla || sla_ms[i] > 0;
    sqlite3_stmt *st;
    vg_rc rc = run(ws, "SELECT c.severity, count(*) FROM cases c WHERE " OVERDUE_SQL " GROUP BY 1",
                   &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, out->now_ms);
    for (int i = 0; i < 5; i++)
        sqlite3_bind_int64(st, 3 + i, sla_ms[i]);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int sev = sqlite3_column_int(st, 0);
        if (sev >= 0 && sev < 5) {
            out->overdue[sev] = sqlite3_column_int64(st, 1);
            out->overdue_total += out->overdue[sev];
        }
    }
    sqlite3_finalize(st);
    if ((rc = run(ws, "SELECT c.assignee, count(*) AS n, sum(" OVERDUE_SQL ") FROM cases c"
                      " WHERE c.status != 'closed' GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?2",
                  &st, err)))
        return rc;
    sqlite3_bind_int64(st, 1, out->now_ms);
    sqlite3_bind_int(st, 2, VG_DASH_TOP);
    for (int i = 0; i < 5; i++)
        sqlite3_bind_int64(st, 3 + i, sla_ms[i]);
    while (sqlite3_step(st) == SQLITE_ROW && out->nload < VG_DASH_TOP) {
        const char *who = (const char *)sqlite3_column_text(st, 0);
        snprintf(out->load[out->nload].name, sizeof out->load[0].name, "%s", who ? who : "");
        out->load[out->nload].open = sqlite3_column_int64(st, 1);
        out->load[out->nload].overdue = sqlite3_column_int64(st, 2);
        out->nload++;
    }
    sqlite3_finalize(st);
    return VG_OK;
}

vg_rc vg_dash_compute(vg_ws *ws, int64_t now_ms, int days, const int64_t *sla_ms, vg_dash *out,
                      vg_err *err)
{
    memset(out, 0, sizeof *out);
    if (days < 1 || days > VG_DASH_MAX_DAYS)
        return vg_fail(err, VG_EINVAL, "days: from 1 to %d", VG_DASH_MAX_DAYS);
    out->days = days;
    out->now_ms = now_ms;
    out->start_ms = now_ms - days * DAY_MS;
    vg_rc rc;
    if ((rc = per_day(ws, out, "SELECT (created_at - ?1) / 86400000, count(*) FROM cases"
                               " WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1",
                      out->opened, err)) ||
        /* closed_at is set exactly while a case is closed (DESIGN), and read from
         * cases_closed */
        (rc = per_day(ws, out, "SELECT (closed_at - ?1) / 86400000, count(*) FROM cases"
                               " WHERE closed_at >= ?1 AND closed_at < ?2 GROUP BY 1",
                      out->closed, err)))
        return rc;

    sqlite3_stmt *st;
    if ((rc = run(ws, "SELECT severity, status, count(*) FROM cases GROUP BY 1, 2", &st, err)))
        return rc;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int sev = sqlite3_column_int(st, 0);
        int status = vg_enum_parse(&VG_STATUS, (const char *)sqlite3_column_text(st, 1));
        int64_t n = sqlite3_column_int64(st, 2);
        if (sev >= 0 && sev < 5 && status >= 0) {
            out->heat[sev][status] = n;
            out->total += n;
            if (status != VG_ST_CLOSED)
                out->open += n;
        }
    }
    sqlite3_finalize(st);

    if ((rc = run(ws, "SELECT ?1 - created_at FROM cases WHERE " WS_OPEN_STATUSES, &st, err)))
        return rc;
    sqlite3_bind_int64(st, 1, now_ms);
    static const int64_t edges[4] = {DAY_MS, 3 * DAY_MS, 7 * DAY_MS, 30 * DAY_MS};
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t age = sqlite3_column_int64(st, 0);
        int b = 0;
        while (b < 4 && age >= edges[b])
            b++;
        out->aging[b]++;
    }
    sqlite3_finalize(st);

    /* Means over the window, on the timestamp of the transition itself. */
    if ((rc = mean_over(ws, out, "SELECT count(*), avg(acknowledged_at - created_at) FROM cases"
                                 " WHERE acknowledged_at >= ?1 AND acknowledged_at < ?2",
                        &out->has_mtta, &out->mtta_ms, &out->mtta_n, err)) ||
        (rc = mean_over(ws, out, "SELECT count(*), avg(closed_at - created_at) FROM cases"
                                 " WHERE closed_at >= ?1 AND closed_at < ?2",
                        &out->has_mttr, &out->mttr_ms, &out->mttr_n, err)))
        return rc;
    /* a case holds a value once: counting its rows counts its cases */
    if ((rc = run(ws, "SELECT type, value, count(*) AS n FROM artifacts"
                      " WHERE removed = 0 GROUP BY type, value HAVING n > 1"
                      " ORDER BY n DESC, type, value LIMIT ?1", &st, err)))
        return rc;
    sqlite3_bind_int(st, 1, VG_DASH_TOP);
    while (sqlite3_step(st) == SQLITE_ROW && out->nshared < VG_DASH_TOP) {
        snprintf(out->shared[out->nshared].type, sizeof out->shared[0].type, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        out->shared[out->nshared].value = col_dup(st, 1);
        out->shared[out->nshared].cases = sqlite3_column_int64(st, 2);
        out->nshared++;
    }
    sqlite3_finalize(st);
    /* the open cases intel knows values of (read-time matching: intel.h) */
    out->has_intel = vg_ws_has_intel(ws);
    vg_intel_case_hit *hits = NULL;
    size_t nh = 0;
    if ((rc = vg_intel_open_cases(ws, now_ms, VG_DASH_TOP, &hits, &nh, &out->intel_cases, err))) {
        vg_dash_clear(out);
        return rc;
    }
    for (size_t i = 0; i < nh; i++) {
        out->intel[i].ref = hits[i].ref;
        out->intel[i].severity = hits[i].severity;
        out->intel[i].values = hits[i].values;
        out->intel[i].title = hits[i].title;
        hits[i].title = NULL;
    }
    out->nintel = nh;
    vg_intel_case_hits_free(hits, nh);
    static const int64_t none[5] = {0};
    if ((rc = sla_figures(ws, sla_ms ? sla_ms : none, out, err))) {
        vg_dash_clear(out);
        return rc;
    }
    return VG_OK;
}

void vg_dash_clear(vg_dash *d)
{
    for (size_t i = 0; d && i < d->nshared; i++)
        free(d->shared[i].value);
    for (size_t i = 0; d && i < d->nintel; i++)
        free(d->intel[i].title);
    if (d)
        d->nshared = d->nintel = 0;
}

void vg_duration(bool has, int64_t ms, char *out, size_t outsz)
{
    if (!has) {
        snprintf(out, outsz, "none");
        return;
    }
    int64_t s = ms / 1000, m = s / 60, h = m / 60, dd = h / 24;
    if (dd)
        snprintf(out, outsz, "%lldd %lldh", (long long)dd, (long long)(h % 24));
    else if (h)
        snprintf(out, outsz, "%lldh %lldm", (long long)h, (long long)(m % 60));
    else if (m)
        snprintf(out, outsz, "%lldm", (long long)m);
    else
        snprintf(out, outsz, "%llds", (long long)s);
}

typedef struct lines {
    char **v, **q; /* each line, and the filter listing what it counts (or NULL) */
    size_t n;
} lines;

static void addq(lines *l, const char *query, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void addq(lines *l, const char *query, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vg_xvasprintf(fmt, ap);
    va_end(ap);
    l->v = vg_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->q = vg_xrealloc(l->q, (l->n + 1) * sizeof *l->q);
    l->v[l->n] = s;
    l->q[l->n++] = query ? vg_xstrdup(query) : NULL;
}

#define add(l, ...) addq(l, NULL, __VA_ARGS__)

/* One bar per day, eight heights (or ASCII . : | #). */
static void bars(const int64_t *per, int days, int64_t max, bool ascii, char *out, size_t outsz)
{
    static const char *const blocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char *const plain[] = {" ", ".", ".", ":", ":", "|", "|", "#", "#"};
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < days; i++) {
        int h = max ? (int)((per[i] * 8 + max - 1) / max) : 0;
        const char *b = (ascii ? plain : blocks)[h > 8 ? 8 : h];
        size_t bl = strlen(b);
        if (len + bl + 1 >= outsz)
            break;
        memcpy(out + len, b, bl + 1);
        len += bl;
    }
}

char **vg_dash_render(const vg_dash *d, bool ascii, size_t *n, char ***queries)
{
    lines l = {0};
    int64_t max = 1, sum_o = 0, sum_c = 0;
    for (int i = 0; i < d->days; i++) {
        if (d->opened[i] > max)
            max = d->opened[i];
        if (d->closed[i] > max)
            max = d->closed[i];
        sum_o += d->opened[i];
        sum_c += d->closed[i];
    }
    char bar[VG_DASH_MAX_DAYS * 4 + 1], a[32], b[32];
    add(&l, "Cases over the last %d days (one column a day, oldest left)", d->days);
    bars(d->opened, d->days, max, ascii, bar, sizeof bar);
    add(&l, "  opened %6lld  %s", (long long)sum_o, bar);
    bars(d->closed, d->days, max, ascii, bar, sizeof bar);
    add(&l, "  closed %6lld  %s", (long long)sum_c, bar);
    add(&l, "%s", "");
    vg_duration(d->has_mtta, d->mtta_ms, a, sizeof a);
    vg_duration(d->has_mttr, d->mttr_ms, b, sizeof b);
    add(&l, "MTTA %s (%lld acknowledged)   MTTR %s (%lld closed)   open %lld of %lld", a,
        (long long)d->mtta_n, b, (long long)d->mttr_n, (long long)d->open, (long long)d->total);
    add(&l, "%s", "");
    add(&l, "Severity x status   %11s %11s %11s %11s %11s", "new", "in_progress", "on_hold",
        "contained", "closed");
    char q[640];
    for (int s = 4; s >= 0; s--) {
        snprintf(q, sizeof q, "sev:%s status:all", vg_enum_name(&VG_SEVERITY, s));
        addq(&l, q, "  %-17s %11lld %11lld %11lld %11lld %11lld", vg_enum_name(&VG_SEVERITY, s),
             (long long)d->heat[s][0], (long long)d->heat[s][1], (long long)d->heat[s][2],
             (long long)d->heat[s][3], (long long)d->heat[s][4]);
    }
    if (d->has_sla) {
        add(&l, "%s", "");
        addq(&l, "sla:overdue", "SLA  %lld of %lld open cases overdue", (long long)d->overdue_total,
             (long long)d->open);
        for (int s = 4; s >= 0; s--)
            if (d->overdue[s]) {
                snprintf(q, sizeof q, "sla:overdue sev:%s", vg_enum_name(&VG_SEVERITY, s));
                addq(&l, q, "  %-9s %5lld overdue", vg_enum_name(&VG_SEVERITY, s),
                     (long long)d->overdue[s]);
            }
    }
    if (d->nload) {
        add(&l, "%s", "");
        add(&l, "%s", "Workload (open cases)");
        for (size_t i = 0; i < d->nload; i++) {
            snprintf(q, sizeof q, "assignee:%.80s", d->load[i].name[0] ? d->load[i].name : "none");
            char late[40] = "";
            if (d->load[i].overdue)
                snprintf(late, sizeof late, "  %lld overdue", (long long)d->load[i].overdue);
            addq(&l, q, "  %-20.20s %5lld open%s",
                 d->load[i].name[0] ? d->load[i].name : "(nobody)", (long long)d->load[i].open, late);
        }
    }
    add(&l, "%s", "");
    add(&l, "Open cases by age   <1d %lld   1-3d %lld   3-7d %lld   7-30d %lld   >30d %lld",
        (long long)d->aging[0], (long long)d->aging[1], (long long)d->aging[2],
        (long long)d->aging[3], (long long)d->aging[4]);
    add(&l, "%s", "");
    add(&l, "%s", "Most shared artifacts");
    for (size_t i = 0; i < d->nshared; i++) {
        /* a value term lists its cases (the types the filters know); the value quoted */
        const char *field = vg_case_value_field(d->shared[i].type);
        bool known = field && !strpbrk(d->shared[i].value, "\" ");
        snprintf(q, sizeof q, "%s:%.500s status:all", field ? field : "", d->shared[i].value);
        addq(&l, known ? q : NULL, "  %3lld cases  %-9s %s", (long long)d->shared[i].cases,
             d->shared[i].type, d->shared[i].value);
    }
    if (!d->nshared)
        add(&l, "%s", "  (no value is on more than one case)");
    if (d->has_intel) {
        add(&l, "%s", "");
        add(&l, "Open cases with intel hits: %lld", (long long)d->intel_cases);
        for (size_t i = 0; i < d->nintel; i++)
            add(&l, "  #%-5lld %-8s %3lld value%s known  %s", (long long)d->intel[i].ref,
                vg_enum_name(&VG_SEVERITY, d->intel[i].severity), (long long)d->intel[i].values,
                d->intel[i].values == 1 ? " " : "s", d->intel[i].title);
        if (!d->intel_cases)
            add(&l, "%s", "  (no open case holds a value the feeds know)");
    }
    *n = l.n;
    if (queries)
        *queries = l.q;
    else
        vg_lines_free(l.q, l.n);
    return l.v;
}

void vg_lines_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}
