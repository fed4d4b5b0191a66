/*
 * test_backup.c — the backup format (vigil/backup.h): the clear header parsed
 * strictly, each damaged form refused with a message naming what is wrong (and no
 * cost a changed header could inflate), and in process a round trip to a key set
 * and by passphrase, the header bound to the first chunk (its bytes changed while
 * its lock still parses the same fails), a chunk moved, and another key set's file.
 */
#include "helpers.h"

#include <sodium.h>
#include <sys/stat.h>

#include "vigil/backup.h"
#include "vigil/keys.h"

/* ---- the header ----------------------------------------------------------------- */

#define FP "vk1:0123-4567-89ab-cdef-0123-4567-89ab-cdef"
/* 80 bytes of base64 (a sealed key's length) and 16 (a salt's) */
#define KEY80                                                                                      \
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNE" \
    "RUZHSElKS0xNTk8="
#define SALT16 "AAECAwQFBgcICQoLDA0ODw=="

static void test_header_good(void **state)
{
    (void)state;
    const char *self = "vigil-backup 1\nlock self " FP " " KEY80 "\n\n\x01\x02 binary";
    vg_backup_header h;
    vg_err err = {0};
    size_t used = 0;
    assert_int_equal(vg_backup_header_parse(self, strlen(self), false, &used, &h, &err), VG_OK);
    assert_int_equal(h.kind, VG_LOCK_SELF);
    assert_int_equal(used, strlen(self) - strlen("\x01\x02 binary"));
    assert_int_equal(h.len, used);
    assert_memory_equal(h.text, self, used);
    char fp[VG_FP_TEXT];
    vg_fp_format(h.fp, fp);
    assert_string_equal(fp, FP);
    assert_int_equal(h.sealed[0], 0);
    assert_int_equal(h.sealed[79], 79);

    const char *pass = "vigil-backup 1\nlock passphrase argon2id 3 268435456 " SALT16 "\n\n";
    assert_int_equal(vg_backup_header_parse(pass, strlen(pass), true, &used, &h, &err), VG_OK);
    assert_int_equal(h.kind, VG_LOCK_PASSPHRASE);
    assert_int_equal(h.ops, 3);
    assert_int_equal(h.mem, 268435456);
    assert_int_equal(h.salt[15], 15);
    assert_int_equal(used, strlen(pass));
}

