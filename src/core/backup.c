/*
 * backup.c — encrypted backups of a workspace and their restore (vigil/backup.h).
 *
 * Workload: a workspace of a few MB to tens of GB, backed up while other processes
 * may be writing it (an import, a sync, the workstation), restored rarely, often on
 * another machine. What it trades:
 *
 * - The snapshot is SQLite's backup API in one step (sqlite3_backup_step(-1)): one
 *   read transaction from the first page to the last, so it is consistent and never
 *   restarts, however busy the writers are (WAL: they go on meanwhile). Stepping a
 *   few pages at a time would restart on every commit of another process and might
 *   never end under a steady import. It costs a temporary copy of the file in
 *   $TMPDIR, mode 0600, unlinked as soon as it is open for reading.
 * - Memory is a few hundred KB whatever the size: the snapshot is read, compressed
 *   (ZSTD_compressStream2, level 3) and sealed (crypto_secretstream) a buffer at a
 *   time; a restore decrypts, decompresses and writes the same way.
 * - Every chunk has the same length (the last is padded), so cut short and altered
 *   are told apart without any length in clear, and nothing in the file says how
 *   large the workspace is beyond its size to the next 64 KiB.
 * - A restore writes beside its target (PATH.restore-tmp, the same file system, so
 *   the rename is atomic), checks the result as a workspace and only then puts it in
 *   place: a restore that fails for any reason leaves PATH as it was.
 */
#include "vigil/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>

#include "internal.h"
#include "vigil/keys.h"
#include "vigil/ledger.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_KEY crypto_secretstream_xchacha20poly1305_KEYBYTES
#define TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define ZLEVEL 3 /* zstd's default: about 400 MB/s here, the stream's other costs are less */
/* The most a lock may ask of a restore: more passes or memory than libsodium's
 * SENSITIVE is refused, so that a changed header cannot make a restore spin. */
#define OPS_MAX 16ull
#define MEM_MAX (1024u * 1024 * 1024)
#define MEM_MIN 8192u
#define LINE_MAX_FIELDS 8

_Static_assert(VG_BACKUP_SEALED == VG_BACKUP_CHUNK + SS_ABYTES, "a chunk's sealed length");
_Static_assert(VG_BACKUP_SEALED_KEY == crypto_box_SEALBYTES + SS_KEY, "a sealed file key");
_Static_assert(VG_BACKUP_SALT == crypto_pwhash_SALTBYTES, "Argon2id's salt");

static void init(void)
{
    if (sodium_init() < 0)
        abort();
}

/* ---- the clear header ----------------------------------------------------------- */

