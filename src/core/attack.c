/*
 * attack.c — the ATT&CK enterprise table, the keyword map from rule text to
 * technique ids, conversion of an official STIX bundle into the table, and the
 * techniques a workspace has seen.
 *
 * The table is small (hundreds to a thousand rows) and read once per process, so
 * it is loaded whole: each file's text is kept and split in place, the structs
 * point into it, techniques are sorted by id for binary search. Keyword matching
 * normalises the text once (lower case, one space between words, a space at each
 * end) and compares normalised keywords, " kw ", at word starts: the surrounding
 * spaces are the word boundaries. Keywords are sorted by their first word, so each
 * word of the text costs one binary search: about 2 microseconds for a rule title
 * (half a million a second), whatever the size of the map.
 */
#include "vigil/attack.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define TABLE_FILE "attack-enterprise.tsv"
#define KEYWORD_FILE "attack-keywords.tsv"
#define MAX_FILE (16u << 20)
#define MAX_MATCH 64

typedef struct keyword {
    char *norm;          /* " word word " */
    size_t len;
    size_t w1;           /* the length of the first word */
    const vg_technique **techs;
    size_t ntechs;
} keyword;

struct vg_attack {
    char *table_text, *keyword_text, *source;
    const char *version;
    vg_tactic tactics[VG_ATTACK_MAX_TACTICS];
    size_t ntactics;
    vg_technique *techs;
    size_t ntechs;
    keyword *kws;
    size_t nkws;
};

void vg_attack_free(vg_attack *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nkws; i++) {
        free(a->kws[i].norm);
        free(a->kws[i].techs);
    }
    free(a->kws);
    free(a->techs);
    free(a->table_text);
    free(a->keyword_text);
    free(a->source);
    free(a);
}

/* Read path whole into a fresh string; VG_ENOTFOUND when it does not exist. */
static vg_rc read_text(const char *path, char **out, vg_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return vg_fail(err, VG_ENOTFOUND, "%s: no such file", path);
        return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    }
    vg_buf b;
    vg_buf_init(&b, MAX_FILE);
    vg_rc rc = vg_buf_read_file(&b, f, path, err);
    fclose(f);
    if (rc != VG_OK)
        return rc;
    *out = b.data ? vg_buf_take(&b) : vg_xstrdup("");
    return VG_OK;
}

/* Split line in place at tabs into at most max fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == '\t') {
            *p = '\0';
            if (n == max)
                return max + 1;
            f[n++] = p + 1;
        }
    return n;
}

/* Next line of *text (split in place, '\r' dropped), NULL at the end. */
static char *next_line(char **text)
{
    char *s = *text;
    if (!*s)
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *text = nl + 1;
    } else {
        *text = s + strlen(s);
    }
    size_t l = strlen(s);
    if (l && s[l - 1] == '\r')
        s[l - 1] = '\0';
    return s;
}

bool vg_attack_id_valid(const char *id)
{
    if (!id || (id[0] != 'T' && id[0] != 't'))
        return false;
    for (int i = 1; i <= 4; i++)
        if (!isdigit((unsigned char)id[i]))
            return false;
    if (id[5] == '\0')
        return true;
    return id[5] == '.' && isdigit((unsigned char)id[6]) && isdigit((unsigned char)id[7]) &&
           isdigit((unsigned char)id[8]) && id[9] == '\0';
}

static int tech_cmp(const void *x, const void *y)
{
    return strcmp(((const vg_technique *)x)->id, ((const vg_technique *)y)->id);
}

static int tactic_index(const vg_attack *a, const char *shortname)
{
    for (size_t i = 0; i < a->ntactics; i++)
        if (strcmp(a->tactics[i].shortname, shortname) == 0)
            return (int)i;
    return -1;
}

