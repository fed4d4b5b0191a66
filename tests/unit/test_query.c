/*
 * test_query.c — reading: the case queue's filters and keyset pages against a
 * brute-force answer, reference resolution, timeline orders and full-text search.
 */
#include "helpers.h"

#define NCASES 400


static uint64_t rng = 12345;
static int pick(int n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((rng >> 33) % (uint64_t)n);
}

static int setup(void **state)
{
    static const char *const sev[] = {"info", "low", "medium", "high", "critical"};
    static const char *const st[] = {"new", "in_progress", "on_hold", "contained"};
    static const char *const who[] = {"alice", "bob", ""};
    fx *f = fx_new();
    vg_err err = {0};
    assert_int_equal(vg_batch_begin(f->ws, &err), VG_OK);
    for (int i = 0; i < NCASES; i++) {
        char title[64];
        snprintf(title, sizeof title, "%s case %d", i % 7 == 0 ? "ransomware" : "routine", i);
        vg_id id;
        new_case(f->ws, title, sev[pick(5)], id);
        int s = pick(5);
        if (s == 4)
            must_apply(f->ws, vg_op_case_close(id, "benign"));
        else if (s > 0)
            must_apply(f->ws, vg_op_case_set(id, "status", st[s]));
        must_apply(f->ws, vg_op_case_set(id, "assignee", who[pick(3)]));
        if (pick(4) == 0)
            must_apply(f->ws, vg_op_case_set(id, "tags", "phish"));
    }
    assert_int_equal(vg_batch_commit(f->ws, &err), VG_OK);
    *state = f;
    return 0;
}


/* Every case matching f, by brute force over all of them, in queue order. */
static size_t brute(fx *fx_, const vg_case_filter *f, vg_id *out)
{
    vg_case_filter all = {.limit = 10000};
    vg_case_list l;
    vg_err err = {0};
    assert_int_equal(vg_cases_list(fx_->ws, &all, &l, &err), VG_OK);
    assert_int_equal(l.n, NCASES);
    size_t n = 0;
    for (size_t i = 0; i < l.n; i++) {
        const vg_case *c = &l.items[i];
        if (i > 0) { /* the unfiltered list itself is in queue order */
            const vg_case *p = &l.items[i - 1];
            assert_true(p->severity > c->severity ||
                        (p->severity == c->severity &&
                         (p->created_at > c->created_at ||
                          (p->created_at == c->created_at && strcmp(p->id, c->id) > 0))));
        }
        if (f->status_mask && !(f->status_mask & (1u << c->status)))
            continue;
        if (f->severity_mask && !(f->severity_mask & (1u << c->severity)))
            continue;
        if (f->assignee && (strcmp(f->assignee, c->assignee) != 0) != f->not_assignee)
            continue;
        if (f->tag && (strstr(c->tags, f->tag) == NULL) != f->not_tag)
            continue;
        if (f->text && !strstr(c->title, f->text))
            continue;
        memcpy(out[n++], c->id, sizeof(vg_id));
    }
    vg_case_list_free(&l);
    return n;
}

/* Page through f with a small page size; the pages must be exactly brute force. */
static void check_pages(fx *fx_, vg_case_filter f)
{
    static vg_id want[NCASES];
    size_t nwant = brute(fx_, &f, want), got = 0;
    vg_case_cursor cur;
    char cs[640];
    vg_err err = {0};
    f.limit = 37;
    f.after = NULL;
    for (;;) {
        vg_case_list l;
        assert_int_equal(vg_cases_list(fx_->ws, &f, &l, &err), VG_OK);
        for (size_t i = 0; i < l.n; i++) {
            assert_true(got < nwant);
            assert_string_equal(l.items[i].id, want[got]);
            got++;
        }
        bool more = l.more;
        if (l.n) { /* round-trip the cursor through its text form, as the CLI does */
            vg_case_cursor_format(&l.items[l.n - 1], &f, cs, sizeof cs);
            assert_int_equal(vg_case_cursor_parse(cs, &cur, &err), VG_OK);
            f.after = &cur;
        }
        vg_case_list_free(&l);
        if (!more)
            break;
    }
    assert_int_equal(got, nwant);

    /* and backwards from the end: the last page, then the ones before it */
    size_t back = nwant;
    f.after = NULL;
    f.backward = true;
    for (;;) {
        vg_case_list l;
        assert_int_equal(vg_cases_list(fx_->ws, &f, &l, &err), VG_OK);
        assert_true(l.n <= back);
        for (size_t i = 0; i < l.n; i++)
            assert_string_equal(l.items[i].id, want[back - l.n + i]);
        back -= l.n;
        bool more = l.more;
        if (l.n) {
            vg_case_cursor_format(&l.items[0], &f, cs, sizeof cs);
            assert_int_equal(vg_case_cursor_parse(cs, &cur, &err), VG_OK);
            f.after = &cur;
        }
        vg_case_list_free(&l);
        if (!more)
            break;
    }
    assert_int_equal(back, 0);
}

