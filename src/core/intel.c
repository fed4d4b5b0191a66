/*
 * intel.c — the intel store and matching against it (contract in intel.h).
 *
 * The store is its own SQLite file (application id "VGIN", WAL mode, 0600), never a
 * workspace's: intel is reference data an analyst carries between cases, and no op
 * log, replay or sync should ever see a million feed rows. Two tables: feeds (one row
 * a named import) and indicators (one row a value of a feed, or an item vigil cannot
 * match, kept with what the feed said). The index (type, value, feed) is the whole
 * matching cost: a value is one seek, whatever the store holds.
 *
 * Writing goes through vg_intel (its own connection): an import replaces each feed it
 * names inside one IMMEDIATE transaction, streaming the parser's records into it, so a
 * failure anywhere rolls back to the store as it was. Reading goes through the
 * workspace: vg_ws_attach_intel ATTACHes the file read-only (a URI with mode=ro), so
 * a workspace's batches take only a read snapshot of it and an import in another
 * process never waits for them (WAL: readers and the writer do not block each other).
 * The attached schema is checked against the one this file makes before any read
 * trusts it, as store.c checks a workspace's.
 */
#include "internal.h"
#include "vigil/intel.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vigil/json.h"
#include "vigil/model.h"
#include "vigil/text.h"

/* The store's schema (VG_INTEL_SCHEMA_VERSION 1). Type and value are NULL for what
 * cannot be matched, so the unique index keeps one row per value and feed while
 * every unmatchable item stays (SQLite's unique indexes treat NULLs as distinct). */
static const char INTEL_SCHEMA[] =
    "CREATE TABLE feeds("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, format TEXT NOT NULL,"
    " source TEXT NOT NULL, imported_at INTEGER NOT NULL, hash TEXT NOT NULL,"
    " count INTEGER NOT NULL, matchable INTEGER NOT NULL, tlp TEXT);"
    "CREATE TABLE indicators("
    " id INTEGER PRIMARY KEY, feed INTEGER NOT NULL REFERENCES feeds(id),"
    " type TEXT, value TEXT, tlp TEXT, confidence INTEGER, valid_from INTEGER,"
    " valid_until INTEGER, ref TEXT, description TEXT, matchable INTEGER NOT NULL,"
    " pattern TEXT, why TEXT);"
    "CREATE UNIQUE INDEX indicators_value ON indicators(type, value, feed);"
    "CREATE INDEX indicators_feed ON indicators(feed, valid_until);";

/* Unexpired at ?N: the one definition every read below uses. */
#define UNEXPIRED(I, N) " (" I ".valid_until IS NULL OR " I ".valid_until > " N ")"

struct vg_intel {
    sqlite3 *db;
    char *path;
};

static vg_rc db_fail(sqlite3 *db, vg_err *err, const char *what)
{
    return vg_fail(err, VG_EDB, "%s: %s", what, sqlite3_errmsg(db));
}

static vg_rc exec(sqlite3 *db, const char *sql, vg_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return VG_OK;
    vg_rc rc = vg_fail(err, VG_EDB, "intel store: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return rc;
}

static int64_t now_or(int64_t ms)
{
    return ms > 0 ? ms : vg_now_ms();
}

/* One integer of a pragma or query (0 when it returns none). */
static int64_t one_int(sqlite3 *db, const char *sql, int *rc)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    *rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (*rc == SQLITE_OK) {
        *rc = sqlite3_step(st);
        if (*rc == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
            *rc = SQLITE_OK;
        } else if (*rc == SQLITE_DONE) {
            *rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return v;
}

/* ---- the schema a store must hold ------------------------------------------------ */

static char **known_rows;
static size_t nknown;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "type name sql" of every object of schema (main or intel) of db, sorted; fresh. */
static char **schema_rows(sqlite3 *db, const char *schema, size_t *n)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT type, name, coalesce(sql, '') FROM %s.sqlite_master", schema);
    sqlite3_stmt *st = NULL;
    char **rows = NULL;
    size_t cap = 0;
    *n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap)
            rows = vg_xrealloc(rows, (cap = cap ? cap * 2 : 8) * sizeof *rows);
        size_t len = (size_t)sqlite3_column_bytes(st, 0) + (size_t)sqlite3_column_bytes(st, 1) +
                     (size_t)sqlite3_column_bytes(st, 2) + 3;
        rows[*n] = vg_xmalloc(len);
        snprintf(rows[(*n)++], len, "%s %s %s", (const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 1),
                 (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (*n)
        qsort(rows, *n, sizeof *rows, cmp_str);
    return rows;
}

static void rows_free(char **rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i]);
    free(rows);
}

static void build_known(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) == SQLITE_OK &&
        sqlite3_exec(db, INTEL_SCHEMA, NULL, NULL, NULL) == SQLITE_OK)
        known_rows = schema_rows(db, "main", &nknown);
    sqlite3_close(db);
}

/* Whether schema of db holds exactly the objects this file makes. */
static bool schema_ok(sqlite3 *db, const char *schema)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_known);
    size_t n = 0;
    char **rows = schema_rows(db, schema, &n);
    bool ok = nknown && n == nknown;
    for (size_t i = 0; ok && i < n; i++)
        ok = strcmp(rows[i], known_rows[i]) == 0;
    rows_free(rows, n);
    return ok;
}