static void test_header_damaged(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool eof;
        const char *want;
    } bad[] = {
        {"", true, "an empty file"},
        {"SQLite format 3", false, "not a vigil backup"},
        {"vigil-backu", true, "cut short: the file ends inside its header"},
        {"vigil-backup 1\nlock self " FP, true, "cut short: the file ends inside its header"},
        {"vigil-backup 2\nlock self " FP " " KEY80 "\n\n", false, "of format 2, which this vigil"},
        {"vigil-backup one\n\n", false, "not a vigil backup"},
        {"vigil-backup 1 \nlock self " FP " " KEY80 "\n\n", false, "not a vigil backup"},
        {"vigil-backup 1\n\n", false, "has no lock line"},
        {"vigil-backup 1\nunlock self " FP " " KEY80 "\n\n", false, "has no lock line"},
        {"vigil-backup 1\nlock self " FP "\n\n", false, "'lock self' takes a fingerprint"},
        {"vigil-backup 1\nlock self " FP " " KEY80 " more\n\n", false, "'lock self' takes"},
        {"vigil-backup 1\nlock self " FP " " KEY80 " \n\n", false, "single spaces"},
        {"vigil-backup 1\nlock  self " FP " " KEY80 "\n\n", false, "single spaces"},
        {"vigil-backup 1\nlock self VK1:0123-4567-89ab-cdef-0123-4567-89ab-cdef " KEY80 "\n\n",
         false, "is not a key's fingerprint"},
        {"vigil-backup 1\nlock self vk1:0123-4567-89AB-cdef-0123-4567-89ab-cdef " KEY80 "\n\n",
         false, "is not a key's fingerprint"},
        {"vigil-backup 1\nlock self vk1:0123-4567-89ab-cdef-0123-4567-89ab-cde " KEY80 "\n\n",
         false, "is not a key's fingerprint"},
        {"vigil-backup 1\nlock self " FP " " SALT16 "\n\n", false, "sealed key is not 80 bytes"},
        {"vigil-backup 1\nlock self " FP " " KEY80 "=\n\n", false, "sealed key is not 80 bytes"},
        {"vigil-backup 1\nlock self " FP " " KEY80 "\nlock self " FP " " KEY80 "\n\n", false,
         "more than one line"},
        {"vigil-backup 1\nlock self " FP " " KEY80 "\r\n\n", false, "not printable text"},
        {"vigil-backup 1\nlock seal " FP " " KEY80 "\n\n", false, "a lock of kind 'seal'"},
        {"vigil-backup 1\nlock passphrase scrypt 3 268435456 " SALT16 "\n\n", false,
         "takes argon2id"},
        {"vigil-backup 1\nlock passphrase argon2id 3 268435456\n\n", false, "takes argon2id"},
        {"vigil-backup 1\nlock passphrase argon2id 0 268435456 " SALT16 "\n\n", false,
         "passes '0' are not"},
        {"vigil-backup 1\nlock passphrase argon2id 03 268435456 " SALT16 "\n\n", false,
         "passes '03' are not"},
        {"vigil-backup 1\nlock passphrase argon2id 17 268435456 " SALT16 "\n\n", false,
         "passes '17' are not"},
        {"vigil-backup 1\nlock passphrase argon2id 3 -268435456 " SALT16 "\n\n", false,
         "memory '-268435456' is not"},
        {"vigil-backup 1\nlock passphrase argon2id 3 2684354560 " SALT16 "\n\n", false,
         "memory '2684354560' is not"},
        {"vigil-backup 1\nlock passphrase argon2id 3 99999999999999999999 " SALT16 "\n\n", false,
         "is not a number of bytes"},
        {"vigil-backup 1\nlock passphrase argon2id 3 4096 " SALT16 "\n\n", false,
         "memory '4096' is not"},
        {"vigil-backup 1\nlock passphrase argon2id 3 268435456 " KEY80 "\n\n", false,
         "salt is not 16 bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vg_backup_header h;
        vg_err err = {0};
        size_t used = 7;
        vg_rc rc =
            vg_backup_header_parse(bad[i].text, strlen(bad[i].text), bad[i].eof, &used, &h, &err);
        if (rc == VG_OK || !strstr(err.msg, bad[i].want))
            fail_msg("header %zu: rc %d, '%s' (wanted '%s')", i, rc, err.msg, bad[i].want);
        assert_int_equal(used, 0);
    }
    /* a header that does not end within its cap, a NUL inside one */
    char big[VG_BACKUP_HEADER_MAX + 8];
    memset(big, 'x', sizeof big);
    memcpy(big, "vigil-backup 1\nlock ", 20);
    vg_backup_header h;
    vg_err err = {0};
    size_t used;
    assert_int_equal(vg_backup_header_parse(big, sizeof big, false, &used, &h, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "does not end within 512 bytes"));
    const char nul[] = "vigil-backup 1\nlock self \0" FP " " KEY80 "\n\n";
    assert_int_equal(vg_backup_header_parse(nul, sizeof nul - 1, false, &used, &h, &err),
                     VG_EINVAL);
    assert_non_null(strstr(err.msg, "not printable"));
}

/* ---- in process ------------------------------------------------------------------ */

typedef struct fixture {
    char *dir, *db, *file;
    vg_ws *ws;
    vg_identity alice, bob;
    char digest[65];
} fixture;

