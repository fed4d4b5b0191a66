/*
 * evidence.c — the evidence register's files and reads (contract in vigil/evidence.h).
 *
 * Evidence files may be disk images of hundreds of gigabytes, so nothing here reads
 * a file whole: a file is hashed (SHA-256 by libsodium, SHA-1 and MD5 by nettle, in
 * one pass) while it is copied a buffer at a time. A copy goes to a temporary file
 * in the store and is renamed to its hash's name only when complete and synced, so
 * an interrupted add leaves no partial blob under a hash name, and the register's
 * op is applied only after the rename: a register entry always has its content.
 * The register itself (tables evidence and custody) is written by the door alone
 * (apply.c, h_evidence_add and h_evidence_custody); this file builds the ops.
 */
#include "vigil/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "vigil/op.h"

#define IOBUF (256 << 10)

void vg_evidence_clear(vg_evidence *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->description);
    free(e->path);
    free(e->added_by);
    memset(e, 0, sizeof *e);
}

void vg_evidences_free(vg_evidence *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vg_evidence_clear(&items[i]);
    free(items);
}

void vg_custody_free(vg_custody *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].actor);
        free(items[i].detail);
    }
    free(items);
}

/* ---- types by magic bytes ---------------------------------------------------- */

static bool at(const unsigned char *p, size_t n, size_t off, const char *magic, size_t len)
{
    return n >= off + len && memcmp(p + off, magic, len) == 0;
}

