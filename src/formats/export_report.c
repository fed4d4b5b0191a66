/*
 * export_report.c — a case as an incident report a person hands to a manager, in
 * markdown or as a self-contained HTML page: the header (severity, status, TLP,
 * owner, dates, techniques), the summary, the timeline by when things happened
 * grouped by ATT&CK tactic (then the response activity that has no tactic), the
 * artifacts and IOCs, the tasks with their state, and the notes.
 *
 * One walk over the case drives both renderings through a handful of block
 * writers. Every string from the case is escaped for where it lands: in HTML all
 * of it (& < > " '), under a Content-Security-Policy that allows no script; in
 * markdown, table cells and headings escape the characters that would make
 * markup (and raw HTML), and descriptions and notes, which analysts write in
 * markdown, keep their formatting inside a block quote with raw HTML escaped.
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export.h"
#include "vigil/evidence.h"
#include "vigil/text.h"
#include "vigil/fields.h"

typedef struct writer {
    vg_buf *b;
    bool html;
    vg_rc rc; /* the first failure; later writes do nothing */
} writer;

static void put(writer *w, const char *s)
{
    if (w->rc == VG_OK)
        w->rc = vg_buf_adds(w->b, s);
}

static void putf(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(writer *w, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(w, tmp);
}

/* Inline text: HTML-escaped, or in markdown one line with markup characters
 * backslash-escaped. */
static void text(writer *w, const char *s)
{
    if (w->rc != VG_OK)
        return;
    if (w->html) {
        w->rc = export_html(w->b, s);
        return;
    }
    char *ok = vg_utf8_repair(s ? s : "");
    for (const unsigned char *p = (const unsigned char *)ok; *p && w->rc == VG_OK; p++) {
        char ch = (char)*p;
        if (*p < 0x20 || *p == 0x7f)
            ch = ' ';
        else if (strchr("\\`*_[]<>|~&#!", ch))
            w->rc = vg_buf_adds(w->b, "\\");
        if (w->rc == VG_OK)
            w->rc = vg_buf_add(w->b, &ch, 1);
    }
    free(ok);
}

/* A block an analyst wrote in markdown (a description, a note). */
static void block(writer *w, const char *s)
{
    if (w->html) {
        put(w, "<div class=\"text\">");
        text(w, s);
        put(w, "</div>\n");
        return;
    }
    char *ok = vg_utf8_repair(s ? s : "");
    put(w, "> ");
    for (const char *p = ok; *p && w->rc == VG_OK; p++) {
        if (*p == '\n') {
            put(w, "\n> ");
        } else if (*p == '<' || *p == '>' || *p == '&') {
            char esc[3] = {'\\', *p, '\0'};
            put(w, esc);
        } else if (*p != '\r') {
            if (w->rc == VG_OK)
                w->rc = vg_buf_add(w->b, p, 1);
        }
    }
    put(w, "\n\n");
    free(ok);
}

static void heading(writer *w, int level, const char *s)
{
    if (w->html)
        putf(w, "<h%d>", level);
    else
        putf(w, "%.*s ", level, "######");
    text(w, s);
    if (w->html)
        putf(w, "</h%d>\n", level);
    else
        put(w, "\n\n");
}

/* One table row: cells in <tag> (th or td), or between | in markdown. */
static void row(writer *w, const char *const *cells, size_t n, const char *tag)
{
    put(w, w->html ? "<tr>" : "|");
    for (size_t i = 0; i < n; i++) {
        if (w->html)
            putf(w, "<%s>", tag);
        else
            put(w, " ");
        text(w, cells[i]);
        if (w->html)
            putf(w, "</%s>", tag);
        else
            put(w, " |");
    }
    put(w, w->html ? "</tr>\n" : "\n");
}

static void table_head(writer *w, const char *const *cols, size_t n)
{
    if (w->html)
        put(w, "<table>\n");
    row(w, cols, n, "th");
    if (w->html)
        return;
    put(w, "|");
    for (size_t i = 0; i < n; i++)
        put(w, "---|");
    put(w, "\n");
}

static void table_row(writer *w, const char *const *cells, size_t n) { row(w, cells, n, "td"); }

static void table_end(writer *w) { put(w, w->html ? "</table>\n" : "\n"); }

/* "2026-11-03 14:02 UTC", or "-" for 0. */
static const char *utc(int64_t ms, char *out, size_t outsz)
{
    if (ms <= 0)
        return "-";
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outsz, "%Y-%m-%d %H:%M UTC", &tm);
    return out;
}