/* Parse the table text (owned by a, split in place). what names it in errors. */
static vg_rc parse_table(vg_attack *a, char *text, const char *what, vg_err *err)
{
    size_t cap = 0;
    int lineno = 0;
    char *line, *f[6];
    a->version = "unknown";
    while ((line = next_line(&text))) {
        lineno++;
        if (!*line || *line == '#')
            continue;
        int n = split_tabs(line, f, 5);
        if (strcmp(f[0], "version") == 0 && n == 2 && *f[1]) {
            a->version = f[1];
        } else if (strcmp(f[0], "tactic") == 0 && n == 4) {
            if (a->ntactics == VG_ATTACK_MAX_TACTICS)
                return vg_fail(err, VG_EINVAL, "%s:%d: more than %d tactics", what, lineno,
                               VG_ATTACK_MAX_TACTICS);
            if (strncmp(f[1], "TA", 2) != 0 || !*f[2] || !*f[3] || tactic_index(a, f[2]) >= 0)
                return vg_fail(err, VG_EINVAL, "%s:%d: tactic '%s' is malformed or repeated",
                               what, lineno, f[2]);
            a->tactics[a->ntactics++] = (vg_tactic){f[1], f[2], f[3]};
        } else if (strcmp(f[0], "technique") == 0 && (n == 4 || n == 5)) {
            if (!vg_attack_id_valid(f[1]) || islower((unsigned char)f[1][0]) || !*f[2])
                return vg_fail(err, VG_EINVAL, "%s:%d: '%s' is not a technique id", what,
                               lineno, f[1]);
            const char *parent = n == 5 ? f[4] : "";
            if ((strchr(f[1], '.') != NULL) != (*parent != '\0') ||
                (*parent && strncmp(parent, f[1], 5) != 0))
                return vg_fail(err, VG_EINVAL, "%s:%d: %s: parent '%s' does not fit its id",
                               what, lineno, f[1], parent);
            uint32_t mask = 0;
            for (char *t = f[3], *save = NULL, *w; (w = strtok_r(t, ",", &save)); t = NULL) {
                int ti = tactic_index(a, w);
                if (ti < 0)
                    return vg_fail(err, VG_EINVAL, "%s:%d: %s: unknown tactic '%s'", what,
                                   lineno, f[1], w);
                mask |= 1u << ti;
            }
            if (a->ntechs == cap) {
                cap = cap ? cap * 2 : 256;
                a->techs = vg_xrealloc(a->techs, cap * sizeof *a->techs);
            }
            a->techs[a->ntechs++] = (vg_technique){f[1], f[2], parent, mask};
        } else {
            return vg_fail(err, VG_EINVAL,
                           "%s:%d: expected version, tactic (4 fields) or technique (4 or 5 "
                           "fields), tab-separated",
                           what, lineno);
        }
    }
    if (a->ntechs == 0 || a->ntactics == 0)
        return vg_fail(err, VG_EINVAL, "%s: no tactics or no techniques", what);
    qsort(a->techs, a->ntechs, sizeof *a->techs, tech_cmp);
    for (size_t i = 0; i < a->ntechs; i++) {
        if (i && strcmp(a->techs[i].id, a->techs[i - 1].id) == 0)
            return vg_fail(err, VG_EINVAL, "%s: %s is listed twice", what, a->techs[i].id);
        if (*a->techs[i].parent && !vg_attack_get(a, a->techs[i].parent))
            return vg_fail(err, VG_EINVAL, "%s: %s: parent %s is not in the table", what,
                           a->techs[i].id, a->techs[i].parent);
    }
    return VG_OK;
}

/* " word word " from s: lower-case ASCII, every other byte below 0x80 that is not
 * a letter or digit a separator. The result is fresh; *len its length. */
static char *normalise(const char *s, size_t *len)
{
    size_t n = strlen(s);
    char *out = vg_xmalloc(n + 3), *o = out;
    *o++ = ' ';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p >= 0x80)
            *o++ = (char)tolower(*p);
        else if (o[-1] != ' ')
            *o++ = ' ';
    }
    if (o[-1] != ' ')
        *o++ = ' ';
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
}

/* The first word of s (w1 bytes, after the leading space) against keyword k's. */
static int word_cmp(const char *s, size_t w1, const keyword *k)
{
    int c = memcmp(s, k->norm + 1, w1 < k->w1 ? w1 : k->w1);
    return c ? c : (w1 > k->w1) - (w1 < k->w1);
}

static int kw_cmp(const void *x, const void *y)
{
    const keyword *p = x, *q = y;
    return word_cmp(p->norm + 1, p->w1, q);
}

/* Parse the keyword map. strict: every id must be in the table (the map and the
 * table came together); otherwise ids the table lacks (a user's table of another
 * ATT&CK version) are dropped, and keywords left with none. */