static void test_filters_and_pages(void **state)
{
    fx *f = *state;
    check_pages(f, (vg_case_filter){0});
    check_pages(f, (vg_case_filter){.status_mask = 1u << VG_ST_NEW});
    check_pages(f, (vg_case_filter){.status_mask = VG_STATUS_OPEN_MASK});
    check_pages(f, (vg_case_filter){.severity_mask = 3u << VG_SEV_HIGH});
    check_pages(f, (vg_case_filter){.status_mask = 1u << VG_ST_CLOSED, .severity_mask = 1u});
    check_pages(f, (vg_case_filter){.assignee = "bob"});
    check_pages(f, (vg_case_filter){.assignee = ""});
    check_pages(f, (vg_case_filter){.tag = "phish", .status_mask = VG_STATUS_OPEN_MASK});
    check_pages(f, (vg_case_filter){.text = "ransomware"});
}

static void check_query(fx *f, const char *q)
{
    vg_case_query cq;
    vg_err err = {0};
    if (vg_case_query_parse(q, "alice", &cq, &err) != VG_OK)
        fail_msg("%s: %s", q, err.msg);
    check_pages(f, cq.f);
    vg_case_query_clear(&cq);
}

static void test_query_language(void **state)
{
    fx *f = *state;
    check_query(f, "status:open");
    check_query(f, "!status:closed sev>=high");
    check_query(f, "status:new,on_hold sev<medium");
    check_query(f, "assignee:me tag:phish");
    check_query(f, "!assignee:none !tag:phish");
    check_query(f, "sev>high \"ransomware\"");
    check_query(f, "ransomware case");
    vg_case_query cq;
    vg_err err = {0};
    assert_int_equal(vg_case_query_parse("sev>=high", NULL, &cq, &err), VG_OK);
    assert_int_equal(cq.f.severity_mask, (1u << VG_SEV_HIGH) | (1u << VG_SEV_CRITICAL));
    vg_case_query_clear(&cq);
    assert_int_equal(vg_case_query_parse("assignee:me", "bob", &cq, &err), VG_OK);
    assert_string_equal(cq.f.assignee, "bob");
    vg_case_query_clear(&cq);
    assert_int_equal(vg_case_query_parse("sev>=urgent", NULL, &cq, &err), VG_EINVAL);
    assert_string_equal(err.msg, "sev: 'urgent' is not one of info, low, medium, high, critical");
    assert_int_equal(vg_case_query_parse("colour:red", NULL, &cq, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "'colour:red': not a filter"));
    assert_int_equal(vg_case_query_parse("status:done", NULL, &cq, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "status: 'done' is not one of new"));
    assert_int_equal(vg_case_query_parse("!phish", NULL, &cq, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "only field terms can be negated"));
}

/* The SLA order's key, as the query computes it (closed or no target: last). */
static int64_t sla_key(const vg_case *c, const vg_case_filter *f)
{
    vg_case_cursor cur;
    vg_case_cursor_of(c, f, &cur);
    return cur.ikey;
}

/* Every order pages forward and backward to exactly the full list, which is in
 * that order and holds every case once. */