/* A workspace whose notes are random text, so that its backup is several chunks. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tmp_dir();
    f->db = path_in(f->dir, "ws.db");
    f->file = path_in(f->dir, "ws.backup");
    f->ws = open_ws(f->db, "alice");
    vg_identity_new("alice", &f->alice);
    vg_identity_new("bob", &f->bob);
    for (int i = 0; i < 40; i++) {
        vg_op *op = vg_op_case_create("a case", "high", NULL);
        char id[27];
        snprintf(id, sizeof id, "%s", op->target);
        must_apply(f->ws, op);
        for (int j = 0; j < 5; j++) {
            unsigned char r[900];
            char text[1300];
            randombytes_buf(r, sizeof r);
            sodium_bin2base64(text, sizeof text, r, sizeof r, sodium_base64_VARIANT_ORIGINAL);
            must_apply(f->ws, vg_op_note_add(id, text));
        }
    }
    vg_err err = {0};
    assert_int_equal(vg_ws_digest(f->ws, f->digest, &err), VG_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    vg_ws_close(f->ws);
    vg_identity_wipe(&f->alice);
    vg_identity_wipe(&f->bob);
    rm_tree(f->dir);
    free(f->db);
    free(f->file);
    free(f);
    return 0;
}

static void write_backup(fixture *f, const vg_backup_lock *lock, vg_backup_info *info)
{
    FILE *out = fopen(f->file, "wb");
    vg_err err = {0};
    assert_non_null(out);
    if (vg_backup_write(f->ws, out, lock, f->dir, info, &err) != VG_OK)
        fail_msg("backup: %s", err.msg);
    fclose(out);
}

/* Restore file to path with key: the rc, and the message in err. */
static vg_rc restore(const char *file, const vg_backup_key *key, const char *path,
                     vg_backup_header *changed, vg_backup_info *info, vg_err *err)
{
    vg_backup_header h;
    FILE *in = fopen(file, "rb");
    assert_non_null(in);
    vg_rc rc = vg_backup_read_header(in, "the file", &h, err);
    if (rc == VG_OK && changed) {
        memcpy(changed->text, h.text, h.len);
        changed->len = h.len;
        /* the test's change to the header's bytes, its parsed lock left as it was */
        h.text[3] ^= 0x20;
    }
    if (rc == VG_OK)
        rc = vg_backup_restore(in, "the file", &h, key, path, 0, info, err);
    fclose(in);
    return rc;
}

static void same_state(const char *path, const char *digest)
{
    vg_ws *ws = open_ws(path, "x");
    char d[65];
    vg_err err = {0};
    assert_int_equal(vg_ws_digest(ws, d, &err), VG_OK);
    assert_string_equal(d, digest);
    vg_ws_close(ws);
}

static void test_round_trip_self(void **state)
{
    fixture *f = *state;
    vg_backup_lock lock = {.to = &f->alice.pub};
    vg_backup_info wrote, read;
    write_backup(f, &lock, &wrote);
    struct stat sb;
    assert_int_equal(stat(f->file, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, wrote.sealed);
    assert_true(wrote.sealed > 3 * VG_BACKUP_SEALED);
    assert_int_equal(wrote.ops, 240);
    /* the scratch snapshot is gone */
    char *scratch = path_in(f->dir, "vigil-backup-*");
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "ls %s >/dev/null 2>&1", scratch);
    assert_int_not_equal(system(cmd), 0);
    free(scratch);

    char *to = path_in(f->dir, "r.db");
    vg_backup_key key = {.id = &f->alice};
    vg_err err = {0};
    if (restore(f->file, &key, to, NULL, &read, &err) != VG_OK)
        fail_msg("restore: %s", err.msg);
    assert_int_equal(read.plain, wrote.plain);
    assert_int_equal(read.sealed, wrote.sealed);
    assert_int_equal(read.ops, wrote.ops);
    assert_int_equal(read.head.seq, wrote.head.seq);
    assert_memory_equal(read.head.hash, wrote.head.hash, 32);
    same_state(to, f->digest);
    /* again over it: refused without force, and nothing left beside it */
    assert_int_equal(restore(f->file, &key, to, NULL, &read, &err), VG_EEXIST);
    char *tmp = path_in(f->dir, "r.db.restore-tmp");
    assert_int_not_equal(access(tmp, F_OK), 0);
    free(tmp);
    free(to);
}