static vg_rc parse_keywords(vg_attack *a, char *text, const char *what, bool strict,
                            vg_err *err)
{
    size_t cap = 0;
    int lineno = 0;
    char *line, *f[3];
    while ((line = next_line(&text))) {
        lineno++;
        if (!*line || *line == '#')
            continue;
        if (split_tabs(line, f, 2) != 2)
            return vg_fail(err, VG_EINVAL, "%s:%d: expected KEYWORD<tab>IDS", what, lineno);
        keyword k = {0};
        k.norm = normalise(f[0], &k.len);
        k.w1 = strcspn(k.norm + 1, " ");
        if (k.len < 3) {
            free(k.norm);
            return vg_fail(err, VG_EINVAL, "%s:%d: empty keyword", what, lineno);
        }
        for (char *t = f[1], *save = NULL, *w; (w = strtok_r(t, ", ", &save)); t = NULL) {
            const vg_technique *tech = vg_attack_get(a, w);
            if (!tech && !strict && vg_attack_id_valid(w))
                continue;
            if (!tech) {
                free(k.norm);
                free(k.techs);
                return vg_fail(err, VG_EINVAL, "%s:%d: '%s' is not in the ATT&CK table", what,
                               lineno, w);
            }
            k.techs = vg_xrealloc(k.techs, (k.ntechs + 1) * sizeof *k.techs);
            k.techs[k.ntechs++] = tech;
        }
        if (!k.ntechs) {
            free(k.norm);
            if (!strict)
                continue;
            return vg_fail(err, VG_EINVAL, "%s:%d: no technique ids", what, lineno);
        }
        if (a->nkws == cap) {
            cap = cap ? cap * 2 : 128;
            a->kws = vg_xrealloc(a->kws, cap * sizeof *a->kws);
        }
        a->kws[a->nkws++] = k;
    }
    qsort(a->kws, a->nkws, sizeof *a->kws, kw_cmp);
    return VG_OK;
}

/* user_dir/name when it exists, else data_dir/name: its text and path, and in
 * *which 0 for the user's directory, 1 for the data directory. */
static vg_rc read_either(const char *user_dir, const char *data_dir, const char *name,
                         char **text, char **path, int *which, vg_err *err)
{
    const char *dirs[2] = {user_dir, data_dir};
    vg_rc rc = VG_ENOTFOUND;
    for (int i = 0; i < 2 && rc == VG_ENOTFOUND; i++) {
        if (!dirs[i])
            continue;
        size_t n = strlen(dirs[i]) + strlen(name) + 2;
        *path = vg_xmalloc(n);
        snprintf(*path, n, "%s/%s", dirs[i], name);
        rc = read_text(*path, text, err);
        *which = i;
        if (rc != VG_OK) {
            free(*path);
            *path = NULL;
        }
    }
    return rc;
}

vg_rc vg_attack_load(const char *user_dir, const char *data_dir, vg_attack **out, vg_err *err)
{
    vg_attack *a = vg_xcalloc(1, sizeof *a);
    char *kw_path = NULL;
    int table_from = 0, kw_from = 0;
    vg_rc rc = read_either(user_dir, data_dir, TABLE_FILE, &a->table_text, &a->source,
                           &table_from, err);
    if (rc == VG_ENOTFOUND)
        rc = vg_fail(err, VG_ENOTFOUND, "no %s in %s%s%s", TABLE_FILE,
                     user_dir ? user_dir : "", user_dir ? " or " : "", data_dir);
    if (rc == VG_OK)
        rc = parse_table(a, a->table_text, a->source, err);
    if (rc == VG_OK) {
        rc = read_either(user_dir, data_dir, KEYWORD_FILE, &a->keyword_text, &kw_path,
                         &kw_from, err);
        if (rc == VG_ENOTFOUND)
            rc = VG_OK;
        else if (rc == VG_OK)
            rc = parse_keywords(a, a->keyword_text, kw_path, kw_from == table_from, err);
    }
    free(kw_path);
    if (rc != VG_OK) {
        vg_attack_free(a);
        return rc;
    }
    *out = a;
    return VG_OK;
}

vg_rc vg_attack_check_tsv(const char *tsv, const char *what, vg_err *err)
{
    vg_attack a = {0};
    char *copy = vg_xstrdup(tsv);
    vg_rc rc = parse_table(&a, copy, what, err);
    free(a.techs);
    free(copy);
    return rc;
}