static void test_sorts(void **state)
{
    fx *f = *state;
    for (int so = 0; so < VG_SORT__N; so++) {
        vg_case_filter all = {.limit = 10000, .sort = (vg_case_sort)so,
                              .sla_ms = {0, 7 * 86400000LL, 3 * 86400000LL, 86400000LL, 3600000LL}};
        vg_case_list full;
        vg_err err = {0};
        assert_int_equal(vg_cases_list(f->ws, &all, &full, &err), VG_OK);
        assert_int_equal(full.n, NCASES);
        for (size_t i = 1; i < full.n; i++) {
            const vg_case *p = &full.items[i - 1], *c = &full.items[i];
            bool ok = so == VG_SORT_NEWEST ? p->created_at > c->created_at ||
                                                 (p->created_at == c->created_at && strcmp(p->id, c->id) > 0)
                      : so == VG_SORT_OLDEST ? p->created_at < c->created_at ||
                                                   (p->created_at == c->created_at && strcmp(p->id, c->id) < 0)
                      : so == VG_SORT_REF    ? p->ref > c->ref || (p->ref == c->ref && strcmp(p->id, c->id) > 0)
                      : so == VG_SORT_STATUS ? p->status < c->status ||
                                                   (p->status == c->status && p->severity >= c->severity)
                      : so == VG_SORT_TITLE  ? strcmp(p->title, c->title) <= 0
                      : so == VG_SORT_ASSIGNEE ? strcmp(p->assignee, c->assignee) <= 0
                      : so == VG_SORT_ALERTS ? p->alert_count >= c->alert_count
                      : so == VG_SORT_SLA ? sla_key(p, &all) <= sla_key(c, &all)
                                             : p->severity >= c->severity;
            if (!ok)
                fail_msg("sort %s: rows %zu and %zu out of order", VG_SORT_NAMES[so], i - 1, i);
        }
        for (int back = 0; back < 2; back++) {
            vg_case_filter pf = all;
            pf.limit = 23;
            pf.backward = back;
            vg_case_cursor cur;
            size_t got = 0;
            for (;;) {
                vg_case_list l;
                assert_int_equal(vg_cases_list(f->ws, &pf, &l, &err), VG_OK);
                for (size_t i = 0; i < l.n; i++) {
                    size_t at = back ? full.n - got - l.n + i : got + i;
                    assert_string_equal(l.items[i].id, full.items[at].id);
                }
                got += l.n;
                bool more = l.more;
                if (l.n) {
                    char cs[640];
                    vg_case_cursor_format(&l.items[back ? 0 : l.n - 1], &pf, cs, sizeof cs);
                    assert_int_equal(vg_case_cursor_parse(cs, &cur, &err), VG_OK);
                    pf.after = &cur;
                }
                vg_case_list_free(&l);
                if (!more)
                    break;
            }
            assert_int_equal(got, full.n);
        }
        vg_case_list_free(&full);
    }
}

static void test_bad_cursor_and_limit(void **state)
{
    fx *f = *state;
    vg_case_cursor cur;
    vg_err err = {0};
    assert_int_equal(vg_case_cursor_parse("9.1.XYZ", &cur, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "is not one vigil printed"));
    /* a keyed order's key that is not hex, or text after it */
    assert_int_equal(vg_case_cursor_parse("3.1.2.01JABCDEFGHJKMNPQRSTVWXYZ0.sZZ", &cur, &err),
                     VG_EINVAL);
    assert_int_equal(vg_case_cursor_parse("3.1.2.01JABCDEFGHJKMNPQRSTVWXYZ0.i12x", &cur, &err),
                     VG_EINVAL);
    assert_int_equal(vg_case_cursor_parse("3.1.2.01JABCDEFGHJKMNPQRSTVWXYZ0.s6162", &cur, &err),
                     VG_OK);
    assert_string_equal(cur.skey, "ab");
    vg_case_filter q = {.limit = 20000};
    vg_case_list l;
    assert_int_equal(vg_cases_list(f->ws, &q, &l, &err), VG_EINVAL);
}