static bool utf8_text(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = p[i];
        if (b == 0 || (b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f'))
            return false;
        size_t k = b < 0x80             ? 0
                   : (b & 0xe0) == 0xc0 ? 1
                   : (b & 0xf0) == 0xe0 ? 2
                   : (b & 0xf8) == 0xf0 ? 3
                                        : 9;
        if (k == 9)
            return false;
        if (i + k >= n && k)
            return true; /* cut at the sniff window's end */
        for (size_t j = 1; j <= k; j++)
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

const char *vg_evidence_sniff(const unsigned char *p, size_t n)
{
    static const struct {
        size_t off;
        const char *magic;
        size_t len;
        const char *type;
    } magics[] = {
        {0, "%PDF-", 5, "pdf"},
        {0, "PK\x03\x04", 4, "zip"},
        {0, "PK\x05\x06", 4, "zip"},
        {0, "\x1f\x8b", 2, "gzip"},
        {0, "\x28\xb5\x2f\xfd", 4, "zstd"},
        {0, "\3757zXZ\0", 6, "xz"},
        {0, "BZh", 3, "bzip2"},
        {0, "7z\xbc\xaf\x27\x1c", 6, "7z"},
        {0, "Rar!\x1a\x07", 6, "rar"},
        {0, "MZ", 2, "pe"},
        {0, "\177ELF", 4, "elf"},
        {0, "\xcf\xfa\xed\xfe", 4, "macho"},
        {0, "\xce\xfa\xed\xfe", 4, "macho"},
        {0, "\xca\xfe\xba\xbe", 4, "macho"},
        {0, "\x89PNG\r\n\x1a\n", 8, "png"},
        {0, "\xff\xd8\xff", 3, "jpeg"},
        {0, "GIF8", 4, "gif"},
        {0, "\xd4\xc3\xb2\xa1", 4, "pcap"},
        {0, "\xa1\xb2\xc3\xd4", 4, "pcap"},
        {0, "\x4d\x3c\xb2\xa1", 4, "pcap"},
        {0, "\x0a\x0d\x0d\x0a", 4, "pcapng"},
        {0, "ElfFile\x00", 8, "evtx"},
        {0, "SQLite format 3\x00", 16, "sqlite"},
        {0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "ole2"},
        {0, "EVF\x09\x0d\x0a\xff\x00", 8, "ewf"},
        {0, "QFI\xfb", 4, "qcow2"},
        {0, "KDMV", 4, "vmdk"},
        {0, "vhdxfile", 8, "vhdx"},
        {0, "regf", 4, "registry"},
        {0, "MDMP", 4, "minidump"},
        {0, "-----BEGIN ", 11, "pem"},
        {0, "From: ", 6, "email"},
        {0, "Received: ", 10, "email"},
        {0, "Return-Path: ", 13, "email"},
        {257, "ustar", 5, "tar"},
        {0x8001, "CD001", 5, "iso9660"},
    };
    for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
        if (at(p, n, magics[i].off, magics[i].magic, magics[i].len))
            return magics[i].type;
    if (n >= 512 && p[510] == 0x55 && p[511] == 0xaa)
        return "disk"; /* a master boot record */
    if (n == 0)
        return "empty";
    return utf8_text(p, n) ? "text" : "data";
}

/* ---- where content lives ------------------------------------------------------- */

char *vg_evidence_dir(const vg_ws *ws)
{
    size_t n = strlen(vg_ws_path(ws)) + sizeof ".d/evidence";
    char *s = vg_xmalloc(n);
    snprintf(s, n, "%s.d/evidence", vg_ws_path(ws));
    return s;
}

char *vg_evidence_blob_path(const vg_ws *ws, const char *sha256)
{
    char *dir = vg_evidence_dir(ws);
    size_t n = strlen(dir) + 80;
    char *s = vg_xmalloc(n);
    snprintf(s, n, "%s/%.2s/%s", dir, sha256, sha256 + 2);
    free(dir);
    return s;
}

/* mkdir -p of path's directories (and path itself when last), mode 0700. */
static vg_rc make_dirs(const char *path, bool last, vg_err *err)
{
    char *p = vg_xstrdup(path);
    vg_rc rc = VG_OK;
    for (char *s = p + 1; rc == VG_OK; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        bool end = *s == '\0';
        if (end && !last)
            break;
        char keep = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = vg_fail(err, VG_EIO, "%s: %s", p, strerror(errno));
        *s = keep;
        if (end)
            break;
    }
    free(p);
    return rc;
}

/* ---- hashing while streaming --------------------------------------------------- */

typedef struct hasher {
    crypto_hash_sha256_state sha256;
    struct sha1_ctx sha1;
    struct md5_ctx md5;
    bool all; /* SHA-1 and MD5 too */
} hasher;

static void hash_init(hasher *h, bool all)
{
    crypto_hash_sha256_init(&h->sha256);
    h->all = all;
    if (all) {
        sha1_init(&h->sha1);
        md5_init(&h->md5);
    }
}

static void hash_update(hasher *h, const unsigned char *p, size_t n)
{
    crypto_hash_sha256_update(&h->sha256, p, n);
    if (h->all) {
        sha1_update(&h->sha1, n, p);
        md5_update(&h->md5, n, p);
    }
}

static void hash_final(hasher *h, char sha256[65], char *sha1, char *md5)
{
    unsigned char d[32];
    crypto_hash_sha256_final(&h->sha256, d);
    sodium_bin2hex(sha256, 65, d, 32);
    if (h->all && sha1 && md5) {
        sha1_digest(&h->sha1, SHA1_DIGEST_SIZE, d);
        sodium_bin2hex(sha1, 41, d, SHA1_DIGEST_SIZE);
        md5_digest(&h->md5, MD5_DIGEST_SIZE, d);
        sodium_bin2hex(md5, 33, d, MD5_DIGEST_SIZE);
    }
}

static vg_rc write_all(int fd, const unsigned char *p, size_t n, const char *what, vg_err *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return vg_fail(err, VG_EIO, "%s: %s", what, w < 0 ? strerror(errno) : "short write");
        p += w;
        n -= (size_t)w;
    }
    return VG_OK;
}

/* Open path for reading as a regular file, naming what is wrong. */
static vg_rc open_regular(const char *path, int *fd, int64_t *size, vg_err *err)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (*fd < 0)
        return vg_fail(err, errno == ENOENT ? VG_ENOTFOUND : VG_EIO, "%s: %s", path,
                       errno == ENOENT ? "no such file" : strerror(errno));
    struct stat sb;
    if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        bool dir = S_ISDIR(sb.st_mode);
        close(*fd);
        *fd = -1;
        return vg_fail(err, VG_EINVAL, "%s: %s", path,
                       dir ? "is a directory: add the files in it one by one (or an archive of it)"
                           : "not a regular file");
    }
    fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK);
    *size = (int64_t)sb.st_size;
    return VG_OK;
}

/* Hash fd to its end, copying to out (-1: none); the first bytes go to head. */
static vg_rc stream(int fd, const char *what, hasher *h, int out, const char *outwhat,
                    unsigned char *head, size_t *headn, int64_t *total, vg_err *err)
{
    unsigned char *buf = vg_xmalloc(IOBUF);
    vg_rc rc = VG_OK;
    *total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, IOBUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = vg_fail(err, VG_EIO, "%s: %s", what, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        if (head && *headn < 0x8010) {
            size_t k = (size_t)r < 0x8010 - *headn ? (size_t)r : 0x8010 - *headn;
            memcpy(head + *headn, buf, k);
            *headn += k;
        }
        hash_update(h, buf, (size_t)r);
        *total += r;
        if (out >= 0 && (rc = write_all(out, buf, (size_t)r, outwhat, err)))
            break;
    }
    free(buf);
    return rc;
}