static void header(writer *w, const export_case *x)
{
    const vg_case *c = &x->c;
    char title[1024], t1[40], t2[40], t3[40], t4[40], status[96], tlp[64], alerts[24];
    snprintf(title, sizeof title, "Incident report #%lld: %s", (long long)c->ref, c->title);
    if (w->html) {
        put(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'\">\n<title>");
        text(w, title);
        put(w, "</title>\n<style>\nbody{font-family:sans-serif;max-width:60em;margin:2em auto;"
               "padding:0 1em;color:#222}\ntable{border-collapse:collapse;margin:.5em 0 1em}\n"
               "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}\n"
               "th{background:#eee}\n.text{white-space:pre-wrap;border-left:3px solid #ccc;"
               "padding-left:.75em;margin:.5em 0 1em}\n</style>\n</head>\n<body>\n");
    }
    heading(w, 1, title);
    snprintf(status, sizeof status, "%s%s%s%s", vg_enum_name(&VG_STATUS, c->status),
             c->resolution >= 0 ? " (" : "",
             c->resolution >= 0 ? vg_enum_name(&VG_RESOLUTION, c->resolution) : "",
             c->resolution >= 0 ? ")" : "");
    snprintf(tlp, sizeof tlp, "TLP:%s / PAP:%s", vg_enum_name(&VG_TLP, c->tlp),
             vg_enum_name(&VG_PAP, c->pap));
    snprintf(alerts, sizeof alerts, "%zu", x->nalerts);
    vg_buf techs;
    vg_buf_init(&techs, 1 << 16);
    char ids[128][16];
    size_t nt = export_case_techniques(x, ids, 128);
    for (size_t i = 0; i < nt; i++) {
        const vg_technique *t = x->attack ? vg_attack_get(x->attack, ids[i]) : NULL;
        if (vg_buf_addf(&techs, "%s%s%s%s", i ? ", " : "", ids[i], t ? " " : "",
                        t ? t->name : "") != VG_OK)
            break;
    }
    cJSON *tags = cJSON_Parse(c->tags ? c->tags : "[]"), *v;
    vg_buf tagb;
    vg_buf_init(&tagb, 1 << 16);
    cJSON_ArrayForEach(v, tags)
    {
        if (cJSON_IsString(v) &&
            vg_buf_addf(&tagb, "%s%s", tagb.len ? ", " : "", v->valuestring) != VG_OK)
            break;
    }
    cJSON_Delete(tags);
    static const char *const cols[] = {"Field", "Value"};
    const char *rows[][2] = {
        {"Severity", vg_enum_name(&VG_SEVERITY, c->severity)},
        {"Status", status},
        {"Handling", tlp},
        {"Assignee", *c->assignee ? c->assignee : "unassigned"},
        {"Opened", utc(c->created_at, t1, sizeof t1)},
        {"Acknowledged", utc(c->acknowledged_at, t2, sizeof t2)},
        {"Closed", utc(c->closed_at, t3, sizeof t3)},
        {"Last updated", utc(c->updated_at, t4, sizeof t4)},
        {"Alerts", alerts},
        {"Tags", tagb.len ? vg_buf_str(&tagb) : "-"},
        {"ATT&CK techniques", techs.len ? vg_buf_str(&techs) : "-"},
    };
    table_head(w, cols, 2);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        table_row(w, rows[i], 2);
    table_end(w);
    vg_buf_free(&techs);
    vg_buf_free(&tagb);
    if (x->nfields) {
        heading(w, 2, "Custom fields");
        static const char *const fcols[] = {"Field", "Value"};
        table_head(w, fcols, 2);
        for (size_t i = 0; i < x->nfields; i++) {
            const char *row[2] = {x->fields[i].name, x->fields[i].value};
            table_row(w, row, 2);
        }
        table_end(w);
    }
    heading(w, 2, "Summary");
    if (c->description && *c->description)
        block(w, c->description);
    else
        put(w, w->html ? "<p>No description.</p>\n" : "No description.\n\n");
}

static void timeline(writer *w, const export_case *x)
{
    heading(w, 2, "Timeline");
    size_t nt = x->attack ? vg_attack_ntactics(x->attack) : 0;
    int *tac = vg_xcalloc(x->nevents + 1, sizeof *tac);
    for (size_t i = 0; i < x->nevents; i++)
        tac[i] = export_event_tactic(x, &x->events[i]);
    static const char *const cols[] = {"Occurred", "Technique", "Event", "Source"};
    static const char *const other_cols[] = {"Occurred", "Kind", "Event", "By"};
    /* the attack by tactic, in kill-chain order; then everything else */
    for (int ti = 0; ti <= (int)nt; ti++) {
        int want = ti == (int)nt ? -1 : ti;
        bool any = false;
        for (size_t i = 0; i < x->nevents; i++) {
            const vg_event *e = &x->events[i];
            if (tac[i] != want)
                continue;
            if (!any) {
                char h[160];
                if (want >= 0) {
                    const vg_tactic *t = vg_attack_tactic_at(x->attack, (size_t)want);
                    snprintf(h, sizeof h, "%s (%s)", t->name, t->id);
                } else {
                    snprintf(h, sizeof h, "%s", nt ? "Response and other activity" : "Events");
                }
                heading(w, 3, h);
                table_head(w, want >= 0 ? cols : other_cols, 4);
                any = true;
            }
            char when[40], tech[160];
            const vg_technique *t = x->attack && e->technique && *e->technique
                                        ? vg_attack_get(x->attack, e->technique) : NULL;
            snprintf(tech, sizeof tech, "%s%s%s", e->technique ? e->technique : "",
                     t ? " " : "", t ? t->name : "");
            const char *row[4] = {utc(e->occurred_at, when, sizeof when),
                                  want >= 0 ? tech : vg_enum_name(&VG_EVENT_KIND, e->kind),
                                  e->summary, want >= 0 ? e->source : e->actor};
            table_row(w, row, 4);
        }
        if (any)
            table_end(w);
    }
    if (x->nevents == 0)
        put(w, w->html ? "<p>No events.</p>\n" : "No events.\n\n");
    free(tac);
}

static void artifacts(writer *w, const export_case *x)
{
    heading(w, 2, "Artifacts and IOCs");
    if (x->narts == 0) {
        put(w, w->html ? "<p>No artifacts.</p>\n" : "No artifacts.\n\n");
        return;
    }
    static const char *const cols[] = {"Type", "Value", "IOC", "TLP", "Sightings",
                                       "First seen", "Last seen", "Also on"};
    table_head(w, cols, 8);
    for (int ioc = 1; ioc >= 0; ioc--) /* the IOCs first */
        for (size_t i = 0; i < x->narts; i++) {
            const vg_artifact *a = &x->arts[i];
            if (a->is_ioc != (ioc == 1))
                continue;
            char n[24], f[40], l[40], refs[256];
            snprintf(n, sizeof n, "%lld", (long long)a->sightings);
            vg_refs_format(a->other_refs, false, refs, sizeof refs);
            const char *row[8] = {vg_enum_name(&VG_ARTIFACT_TYPE, a->type), a->value,
                                  a->is_ioc ? "yes" : "no", vg_enum_name(&VG_TLP, a->tlp), n,
                                  utc(a->first_seen, f, sizeof f), utc(a->last_seen, l, sizeof l),
                                  *refs ? refs : "-"};
            table_row(w, row, 8);
        }
    table_end(w);
}

/* The evidence register: what each file is and the hashes that identify it (the
 * report is an export of every item on the case's chain of custody). */
static void evidence(writer *w, const export_case *x)
{
    if (x->nevidence == 0)
        return;
    heading(w, 2, "Evidence");
    static const char *const cols[] = {"Name",  "Type", "Bytes",    "SHA-256",
                                       "SHA-1", "MD5",  "Added by", "Added"};
    table_head(w, cols, 8);
    for (size_t i = 0; i < x->nevidence; i++) {
        const vg_evidence *e = &x->evidence[i];
        char n[24], when[40];
        snprintf(n, sizeof n, "%lld", (long long)e->size);
        const char *row[8] = {e->name, e->type, n,           e->sha256,
                              e->sha1, e->md5,  e->added_by, utc(e->added_at, when, sizeof when)};
        table_row(w, row, 8);
    }
    table_end(w);
}

static void tasks(writer *w, const export_case *x)
{
    size_t done = 0;
    for (size_t i = 0; i < x->ntasks; i++)
        done += x->tasks[i].status == 2 || x->tasks[i].status == 3;
    char h[64];
    snprintf(h, sizeof h, "Tasks (%zu of %zu finished)", done, x->ntasks);
    heading(w, 2, h);
    for (size_t i = 0; i < x->ntasks; i++) {
        const vg_task *t = &x->tasks[i];
        if (i == 0 || t->phase != x->tasks[i - 1].phase) {
            if (i && w->html)
                put(w, "</ul>\n");
            else if (i)
                put(w, "\n");
            heading(w, 3, vg_enum_name(&VG_PHASE, t->phase));
            if (w->html)
                put(w, "<ul>\n");
        }
        bool finished = t->status == 2 || t->status == 3;
        if (w->html)
            putf(w, "<li>%s ", finished ? "&#9745;" : "&#9744;");
        else
            putf(w, "- [%c] ", finished ? 'x' : ' ');
        text(w, t->title);
        char more[640], when[40];
        snprintf(more, sizeof more, " (%s%s%s%s%s)", vg_enum_name(&VG_TASK_STATUS, t->status),
                 t->done_at ? ", " : "", t->done_at ? utc(t->done_at, when, sizeof when) : "",
                 *t->assignee ? ", @" : "", t->assignee);
        text(w, more);
        put(w, w->html ? "</li>\n" : "\n");
    }
    if (x->ntasks && w->html)
        put(w, "</ul>\n");
    else if (x->ntasks)
        put(w, "\n");
}

static void notes(writer *w, const export_case *x)
{
    heading(w, 2, "Notes");
    if (x->nnotes == 0)
        put(w, w->html ? "<p>No notes.</p>\n" : "No notes.\n\n");
    for (size_t i = 0; i < x->nnotes; i++) {
        const vg_note *n = &x->notes[i];
        char h[256], when[40];
        snprintf(h, sizeof h, "%s, %s", utc(n->created_at, when, sizeof when), n->author);
        heading(w, 3, h);
        block(w, n->body);
    }
}

vg_rc export_report(const export_case *x, bool html, vg_buf *out)
{
    writer w = {out, html, VG_OK};
    header(&w, x);
    timeline(&w, x);
    artifacts(&w, x);
    evidence(&w, x);
    tasks(&w, x);
    notes(&w, x);
    char when[40], foot[160];
    snprintf(foot, sizeof foot, "Written by vigil from case #%lld as it stood at %s%s%s.",
             (long long)x->c.ref, utc(x->c.updated_at, when, sizeof when),
             x->attack ? "; ATT&CK " : "", x->attack ? vg_attack_version(x->attack) : "");
    put(&w, html ? "<hr>\n<p><small>" : "---\n\n");
    text(&w, foot);
    put(&w, html ? "</small></p>\n</body>\n</html>\n" : "\n");
    return w.rc;
}