const char *vg_attack_version(const vg_attack *a) { return a->version; }
const char *vg_attack_source(const vg_attack *a) { return a->source; }
size_t vg_attack_ntactics(const vg_attack *a) { return a->ntactics; }
size_t vg_attack_ntechniques(const vg_attack *a) { return a->ntechs; }

const vg_tactic *vg_attack_tactic_at(const vg_attack *a, size_t i)
{
    return i < a->ntactics ? &a->tactics[i] : NULL;
}

const vg_technique *vg_attack_technique_at(const vg_attack *a, size_t i)
{
    return i < a->ntechs ? &a->techs[i] : NULL;
}

/* Equal ignoring case, with ' ', '-' and '_' alike. */
static bool loose_eq(const char *x, const char *y)
{
    for (;; x++, y++) {
        int cx = tolower((unsigned char)*x), cy = tolower((unsigned char)*y);
        if (cx == '-' || cx == ' ')
            cx = '_';
        if (cy == '-' || cy == ' ')
            cy = '_';
        if (cx != cy)
            return false;
        if (!cx)
            return true;
    }
}

int vg_attack_tactic_find(const vg_attack *a, const char *what)
{
    for (size_t i = 0; what && i < a->ntactics; i++)
        if (strcasecmp(a->tactics[i].id, what) == 0 || loose_eq(a->tactics[i].shortname, what) ||
            loose_eq(a->tactics[i].name, what))
            return (int)i;
    return -1;
}

const vg_technique *vg_attack_get(const vg_attack *a, const char *id)
{
    if (!vg_attack_id_valid(id))
        return NULL;
    char key[16];
    snprintf(key, sizeof key, "%s", id);
    key[0] = 'T';
    vg_technique k = {.id = key};
    return bsearch(&k, a->techs, a->ntechs, sizeof *a->techs, tech_cmp);
}

bool vg_attack_known(const vg_attack *a, const char *id) { return vg_attack_get(a, id) != NULL; }

int vg_attack_primary_tactic(const vg_technique *t)
{
    return t && t->tactics ? __builtin_ctz(t->tactics) : -1;
}

size_t vg_attack_by_tactic(const vg_attack *a, int ti, const vg_technique **out, size_t max)
{
    size_t n = 0;
    if (ti < 0 || (size_t)ti >= a->ntactics)
        return 0;
    for (size_t i = 0; i < a->ntechs; i++)
        if (a->techs[i].tactics & (1u << ti)) {
            if (n < max)
                out[n] = &a->techs[i];
            n++;
        }
    return n;
}

static int ptr_id_cmp(const void *x, const void *y)
{
    return strcmp((*(const vg_technique *const *)x)->id, (*(const vg_technique *const *)y)->id);
}

static void add_match(const vg_technique **set, size_t *n, const vg_technique *t)
{
    for (size_t i = 0; i < *n; i++)
        if (set[i] == t)
            return;
    if (*n < MAX_MATCH)
        set[(*n)++] = t;
}