static char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    s = s ? s + 1 : path;
    return vg_xstrdup(*s ? s : path);
}

/* The blob of sha256 from the temporary file tmp (complete and synced): renamed to
 * its name, or, when that blob is here already, tmp removed. *made: it is new. */
static vg_rc blob_place(const vg_ws *ws, const char *tmp, const char *sha256, bool *made,
                        vg_err *err)
{
    char *final = vg_evidence_blob_path(ws, sha256);
    vg_rc rc = make_dirs(final, false, err);
    struct stat sb;
    *made = false;
    if (rc == VG_OK && stat(final, &sb) == 0) {
        unlink(tmp);
    } else if (rc == VG_OK && rename(tmp, final) != 0) {
        rc = vg_fail(err, VG_EIO, "%s: %s", final, strerror(errno));
    } else if (rc == VG_OK) {
        *made = true;
    }
    free(final);
    return rc;
}

/* A temporary file in the store for a blob being written: fd and its name (fresh). */
static vg_rc blob_tmp(const vg_ws *ws, int *fd, char **name, vg_err *err)
{
    char *dir = vg_evidence_dir(ws);
    vg_rc rc = make_dirs(dir, true, err);
    size_t n = strlen(dir) + 32;
    *name = vg_xmalloc(n);
    snprintf(*name, n, "%s/.tmp-XXXXXX", dir);
    free(dir);
    *fd = rc ? -1 : mkostemp(*name, O_CLOEXEC);
    if (rc == VG_OK && *fd < 0)
        rc = vg_fail(err, VG_EIO, "%s: %s", *name, strerror(errno));
    if (rc == VG_OK)
        fchmod(*fd, 0600);
    if (rc) {
        free(*name);
        *name = NULL;
    }
    return rc;
}

vg_rc vg_evidence_mark_held(vg_ws *ws, const char *evidence_id, vg_err *err)
{
    char key[64];
    snprintf(key, sizeof key, "evidence:%s", evidence_id);
    return ws_meta_put(ws, key, "held", "marking evidence held", err);
}

static bool held_here(vg_ws *ws, const char *evidence_id)
{
    static const char sql[] = "SELECT 1 FROM meta WHERE key = 'evidence:' || ?";
    sqlite3_stmt *st;
    vg_err e = {0};
    if (ws_stmt_text(ws, sql, &st, &e))
        return false;
    sqlite3_bind_text(st, 1, evidence_id, -1, SQLITE_STATIC);
    bool held = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return held;
}

