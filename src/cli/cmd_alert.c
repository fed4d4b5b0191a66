/*
 * cmd_alert.c — the inbox and the timeline from a script: `vigil alerts` (the inbox,
 * a page at a time, or the dismissed alerts), `alert promote|link|dismiss|restore`,
 * `event add|star`. The same ops
 * the workstation's inbox and Timeline tab write, through the door.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/buf.h"
#include "vigil/json.h"
#include "vigil/query.h"
#include "vigil/timefmt.h"

#define MAX_EVENT (64 << 10) /* bytes of an event's text */

/* "EVENT_TIME.ID", the inbox's keyset */
static bool parse_cursor(const char *s, vg_alert_cursor *cur)
{
    char *end;
    long long t = strtoll(s, &end, 10);
    if (end == s || *end != '.' || strlen(end + 1) != VG_ID_LEN || !vg_ulid_valid(end + 1))
        return false;
    cur->event_time = t;
    memcpy(cur->id, end + 1, sizeof cur->id);
    return true;
}

int cmd_alerts(cli *c, int argc, char **argv)
{
    opt o[] = {{"limit=", NULL}, {"after=", NULL}, {"json", NULL}, {"dismissed", NULL}};
    int npos, rc;
    int64_t limit = 50;
    const char *v;
    vg_alert_cursor cur, *after = NULL;
    if ((rc = cli_parse(c, argc, argv, o, 4, NULL, 0, &npos)))
        return rc;
    bool dismissed = opt_get(o, 4, "dismissed") != NULL;
    if ((v = opt_get(o, 3, "limit")) && (rc = cli_count(c, "limit", v, 1, 10000, &limit)))
        return rc;
    if ((v = opt_get(o, 3, "after"))) {
        if (!parse_cursor(v, &cur))
            return cli_usage(c, "--after: '%s' is not a cursor of vigil alerts --json", v);
        after = &cur;
    }
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_alert *a = NULL;
    size_t n = 0;
    bool more = false;
    vg_err err = {0};
    if (vg_alerts_list(c->ws, dismissed ? VG_AS_DISMISSED : VG_AS_NEW, (int)limit, after, false, &a, &n, &more, &err) !=
        VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 3, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *j = vg_alert_json(&a[i]);
            char cs[64];
            snprintf(cs, sizeof cs, "%" PRId64 ".%s", a[i].event_time, a[i].id);
            cJSON_AddStringToObject(j, "cursor", cs);
            cJSON_AddItemToArray(arr, j);
        }
        out_json(arr);
    } else {
        printf("%-26s %-8s %-16s %5s  %-12s %s\n", "ID", "SEV", "WHEN", "COUNT", "SOURCE",
               "TITLE");
        for (size_t i = 0; i < n; i++) {
            char when[40];
            fmt_time(a[i].event_time, when, sizeof when);
            printf("%-26s %-8s %-16s %5" PRId64 "  ", a[i].id,
                   vg_enum_name(&VG_SEVERITY, a[i].severity), when, a[i].count);
            out_fit(c, a[i].source, 12, true);
            putchar(' ');
            out_fit(c, a[i].title, c->width > 80 ? c->width - 73 : 0, false);
            if (dismissed && a[i].dismissed_reason && *a[i].dismissed_reason) {
                fputs("  (", stdout); /* why, as the analyst said it */
                out_safe(c, a[i].dismissed_reason);
                putchar(')');
            }
            putchar('\n');
        }
        if (n == 0)
            fputs(dismissed ? "(no dismissed alerts)\n" : "(the inbox is empty)\n", stdout);
        if (more && c->width)
            printf("... more: vigil alerts%s --limit %" PRId64 " --after %" PRId64 ".%s\n",
                   dismissed ? " --dismissed" : "", limit, a[n - 1].event_time, a[n - 1].id);
    }
    vg_alerts_free(a, n);
    return EXIT_OK;
}

/* The alert an argument names (an id or a unique prefix). */
static int alert_arg(cli *c, const char *arg, vg_id id)
{
    vg_err err = {0};
    if (vg_alert_resolve(c->ws, arg, id, &err) != VG_OK)
        return cli_fail(c, &err);
    return EXIT_OK;
}

int cmd_alert_promote(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which alert? (ID)");
    vg_id id, case_id;
    vg_err err = {0};
    if ((rc = cli_open(c, 0)) || (rc = alert_arg(c, pos[0], id)))
        return rc;
    if (vg_alert_promote(c->ws, id, case_id, &err) != VG_OK)
        return cli_fail(c, &err);
    vg_case k;
    if (vg_case_get(c->ws, case_id, &k, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 1, "json")) {
        out_json(vg_case_json(&k));
    } else {
        printf("case #%" PRId64 " opened from alert %s: ", k.ref, id);
        out_safe(c, k.title);
        putchar('\n');
    }
    vg_case_clear(&k);
    return EXIT_OK;
}

int cmd_alert_link(cli *c, int argc, char **argv)
{
    char *pos[2];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 2, &npos)))
        return rc;
    if (npos != 2)
        return cli_usage(c, "give the alert and the case (ID REF)");
    vg_id id, case_id;
    if ((rc = cli_open(c, 0)) || (rc = alert_arg(c, pos[0], id)) ||
        (rc = cli_case(c, pos[1], case_id)))
        return rc;
    if ((rc = cli_apply(c, vg_op_alert_link(id, case_id))) == EXIT_OK)
        printf("alert %s linked to %s\n", id, pos[1]);
    return rc;
}