/* Check the identity and version of schema in db (a store at path). */
static vg_rc check_store(sqlite3 *db, const char *schema, const char *path, bool *fresh,
                         vg_err *err)
{
    char sql[96];
    int rc;
    snprintf(sql, sizeof sql, "PRAGMA %s.application_id", schema);
    int64_t app = one_int(db, sql, &rc);
    if (rc == SQLITE_NOTADB)
        return vg_fail(err, VG_ENOTVIGIL, "%s is not a vigil intel store (not an SQLite database)",
                       path);
    if (rc != SQLITE_OK)
        return db_fail(db, err, path);
    snprintf(sql, sizeof sql, "PRAGMA %s.user_version", schema);
    int64_t version = one_int(db, sql, &rc);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.sqlite_master", schema);
    int64_t objects = one_int(db, sql, &rc);
    *fresh = app == 0 && version == 0 && objects == 0;
    if (*fresh)
        return VG_OK;
    if (app != VG_INTEL_APPLICATION_ID)
        return vg_fail(err, VG_ENOTVIGIL, "%s is not a vigil intel store (%s)", path,
                       app == VG_APPLICATION_ID ? "it is a workspace"
                                                : "an SQLite database of another application");
    if (version > VG_INTEL_SCHEMA_VERSION)
        return vg_fail(err, VG_ENEWER,
                       "%s was written by a newer vigil (intel schema %lld; this vigil knows %d)",
                       path, (long long)version, VG_INTEL_SCHEMA_VERSION);
    if (!schema_ok(db, schema))
        return vg_fail(err, VG_ECORRUPT,
                       "%s holds schema objects vigil did not make: it was changed outside vigil;"
                       " remove it and import the feeds again",
                       path);
    return VG_OK;
}

/* ---- opening ---------------------------------------------------------------------- */

void vg_intel_close(vg_intel *in)
{
    if (!in)
        return;
    sqlite3_close(in->db);
    free(in->path);
    free(in);
}

vg_rc vg_intel_open(const char *path, bool create, vg_intel **out, vg_err *err)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        if (!create)
            return vg_fail(err, VG_ENOTFOUND, "no intel store at %s", path);
        /* made 0600 here: SQLite would give it 0644 less the umask */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    } else if (!S_ISREG(sb.st_mode)) {
        return vg_fail(err, VG_ENOTVIGIL, "%s is not a vigil intel store (not a file)", path);
    }
    vg_intel *in = vg_xcalloc(1, sizeof *in);
    in->path = vg_xstrdup(path);
    vg_rc rc = VG_OK;
    bool fresh = false;
    if (sqlite3_open_v2(path, &in->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, in->db ? sqlite3_errmsg(in->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(in->db, 5000);
    if ((rc = check_store(in->db, "main", path, &fresh, err)))
        goto fail;
    if (fresh && !create) {
        rc = vg_fail(err, VG_ENOTFOUND, "no intel store at %s (an empty file)", path);
        goto fail;
    }
    if ((rc = exec(in->db,
                   "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                   " PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;"
                   " PRAGMA temp_store = MEMORY",
                   err)))
        goto fail;
    if (fresh) {
        char ver[160];
        snprintf(ver, sizeof ver, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                 VG_INTEL_APPLICATION_ID, VG_INTEL_SCHEMA_VERSION);
        if ((rc = exec(in->db, "BEGIN IMMEDIATE", err)))
            goto fail;
        /* another process may have made it since the check */
        int q;
        if (one_int(in->db, "SELECT count(*) FROM sqlite_master", &q) == 0 &&
            ((rc = exec(in->db, INTEL_SCHEMA, err)) || (rc = exec(in->db, ver, err)))) {
            sqlite3_exec(in->db, "ROLLBACK", NULL, NULL, NULL);
            goto fail;
        }
        if ((rc = exec(in->db, "COMMIT", err)))
            goto fail;
    }
    *out = in;
    return VG_OK;
fail:
    vg_intel_close(in);
    return rc;
}

bool vg_intel_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 64 ||
        !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
          (name[0] >= '0' && name[0] <= '9')))
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") == n;
}

/* ---- importing -------------------------------------------------------------------- */

/* The feed a file makes when the import names none: its name without the extension,
 * or a manifest.json's directory's; anything but name characters becomes '-'. */
static void default_name(const char *path, char *out, size_t outsz)
{
    char *copy = vg_xstrdup(path);
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    char *base = strrchr(copy, '/');
    base = base ? base + 1 : copy;
    if (strcmp(base, "manifest.json") == 0) {
        if (base > copy) {
            base[-1] = '\0';
            char *dir = strrchr(copy, '/');
            base = dir ? dir + 1 : copy;
        } else {
            base = "misp-feed";
        }
    } else {
        char *dot = strrchr(base, '.');
        if (dot && dot > base)
            *dot = '\0';
    }
    size_t k = 0;
    for (const char *p = base; *p && k + 1 < outsz && k < 64; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  ((c == '.' || c == '_' || c == '+' || c == '-') && k > 0);
        out[k++] = ok ? c : '-';
    }
    out[k] = '\0';
    if (!k || !vg_intel_name_ok(out))
        snprintf(out, outsz, "%s", "feed");
    free(copy);
}