/* A decimal number in [lo, hi], digits only, no leading zero. */
static bool parse_num(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
        return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long long)(s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "vk1:" and 8 groups of 4 lower-case hex digits, as vg_fp_format writes it. */
static bool parse_fp(const char *s, unsigned char out[VG_FP_BYTES])
{
    char again[VG_FP_TEXT];
    size_t got = 0;
    if (strlen(s) != VG_FP_TEXT - 1 || strncmp(s, "vk1:", 4) != 0 ||
        sodium_hex2bin(out, VG_FP_BYTES, s + 4, VG_FP_TEXT - 5, "-", &got, NULL) != 0 ||
        got != VG_FP_BYTES)
        return false;
    vg_fp_format(out, again);
    return strcmp(again, s) == 0;
}

/* Split line (modified) at single spaces into at most max fields; -1 when a field
 * is empty or there are more. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line;;) {
        char *sp = strchr(p, ' ');
        if (n == max || (sp ? sp == p : *p == '\0'))
            return -1;
        f[n++] = p;
        if (!sp)
            return n;
        *sp = '\0';
        p = sp + 1;
    }
}

static vg_rc parse_lock(char *line, vg_backup_header *h, vg_err *err)
{
    char *f[LINE_MAX_FIELDS];
    int n = split(line, f, LINE_MAX_FIELDS);
    unsigned long long mem = 0;
    if (n < 0)
        return vg_fail(err, VG_EINVAL,
                       "a damaged header: its lock line is not words between"
                       " single spaces");
    if (n < 2 || strcmp(f[0], "lock") != 0)
        return vg_fail(err, VG_EINVAL, "not a vigil backup: its header has no lock line");
    if (strcmp(f[1], "self") == 0) {
        if (n != 4)
            return vg_fail(err, VG_EINVAL,
                           "a damaged header: 'lock self' takes a fingerprint"
                           " and a sealed key");
        if (!parse_fp(f[2], h->fp))
            return vg_fail(err, VG_EINVAL, "a damaged header: '%.60s' is not a key's fingerprint",
                           f[2]);
        if (!vg_b64_exact(f[3], strlen(f[3]), h->sealed, sizeof h->sealed))
            return vg_fail(err, VG_EINVAL,
                           "a damaged header: its sealed key is not %d bytes of"
                           " base64",
                           VG_BACKUP_SEALED_KEY);
        h->kind = VG_LOCK_SELF;
        return VG_OK;
    }
    if (strcmp(f[1], "passphrase") == 0) {
        if (n != 6 || strcmp(f[2], "argon2id") != 0)
            return vg_fail(err, VG_EINVAL,
                           "a damaged header: 'lock passphrase' takes argon2id,"
                           " its passes, its memory and a salt");
        if (!parse_num(f[3], crypto_pwhash_OPSLIMIT_MIN, OPS_MAX, &h->ops))
            return vg_fail(err, VG_EINVAL,
                           "a damaged header: Argon2id's passes '%.24s' are not"
                           " a number from %d to %llu",
                           f[3], (int)crypto_pwhash_OPSLIMIT_MIN, OPS_MAX);
        if (!parse_num(f[4], MEM_MIN, MEM_MAX, &mem))
            return vg_fail(err, VG_EINVAL,
                           "a damaged header: Argon2id's memory '%.24s' is not a"
                           " number of bytes from %u to %u",
                           f[4], MEM_MIN, MEM_MAX);
        if (!vg_b64_exact(f[5], strlen(f[5]), h->salt, sizeof h->salt))
            return vg_fail(err, VG_EINVAL, "a damaged header: its salt is not %d bytes of base64",
                           VG_BACKUP_SALT);
        h->mem = (size_t)mem;
        h->kind = VG_LOCK_PASSPHRASE;
        return VG_OK;
    }
    return vg_fail(err, VG_EINVAL,
                   "a damaged header: a lock of kind '%.24s', which this vigil"
                   " does not know",
                   f[1]);
}

vg_rc vg_backup_header_parse(const char *buf, size_t len, bool eof, size_t *used,
                             vg_backup_header *out, vg_err *err)
{
    static const char magic[] = "vigil-backup ";
    const size_t ml = sizeof magic - 1;
    memset(out, 0, sizeof *out);
    *used = 0;
    if (len == 0)
        return vg_fail(err, VG_EINVAL, "not a vigil backup (an empty file)");
    if (memcmp(buf, magic, len < ml ? len : ml) != 0)
        return vg_fail(err, VG_EINVAL, "not a vigil backup");
    size_t lim = len < VG_BACKUP_HEADER_MAX ? len : VG_BACKUP_HEADER_MAX;
    const char *nl = memchr(buf, '\n', lim);
    if (nl && ((size_t)(nl - buf) != sizeof VG_BACKUP_MAGIC - 1 ||
               memcmp(buf, VG_BACKUP_MAGIC, sizeof VG_BACKUP_MAGIC - 1) != 0)) {
        /* "vigil-backup N" of a format after this one */
        size_t vl = (size_t)(nl - buf) - ml;
        bool digits = vl > 0 && vl < 10;
        for (size_t i = 0; digits && i < vl; i++)
            digits = buf[ml + i] >= '0' && buf[ml + i] <= '9';
        if (digits)
            return vg_fail(err, VG_ENEWER,
                           "a vigil backup of format %.*s, which this vigil"
                           " cannot read (a newer vigil wrote it)",
                           (int)vl, buf + ml);
        return vg_fail(err, VG_EINVAL, "not a vigil backup");
    }
    const char *end = NULL;
    for (size_t i = 1; i < lim; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\n') {
            end = buf + i + 1;
            break;
        }
    if (!end) {
        if (eof && len < VG_BACKUP_HEADER_MAX)
            return vg_fail(err, VG_EINVAL, "cut short: the file ends inside its header");
        return vg_fail(err, VG_EINVAL,
                       "not a vigil backup: its header does not end within %d"
                       " bytes",
                       VG_BACKUP_HEADER_MAX);
    }
    /* the text between the magic line and the blank line: one lock line, printable */
    const char *lock = nl + 1;
    size_t ll = (size_t)(end - 2 - lock);
    char line[VG_BACKUP_HEADER_MAX];
    if (end - 2 < lock || ll == 0)
        return vg_fail(err, VG_EINVAL, "not a vigil backup: its header has no lock line");
    for (size_t i = 0; i < ll; i++) {
        if (lock[i] == '\n')
            return vg_fail(err, VG_EINVAL, "a damaged header: more than one line after '%s'",
                           VG_BACKUP_MAGIC);
        if ((unsigned char)lock[i] < 0x20 || (unsigned char)lock[i] > 0x7e)
            return vg_fail(err, VG_EINVAL,
                           "a damaged header: byte %zu of its lock line is not"
                           " printable text",
                           i + 1);
    }
    memcpy(line, lock, ll);
    line[ll] = '\0';
    vg_rc rc = parse_lock(line, out, err);
    if (rc)
        return rc;
    out->len = (size_t)(end - buf);
    memcpy(out->text, buf, out->len);
    *used = out->len;
    return VG_OK;
}