size_t vg_attack_map_text(const vg_attack *a, const char *text, const char **ids, size_t max)
{
    const vg_technique *set[MAX_MATCH];
    size_t n = 0, len;
    if (!text || !*text)
        return 0;
    char *norm = normalise(text, &len);
    for (size_t at = 0; at + 1 < len; at += strcspn(norm + at + 1, " ") + 1) {
        const char *word = norm + at + 1; /* norm[at] is the space before it */
        size_t wl = strcspn(word, " "), lo = 0, hi = a->nkws;
        while (lo < hi) { /* the first keyword whose first word is not below this one */
            size_t mid = lo + (hi - lo) / 2;
            if (word_cmp(word, wl, &a->kws[mid]) > 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < a->nkws && word_cmp(word, wl, &a->kws[k]) == 0; k++)
            if (a->kws[k].len <= len - at && memcmp(norm + at, a->kws[k].norm, a->kws[k].len) == 0)
                for (size_t j = 0; j < a->kws[k].ntechs; j++)
                    add_match(set, &n, a->kws[k].techs[j]);
    }
    free(norm);
    /* ids written in the text: T1234 or T1234.567 not inside a longer word */
    for (const char *p = text; *p; p++) {
        if ((*p != 'T' && *p != 't') || (p > text && isalnum((unsigned char)p[-1])))
            continue;
        size_t l = 1;
        while (l < 5 && isdigit((unsigned char)p[l]))
            l++;
        if (l != 5)
            continue;
        if (p[5] == '.' && isdigit((unsigned char)p[6]) && isdigit((unsigned char)p[7]) &&
            isdigit((unsigned char)p[8]))
            l = 9;
        if (isalnum((unsigned char)p[l]))
            continue;
        char id[10];
        memcpy(id, p, l);
        id[l] = '\0';
        const vg_technique *t = vg_attack_get(a, id);
        if (t)
            add_match(set, &n, t);
    }
    qsort(set, n, sizeof *set, ptr_id_cmp);
    /* a sub-technique says more than its parent: drop the parent (it sorts just
     * before its sub-techniques) */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!(i + 1 < n && strcmp(set[i + 1]->parent, set[i]->id) == 0))
            set[kept++] = set[i];
    n = kept;
    for (size_t i = 0; i < n && i < max; i++)
        ids[i] = set[i]->id;
    return n;
}

/* ---- the techniques a workspace has seen ---- */

vg_rc vg_attack_seen_list(vg_ws *ws, vg_attack_seen **out, size_t *n, vg_err *err)
{
    /* A workspace holds a handful of distinct technique lists over a million
     * alerts: rows are grouped by their list first and each list is read once (a
     * technique written twice in one list, or in two cases, counts its row once),
     * where reading every row's list and counting distinct ids sorted them all. */
    static const char sql[] =
        "SELECT t, sum(nc), sum(na) FROM ("
        " SELECT DISTINCT g.k, upper(j.value) AS t, g.nc, g.na FROM ("
        "  SELECT 'c' || techniques AS k, techniques AS l, count(*) AS nc, 0 AS na FROM cases"
        "   GROUP BY techniques"
        "  UNION ALL"
        "  SELECT 'a' || techniques, techniques, 0, count(*) FROM alerts GROUP BY techniques) g,"
        "  json_each(CASE WHEN json_valid(g.l) THEN g.l ELSE '[]' END) j"
        "  WHERE j.type = 'text'"
        ") GROUP BY t ORDER BY t";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc != VG_OK)
        return rc;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (!id || strlen(id) >= sizeof (*out)->id)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *out = vg_xrealloc(*out, cap * sizeof **out);
        }
        vg_attack_seen *x = &(*out)[(*n)++];
        snprintf(x->id, sizeof x->id, "%s", id);
        x->cases = sqlite3_column_int64(st, 1);
        x->alerts = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return ws_dberr(ws, err, "techniques seen");
    }
    return VG_OK;
}

/* ---- conversion from an official STIX bundle ---- */

typedef struct stix_tactic {
    const char *stix_id, *ext_id, *shortname, *name;
} stix_tactic;

typedef struct stix_tech {
    char *line; /* the TSV line, without the kind column */
    const char *id;
} stix_tech;

static bool flag(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The mitre-attack external id of an object, or NULL. */
static const char *mitre_id(const cJSON *o)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(o, "external_references"))
    {
        const char *src = str(r, "source_name");
        if (src && strcmp(src, "mitre-attack") == 0)
            return str(r, "external_id");
    }
    return NULL;
}

/* s with tabs, newlines and other controls turned to spaces, appended to b. */
static vg_rc add_clean(vg_buf *b, const char *s)
{
    vg_rc rc = VG_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == VG_OK; p++) {
        char ch = *p < 0x20 || *p == 0x7f ? ' ' : (char)*p;
        rc = vg_buf_add(b, &ch, 1);
    }
    return rc;
}

static int stix_tech_cmp(const void *x, const void *y)
{
    return strcmp(((const stix_tech *)x)->id, ((const stix_tech *)y)->id);
}