static void test_resolve(void **state)
{
    fx *f = *state;
    vg_id id, again;
    vg_err err = {0};
    assert_int_equal(vg_case_resolve(f->ws, "#12", id, &err), VG_OK);
    assert_int_equal(vg_case_resolve(f->ws, "12", again, &err), VG_OK);
    assert_string_equal(id, again);
    /* A prefix of 16 holds 30 random bits past the id's millisecond, so it names one of
     * NCASES cases made in the same few milliseconds (12 held 10 bits: one run in a
     * few hundred found two cases sharing them). Lower case works too. */
    char prefix[17];
    for (int i = 0; i < 16; i++)
        prefix[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] + 32 : id[i]);
    prefix[16] = '\0';
    assert_int_equal(vg_case_resolve(f->ws, prefix, again, &err), VG_OK);
    assert_string_equal(id, again);
    assert_int_equal(vg_case_resolve(f->ws, "#9999", id, &err), VG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no case matches '#9999'"));
    vg_id one;
    assert_int_equal(vg_case_resolve(f->ws, "#1", one, &err), VG_OK);
    assert_int_equal(vg_case_resolve(f->ws, "01", id, &err), VG_OK); /* digits are a ref */
    assert_string_equal(id, one);
    assert_int_equal(vg_case_resolve(f->ws, "0", id, &err), VG_ENOTFOUND);
    /* the first 3 characters, which every case made in one run shares (398 days at a time) */
    char shared[4] = {one[0], one[1], one[2], '\0'};
    assert_int_equal(vg_case_resolve(f->ws, shared, id, &err), VG_EAMBIGUOUS);
    assert_non_null(strstr(err.msg, "matches more than one case"));
    assert_int_equal(vg_case_resolve(f->ws, "", id, &err), VG_ENOTFOUND);
}

/* How many hits search gives for q (at most 10). */
static size_t nhits(vg_ws *ws, const char *q)
{
    vg_hit *h;
    size_t n;
    vg_err err = {0};
    assert_int_equal(vg_search(ws, q, 10, &h, &n, &err), VG_OK);
    vg_hits_free(h, n);
    return n;
}