/* Restore takes back a dismissal: an alert on a case or in the inbox stays where
 * it is (a status new would take it off its case). */
static int only_dismissed(cli *c, const vg_id id)
{
    vg_alert a;
    vg_err err = {0};
    if (vg_alert_get(c->ws, id, &a, &err) != VG_OK)
        return cli_fail(c, &err);
    int status = a.status;
    vg_alert_clear(&a);
    if (status == VG_AS_DISMISSED)
        return EXIT_OK;
    return cli_error(c, "alert %s is not dismissed (%s): nothing restored", id,
                     status == VG_AS_LINKED ? "it is on a case" : "it is in the inbox");
}

/* alert dismiss|restore ID...: one op per alert, all of them or none; a dismissal
 * with its --reason, a restore only of dismissed alerts. */
static int alerts_set(cli *c, int argc, char **argv, bool restore)
{
    opt o[] = {{"reason=", NULL}};
    char *pos[1000];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, restore ? 0 : 1, pos, 1000, &npos)))
        return rc;
    if (npos < 1)
        return cli_usage(c, "which alerts? (ID...)");
    const char *reason = restore ? NULL : opt_get(o, 1, "reason");
    if (reason && strlen(reason) > 1000)
        return cli_error(c, "--reason: longer than 1000 bytes");
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_op **ops = vg_xcalloc((size_t)npos, sizeof *ops);
    for (int i = 0; i < npos && rc == EXIT_OK; i++) {
        vg_id id;
        if ((rc = alert_arg(c, pos[i], id)) == EXIT_OK && restore)
            rc = only_dismissed(c, id);
        if (rc == EXIT_OK)
            ops[i] = restore ? vg_op_alert_restore(id) : vg_op_alert_dismiss(id, reason);
    }
    if (rc == EXIT_OK) /* all of them or none */
        rc = cli_apply_all(c, ops, npos);
    else
        for (int i = 0; i < npos; i++)
            vg_op_free(ops[i]);
    if (rc == EXIT_OK)
        printf("%d alert%s %s\n", npos, npos == 1 ? "" : "s",
               restore ? "back in the inbox" : "dismissed");
    free(ops);
    return rc;
}

int cmd_alert_dismiss(cli *c, int argc, char **argv) { return alerts_set(c, argc, argv, false); }

int cmd_alert_restore(cli *c, int argc, char **argv) { return alerts_set(c, argc, argv, true); }

int cmd_event_add(cli *c, int argc, char **argv)
{
    opt o[] = {{"at=", NULL}};
    char *pos[256];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 256, &npos)))
        return rc;
    if (npos < 2)
        return cli_usage(c, "give the case and what happened (REF TEXT... [--at WHEN])");
    int64_t when = vg_now_ms();
    vg_err err = {0};
    const char *at = opt_get(o, 1, "at");
    if (at && vg_parse_when("--at", at, when, 0, &when, &err) != VG_OK)
        return cli_usage(c, "%s", err.msg);
    vg_buf text;
    vg_buf_init(&text, MAX_EVENT);
    for (int i = 1; i < npos; i++)
        if ((i > 1 && vg_buf_adds(&text, " ")) || vg_buf_adds(&text, pos[i])) {
            vg_buf_free(&text);
            return cli_error(c, "the text is longer than %d bytes", MAX_EVENT);
        }
    vg_id case_id;
    if ((rc = cli_open(c, 0)) == EXIT_OK && (rc = cli_case(c, pos[0], case_id)) == EXIT_OK &&
        (rc = cli_apply(c, vg_op_event_add(case_id, when, NULL, vg_buf_str(&text)))) == EXIT_OK) {
        char w[40];
        fmt_time(when, w, sizeof w);
        printf("event added to %s at %s\n", pos[0], w);
    }
    vg_buf_free(&text);
    return rc;
}

int cmd_event_star(cli *c, int argc, char **argv)
{
    opt o[] = {{"off", NULL}};
    char *pos[2];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 2, &npos)))
        return rc;
    if (npos != 2)
        return cli_usage(c, "give the case and the row (REF ID, an id of vigil timeline --json)");
    vg_id case_id;
    if ((rc = cli_open(c, 0)) || (rc = cli_case(c, pos[0], case_id)))
        return rc;
    vg_event *e = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_timeline(c->ws, case_id, VG_BY_OCCURRED, 0, &e, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    size_t pl = strlen(pos[1]), hit = n, hits = 0;
    for (size_t i = 0; i < n && pl >= 4; i++)
        if (strncasecmp(e[i].id, pos[1], pl) == 0)
            hit = i, hits++;
    if (hits != 1) {
        vg_events_free(e, n);
        return cli_error(c, "%s: %s row of %s's timeline", pos[1],
                         hits ? "more than one" : "no", pos[0]);
    }
    bool on = !opt_get(o, 1, "off"), is_alert = e[hit].kind == 0;
    vg_op *op = vg_op_row_star(case_id, e[hit].id, is_alert, on);
    vg_events_free(e, n);
    if ((rc = cli_apply(c, op)) == EXIT_OK)
        printf("%s %s\n", pos[1], on ? "starred" : "unstarred");
    return rc;
}
