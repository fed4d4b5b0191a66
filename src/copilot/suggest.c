/*
 * suggest.c — indicators and findings seen in the chat, offered, never written.
 *
 * The IOC extractor (vigil/ioc.h) finds indicators in the analyst's message and in
 * the model's answer, defanged forms included (hxxp://, evil[.]com); those not
 * already on the case become one-key suggestions. A declarative sentence that
 * names an indicator and a time of day ("the attacker used RDP from 203.0.113.7 at
 * 02:14") is offered as a timeline event. A note the analyst asked for ("add a
 * note: ...", cop_note_text) is offered in their words, whatever the model
 * proposed. The frontend writes a suggestion only when the analyst takes it.
 */
#include "copilot.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/ioc.h"
#include "vigil/query.h"

static bool has(const cop_suggestion *s, size_t n, const char *type, const char *value)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s[i].type, type) == 0 && strcmp(s[i].value, value) == 0)
            return true;
    return false;
}

/* An answer can name tens of thousands of indicators (a hostile model's can); an
 * analyst reads a card of a few dozen. Beyond this many suggestions the rest are
 * left out, which also keeps the repeat check below linear in the answer. */
#define SUGGEST_MAX 64

static void add(cop_suggestion **items, size_t *n, const char *type, const char *value,
                bool defanged)
{
    /* the analyst's own note is offered whatever came before it */
    if ((*n >= SUGGEST_MAX && strcmp(type, "note") != 0) || has(*items, *n, type, value))
        return;
    *items = vg_xrealloc(*items, (*n + 1) * sizeof **items);
    cop_suggestion *s = &(*items)[(*n)++];
    memset(s, 0, sizeof *s);
    snprintf(s->type, sizeof s->type, "%s", type);
    s->value = vg_xstrdup(value);
    s->defanged = defanged;
}

/* Sentences: split at newlines and at . ! ? followed by white space (so the dots
 * of an address or a domain do not split). */
static void findings(const char *text, cop_suggestion **items, size_t *n)
{
    static regex_t clock;
    static bool ready;
    if (!ready) {
        if (regcomp(&clock, "(^|[^0-9:])([01]?[0-9]|2[0-3]):[0-5][0-9]([^0-9]|$)",
                    REG_EXTENDED | REG_NOSUB))
            abort();
        ready = true;
    }
    const char *p = text;
    while (*p) {
        size_t len = 0;
        while (p[len] && p[len] != '\n' &&
               !((p[len] == '.' || p[len] == '!' || p[len] == '?') &&
                 (p[len + 1] == ' ' || p[len + 1] == '\n' || !p[len + 1])))
            len++;
        bool question = p[len] == '?';
        char *sentence = vg_xstrndup(p, len);
        if (!question && len >= 12 && regexec(&clock, sentence, 0, NULL, 0) == 0) {
            vg_ioc_list l = {0};
            vg_ioc_extract(sentence, len, &l);
            bool net = false;
            for (size_t i = 0; i < l.n; i++)
                net |= l.items[i].kind != VG_IOC_PATH && l.items[i].kind != VG_IOC_REGISTRY;
            vg_ioc_list_free(&l);
            if (net) {
                char *s = cop_clean(sentence, 300, false);
                /* markdown list marks and emphasis are not part of the finding */
                const char *start = s + strspn(s, " -*#>");
                if (*start)
                    add(items, n, "event", start, false);
                free(s);
            }
        }
        free(sentence);
        p += len;
        if (*p)
            p++;
    }
}

static int art_cmp(const void *a, const void *b)
{
    const vg_artifact *x = a, *y = b;
    return x->type != y->type ? (x->type < y->type ? -1 : 1) : strcmp(x->value, y->value);
}

vg_rc cop_suggest(vg_ws *ws, const char *case_id, const char *text, cop_suggestion **items,
                  size_t *n, vg_err *err)
{
    if (!text || !*text)
        return VG_OK;
    vg_artifact *arts = NULL;
    size_t na = 0;
    vg_rc rc = vg_artifacts_of_case(ws, case_id, &arts, &na, err);
    if (rc)
        return rc;
    /* the case's artifacts sorted, so that each indicator is looked up, not
     * compared with every artifact */
    qsort(arts, na, sizeof *arts, art_cmp);
    vg_ioc_list l = {0};
    vg_ioc_extract(text, strlen(text), &l);
    for (size_t i = 0; i < l.n && *n < SUGGEST_MAX; i++) {
        vg_artifact key = {.type = vg_enum_parse(&VG_ARTIFACT_TYPE, vg_ioc_type(l.items[i].kind)),
                           .value = l.items[i].value};
        if (!bsearch(&key, arts, na, sizeof *arts, art_cmp))
            add(items, n, vg_ioc_type(l.items[i].kind), l.items[i].value,
                l.items[i].flags & VG_IOC_DEFANGED);
    }
    vg_ioc_list_free(&l);
    vg_artifacts_free(arts, na);
    findings(text, items, n);
    return VG_OK;
}

void cop_suggest_note(const char *note, cop_suggestion **items, size_t *n)
{
    if (!note || !*note || cop_note_placeholder(note))
        return;
    /* cleaned as an add_note proposal's text is (cop_params_check) */
    char *text = cop_clean(note, 1 << 16, true);
    if (*text)
        add(items, n, "note", text, false);
    free(text);
}

void cop_suggestions_free(cop_suggestion *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i].value);
    free(s);
}