static void test_search(void **state)
{
    fx *f = *state;
    vg_id c;
    assert_int_equal(vg_case_resolve(f->ws, "#3", c, NULL), VG_OK);
    must_apply(f->ws, vg_op_note_add(c, "Beacon to cdn-update.test every 60 seconds"));
    must_apply(f->ws, vg_op_artifact_add(c, "ip", "203.0.113.77"));
    vg_hit *h;
    size_t n;
    vg_err err = {0};
    assert_int_equal(vg_search(f->ws, "beacon", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_string_equal(h[0].kind, "note");
    assert_int_equal(h[0].case_ref, 3);
    assert_non_null(strstr(h[0].snippet, "[Beacon]"));
    vg_hits_free(h, n);
    assert_int_equal(vg_search(f->ws, "203.0.113.77", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_string_equal(h[0].kind, "artifact");
    vg_hits_free(h, n);
    /* FTS syntax in what the analyst typed is plain text, never an error. */
    static const char *const odd[] = {"\"abc", "AND", "foo-bar", "*", "NEAR(a b)", "^", "\"col:x\""};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        assert_int_equal(vg_search(f->ws, odd[i], 10, &h, &n, &err), VG_OK);
        vg_hits_free(h, n);
    }
    /* field terms are the query language's: an unknown one is named */
    assert_int_equal(vg_search(f->ws, "col:x", 10, &h, &n, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "'col:x': not a filter"));
    /* a value term finds the artifact and the case holding it */
    assert_int_equal(vg_search(f->ws, "ip:203.0.113.77", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    assert_true(strcmp(h[0].kind, "artifact") == 0 || strcmp(h[1].kind, "artifact") == 0);
    assert_true(strcmp(h[0].kind, "case") == 0 || strcmp(h[1].kind, "case") == 0);
    vg_hits_free(h, n);
    assert_int_equal(vg_search(f->ws, "ip:203.0.113.77 type:artifact", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    vg_hits_free(h, n);
    /* words narrowed by kind, case and time */
    assert_int_equal(vg_search(f->ws, "beacon type:case", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 0);
    vg_hits_free(h, n);
    assert_int_equal(vg_search(f->ws, "beacon case:#3 after:2000-01-01", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    vg_hits_free(h, n);
    assert_int_equal(vg_search(f->ws, "beacon before:2000-01-01", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 0);
    vg_hits_free(h, n);
    /* a manual timeline entry is found; generated ones are not */
    must_apply(f->ws, vg_op_event_add(c, 1000, "manual", "Firewall blocked exfiltration attempt"));
    assert_int_equal(vg_search(f->ws, "exfiltration", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_string_equal(h[0].kind, "event");
    vg_hits_free(h, n);
    assert_int_equal(vg_search(f->ws, "added type:event", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 0);
    vg_hits_free(h, n);
    /* a word on more rows than search ranks lists the most recently recorded first */
    assert_int_equal(vg_batch_begin(f->ws, &err), VG_OK);
    for (int i = 0; i < 2100; i++) {
        char body[64];
        snprintf(body, sizeof body, "routine check %d", i);
        must_apply(f->ws, vg_op_note_add(c, body));
    }
    assert_int_equal(vg_batch_commit(f->ws, &err), VG_OK);
    assert_int_equal(vg_search(f->ws, "routine", 3, &h, &n, &err), VG_OK);
    assert_int_equal(n, 3);
    assert_non_null(strstr(h[0].snippet, "check 2099"));
    assert_non_null(strstr(h[1].snippet, "check 2098"));
    vg_hits_free(h, n);
    /* ... and so does such a word narrowed by a filter, with its matches in brackets */
    vg_id c5;
    assert_int_equal(vg_case_resolve(f->ws, "#5", c5, NULL), VG_OK);
    must_apply(f->ws, vg_op_note_add(c5, "routine sweep of the mail gateway"));
    assert_int_equal(vg_search(f->ws, "routine case:#3", 3, &h, &n, &err), VG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(h[0].case_ref, 3);
    assert_non_null(strstr(h[0].snippet, "[routine] check 2099"));
    assert_non_null(strstr(h[2].snippet, "[routine] check 2097"));
    vg_hits_free(h, n);
    assert_int_equal(vg_search(f->ws, "routine case:#5", 10, &h, &n, &err), VG_OK);
    assert_int_equal(n, 2); /* the note, newer, then the case ("routine case 5") */
    assert_string_equal(h[0].kind, "note");
    assert_non_null(strstr(h[0].snippet, "[routine] sweep"));
    assert_string_equal(h[1].kind, "case");
    assert_non_null(strstr(h[1].snippet, "[routine]"));
    vg_hits_free(h, n);
    /* a value named by many alerts: the newest first, and the same page whether the
     * rows are chosen before the join (a value alone) or after it (with a filter
     * that lets every row through) */
    assert_int_equal(vg_batch_begin(f->ws, &err), VG_OK);
    for (int i = 0; i < 300; i++) {
        vg_op *op = vg_op_new("alert.add", NULL);
        cJSON_AddStringToObject(op->payload, "source", "test");
        cJSON_AddStringToObject(op->payload, "title", "Beacon from ws-77");
        /* event times out of insertion order, two of them equal */
        cJSON_AddNumberToObject(op->payload, "event_time", 1790000000000.0 + (i * 37 % 300) * 1000);
        cJSON_AddItemToObject(op->payload, "entities", cJSON_Parse("{\"host\": \"WS-77\"}"));
        if (i == 5)
            cJSON_AddStringToObject(op->payload, "case", c);
        must_apply(f->ws, op);
    }
    must_apply(f->ws, vg_op_artifact_add(c, "hostname", "ws-77"));
    assert_int_equal(vg_batch_commit(f->ws, &err), VG_OK);
    vg_hit *all;
    size_t nall;
    assert_int_equal(vg_search(f->ws, "host:ws-77", 8, &h, &n, &err), VG_OK);
    assert_int_equal(vg_search(f->ws, "host:ws-77 sev>=info", 8, &all, &nall, &err), VG_OK);
    assert_int_equal(n, 8);
    assert_int_equal(nall, 8);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(h[i].kind, all[i].kind);
        assert_string_equal(h[i].id, all[i].id);
        if (i)
            assert_true(h[i].t <= h[i - 1].t);
    }
    assert_string_equal(h[0].kind, "artifact"); /* added now, after every alert's time */
    vg_hits_free(h, n);
    vg_hits_free(all, nall);
    assert_int_equal(vg_search(f->ws, "host:ws-77", 1000, &h, &n, &err), VG_OK);
    assert_int_equal(n, 302); /* 300 alerts, the artifact, the case holding both */
    vg_hits_free(h, n);
    /* the queue's filter takes value terms, not search-only ones */
    vg_case_query cq;
    assert_int_equal(vg_case_query_parse("ip:203.0.113.77", "alice", &cq, &err), VG_OK);
    assert_string_equal(cq.f.value_type, "ip");
    vg_case_query_clear(&cq);
    assert_int_equal(vg_case_query_parse("type:alert", "alice", &cq, &err), VG_EINVAL);
    assert_int_equal(vg_search(f->ws, "   ", 10, &h, &n, &err), VG_EINVAL);

    /* search follows changes: a renamed case, a removed and re-added artifact, and
     * a note that a second op adds again (its INSERT OR IGNORE keeps the first) is
     * indexed once */
    must_apply(f->ws, vg_op_case_set(c, "title", "Quokka sighting"));
    assert_int_equal(nhits(f->ws, "quokka type:case"), 1);
    must_apply(f->ws, vg_op_case_set(c, "title", "Wombat sighting"));
    assert_int_equal(nhits(f->ws, "quokka"), 0);
    must_apply(f->ws, vg_op_artifact_remove(c, "ip", "203.0.113.77"));
    assert_int_equal(nhits(f->ws, "203.0.113.77 type:artifact"), 0);
    must_apply(f->ws, vg_op_artifact_add(c, "ip", "203.0.113.77"));
    assert_int_equal(nhits(f->ws, "203.0.113.77 type:artifact"), 1);
    vg_op *note = vg_op_note_add(c, "Numbat burrow found");
    vg_op *again = vg_op_note_add(c, "Numbat burrow found");
    memcpy(again->target, note->target, sizeof again->target); /* the same note */
    assert_int_equal(vg_apply(f->ws, note, &err), VG_OK);
    assert_int_equal(vg_apply(f->ws, again, &err), VG_OK);
    vg_op_free(note);
    vg_op_free(again);
    assert_int_equal(nhits(f->ws, "numbat"), 1);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM fts WHERE fts MATCH 'numbat'"), 1);
}

static void test_counts(void **state)
{
    fx *f = *state;
    vg_counts k;
    vg_err err = {0};
    assert_int_equal(vg_counts_get(f->ws, &k, &err), VG_OK);
    assert_int_equal(k.cases, NCASES);
    assert_int_equal(k.open, sql_int(f->ws, "SELECT count(*) FROM cases WHERE status <> 'closed'"));
    assert_true(k.open > 0 && k.open < NCASES);
    assert_int_equal(k.new_, sql_int(f->ws, "SELECT count(*) FROM cases WHERE status = 'new'"));
    assert_int_equal(k.critical_open, sql_int(f->ws, "SELECT count(*) FROM cases"
                                                     " WHERE status <> 'closed' AND severity = 4"));
    assert_true(k.new_ > 0 && k.critical_open > 0);
    assert_int_equal(k.ops, sql_int(f->ws, "SELECT count(*) FROM ops"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters_and_pages), cmocka_unit_test(test_query_language),
        cmocka_unit_test(test_sorts),
        cmocka_unit_test(test_bad_cursor_and_limit),
        cmocka_unit_test(test_resolve),           cmocka_unit_test(test_search),
        cmocka_unit_test(test_counts),
    };
    return cmocka_run_group_tests(tests, setup, fx_teardown);
}
