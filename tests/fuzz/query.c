/*
 * query.c — the query language (src/core/query.c): the queue's `/` filter and
 * `vigil cases --query`, search's terms, and the `--after` cursors, run against a
 * small workspace made once.
 *
 * The input is what an analyst types. Properties: a query that parses lists in
 * every order, forwards and backwards, and search never fails inside SQLite (bad
 * input is VG_EINVAL with a message, never VG_EDB); the cursor printed after a
 * page parses back and pages on; a cursor that parses pages in every order.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vigil/op.h"
#include "vigil/query.h"

static vg_ws *ws;

static void must(vg_op *op)
{
    vg_err err = {0};
    fz_check(vg_apply(ws, op, &err) == VG_OK, "%s: %s", op->kind, err.msg);
    vg_op_free(op);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ws = fz_workspace();
    static const char *const titles[] = {"Phishing wave \"invoice\"", "Ransomware on ws-12",
                                         "Impossible travel: r.nguyen", "C2 beacon to 203.0.113.7"};
    static const char *const sev[] = {"low", "critical", "medium", "high"};
    for (int i = 0; i < 4; i++) {
        vg_op *op = vg_op_case_create(titles[i], sev[i], "seen by the SOC; see the notes");
        char id[VG_ID_LEN + 1];
        memcpy(id, op->target, sizeof id);
        must(op);
        must(vg_op_case_set(id, "tags", i % 2 ? "phish,fp" : "ransom"));
        must(vg_op_case_set(id, "assignee", i % 2 ? "fuzz" : "alice"));
        must(vg_op_artifact_add(id, "ip", "203.0.113.7"));
        must(vg_op_artifact_add(id, "domain", i ? "evil.example" : "corp.example"));
        must(vg_op_note_add(id, "the user clicked the link on their phone"));
        if (i == 3)
            must(vg_op_case_close(id, "true_positive"));
    }
    return 0;
}

/* Every order and direction of f lists; one cursor round trip on the way. */
static void list_all(vg_case_filter *f, const char *what)
{
    for (int sort = 0; sort < VG_SORT__N; sort++)
        for (int back = 0; back < 2; back++) {
            f->sort = (vg_case_sort)sort;
            f->backward = back;
            f->limit = 2;
            vg_case_list l = {0};
            vg_err err = {0};
            vg_rc rc = vg_cases_list(ws, f, &l, &err);
            fz_check(rc == VG_OK, "%s, %s%s: %s", what, VG_SORT_NAMES[sort],
                     back ? " backwards" : "", err.msg);
            if (l.n && !f->after) {
                char text[1024];
                vg_case_cursor cur;
                vg_case_cursor_format(&l.items[l.n - 1], f, text, sizeof text);
                fz_check(vg_case_cursor_parse(text, &cur, &err) == VG_OK,
                         "the cursor vigil printed, '%s', does not parse: %s", text, err.msg);
                vg_case_filter next = *f;
                next.after = &cur;
                vg_case_list l2 = {0};
                fz_check(vg_cases_list(ws, &next, &l2, &err) == VG_OK, "paging on: %s", err.msg);
                vg_case_list_free(&l2);
            }
            vg_case_list_free(&l);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_cstr(data, size);
    vg_case_query q;
    vg_err err = {0};
    if (vg_case_query_parse(text, "fuzz", &q, &err) == VG_OK) {
        list_all(&q.f, "the query");
        vg_case_query_clear(&q);
    } else {
        fz_check(err.msg[0], "a query refused without saying why");
    }
    if (vg_search_query_parse(text, "fuzz", &q, &err) == VG_OK)
        vg_case_query_clear(&q);
    vg_hit *hits = NULL;
    size_t n = 0;
    vg_rc rc = vg_search(ws, text, 20, &hits, &n, &err);
    fz_check(rc != VG_EDB, "search failed inside SQLite: %s", err.msg);
    vg_hits_free(hits, n);

    vg_case_cursor cur;
    if (vg_case_cursor_parse(text, &cur, &err) == VG_OK) {
        vg_case_filter f = {.after = &cur};
        list_all(&f, "the cursor");
    }
    free(text);
    return 0;
}