vg_rc vg_evidence_add(vg_ws *ws, const char *case_id, const char *path, const char *name,
                      const char *description, bool ref_only, vg_evidence *out, vg_err *err)
{
    if (sodium_init() < 0)
        abort();
    int fd, tfd = -1;
    int64_t size, total = 0;
    char *tmp = NULL, *abs = NULL;
    vg_rc rc = open_regular(path, &fd, &size, err);
    if (rc)
        return rc;
    if (ref_only) {
        abs = realpath(path, NULL);
        if (!abs) {
            rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
            goto out;
        }
    } else if ((rc = blob_tmp(ws, &tfd, &tmp, err))) {
        goto out;
    }
    hasher h;
    char sha256[65], sha1[41], md5[33];
    unsigned char *head = vg_xmalloc(0x8010);
    size_t headn = 0;
    hash_init(&h, true);
    rc = stream(fd, path, &h, tfd, tmp, head, &headn, &total, err);
    hash_final(&h, sha256, sha1, md5);
    const char *type = vg_evidence_sniff(head, headn);
    free(head);
    if (rc == VG_OK && tfd >= 0 && fsync(tfd) != 0)
        rc = vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
    if (tfd >= 0 && close(tfd) != 0 && rc == VG_OK)
        rc = vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
    tfd = -1;
    /* the same content on the same case is one item: its chain says who had it since */
    if (rc == VG_OK) {
        static const char dup[] = "SELECT id, added_by FROM evidence WHERE case_id = ? AND"
                                  " sha256 = ? AND (path IS NULL) = ? LIMIT 1";
        sqlite3_stmt *st;
        if ((rc = ws_stmt_text(ws, dup, &st, err)) == VG_OK) {
            sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 3, !ref_only);
            if (sqlite3_step(st) == SQLITE_ROW)
                rc = vg_fail(err, VG_EEXIST,
                             "%s: already on this case as evidence %.12s (added by %.64s);"
                             " nothing added",
                             path, (const char *)sqlite3_column_text(st, 0),
                             (const char *)sqlite3_column_text(st, 1));
            sqlite3_reset(st);
        }
    }
    bool made = false;
    if (rc == VG_OK && tmp && (rc = blob_place(ws, tmp, sha256, &made, err)) == VG_OK) {
        free(tmp);
        tmp = NULL;
    }
    if (rc)
        goto out;

    vg_op *op = vg_op_new("evidence.add", NULL);
    char *nm = name && *name ? vg_xstrdup(name) : base_name(path);
    cJSON *p = op->payload;
    cJSON_AddStringToObject(p, "case", case_id);
    cJSON_AddStringToObject(p, "name", nm);
    cJSON_AddStringToObject(p, "type", type);
    cJSON_AddNumberToObject(p, "size", (double)total);
    cJSON_AddStringToObject(p, "sha256", sha256);
    cJSON_AddStringToObject(p, "sha1", sha1);
    cJSON_AddStringToObject(p, "md5", md5);
    if (description && *description)
        cJSON_AddStringToObject(p, "description", description);
    cJSON_AddStringToObject(p, "stored", ref_only ? "ref" : "copy");
    if (ref_only)
        cJSON_AddStringToObject(p, "path", abs);
    free(nm);
    rc = vg_apply(ws, op, err);
    vg_id id;
    memcpy(id, op->target, sizeof id);
    vg_op_free(op);
    if (rc) {
        if (made) {
            char *final = vg_evidence_blob_path(ws, sha256);
            unlink(final);
            free(final);
        }
        goto out;
    }
    if ((rc = vg_evidence_mark_held(ws, id, err)))
        goto out;
    if (out)
        rc = vg_evidence_find(ws, id, out, err);
out:
    if (tfd >= 0)
        close(tfd);
    if (tmp)
        unlink(tmp);
    free(tmp);
    free(abs);
    close(fd);
    return rc;
}

/* ---- reads ------------------------------------------------------------------------ */

#define EV_COLS                                                                                    \
    "id, case_id, sha256, sha1, md5, size, type, name, description, path, added_by, added_at"

static void row_evidence(sqlite3_stmt *st, vg_evidence *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(e->case_id, sizeof e->case_id, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(e->sha256, sizeof e->sha256, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(e->sha1, sizeof e->sha1, "%s", (const char *)sqlite3_column_text(st, 3));
    snprintf(e->md5, sizeof e->md5, "%s", (const char *)sqlite3_column_text(st, 4));
    e->size = sqlite3_column_int64(st, 5);
    snprintf(e->type, sizeof e->type, "%s", (const char *)sqlite3_column_text(st, 6));
    e->name = col_dup(st, 7);
    e->description = col_dup(st, 8);
    e->path = sqlite3_column_type(st, 9) == SQLITE_NULL ? NULL : col_dup(st, 9);
    e->added_by = col_dup(st, 10);
    e->added_at = sqlite3_column_int64(st, 11);
}

vg_rc vg_evidence_list(vg_ws *ws, const char *case_id, vg_evidence **items, size_t *n, vg_err *err)
{
    static const char sql[] = "SELECT " EV_COLS " FROM evidence"
                              " WHERE ?1 IS NULL OR case_id = ?1 ORDER BY added_at, id";
    sqlite3_stmt *st;
    *items = NULL;
    *n = 0;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    if (case_id)
        sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *items = vg_xrealloc(*items, cap * sizeof **items);
        }
        row_evidence(st, &(*items)[(*n)++]);
    }
    sqlite3_reset(st);
    return s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "listing evidence");
}