static void test_header_bound(void **state)
{
    fixture *f = *state;
    vg_backup_lock lock = {.to = &f->alice.pub};
    vg_backup_info info;
    write_backup(f, &lock, &info);
    char *to = path_in(f->dir, "bound.db");
    vg_backup_key key = {.id = &f->alice};
    vg_backup_header was;
    vg_err err = {0};
    assert_int_equal(restore(f->file, &key, to, &was, &info, &err), VG_ECORRUPT);
    assert_non_null(strstr(err.msg, "its header or first chunk does not authenticate"));
    assert_int_not_equal(access(to, F_OK), 0);
    /* bob cannot open alice's */
    vg_backup_key bob = {.id = &f->bob};
    assert_int_equal(restore(f->file, &bob, to, NULL, &info, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "not to your key vk1:"));
    free(to);
}

static void test_chunks_moved(void **state)
{
    fixture *f = *state;
    vg_backup_lock lock = {.to = &f->alice.pub};
    vg_backup_info info;
    write_backup(f, &lock, &info);
    /* swap chunks 2 and 3: each authenticates alone, not in that place */
    FILE *io = fopen(f->file, "r+b");
    assert_non_null(io);
    vg_backup_header h;
    vg_err err = {0};
    assert_int_equal(vg_backup_read_header(io, "f", &h, &err), VG_OK);
    long c2 = (long)(h.len + 24 + VG_BACKUP_SEALED);
    unsigned char *a = malloc(VG_BACKUP_SEALED), *b = malloc(VG_BACKUP_SEALED);
    assert_int_equal(fseek(io, c2, SEEK_SET), 0);
    assert_int_equal(fread(a, 1, VG_BACKUP_SEALED, io), VG_BACKUP_SEALED);
    assert_int_equal(fread(b, 1, VG_BACKUP_SEALED, io), VG_BACKUP_SEALED);
    assert_int_equal(fseek(io, c2, SEEK_SET), 0);
    assert_int_equal(fwrite(b, 1, VG_BACKUP_SEALED, io), VG_BACKUP_SEALED);
    assert_int_equal(fwrite(a, 1, VG_BACKUP_SEALED, io), VG_BACKUP_SEALED);
    fclose(io);
    free(a);
    free(b);
    char *to = path_in(f->dir, "moved.db");
    vg_backup_key key = {.id = &f->alice};
    assert_int_equal(restore(f->file, &key, to, NULL, &info, &err), VG_ECORRUPT);
    assert_non_null(strstr(err.msg, "chunk 2"));
    assert_int_not_equal(access(to, F_OK), 0);
    free(to);
}

static void test_passphrase(void **state)
{
    fixture *f = *state;
    /* a cheap cost: the test is of the format, not of Argon2id */
    vg_backup_lock lock = {.pass = "correct horse", .passlen = 13, .ops = 1, .mem = 65536};
    vg_backup_info info;
    write_backup(f, &lock, &info);
    char *to = path_in(f->dir, "p.db");
    vg_backup_key wrong = {.pass = "correct horsf", .passlen = 13};
    vg_err err = {0};
    assert_int_equal(restore(f->file, &wrong, to, NULL, &info, &err), VG_ECORRUPT);
    assert_non_null(strstr(err.msg, "wrong passphrase, or the file was altered"));
    vg_backup_key none = {0};
    assert_int_equal(restore(f->file, &none, to, NULL, &info, &err), VG_EINVAL);
    vg_backup_key key = {.pass = "correct horse", .passlen = 13};
    if (restore(f->file, &key, to, NULL, &info, &err) != VG_OK)
        fail_msg("restore: %s", err.msg);
    same_state(to, f->digest);
    /* the refusals of a lock */
    vg_backup_lock empty = {.pass = "", .passlen = 0};
    FILE *out = fopen(f->file, "wb");
    assert_int_equal(vg_backup_write(f->ws, out, &empty, f->dir, &info, &err), VG_EINVAL);
    vg_backup_lock costly = {.pass = "x", .passlen = 1, .ops = 100};
    assert_int_equal(vg_backup_write(f->ws, out, &costly, f->dir, &info, &err), VG_EINVAL);
    fclose(out);
    free(to);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_good),
        cmocka_unit_test(test_header_damaged),
        cmocka_unit_test_setup_teardown(test_round_trip_self, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunks_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passphrase, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