vg_rc vg_backup_read_header(FILE *in, const char *where, vg_backup_header *h, vg_err *err)
{
    char buf[VG_BACKUP_HEADER_MAX];
    size_t n = 0, used = 0;
    bool eof = false;
    while (n < sizeof buf) {
        int ch = getc(in);
        if (ch == EOF) {
            if (ferror(in))
                return vg_fail(err, VG_EIO, "%s: %s", where, strerror(errno));
            eof = true;
            break;
        }
        buf[n++] = (char)ch;
        if (ch == '\n' && n >= 2 && buf[n - 2] == '\n')
            break;
    }
    vg_err e = {0};
    if (vg_backup_header_parse(buf, n, eof, &used, h, &e) != VG_OK)
        return vg_fail(err, e.rc, "%s: %s", where, e.msg);
    return VG_OK;
}

/* ---- writing -------------------------------------------------------------------- */

/* The sealed stream being written: compressed bytes gather in plain until a chunk
 * is full. The clear header is the first chunk's additional data. */
typedef struct sink {
    FILE *out;
    crypto_secretstream_xchacha20poly1305_state st;
    unsigned char *plain, *sealed;
    size_t n;
    const unsigned char *ad;
    size_t adlen;
    uint64_t written;
} sink;

static vg_rc sink_chunk(sink *s, unsigned char tag, vg_err *err)
{
    crypto_secretstream_xchacha20poly1305_push(&s->st, s->sealed, NULL, s->plain, VG_BACKUP_CHUNK,
                                               s->ad, s->adlen, tag);
    s->ad = NULL;
    s->adlen = 0;
    s->n = 0;
    if (fwrite(s->sealed, 1, VG_BACKUP_SEALED, s->out) != VG_BACKUP_SEALED)
        return vg_fail(err, VG_EIO, "writing the backup: %s", strerror(errno));
    s->written += VG_BACKUP_SEALED;
    return VG_OK;
}

static vg_rc sink_add(sink *s, const unsigned char *p, size_t n, vg_err *err)
{
    while (n) {
        if (s->n == VG_BACKUP_CHUNK) {
            vg_rc rc = sink_chunk(s, TAG_MESSAGE, err);
            if (rc)
                return rc;
        }
        size_t k = VG_BACKUP_CHUNK - s->n < n ? VG_BACKUP_CHUNK - s->n : n;
        memcpy(s->plain + s->n, p, k);
        s->n += k;
        p += k;
        n -= k;
    }
    return VG_OK;
}

/* The last chunk: what is left, padded to a whole chunk, tagged FINAL (a chunk
 * that is full already goes first, so the padding always fits). */
static vg_rc sink_end(sink *s, vg_err *err)
{
    size_t padded = 0;
    vg_rc rc = s->n == VG_BACKUP_CHUNK ? sink_chunk(s, TAG_MESSAGE, err) : VG_OK;
    if (rc)
        return rc;
    if (sodium_pad(&padded, s->plain, s->n, VG_BACKUP_CHUNK, VG_BACKUP_CHUNK) != 0 ||
        padded != VG_BACKUP_CHUNK)
        return vg_fail(err, VG_EINVAL, "padding the last chunk");
    return sink_chunk(s, TAG_FINAL, err);
}

/* Copy ws's main database into the (empty) file at path in one read transaction,
 * then make the copy a rollback-journal file, whole in itself. */