vg_rc vg_evidence_find(vg_ws *ws, const char *id, vg_evidence *out, vg_err *err)
{
    static const char sql[] = "SELECT " EV_COLS " FROM evidence"
                              " WHERE id >= ?1 AND id < ?1 || 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ'"
                              " ORDER BY id LIMIT 2";
    size_t len = strlen(id);
    memset(out, 0, sizeof *out);
    if (len < 4 || len > VG_ID_LEN)
        return vg_fail(err, VG_EINVAL, "evidence '%.40s': give its id (at least 4 characters)", id);
    char up[VG_ID_LEN + 1];
    for (size_t i = 0; i <= len; i++)
        up[i] = (char)(id[i] >= 'a' && id[i] <= 'z' ? id[i] - 32 : id[i]);
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, up, -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(st), found = 0;
    if (s == SQLITE_ROW && strncmp((const char *)sqlite3_column_text(st, 0), up, len) == 0) {
        row_evidence(st, out);
        found = 1;
        s = sqlite3_step(st);
        if (s == SQLITE_ROW && strncmp((const char *)sqlite3_column_text(st, 0), up, len) == 0)
            found = 2;
    }
    sqlite3_reset(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        vg_evidence_clear(out);
        return ws_dberr(ws, err, "finding evidence");
    }
    if (found == 2) {
        vg_evidence_clear(out);
        return vg_fail(err, VG_EAMBIGUOUS, "evidence '%s': more than one item has that prefix", up);
    }
    if (!found)
        return vg_fail(err, VG_ENOTFOUND, "evidence '%s': no such item (vigil evidence ls REF)",
                       up);
    return VG_OK;
}

vg_rc vg_evidence_custody(vg_ws *ws, const char *evidence_id, vg_custody **items, size_t *n,
                          vg_err *err)
{
    static const char sql[] = "SELECT id, action, actor, at, sha256, result, detail FROM custody"
                              " WHERE evidence = ? ORDER BY at, id";
    sqlite3_stmt *st;
    *items = NULL;
    *n = 0;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, evidence_id, -1, SQLITE_STATIC);
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *items = vg_xrealloc(*items, cap * sizeof **items);
        }
        vg_custody *c = &(*items)[(*n)++];
        memset(c, 0, sizeof *c);
        snprintf(c->id, sizeof c->id, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(c->action, sizeof c->action, "%s", (const char *)sqlite3_column_text(st, 1));
        c->actor = col_dup(st, 2);
        c->at = sqlite3_column_int64(st, 3);
        snprintf(c->sha256, sizeof c->sha256, "%s", (const char *)sqlite3_column_text(st, 4));
        snprintf(c->result, sizeof c->result, "%s", (const char *)sqlite3_column_text(st, 5));
        c->detail = col_dup(st, 6);
    }
    sqlite3_reset(st);
    return s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "reading a chain of custody");
}

/* ---- content ---------------------------------------------------------------------- */

/* The item's content file: its blob, or its ref-only path (fresh). */
static char *content_path(const vg_ws *ws, const vg_evidence *e)
{
    return e->path ? vg_xstrdup(e->path) : vg_evidence_blob_path(ws, e->sha256);
}

bool vg_evidence_present(const vg_ws *ws, const vg_evidence *e)
{
    char *p = content_path(ws, e);
    struct stat sb;
    bool ok = stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
    free(p);
    return ok;
}

vg_rc vg_evidence_check(vg_ws *ws, const vg_evidence *e, char sha_seen[65], const char **result,
                        vg_err *err)
{
    sha_seen[0] = '\0';
    char *p = content_path(ws, e);
    int fd;
    int64_t size, total;
    vg_err oe = {0};
    vg_rc rc = open_regular(p, &fd, &size, &oe);
    if (rc == VG_ENOTFOUND) {
        *result = e->path || held_here(ws, e->id) ? "missing" : "absent";
        free(p);
        return VG_OK;
    }
    if (rc) {
        *err = oe;
        free(p);
        return rc;
    }
    hasher h;
    hash_init(&h, false);
    rc = stream(fd, p, &h, -1, NULL, NULL, NULL, &total, err);
    close(fd);
    free(p);
    if (rc)
        return rc;
    hash_final(&h, sha_seen, NULL, NULL);
    *result = strcmp(sha_seen, e->sha256) == 0 && total == e->size ? "ok" : "changed";
    return VG_OK;
}