/* Order the tactics by the first live matrix's tactic_refs, else by id. */
static void order_tactics(const cJSON *objects, stix_tactic *tac, size_t ntac)
{
    const cJSON *o, *refs = NULL;
    cJSON_ArrayForEach(o, objects)
    {
        const char *type = str(o, "type");
        if (type && strcmp(type, "x-mitre-matrix") == 0 && !flag(o, "revoked") &&
            !flag(o, "x_mitre_deprecated")) {
            refs = cJSON_GetObjectItemCaseSensitive(o, "tactic_refs");
            break;
        }
    }
    size_t placed = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, refs)
    {
        for (size_t i = placed; cJSON_IsString(r) && i < ntac; i++)
            if (strcmp(tac[i].stix_id, r->valuestring) == 0) {
                stix_tactic t = tac[i];
                memmove(&tac[placed + 1], &tac[placed], (i - placed) * sizeof *tac);
                tac[placed++] = t;
                break;
            }
    }
    for (size_t i = placed; i < ntac; i++) /* the rest by id, after the matrix's */
        for (size_t j = i + 1; j < ntac; j++)
            if (strcmp(tac[j].ext_id, tac[i].ext_id) < 0) {
                stix_tactic t = tac[i];
                tac[i] = tac[j];
                tac[j] = t;
            }
}

static vg_rc tactics_of(const cJSON *o, const char *id, const stix_tactic *tac, size_t ntac,
                        vg_buf *b, vg_err *err)
{
    const cJSON *p;
    bool first = true;
    vg_rc rc = VG_OK;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "kill_chain_phases"))
    {
        const char *chain = str(p, "kill_chain_name"), *phase = str(p, "phase_name");
        if (!chain || strcmp(chain, "mitre-attack") != 0)
            continue;
        if (!phase)
            return vg_fail(err, VG_EINVAL, "%s: a kill_chain_phases entry has no phase_name", id);
        for (size_t i = 0; i < ntac; i++)
            if (strcmp(tac[i].shortname, phase) == 0) {
                if (!first)
                    rc = vg_buf_adds(b, ",");
                first = false;
                if (rc == VG_OK)
                    rc = vg_buf_adds(b, phase);
                break;
            }
        if (rc != VG_OK)
            return vg_fail(err, rc, "%s: too many kill-chain phases", id);
    }
    return VG_OK;
}