static vg_rc snapshot(vg_ws *ws, const char *path, vg_err *err)
{
    sqlite3 *to = NULL;
    vg_rc rc = VG_OK;
    if (sqlite3_open_v2(path, &to, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, to ? sqlite3_errmsg(to) : "cannot open");
        sqlite3_close(to);
        return rc;
    }
    /* a scratch copy: nothing is gained by syncing it to the disk */
    sqlite3_exec(to, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
    sqlite3_backup *b = sqlite3_backup_init(to, "main", ws->db, "main");
    if (!b) {
        rc = vg_fail(err, VG_EDB, "taking the snapshot: %s", sqlite3_errmsg(to));
    } else {
        int br, tries = 0;
        /* BUSY or LOCKED: another process is recovering the write-ahead log; the
         * step may be retried (the busy timeout is not consulted here) */
        while ((br = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || br == SQLITE_LOCKED) {
            if (++tries > 200)
                break;
            sqlite3_sleep(25);
        }
        int fr = sqlite3_backup_finish(b);
        if (br != SQLITE_DONE || fr != SQLITE_OK)
            rc = vg_fail(err, VG_EDB, "taking the snapshot: %s",
                         sqlite3_errstr(br != SQLITE_DONE ? br : fr));
    }
    if (rc == VG_OK &&
        sqlite3_exec(to, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
        rc = vg_fail(err, VG_EDB, "taking the snapshot: %s", sqlite3_errmsg(to));
    if (sqlite3_close(to) != SQLITE_OK && rc == VG_OK)
        rc = vg_fail(err, VG_EDB, "taking the snapshot: closing the copy");
    return rc;
}

/* The snapshot's op count and head, read from it as a workspace (which also
 * checks that it is one, schema and head record included). */
static vg_rc snapshot_state(const char *path, vg_backup_info *info, vg_err *err)
{
    vg_ws *ws = NULL;
    sqlite3_stmt *st = NULL;
    vg_rc rc = vg_ws_open(path, VG_OPEN_READONLY, &ws, err);
    if (rc == VG_OK)
        rc = vg_audit_head(ws, &info->head, err);
    if (rc == VG_OK) {
        if (sqlite3_prepare_v2(ws->db, "SELECT count(*) FROM ops", -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW)
            rc = ws_dberr(ws, err, "counting the snapshot's ops");
        else
            info->ops = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    vg_ws_close(ws);
    return rc;
}

static vg_rc lock_check(const vg_backup_lock *lock, unsigned long long *ops, size_t *mem,
                        vg_err *err)
{
    *ops = lock->ops ? lock->ops : VG_BACKUP_OPS;
    *mem = lock->mem ? lock->mem : VG_BACKUP_MEM;
    if (lock->to)
        return VG_OK;
    if (!lock->pass || lock->passlen == 0)
        return vg_fail(err, VG_EINVAL, "an empty passphrase");
    if (*ops < crypto_pwhash_OPSLIMIT_MIN || *ops > OPS_MAX || *mem < MEM_MIN || *mem > MEM_MAX)
        return vg_fail(err, VG_EINVAL, "Argon2id's cost out of range (%llu passes, %zu bytes)",
                       *ops, *mem);
    return VG_OK;
}

/* The header's text and the file key: random and sealed to lock->to, or derived
 * from the passphrase with a fresh salt. */
static vg_rc make_lock(const vg_backup_lock *lock, unsigned char key[SS_KEY], char *text,
                       size_t textsz, size_t *len, vg_err *err)
{
    unsigned long long ops;
    size_t mem;
    vg_rc rc = lock_check(lock, &ops, &mem, err);
    if (rc)
        return rc;
    int n;
    if (lock->to) {
        unsigned char sealed[VG_BACKUP_SEALED_KEY], fp[VG_FP_BYTES];
        char b64[sodium_base64_ENCODED_LEN(VG_BACKUP_SEALED_KEY, B64)], fpt[VG_FP_TEXT];
        crypto_secretstream_xchacha20poly1305_keygen(key);
        if (crypto_box_seal(sealed, key, SS_KEY, lock->to->box) != 0)
            return vg_fail(err, VG_EINVAL, "sealing the file key to %s", lock->to->name);
        sodium_bin2base64(b64, sizeof b64, sealed, sizeof sealed, B64);
        vg_pubkey_fp(lock->to, fp);
        vg_fp_format(fp, fpt);
        n = snprintf(text, textsz, "%s\nlock self %s %s\n\n", VG_BACKUP_MAGIC, fpt, b64);
    } else {
        unsigned char salt[VG_BACKUP_SALT];
        char b64[sodium_base64_ENCODED_LEN(VG_BACKUP_SALT, B64)];
        randombytes_buf(salt, sizeof salt);
        if (crypto_pwhash(key, SS_KEY, lock->pass, lock->passlen, salt, ops, mem,
                          crypto_pwhash_ALG_ARGON2ID13) != 0)
            return vg_fail(err, VG_EIO, "Argon2id could not have the %zu MiB it needs", mem >> 20);
        sodium_bin2base64(b64, sizeof b64, salt, sizeof salt, B64);
        n = snprintf(text, textsz, "%s\nlock passphrase argon2id %llu %zu %s\n\n", VG_BACKUP_MAGIC,
                     ops, mem, b64);
    }
    if (n < 0 || (size_t)n >= textsz)
        return vg_fail(err, VG_EINVAL, "the backup's header does not fit");
    *len = (size_t)n;
    return VG_OK;
}

/* Compress and seal the file open at fd into out, after the header text. */
static vg_rc seal_stream(int fd, FILE *out, const unsigned char key[SS_KEY], const char *text,
                         size_t len, vg_backup_info *info, vg_err *err)
{
    unsigned char ssh[SS_HEADER];
    size_t inN = ZSTD_CStreamInSize(), outN = ZSTD_CStreamOutSize();
    sink s = {.out = out, .ad = (const unsigned char *)text, .adlen = len};
    unsigned char *in = vg_xmalloc(inN), *zout = vg_xmalloc(outN);
    s.plain = vg_xmalloc(VG_BACKUP_CHUNK);
    s.sealed = vg_xmalloc(VG_BACKUP_SEALED);
    ZSTD_CCtx *zc = ZSTD_createCCtx();
    vg_rc rc = VG_OK;
    if (!zc || ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, ZLEVEL))) {
        rc = vg_fail(err, VG_EIO, "zstd: cannot make a compression context");
        goto out;
    }
    crypto_secretstream_xchacha20poly1305_init_push(&s.st, ssh, key);
    if (fwrite(text, 1, len, out) != len || fwrite(ssh, 1, sizeof ssh, out) != sizeof ssh) {
        rc = vg_fail(err, VG_EIO, "writing the backup: %s", strerror(errno));
        goto out;
    }
    s.written = len + sizeof ssh;
    for (;;) {
        ssize_t r = read(fd, in, inN);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = vg_fail(err, VG_EIO, "reading the snapshot: %s", strerror(errno));
            goto out;
        }
        info->plain += (uint64_t)r;
        ZSTD_EndDirective mode = r == 0 ? ZSTD_e_end : ZSTD_e_continue;
        ZSTD_inBuffer ib = {in, (size_t)r, 0};
        bool done;
        do {
            ZSTD_outBuffer ob = {zout, outN, 0};
            size_t left = ZSTD_compressStream2(zc, &ob, &ib, mode);
            if (ZSTD_isError(left)) {
                rc = vg_fail(err, VG_EIO, "zstd: %s", ZSTD_getErrorName(left));
                goto out;
            }
            if ((rc = sink_add(&s, zout, ob.pos, err)) != VG_OK)
                goto out;
            done = mode == ZSTD_e_end ? left == 0 : ib.pos == ib.size;
        } while (!done);
        if (r == 0)
            break;
    }
    if ((rc = sink_end(&s, err)) != VG_OK)
        goto out;
    if (fflush(out) != 0 || ferror(out))
        rc = vg_fail(err, VG_EIO, "writing the backup: %s", strerror(errno));
    info->sealed = s.written;
out:
    ZSTD_freeCCtx(zc);
    sodium_memzero(&s.st, sizeof s.st);
    sodium_memzero(s.plain, VG_BACKUP_CHUNK);
    free(s.plain);
    free(s.sealed);
    free(in);
    free(zout);
    return rc;
}

/* Remove a scratch copy and the journal SQLite may have left beside it. */
static void remove_scratch(const char *path)
{
    size_t n = strlen(path) + 16;
    char *j = vg_xmalloc(n);
    snprintf(j, n, "%s-journal", path);
    unlink(j);
    free(j);
    vg_ws_remove(path);
}

vg_rc vg_backup_write(vg_ws *ws, FILE *out, const vg_backup_lock *lock, const char *tmpdir,
                      vg_backup_info *info, vg_err *err)
{
    init();
    memset(info, 0, sizeof *info);
    if (ws->in_batch)
        return vg_fail(err, VG_EINVAL, "a backup is not taken inside a batch");
    unsigned long long ops;
    size_t mem;
    vg_rc rc = lock_check(lock, &ops, &mem, err);
    if (rc)
        return rc;
    if (!tmpdir || !*tmpdir)
        tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    size_t pn = strlen(tmpdir) + 32;
    char *tmp = vg_xmalloc(pn);
    snprintf(tmp, pn, "%s/vigil-backup-XXXXXX", tmpdir);
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) {
        rc = vg_fail(err, VG_EIO, "a temporary file in %s: %s", tmpdir, strerror(errno));
        free(tmp);
        return rc;
    }
    close(fd);
    fd = -1;
    unsigned char key[SS_KEY];
    char text[VG_BACKUP_HEADER_MAX];
    size_t len = 0;
    if ((rc = snapshot(ws, tmp, err)) != VG_OK || (rc = snapshot_state(tmp, info, err)) != VG_OK)
        goto out;
    /* from here the copy exists only as this descriptor */
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    remove_scratch(tmp);
    if ((rc = make_lock(lock, key, text, sizeof text, &len, err)) == VG_OK)
        rc = seal_stream(fd, out, key, text, len, info, err);
out:
    sodium_memzero(key, sizeof key);
    if (fd >= 0)
        close(fd);
    remove_scratch(tmp);
    free(tmp);
    return rc;
}

/* ---- restoring ------------------------------------------------------------------ */

/* The directory that holds path (a fresh string). */
static char *dir_of(const char *path)
{
    const char *sl = strrchr(path, '/');
    if (!sl)
        return vg_xstrdup(".");
    if (sl == path)
        return vg_xstrdup("/");
    return vg_xstrndup(path, (size_t)(sl - path));
}

static char *with_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *p = vg_xmalloc(n);
    snprintf(p, n, "%s%s", path, suffix);
    return p;
}

/* Does a process have the workspace at path open? Every SQLite connection to a
 * WAL database holds a read lock on one byte of its -shm file (the "dead man
 * switch", byte 128 of the unix VFS's lock range) from its first read until it
 * closes, which is how SQLite itself knows it is the first. vigil's workspaces are
 * WAL; a connection in rollback mode holds no lock while idle and is not seen. */
static bool in_use(const char *path)
{
    char *shm = with_suffix(path, "-shm");
    int fd = open(shm, O_RDONLY | O_CLOEXEC);
    free(shm);
    if (fd < 0)
        return false;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 128, .l_len = 1};
    bool busy = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return busy;
}