/* Read path whole (a regular file of at most cap bytes) into *text (fresh). */
static vg_rc read_file(const char *path, int64_t cap, char **text, size_t *len, vg_err *err)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    struct stat sb;
    vg_rc rc = VG_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        rc = vg_fail(err, VG_EIO, "%s: not a regular file", path);
    else if (sb.st_size > cap)
        rc = vg_fail(err, VG_EINVAL,
                     "%s: %lld bytes, more than the %lld a feed file may have (the cap; [intel]"
                     " max_file_size in vigil.conf(5))",
                     path, (long long)sb.st_size, (long long)cap);
    if (rc) {
        close(fd);
        return rc;
    }
    char *buf = vg_xmalloc((size_t)sb.st_size + 1);
    size_t got = 0;
    for (;;) {
        if (got == (size_t)sb.st_size) /* a file growing while read stops at its size */
            break;
        ssize_t k = read(fd, buf + got, (size_t)sb.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return VG_OK;
}

typedef struct importer {
    vg_intel *in;
    const vg_intel_import_opts *o;
    sqlite3_stmt *ins;
    int64_t feed;
    int tlp; /* the import's, -1 */
} importer;

static vg_rc put_rec(void *ud, const vg_intel_rec *r, vg_err *err)
{
    importer *im = ud;
    sqlite3_stmt *st = im->ins;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    int tlp = r->tlp > im->tlp ? r->tlp : im->tlp;
    sqlite3_bind_int64(st, 1, im->feed);
    if (r->type >= 0 && r->value) {
        sqlite3_bind_text(st, 2, vg_enum_name(&VG_ARTIFACT_TYPE, r->type), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->value, -1, SQLITE_STATIC);
    }
    if (tlp >= 0)
        sqlite3_bind_text(st, 4, vg_enum_name(&VG_TLP, tlp), -1, SQLITE_STATIC);
    if (r->confidence >= 0)
        sqlite3_bind_int(st, 5, r->confidence);
    if (r->valid_from)
        sqlite3_bind_int64(st, 6, r->valid_from);
    if (r->valid_until)
        sqlite3_bind_int64(st, 7, r->valid_until);
    if (r->ref && *r->ref)
        sqlite3_bind_text(st, 8, r->ref, -1, SQLITE_STATIC);
    if (r->description && *r->description) {
        /* a line's worth, cut between characters: it is shown beside a value */
        size_t dl = strnlen(r->description, 1024);
        while (dl && dl < strlen(r->description) &&
               ((unsigned char)r->description[dl] & 0xc0) == 0x80)
            dl--;
        sqlite3_bind_text(st, 9, r->description, (int)dl, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 10, r->type >= 0 && r->value);
    if (r->type < 0 || !r->value) {
        sqlite3_bind_text(st, 11, r->pattern ? r->pattern : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 12, r->why ? r->why : "", -1, SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        return db_fail(im->in->db, err, "storing an indicator");
    return VG_OK;
}

/* The feeds of one import: which paths go into which name. */
typedef struct group {
    char name[72];
    size_t *paths;
    size_t n;
} group;

static vg_rc group_paths(const char *const *paths, size_t n, const char *name, group **out,
                         size_t *ngroups, vg_err *err)
{
    group *g = vg_xcalloc(n ? n : 1, sizeof *g);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char nm[72];
        if (name)
            snprintf(nm, sizeof nm, "%s", name);
        else
            default_name(paths[i], nm, sizeof nm);
        size_t j = 0;
        while (j < k && strcmp(g[j].name, nm) != 0)
            j++;
        if (j < k && !name) {
            char a[160], b[160];
            vg_text_safe(paths[g[j].paths[0]], strlen(paths[g[j].paths[0]]), 0, a, sizeof a);
            vg_text_safe(paths[i], strlen(paths[i]), 0, b, sizeof b);
            for (size_t x = 0; x < k; x++)
                free(g[x].paths);
            free(g);
            return vg_fail(err, VG_EINVAL,
                           "%s and %s would both be the feed '%s': give --name to make them one"
                           " feed, or import them apart",
                           a, b, nm);
        }
        if (j == k)
            snprintf(g[k++].name, sizeof g[0].name, "%s", nm);
        g[j].paths = vg_xrealloc(g[j].paths, (g[j].n + 1) * sizeof *g[j].paths);
        g[j].paths[g[j].n++] = i;
    }
    *out = g;
    *ngroups = k;
    return VG_OK;
}

/* Replace the feed of group g with what its files hold, inside the open transaction. */
static vg_rc import_group(importer *im, const char *const *paths, const group *g,
                          int64_t *items_left, vg_intel_feed_report *rep, vg_err *err)
{
    sqlite3 *db = im->in->db;
    const vg_intel_import_opts *o = im->o;
    int64_t now = now_or(o->now_ms);
    sqlite3_stmt *st = NULL;
    vg_rc rc = VG_OK;
    rep->name = vg_xstrdup(g->name);
    rep->replaced = -1;
    /* the feed as it was: its indicators go first */
    if (sqlite3_prepare_v2(db, "SELECT id, count FROM feeds WHERE name = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(db, err, "reading the feeds");
    sqlite3_bind_text(st, 1, g->name, -1, SQLITE_TRANSIENT);
    int64_t old = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        old = sqlite3_column_int64(st, 0);
        rep->replaced = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (old) {
        if (sqlite3_prepare_v2(db, "DELETE FROM indicators WHERE feed = ?1", -1, &st, NULL) !=
            SQLITE_OK)
            return db_fail(db, err, "replacing a feed");
        sqlite3_bind_int64(st, 1, old);
        int s = sqlite3_step(st);
        sqlite3_finalize(st);
        if (s != SQLITE_DONE ||
            sqlite3_prepare_v2(db, "DELETE FROM feeds WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
            return db_fail(db, err, "replacing a feed");
        sqlite3_bind_int64(st, 1, old);
        s = sqlite3_step(st);
        sqlite3_finalize(st);
        if (s != SQLITE_DONE)
            return db_fail(db, err, "replacing a feed");
    }
    vg_buf source;
    vg_buf_init(&source, 1 << 20);
    for (size_t i = 0; i < g->n; i++)
        if (vg_buf_addf(&source, "%s%s", i ? " " : "", paths[g->paths[i]]))
            break;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO feeds(name, format, source, imported_at, hash, count,"
                           " matchable, tlp) VALUES (?1, '', ?2, ?3, '', 0, 0, ?4)",
                           -1, &st, NULL) != SQLITE_OK) {
        vg_buf_free(&source);
        return db_fail(db, err, "writing a feed");
    }
    sqlite3_bind_text(st, 1, g->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, vg_buf_str(&source), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    if (o->tlp >= 0)
        sqlite3_bind_text(st, 4, vg_enum_name(&VG_TLP, o->tlp), -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    vg_buf_free(&source);
    if (s != SQLITE_DONE)
        return db_fail(db, err, "writing a feed");
    im->feed = sqlite3_last_insert_rowid(db);

    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    char formats[64] = "";
    for (size_t i = 0; rc == VG_OK && i < g->n; i++) {
        const char *path = paths[g->paths[i]];
        char *text = NULL;
        size_t len = 0;
        if ((rc = read_file(path, o->max_bytes > 0 ? o->max_bytes : VG_INTEL_MAX_BYTES, &text, &len,
                            err)))
            break;
        crypto_generichash_update(&h, (const unsigned char *)text, len);
        char *dir = vg_xstrdup(path), *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        vg_intel_parse_opts po = {.where = path,
                                  .format = o->format,
                                  .max_items = *items_left,
                                  .max_bytes = o->max_bytes,
                                  .dir = slash ? dir : ".",
                                  .note = o->note,
                                  .ud = o->ud};
        vg_intel_counts c;
        rc = vg_intel_parse(text, len, &po, put_rec, im, &c, err);
        free(dir);
        free(text);
        *items_left -= c.emitted;
        rep->skipped += c.skipped;
        const char *f = VG_INTEL_FORMATS[c.format];
        if (!strstr(formats, f)) {
            size_t l = strlen(formats);
            snprintf(formats + l, sizeof formats - l, "%s%s", l ? "+" : "", f);
        }
    }
    if (rc)
        return rc;
    unsigned char digest[32];
    char hex[65];
    crypto_generichash_final(&h, digest, sizeof digest);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    if (sqlite3_prepare_v2(db,
                           "UPDATE feeds SET format = ?2, hash = ?3,"
                           " count = (SELECT count(*) FROM indicators WHERE feed = ?1),"
                           " matchable = (SELECT count(*) FROM indicators WHERE feed = ?1 AND"
                           "  matchable) WHERE id = ?1 RETURNING count, matchable,"
                           " (SELECT count(*) FROM indicators WHERE feed = ?1 AND"
                           "  valid_until <= ?4)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "writing a feed");
    sqlite3_bind_int64(st, 1, im->feed);
    sqlite3_bind_text(st, 2, formats, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, now);
    if (sqlite3_step(st) == SQLITE_ROW) {
        rep->indicators = sqlite3_column_int64(st, 0);
        rep->matchable = sqlite3_column_int64(st, 1);
        rep->expired = sqlite3_column_int64(st, 2);
        rep->format = "mixed";
        for (int k = 0; k < VG_INTEL__NFORMATS; k++)
            if (strcmp(formats, VG_INTEL_FORMATS[k]) == 0)
                rep->format = VG_INTEL_FORMATS[k];
        rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : db_fail(db, err, "writing a feed");
    } else {
        rc = db_fail(db, err, "writing a feed");
    }
    sqlite3_finalize(st);
    return rc;
}

void vg_intel_report_free(vg_intel_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->feeds[i].name);
    free(r->feeds);
    memset(r, 0, sizeof *r);
}

vg_rc vg_intel_import(vg_intel *in, const char *const *paths, size_t n,
                      const vg_intel_import_opts *o, vg_intel_report *rep, vg_err *err)
{
    memset(rep, 0, sizeof *rep);
    if (!n)
        return vg_fail(err, VG_EINVAL, "no feed file to import");
    if (o->name && !vg_intel_name_ok(o->name))
        return vg_fail(err, VG_EINVAL,
                       "--name: '%.80s' is not a feed name (1 to 64 letters, digits and . _ + -,"
                       " starting with a letter or digit)",
                       o->name);
    group *g = NULL;
    size_t ng = 0;
    vg_rc rc = group_paths(paths, n, o->name, &g, &ng, err);
    if (rc)
        return rc;
    importer im = {.in = in, .o = o, .tlp = o->tlp};
    int64_t left = o->max_items > 0 ? o->max_items : VG_INTEL_MAX_ITEMS;
    rep->feeds = vg_xcalloc(ng, sizeof *rep->feeds);
    rep->n = ng;
    /* Re-importing a feed twice a day keeps the file small: freed pages are reused. */
    if (sqlite3_prepare_v3(in->db,
                           "INSERT INTO indicators(feed, type, value, tlp, confidence, valid_from,"
                           " valid_until, ref, description, matchable, pattern, why)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                           " ON CONFLICT(type, value, feed) DO UPDATE SET"
                           "  valid_until = CASE WHEN valid_until IS NULL OR"
                           "   excluded.valid_until IS NULL THEN NULL"
                           "   ELSE max(valid_until, excluded.valid_until) END,"
                           "  valid_from = min(coalesce(valid_from, excluded.valid_from),"
                           "   coalesce(excluded.valid_from, valid_from))",
                           -1, SQLITE_PREPARE_PERSISTENT, &im.ins, NULL) != SQLITE_OK) {
        rc = db_fail(in->db, err, "preparing the import");
        goto out;
    }
    if ((rc = exec(in->db, "BEGIN IMMEDIATE", err)))
        goto out;
    for (size_t i = 0; rc == VG_OK && i < ng; i++)
        rc = import_group(&im, paths, &g[i], &left, &rep->feeds[i], err);
    if (rc == VG_OK)
        rc = exec(in->db, "COMMIT", err);
    if (rc)
        sqlite3_exec(in->db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_finalize(im.ins);
    for (size_t i = 0; i < ng; i++)
        free(g[i].paths);
    free(g);
    if (rc)
        vg_intel_report_free(rep);
    return rc;
}

/* ---- feeds, removal, stats -------------------------------------------------------- */

void vg_intel_feeds_free(vg_intel_feed *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].name);
        free(f[i].format);
        free(f[i].source);
        free(f[i].hash);
    }
    free(f);
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return vg_xstrdup(s ? (const char *)s : "");
}

vg_rc vg_intel_feeds(vg_intel *in, int64_t now_ms, vg_intel_feed **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(in->db,
                           "SELECT id, name, format, source, hash, tlp, imported_at, count,"
                           " matchable, (SELECT count(*) FROM indicators i WHERE i.feed = f.id"
                           "  AND i.valid_until <= ?1) FROM feeds f ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(in->db, err, "listing the feeds");
    sqlite3_bind_int64(st, 1, now_or(now_ms));
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap)
            *items = vg_xrealloc(*items, (cap = cap ? cap * 2 : 8) * sizeof **items);
        vg_intel_feed *f = &(*items)[(*n)++];
        f->id = sqlite3_column_int64(st, 0);
        f->name = dup_col(st, 1);
        f->format = dup_col(st, 2);
        f->source = dup_col(st, 3);
        f->hash = dup_col(st, 4);
        f->tlp = vg_enum_parse(&VG_TLP, (const char *)sqlite3_column_text(st, 5));
        f->imported_at = sqlite3_column_int64(st, 6);
        f->indicators = sqlite3_column_int64(st, 7);
        f->matchable = sqlite3_column_int64(st, 8);
        f->expired = sqlite3_column_int64(st, 9);
    }
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        vg_intel_feeds_free(*items, *n);
        *items = NULL;
        *n = 0;
        return db_fail(in->db, err, "listing the feeds");
    }
    return VG_OK;
}

vg_rc vg_intel_remove(vg_intel *in, const char *name, int64_t *removed, vg_err *err)
{
    *removed = 0;
    vg_rc rc = exec(in->db, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    int64_t id = 0;
    if (sqlite3_prepare_v2(in->db, "SELECT id, count FROM feeds WHERE name = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            id = sqlite3_column_int64(st, 0);
            *removed = sqlite3_column_int64(st, 1);
        }
    }
    sqlite3_finalize(st);
    if (!id) {
        sqlite3_exec(in->db, "ROLLBACK", NULL, NULL, NULL);
        char safe[160];
        vg_text_safe(name, strlen(name), 0, safe, sizeof safe);
        return vg_fail(err, VG_ENOTFOUND, "no feed named '%s' (vigil intel ls lists them)", safe);
    }
    static const char *const sql[2] = {"DELETE FROM indicators WHERE feed = ?1",
                                       "DELETE FROM feeds WHERE id = ?1"};
    for (int k = 0; k < 2 && rc == VG_OK; k++) {
        if (sqlite3_prepare_v2(in->db, sql[k], -1, &st, NULL) != SQLITE_OK) {
            rc = db_fail(in->db, err, "removing a feed");
            break;
        }
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(in->db, err, "removing a feed");
        sqlite3_finalize(st);
    }
    if (rc == VG_OK)
        rc = exec(in->db, "COMMIT", err);
    if (rc)
        sqlite3_exec(in->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

vg_rc vg_intel_stats_get(vg_intel *in, int64_t now_ms, vg_intel_stats *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    int64_t now = now_or(now_ms);
    if (sqlite3_prepare_v2(in->db,
                           "SELECT (SELECT count(*) FROM feeds), count(*), coalesce(sum(matchable),"
                           " 0), coalesce(sum(valid_until <= ?1), 0) FROM indicators",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(in->db, err, "counting the intel");
    sqlite3_bind_int64(st, 1, now);
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->feeds = sqlite3_column_int64(st, 0);
        out->indicators = sqlite3_column_int64(st, 1);
        out->matchable = sqlite3_column_int64(st, 2);
        out->expired = sqlite3_column_int64(st, 3);
        out->unmatchable = out->indicators - out->matchable;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(
            in->db,
            "SELECT type, count(*) FROM indicators i WHERE type IS NOT NULL AND" UNEXPIRED(
                "i", "?1") " GROUP BY type",
            -1, &st, NULL) != SQLITE_OK)
        return db_fail(in->db, err, "counting the intel");
    sqlite3_bind_int64(st, 1, now);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int t = vg_enum_parse(&VG_ARTIFACT_TYPE, (const char *)sqlite3_column_text(st, 0));
        if (t >= 0 && t < (int)(sizeof out->by_type / sizeof *out->by_type))
            out->by_type[t] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (s != SQLITE_DONE)
        return db_fail(in->db, err, "counting the intel");
    int q;
    out->bytes = one_int(in->db, "PRAGMA page_count", &q) * one_int(in->db, "PRAGMA page_size", &q);
    return VG_OK;
}

/* ---- attaching to a workspace --------------------------------------------------------- */

bool vg_ws_has_intel(const vg_ws *ws)
{
    return ws->intel;
}

/* path as a read-only SQLite URI: "file:" + the path, percent-encoded where a URI
 * would read it otherwise, + "?mode=ro". Fresh. */
static char *ro_uri(const char *path)
{
    vg_buf b;
    vg_buf_init(&b, 3 * strlen(path) + 32);
    vg_rc rc = vg_buf_adds(&b, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p && rc == VG_OK; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/._-~", *p))
            rc = vg_buf_add(&b, p, 1);
        else
            rc = vg_buf_addf(&b, "%%%02X", *p);
    }
    if (rc == VG_OK)
        rc = vg_buf_adds(&b, "?mode=ro");
    return vg_buf_take(&b); /* three times the path fits: the cap above */
}

vg_rc vg_ws_attach_intel(vg_ws *ws, const char *path, vg_err *err)
{
    if (ws->in_batch || !sqlite3_get_autocommit(ws->db))
        return vg_fail(err, VG_EINVAL, "the intel store cannot be attached inside a batch");
    if (ws->intel) {
        sqlite3_exec(ws->db, "DETACH intel", NULL, NULL, NULL);
        ws->intel = false;
    }
    struct stat sb;
    if (!path || !*path)
        return VG_OK; /* no intel */
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? VG_OK : vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return vg_fail(err, VG_ENOTVIGIL, "%s is not a vigil intel store (not a file)", path);
    if (sb.st_size == 0)
        return VG_OK; /* made, never written: no intel yet */
    char *uri = ro_uri(path);
    sqlite3_stmt *st = NULL;
    vg_rc rc = VG_OK;
    if (sqlite3_prepare_v2(ws->db, "ATTACH ?1 AS intel", -1, &st, NULL) != SQLITE_OK) {
        rc = ws_dberr(ws, err, "attaching the intel store");
    } else {
        sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = vg_fail(err, VG_EIO, "%s: %s", path, sqlite3_errmsg(ws->db));
    }
    sqlite3_finalize(st);
    free(uri);
    if (rc)
        return rc;
    bool fresh = false;
    rc = check_store(ws->db, "intel", path, &fresh, err);
    if (rc || fresh) {
        sqlite3_exec(ws->db, "DETACH intel", NULL, NULL, NULL);
        return rc;
    }
    ws->intel = true;
    return VG_OK;
}

vg_rc vg_intel_feed_id(vg_ws *ws, const char *name, int64_t *id, vg_err *err)
{
    *id = 0;
    char safe[160];
    vg_text_safe(name, strlen(name), 0, safe, sizeof safe);
    if (!ws->intel)
        return vg_fail(err, VG_ENOTFOUND,
                       "intel:%s: no feed of that name (no intel is loaded:"
                       " vigil intel import FILE)",
                       safe);
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, "SELECT id FROM intel.feeds WHERE name = ?1", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (!*id)
        return vg_fail(err, VG_ENOTFOUND,
                       "intel:%s: no feed of that name (vigil intel ls lists"
                       " them)",
                       safe);
    return VG_OK;
}

/* ---- matching ------------------------------------------------------------------------- */

void vg_intel_matches_free(vg_intel_match *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].feed);
        free(m[i].ref);
        free(m[i].description);
    }
    free(m);
}

vg_rc vg_intel_lookup(vg_ws *ws, int type, const char *value, int64_t now_ms,
                      vg_intel_match **items, size_t *n, vg_err *err)
{
    static const char sql[] =
        "SELECT f.name, i.tlp, i.confidence, i.valid_from, i.valid_until, f.imported_at, i.ref,"
        " i.description FROM intel.indicators i JOIN intel.feeds f ON f.id = i.feed"
        " WHERE i.type = ?1 AND i.value = ?2 AND" UNEXPIRED("i", "?3") " ORDER BY f.name";
    *items = NULL;
    *n = 0;
    if (!ws->intel || type < 0 || !value)
        return VG_OK;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, vg_enum_name(&VG_ARTIFACT_TYPE, type), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now_or(now_ms));
    int s;
    size_t cap = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap)
            *items = vg_xrealloc(*items, (cap = cap ? cap * 2 : 2) * sizeof **items);
        vg_intel_match *m = &(*items)[(*n)++];
        m->feed = dup_col(st, 0);
        m->tlp = vg_enum_parse(&VG_TLP, (const char *)sqlite3_column_text(st, 1));
        m->confidence = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 2);
        m->valid_from = sqlite3_column_int64(st, 3);
        m->valid_until = sqlite3_column_int64(st, 4);
        m->imported_at = sqlite3_column_int64(st, 5);
        m->ref = dup_col(st, 6);
        m->description = dup_col(st, 7);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        vg_intel_matches_free(*items, *n);
        *items = NULL;
        *n = 0;
        return ws_dberr(ws, err, "looking a value up in the intel");
    }
    return VG_OK;
}

static void utc_date(int64_t ms, char *out, size_t outsz)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void vg_intel_known_text(const vg_intel_match *m, size_t n, char *out, size_t outsz)
{
    if (!outsz)
        return;
    out[0] = '\0';
    if (!n)
        return;
    size_t used = 0;
    int tlp = -1;
    int64_t first = 0;
    for (size_t i = 0; i < n; i++) {
        int k = 0;
        if (i < 3)
            k = snprintf(out + used, outsz - used, "%s%s", i ? ", " : "known: ", m[i].feed);
        else if (i == 3)
            k = snprintf(out + used, outsz - used, " +%zu", n - 3);
        if (k > 0 && (size_t)k < outsz - used)
            used += (size_t)k;
        if (m[i].tlp > tlp)
            tlp = m[i].tlp;
        int64_t when = m[i].valid_from ? m[i].valid_from : m[i].imported_at;
        if (when && (!first || when < first))
            first = when;
    }
    if (tlp >= 0) {
        int k = snprintf(out + used, outsz - used, ", TLP:%s", vg_enum_name(&VG_TLP, tlp));
        if (k > 0 && (size_t)k < outsz - used)
            used += (size_t)k;
    }
    if (first) {
        char d[40];
        utc_date(first, d, sizeof d);
        snprintf(out + used, outsz - used, ", %s", d);
    }
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
    if (!ms) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char t[40];
    vg_iso8601(ms, t, sizeof t);
    cJSON_AddStringToObject(o, key, t);
}

static void add_str(cJSON *o, const char *key, const char *s)
{
    char *r = vg_utf8_repair(s ? s : "");
    cJSON_AddStringToObject(o, key, r);
    free(r);
}

cJSON *vg_intel_matches_json(const vg_intel_match *m, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *j = cJSON_CreateObject();
        add_str(j, "feed", m[i].feed);
        if (m[i].tlp >= 0)
            cJSON_AddStringToObject(j, "tlp", vg_enum_name(&VG_TLP, m[i].tlp));
        else
            cJSON_AddNullToObject(j, "tlp");
        if (m[i].confidence >= 0)
            cJSON_AddNumberToObject(j, "confidence", m[i].confidence);
        else
            cJSON_AddNullToObject(j, "confidence");
        add_time(j, "valid_from", m[i].valid_from);
        add_time(j, "valid_until", m[i].valid_until);
        add_time(j, "imported_at", m[i].imported_at);
        add_str(j, "id", m[i].ref);
        add_str(j, "description", m[i].description);
        cJSON_AddItemToArray(arr, j);
    }
    return arr;
}

vg_rc vg_intel_annotate(vg_ws *ws, int type, const char *value, cJSON *o, vg_err *err)
{
    vg_intel_match *m = NULL;
    size_t n = 0;
    vg_rc rc = vg_intel_lookup(ws, type, value, 0, &m, &n, err);
    if (rc)
        return rc;
    if (n) {
        char known[512];
        vg_intel_known_text(m, n, known, sizeof known);
        add_str(o, "known", known);
    } else {
        cJSON_AddNullToObject(o, "known");
    }
    cJSON_AddItemToObject(o, "intel", vg_intel_matches_json(m, n));
    vg_intel_matches_free(m, n);
    return VG_OK;
}

cJSON *vg_intel_summary_json(const vg_intel_summary *s)
{
    cJSON *j = cJSON_CreateObject(), *arr;
    cJSON_AddNumberToObject(j, "values", (double)s->values);
    cJSON_AddItemToObject(j, "feeds", arr = cJSON_CreateArray());
    for (size_t i = 0; i < s->nfeeds; i++) {
        cJSON *f = cJSON_CreateObject();
        add_str(f, "feed", s->feeds[i].feed);
        cJSON_AddNumberToObject(f, "values", (double)s->feeds[i].values);
        cJSON_AddItemToArray(arr, f);
    }
    return j;
}

void vg_intel_summary_clear(vg_intel_summary *s)
{
    for (size_t i = 0; s && i < s->nfeeds; i++)
        free(s->feeds[i].feed);
    if (s) {
        free(s->feeds);
        memset(s, 0, sizeof *s);
    }
}

vg_rc vg_intel_case_summary(vg_ws *ws, const char *case_id, int64_t now_ms, vg_intel_summary *out,
                            vg_err *err)
{
    static const char values[] =
        "SELECT count(*) FROM artifacts a WHERE a.case_id = ?1 AND a.removed = 0 AND EXISTS"
        " (SELECT 1 FROM intel.indicators i WHERE i.type = a.type AND i.value = a.value "
        "AND" UNEXPIRED("i", "?2") ")";
    static const char feeds[] =
        "SELECT f.name, count(*) FROM artifacts a JOIN intel.indicators i ON i.type = a.type"
        " AND i.value = a.value JOIN intel.feeds f ON f.id = i.feed WHERE a.case_id = ?1 AND"
        " a.removed = 0 AND" UNEXPIRED("i", "?2") " GROUP BY f.name ORDER BY count(*) DESC, f.name";
    memset(out, 0, sizeof *out);
    if (!ws->intel)
        return VG_OK;
    int64_t now = now_or(now_ms);
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, values, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        out->values = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (s != SQLITE_ROW)
        return ws_dberr(ws, err, "matching a case's values against the intel");
    if (!out->values || (rc = ws_stmt_text(ws, feeds, &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    size_t cap = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->nfeeds == cap)
            out->feeds = vg_xrealloc(out->feeds, (cap = cap ? cap * 2 : 4) * sizeof *out->feeds);
        out->feeds[out->nfeeds].feed = dup_col(st, 0);
        out->feeds[out->nfeeds++].values = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        vg_intel_summary_clear(out);
        return ws_dberr(ws, err, "matching a case's values against the intel");
    }
    return VG_OK;
}

void vg_intel_summary_text(const vg_intel_summary *s, char *out, size_t outsz)
{
    if (!outsz)
        return;
    out[0] = '\0';
    if (!s->values)
        return;
    int k = snprintf(out, outsz, "intel: %lld value%s known to feeds (", (long long)s->values,
                     s->values == 1 ? "" : "s");
    size_t used = k > 0 && (size_t)k < outsz ? (size_t)k : outsz - 1;
    for (size_t i = 0; i < s->nfeeds && i < 5; i++) {
        k = snprintf(out + used, outsz - used, "%s%s %lld", i ? ", " : "", s->feeds[i].feed,
                     (long long)s->feeds[i].values);
        if (k > 0 && (size_t)k < outsz - used)
            used += (size_t)k;
    }
    if (s->nfeeds > 5) {
        k = snprintf(out + used, outsz - used, ", +%zu feeds", s->nfeeds - 5);
        if (k > 0 && (size_t)k < outsz - used)
            used += (size_t)k;
    }
    snprintf(out + used, outsz - used, ")");
}

void vg_intel_case_hits_free(vg_intel_case_hit *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++)
        free(h[i].title);
    free(h);
}

vg_rc vg_intel_open_cases(vg_ws *ws, int64_t now_ms, int limit, vg_intel_case_hit **items,
                          size_t *n, int64_t *total, vg_err *err)
{
    static const char sql[] =
        "SELECT c.id, c.ref, c.title, c.severity, count(*) AS k FROM cases c"
        " JOIN artifacts a ON a.case_id = c.id AND a.removed = 0"
        " WHERE c." WS_OPEN_STATUSES " AND EXISTS (SELECT 1 FROM intel.indicators i"
        "  WHERE i.type = a.type AND i.value = a.value AND" UNEXPIRED(
            "i", "?1") ")"
                       " GROUP BY c.id ORDER BY c.severity DESC, k DESC, c.created_at DESC, c.id";
    *items = NULL;
    *n = 0;
    *total = 0;
    if (!ws->intel)
        return VG_OK;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, now_or(now_ms));
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if ((*total)++ >= limit)
            continue;
        *items = vg_xrealloc(*items, (*n + 1) * sizeof **items);
        vg_intel_case_hit *h = &(*items)[(*n)++];
        col_id(st, 0, h->case_id);
        h->ref = sqlite3_column_int64(st, 1);
        h->title = dup_col(st, 2);
        h->severity = sqlite3_column_int(st, 3);
        h->values = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        vg_intel_case_hits_free(*items, *n);
        *items = NULL;
        *n = 0;
        return ws_dberr(ws, err, "finding the cases the intel knows");
    }
    return VG_OK;
}