static vg_rc stix_convert(const cJSON *root, vg_buf *tsv, size_t *ntech, vg_err *err)
{
    const cJSON *objects = cJSON_GetObjectItemCaseSensitive(root, "objects"), *o;
    const char *type = str(root, "type");
    if (!type || strcmp(type, "bundle") != 0 || !cJSON_IsArray(objects))
        return vg_fail(err, VG_EINVAL, "not a STIX bundle (no \"type\": \"bundle\" with objects)");
    stix_tactic tac[VG_ATTACK_MAX_TACTICS];
    size_t ntac = 0, idx = 0;
    const char *version = NULL;
    cJSON_ArrayForEach(o, objects)
    {
        idx++;
        const char *t = str(o, "type");
        if (!t || flag(o, "revoked") || flag(o, "x_mitre_deprecated"))
            continue;
        if (strcmp(t, "x-mitre-collection") == 0 && str(o, "x_mitre_version"))
            version = str(o, "x_mitre_version");
        if (strcmp(t, "x-mitre-tactic") != 0)
            continue;
        stix_tactic x = {str(o, "id"), mitre_id(o), str(o, "x_mitre_shortname"), str(o, "name")};
        if (!x.stix_id || !x.ext_id || !x.shortname || !x.name || strncmp(x.ext_id, "TA", 2) != 0)
            return vg_fail(err, VG_EINVAL,
                           "object %zu (x-mitre-tactic): needs id, name, x_mitre_shortname and a "
                           "mitre-attack external_id TAnnnn", idx);
        if (ntac == VG_ATTACK_MAX_TACTICS)
            return vg_fail(err, VG_EINVAL, "more than %d tactics", VG_ATTACK_MAX_TACTICS);
        tac[ntac++] = x;
    }
    if (!ntac)
        return vg_fail(err, VG_EINVAL, "the bundle has no x-mitre-tactic objects");
    order_tactics(objects, tac, ntac);

    stix_tech *techs = NULL;
    size_t n = 0, cap = 0;
    vg_rc rc = VG_OK;
    idx = 0;
    cJSON_ArrayForEach(o, objects)
    {
        idx++;
        const char *t = str(o, "type");
        if (!t || strcmp(t, "attack-pattern") != 0 || flag(o, "revoked") ||
            flag(o, "x_mitre_deprecated"))
            continue;
        const char *id = mitre_id(o), *name = str(o, "name");
        if (!id) /* a pattern from another catalogue (CAPEC) */
            continue;
        if (!vg_attack_id_valid(id) || id[0] != 'T' || !name) {
            rc = vg_fail(err, VG_EINVAL,
                         "object %zu (attack-pattern %s): needs a name and a mitre-attack "
                         "external_id Tnnnn[.nnn]", idx, id);
            break;
        }
        bool sub = flag(o, "x_mitre_is_subtechnique");
        if (sub != (strchr(id, '.') != NULL)) {
            rc = vg_fail(err, VG_EINVAL, "%s: x_mitre_is_subtechnique does not fit the id", id);
            break;
        }
        vg_buf line;
        vg_buf_init(&line, 4096);
        if (vg_buf_addf(&line, "%s\t", id) != VG_OK || add_clean(&line, name) != VG_OK ||
            vg_buf_adds(&line, "\t") != VG_OK)
            rc = vg_fail(err, VG_EINVAL, "%s: the name is too long", id);
        if (rc == VG_OK)
            rc = tactics_of(o, id, tac, ntac, &line, err);
        if (rc == VG_OK && sub && vg_buf_addf(&line, "\t%.5s", id) != VG_OK)
            rc = vg_fail(err, VG_EINVAL, "%s: the name is too long", id);
        if (rc != VG_OK) {
            vg_buf_free(&line);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 512;
            techs = vg_xrealloc(techs, cap * sizeof *techs);
        }
        techs[n].line = vg_buf_take(&line);
        techs[n].id = id;
        n++;
    }
    if (rc == VG_OK && n == 0)
        rc = vg_fail(err, VG_EINVAL, "the bundle has no live attack-pattern objects");
    if (rc == VG_OK)
        qsort(techs, n, sizeof *techs, stix_tech_cmp);
    /* the version is the bundle's text: cleaned like a name, so a tab or a line
     * break in it cannot add fields or lines to the table */
    if (rc == VG_OK && (vg_buf_adds(tsv, "# vigil ATT&CK enterprise table, converted from a "
                                         "STIX bundle by `vigil attack import`\nversion\t") ||
                        add_clean(tsv, version ? version : "unknown") ||
                        vg_buf_adds(tsv, "\n")))
        rc = vg_fail(err, VG_EINVAL, "the converted table is too large");
    for (size_t i = 0; rc == VG_OK && i < ntac; i++) {
        rc = vg_buf_addf(tsv, "tactic\t%s\t%s\t", tac[i].ext_id, tac[i].shortname);
        if (rc == VG_OK)
            rc = add_clean(tsv, tac[i].name);
        if (rc == VG_OK)
            rc = vg_buf_adds(tsv, "\n");
        if (rc != VG_OK)
            rc = vg_fail(err, VG_EINVAL, "the converted table is too large");
    }
    size_t kept = 0;
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        /* a live sub-technique of a parent that is gone has nowhere to hang */
        const char *dot = strchr(techs[i].id, '.');
        bool orphan = false;
        if (dot) {
            stix_tech key = {.id = NULL};
            char parent[8];
            snprintf(parent, sizeof parent, "%.5s", techs[i].id);
            key.id = parent;
            orphan = !bsearch(&key, techs, n, sizeof *techs, stix_tech_cmp);
        }
        if (i && strcmp(techs[i].id, techs[i - 1].id) == 0)
            rc = vg_fail(err, VG_EINVAL, "%s appears twice among live attack-patterns", techs[i].id);
        else if (!orphan) {
            if (vg_buf_addf(tsv, "technique\t%s\n", techs[i].line) != VG_OK)
                rc = vg_fail(err, VG_EINVAL, "the converted table is too large");
            kept++;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(techs[i].line);
    free(techs);
    *ntech = kept;
    return rc;
}

vg_rc vg_attack_from_stix(const char *json, size_t len, vg_buf *tsv, size_t *ntech, vg_err *err)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return vg_fail(err, VG_EINVAL, "not valid JSON (near byte %td)",
                       cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - json : (ptrdiff_t)0);
    vg_rc rc = stix_convert(root, tsv, ntech, err);
    cJSON_Delete(root);
    return rc;
}