vg_rc vg_evidence_write(vg_ws *ws, const vg_evidence *e, int out, vg_err *err)
{
    if (sodium_init() < 0)
        abort();
    char *p = content_path(ws, e);
    int fd;
    int64_t size, total;
    vg_rc rc = open_regular(p, &fd, &size, err);
    if (rc == VG_ENOTFOUND)
        rc = vg_fail(err, VG_ENOTFOUND,
                     e->path ? "evidence %.12s: its file %s is gone"
                             : "evidence %.12s: its content is not in this workspace (%s)",
                     e->id, p);
    if (rc) {
        free(p);
        return rc;
    }
    hasher h;
    char sha[65];
    hash_init(&h, false);
    rc = stream(fd, p, &h, out, "writing evidence", NULL, NULL, &total, err);
    close(fd);
    hash_final(&h, sha, NULL, NULL);
    if (rc == VG_OK && (strcmp(sha, e->sha256) != 0 || total != e->size))
        rc = vg_fail(err, VG_ECORRUPT,
                     "evidence %.12s: %s hashes to %.16s..., not the %.16s... registered: it"
                     " changed since it was added",
                     e->id, p, sha, e->sha256);
    free(p);
    return rc;
}

vg_rc vg_evidence_read(vg_ws *ws, const vg_evidence *e, vg_buf *out, vg_err *err)
{
    char *p = content_path(ws, e);
    FILE *f = fopen(p, "rb");
    if (!f) {
        vg_rc rc =
            vg_fail(err, errno == ENOENT ? VG_ENOTFOUND : VG_EIO, "%s: %s", p, strerror(errno));
        free(p);
        return rc;
    }
    size_t start = out->len;
    vg_rc rc = vg_buf_read_file(out, f, p, err);
    fclose(f);
    if (rc == VG_OK) {
        unsigned char d[32];
        char hex[65];
        crypto_hash_sha256(d, (const unsigned char *)out->data + start, out->len - start);
        sodium_bin2hex(hex, sizeof hex, d, sizeof d);
        if (strcmp(hex, e->sha256) != 0)
            rc = vg_fail(err, VG_ECORRUPT, "evidence %.12s: %s changed since it was added", e->id,
                         p);
    }
    free(p);
    return rc;
}

vg_rc vg_evidence_store(vg_ws *ws, const char *sha256, const void *data, size_t len, vg_err *err)
{
    unsigned char d[32];
    char hex[65];
    crypto_hash_sha256(d, data, len);
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    if (strcmp(hex, sha256) != 0)
        return vg_fail(err, VG_ECORRUPT, "evidence content %.16s...: hashes to %.16s...", sha256,
                       hex);
    int fd;
    char *tmp;
    vg_rc rc = blob_tmp(ws, &fd, &tmp, err);
    if (rc)
        return rc;
    rc = write_all(fd, data, len, tmp, err);
    if (rc == VG_OK && fsync(fd) != 0)
        rc = vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == VG_OK)
        rc = vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
    bool made;
    if (rc == VG_OK)
        rc = blob_place(ws, tmp, sha256, &made, err);
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- custody ----------------------------------------------------------------------- */

vg_rc vg_evidence_record(vg_ws *ws, const vg_evidence *e, const char *action, const char *sha_seen,
                         const char *result, const char *detail, vg_err *err)
{
    vg_op *op = vg_op_new("evidence.custody", e->id);
    cJSON_AddStringToObject(op->payload, "case", e->case_id);
    cJSON_AddStringToObject(op->payload, "action", action);
    if (sha_seen && *sha_seen)
        cJSON_AddStringToObject(op->payload, "sha256", sha_seen);
    if (result && *result)
        cJSON_AddStringToObject(op->payload, "result", result);
    if (detail && *detail)
        cJSON_AddStringToObject(op->payload, "detail", detail);
    vg_rc rc = vg_apply(ws, op, err);
    vg_op_free(op);
    return rc;
}

cJSON *vg_evidence_json(const vg_ws *ws, const vg_evidence *e)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", e->id);
    cJSON_AddStringToObject(j, "case", e->case_id);
    cJSON_AddStringToObject(j, "name", e->name);
    cJSON_AddStringToObject(j, "type", e->type);
    cJSON_AddNumberToObject(j, "size", (double)e->size);
    cJSON_AddStringToObject(j, "sha256", e->sha256);
    cJSON_AddStringToObject(j, "sha1", e->sha1);
    cJSON_AddStringToObject(j, "md5", e->md5);
    cJSON_AddStringToObject(j, "description", e->description);
    cJSON_AddStringToObject(j, "stored", e->path ? "ref" : "copy");
    if (e->path)
        cJSON_AddStringToObject(j, "path", e->path);
    cJSON_AddStringToObject(j, "added_by", e->added_by);
    cJSON_AddNumberToObject(j, "added_at", (double)e->added_at);
    cJSON_AddBoolToObject(j, "present", vg_evidence_present(ws, e));
    return j;
}