/* Where the restore may go: path's directory exists; a file at path only with
 * force, never a directory, a symbolic link or a workspace open elsewhere. */
static vg_rc check_target(const char *path, int flags, bool *exists, vg_err *err)
{
    char *dir = dir_of(path);
    struct stat sb;
    vg_rc rc = VG_OK;
    *exists = false;
    if (stat(dir, &sb) != 0)
        rc = vg_fail(err, VG_ENOTFOUND, "cannot restore to %s: its directory %s %s", path, dir,
                     errno == ENOENT ? "does not exist (make it first)" : strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        rc = vg_fail(err, VG_EINVAL, "cannot restore to %s: %s is not a directory", path, dir);
    else if (lstat(path, &sb) == 0) {
        *exists = true;
        if (S_ISDIR(sb.st_mode))
            rc = vg_fail(err, VG_EINVAL, "cannot restore to %s: it is a directory", path);
        else if (S_ISLNK(sb.st_mode))
            rc = vg_fail(err, VG_EINVAL,
                         "cannot restore to %s: it is a symbolic link (name the"
                         " file it points to)",
                         path);
        else if (!(flags & VG_RESTORE_FORCE))
            rc = vg_fail(err, VG_EEXIST,
                         "%s already exists; a restore never replaces it without"
                         " --force",
                         path);
        else if (in_use(path))
            rc = vg_fail(err, VG_EEXIST,
                         "%s is open in another process (the workstation, an"
                         " import, a sync?); close it before replacing it",
                         path);
    } else if (errno != ENOENT) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    }
    free(dir);
    return rc;
}

/* The file key, from the key set the header names or from the passphrase. */
static vg_rc unlock(const vg_backup_header *h, const vg_backup_key *key, unsigned char k[SS_KEY],
                    vg_err *err)
{
    if (h->kind == VG_LOCK_SELF) {
        char theirs[VG_FP_TEXT], mine[VG_FP_TEXT];
        unsigned char fp[VG_FP_BYTES];
        vg_fp_format(h->fp, theirs);
        if (!key->id)
            return vg_fail(err, VG_EINVAL, "sealed to %s: it opens with that key set alone",
                           theirs);
        vg_pubkey_fp(&key->id->pub, fp);
        vg_fp_format(fp, mine);
        if (sodium_memcmp(fp, h->fp, VG_FP_BYTES) != 0)
            return vg_fail(err, VG_EINVAL, "sealed to %s, not to your key %s", theirs, mine);
        if (crypto_box_seal_open(k, h->sealed, sizeof h->sealed, key->id->pub.box,
                                 key->id->box_sk) != 0)
            return vg_fail(err, VG_ECORRUPT,
                           "the file was altered: its sealed key does not open"
                           " with your key");
        return VG_OK;
    }
    if (!key->pass)
        return vg_fail(err, VG_EINVAL, "locked by a passphrase: give it");
    if (crypto_pwhash(k, SS_KEY, key->pass, key->passlen, h->salt, h->ops, h->mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return vg_fail(err, VG_EIO, "Argon2id could not have the %zu MiB it needs", h->mem >> 20);
    return VG_OK;
}

static vg_rc write_all(int fd, const unsigned char *p, size_t n, const char *path, vg_err *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return vg_fail(err, VG_EIO, "%s: %s", path, w < 0 ? strerror(errno) : "short write");
        p += w;
        n -= (size_t)w;
    }
    return VG_OK;
}

/* Open, decompress and write the chunks after the header into fd (at most cap
 * bytes), saying how the file is damaged when it is. */
static vg_rc unseal_stream(FILE *in, const char *where, const vg_backup_header *h,
                           const unsigned char k[SS_KEY], int fd, const char *tmp, uint64_t cap,
                           vg_backup_info *info, vg_err *err)
{
    crypto_secretstream_xchacha20poly1305_state st;
    unsigned char ssh[SS_HEADER];
    size_t outN = ZSTD_DStreamOutSize(), zret = 1;
    unsigned char *sealed = vg_xmalloc(VG_BACKUP_SEALED), *plain = vg_xmalloc(VG_BACKUP_CHUNK),
                  *zout = vg_xmalloc(outN);
    ZSTD_DCtx *dz = ZSTD_createDCtx();
    unsigned long long chunk = 0;
    bool final = false;
    vg_rc rc = VG_OK;
    info->sealed = h->len;
    size_t got = fread(ssh, 1, sizeof ssh, in);
    if (got < sizeof ssh) {
        rc = ferror(in) ? vg_fail(err, VG_EIO, "%s: %s", where, strerror(errno))
             : got == 0 ? vg_fail(err, VG_EINVAL, "%s: cut short: nothing after its header", where)
                        : vg_fail(err, VG_EINVAL,
                                  "%s: cut short: it ends %zu bytes after its"
                                  " header",
                                  where, got);
        goto out;
    }
    info->sealed += sizeof ssh;
    if (!dz || crypto_secretstream_xchacha20poly1305_init_pull(&st, ssh, k) != 0) {
        rc = vg_fail(err, VG_EIO, "%s: cannot start reading its stream", where);
        goto out;
    }
    while (!final) {
        got = fread(sealed, 1, VG_BACKUP_SEALED, in);
        if (got < VG_BACKUP_SEALED) {
            if (ferror(in))
                rc = vg_fail(err, VG_EIO, "%s: %s", where, strerror(errno));
            else if (got == 0 && chunk == 0)
                rc = vg_fail(err, VG_EINVAL, "%s: cut short: nothing after its header", where);
            else if (got == 0)
                rc = vg_fail(err, VG_EINVAL,
                             "%s: cut short: it ends after chunk %llu, before its"
                             " last chunk",
                             where, chunk);
            else
                rc = vg_fail(err, VG_EINVAL,
                             "%s: cut short: it ends %zu bytes into chunk %llu"
                             " (of %u)",
                             where, got, chunk + 1, VG_BACKUP_SEALED);
            goto out;
        }
        uint64_t at = info->sealed;
        chunk++;
        info->sealed += VG_BACKUP_SEALED;
        unsigned char tag = 0;
        unsigned long long plen = 0;
        if (crypto_secretstream_xchacha20poly1305_pull(
                &st, plain, &plen, &tag, sealed, VG_BACKUP_SEALED, chunk == 1 ? h->text : NULL,
                chunk == 1 ? h->len : 0) != 0) {
            if (chunk == 1 && h->kind == VG_LOCK_PASSPHRASE)
                rc = vg_fail(err, VG_ECORRUPT, "%s: wrong passphrase, or the file was altered",
                             where);
            else if (chunk == 1)
                rc = vg_fail(err, VG_ECORRUPT,
                             "%s: the file was altered: its header or first"
                             " chunk does not authenticate",
                             where);
            else
                rc = vg_fail(err, VG_ECORRUPT,
                             "%s: the file was altered: chunk %llu (bytes %llu"
                             " to %llu) does not authenticate",
                             where, chunk, (unsigned long long)at,
                             (unsigned long long)(at + VG_BACKUP_SEALED - 1));
            goto out;
        }
        size_t use = (size_t)plen;
        if (tag == TAG_FINAL) {
            final = true;
            if (sodium_unpad(&use, plain, plen, VG_BACKUP_CHUNK) != 0) {
                rc = vg_fail(err, VG_ECORRUPT, "%s: its last chunk is not padded as vigil pads it",
                             where);
                goto out;
            }
        } else if (tag != TAG_MESSAGE) {
            rc = vg_fail(err, VG_ECORRUPT, "%s: chunk %llu has a tag vigil does not write", where,
                         chunk);
            goto out;
        }
        ZSTD_inBuffer ib = {plain, use, 0};
        ZSTD_outBuffer ob;
        /* an empty last chunk after a frame that ended with the one before: nothing
         * to ask zstd (which would only say how much the next frame's header needs) */
        if (use == 0 && zret == 0)
            continue;
        do {
            ob = (ZSTD_outBuffer){zout, outN, 0};
            zret = ZSTD_decompressStream(dz, &ob, &ib);
            if (ZSTD_isError(zret)) {
                rc = vg_fail(err, VG_ECORRUPT, "%s: its compressed data is damaged (%s)", where,
                             ZSTD_getErrorName(zret));
                goto out;
            }
            if (ob.pos > cap - info->plain) {
                rc = vg_fail(err, VG_EINVAL,
                             "%s: the workspace it holds is larger than %llu"
                             " bytes (the free space where it goes, or the"
                             " 64 GiB cap)",
                             where, (unsigned long long)cap);
                goto out;
            }
            if ((rc = write_all(fd, zout, ob.pos, tmp, err)) != VG_OK)
                goto out;
            info->plain += ob.pos;
        } while (ib.pos < ib.size || ob.pos == ob.size);
    }
    if (zret != 0)
        rc = vg_fail(err, VG_ECORRUPT, "%s: its compressed data ends early", where);
    else if (getc(in) != EOF)
        rc = vg_fail(err, VG_ECORRUPT, "%s: the file was altered: bytes follow its last chunk",
                     where);
    else if (ferror(in))
        rc = vg_fail(err, VG_EIO, "%s: %s", where, strerror(errno));
out:
    sodium_memzero(&st, sizeof st);
    sodium_memzero(plain, VG_BACKUP_CHUNK);
    ZSTD_freeDCtx(dz);
    free(sealed);
    free(plain);
    free(zout);
    return rc;
}

/* Open the restored file as a workspace and check all of it. */
static vg_rc check_restored(const char *tmp, vg_backup_info *info, vg_err *err)
{
    vg_ws *ws = NULL;
    sqlite3_stmt *st = NULL;
    vg_err e = {0};
    int64_t count = 0, bad = 0, entries = 0;
    vg_rc rc = vg_ws_open(tmp, 0, &ws, &e);
    if (rc) {
        vg_fail(err, rc, "what it holds is not a workspace this vigil opens: %s", e.msg);
        return rc;
    }
    if (sqlite3_prepare_v2(ws->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = ws_dberr(ws, err, "integrity_check");
    } else {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (!r || strcmp(r, "ok") != 0)
            rc = vg_fail(err, VG_ECORRUPT, "integrity_check of what it holds: %.300s",
                         r ? r : "no answer");
    }
    sqlite3_finalize(st);
    if (rc == VG_OK && (rc = vg_audit_verify(ws, NULL, &count, &bad, &e)) != VG_OK)
        vg_fail(err, rc, "audit verify of what it holds: %s", e.msg);
    if (rc == VG_OK && (rc = vg_ledger_verify(ws, &entries, &bad, &e)) != VG_OK)
        vg_fail(err, rc, "the copilot ledger of what it holds: %s", e.msg);
    if (rc == VG_OK)
        rc = vg_audit_head(ws, &info->head, err);
    info->ops = count;
    vg_ws_close(ws);
    /* the last connection closed folds its log into the file and removes it; only
     * the file is renamed into place, so a log left here would be lost */
    struct stat sb;
    char *wal = with_suffix(tmp, "-wal");
    if (rc == VG_OK && stat(wal, &sb) == 0 && sb.st_size > 0)
        rc = vg_fail(err, VG_EIO, "%s: its write-ahead log was not folded into it", tmp);
    free(wal);
    return rc;
}

static vg_rc unlink_side(const char *path, const char *suffix, vg_err *err)
{
    char *p = with_suffix(path, suffix);
    vg_rc rc = VG_OK;
    if (unlink(p) != 0 && errno != ENOENT)
        rc = vg_fail(err, VG_EIO, "removing %s: %s", p, strerror(errno));
    free(p);
    return rc;
}

/* Copy what an old workspace's -wal holds into it (best effort: it may not be a
 * database at all), so that removing the -wal loses nothing of it should the
 * rename that replaces it then fail. Closing the last connection removes the -wal. */
static void checkpoint_old(const char *path)
{
    char *wal = with_suffix(path, "-wal");
    bool has = access(wal, F_OK) == 0;
    free(wal);
    sqlite3 *db = NULL;
    if (has && sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* Put tmp at path: over a file there only with force (its -wal and -shm removed
 * first: a log left beside the new file would be replayed into it); without,
 * link() so that a file that appeared meanwhile is never replaced. */
static vg_rc put_in_place(const char *tmp, const char *path, int flags, vg_err *err)
{
    vg_rc rc;
    bool exists = false;
    if ((rc = check_target(path, flags, &exists, err)) != VG_OK)
        return rc;
    if (exists)
        checkpoint_old(path);
    if ((rc = unlink_side(path, "-wal", err)) != VG_OK ||
        (rc = unlink_side(path, "-shm", err)) != VG_OK)
        return rc;
    if (flags & VG_RESTORE_FORCE) {
        if (rename(tmp, path) != 0)
            return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        return VG_OK;
    }
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return VG_OK;
    }
    if (errno == EEXIST)
        return vg_fail(err, VG_EEXIST, "%s appeared while restoring; not replacing it", path);
    /* a file system without hard links (FAT on a stick): the check above, then rename */
    if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EMLINK) {
        struct stat sb;
        if (lstat(path, &sb) == 0)
            return vg_fail(err, VG_EEXIST, "%s appeared while restoring; not replacing it", path);
        if (rename(tmp, path) == 0)
            return VG_OK;
    }
    return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
}

static void sync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

vg_rc vg_backup_restore(FILE *in, const char *where, const vg_backup_header *h,
                        const vg_backup_key *key, const char *path, int flags, vg_backup_info *info,
                        vg_err *err)
{
    init();
    memset(info, 0, sizeof *info);
    bool exists = false;
    vg_rc rc = check_target(path, flags, &exists, err);
    if (rc)
        return rc;
    unsigned char k[SS_KEY];
    if ((rc = unlock(h, key, k, err)) != VG_OK) {
        sodium_memzero(k, sizeof k);
        return rc;
    }
    uint64_t cap = VG_BACKUP_PLAIN_MAX;
    char *dir = dir_of(path), *tmp = with_suffix(path, ".restore-tmp");
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < cap)
        cap = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    free(dir);
    vg_ws_remove(tmp); /* one a restore killed before left */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    rc = unseal_stream(in, where, h, k, fd, tmp, cap, info, err);
    if (rc == VG_OK && fsync(fd) != 0)
        rc = vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == VG_OK)
        rc = vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
    if (rc == VG_OK)
        rc = check_restored(tmp, info, err);
    if (rc == VG_OK) {
        /* what the checks' connection wrote back (the journal mode) is on disk too */
        fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
        rc = put_in_place(tmp, path, flags, err);
    }
    if (rc == VG_OK)
        sync_dir(path);
out:
    sodium_memzero(k, sizeof k);
    if (rc)
        vg_ws_remove(tmp);
    free(tmp);
    return rc;
}
