/*
 * test_evidence.c — the evidence register (evidence.c and the door's evidence.add
 * and evidence.custody): types by magic bytes, an add whose op the door refuses
 * leaving no blob, the content checked on every read (a changed, missing or never
 * held item told apart), blobs stored only under their true hash, the door's
 * validation of received ops, and a replay making the same register and chains.
 */
#include "helpers.h"
#include "vigil/evidence.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* Files under dir, recursively (directories not counted). */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = path_in(dir, e->d_name);
        struct stat sb;
        if (stat(p, &sb) == 0)
            n += S_ISDIR(sb.st_mode) ? count_files(p) : 1;
        free(p);
    }
    closedir(d);
    return n;
}

static void test_sniff(void **state)
{
    (void)state;
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"%PDF-1.7", 8), "pdf");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"PK\x03\x04zz", 6), "zip");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"MZ\x90", 3), "pe");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"\177ELF\2", 5), "elf");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"\xd4\xc3\xb2\xa1", 4), "pcap");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"ElfFile\0", 8), "evtx");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"From: a@b\n", 10), "email");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"plain words\n", 12), "text");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"caf\xc3\xa9", 5), "text");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"\x01\x02\x00\xff", 4), "data");
    assert_string_equal(vg_evidence_sniff((const unsigned char *)"", 0), "empty");
    unsigned char mbr[512] = {0};
    mbr[0] = 0xeb;
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    assert_string_equal(vg_evidence_sniff(mbr, sizeof mbr), "disk");
    unsigned char tar[600] = {0};
    memcpy(tar + 257, "ustar", 5);
    assert_string_equal(vg_evidence_sniff(tar, sizeof tar), "tar");
}

static void test_add_get_check(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *db = path_in(dir, "ws.db"), *f = path_in(dir, "mail.eml");
    vg_ws *ws = open_ws(db, "alice");
    vg_id c;
    new_case(ws, "phish", "high", c);
    write_file(f, "From: x@evil.example\n\nhello", 27);
    vg_evidence e;
    vg_err err = {0};
    assert_int_equal(vg_evidence_add(ws, c, f, NULL, "the mail", false, &e, &err), VG_OK);
    assert_string_equal(e.name, "mail.eml");
    assert_string_equal(e.type, "email");
    assert_int_equal(e.size, 27);
    assert_null(e.path);
    assert_string_equal(e.added_by, "alice");
    assert_true(vg_evidence_present(ws, &e));
    /* the blob is the file, 0600, at its hash's name */
    char *blob = vg_evidence_blob_path(ws, e.sha256);
    struct stat sb;
    assert_int_equal(stat(blob, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 27);

    char seen[65];
    const char *result;
    assert_int_equal(vg_evidence_check(ws, &e, seen, &result, &err), VG_OK);
    assert_string_equal(result, "ok");
    assert_string_equal(seen, e.sha256);
    /* written out whole, and refused once the blob is altered */
    char *out = path_in(dir, "out");
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(vg_evidence_write(ws, &e, fd, &err), VG_OK);
    close(fd);
    assert_int_equal(stat(out, &sb), 0);
    assert_int_equal(sb.st_size, 27);
    chmod(blob, 0600);
    write_file(blob, "From: x@evil.example\n\nHELLO", 27);
    fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(vg_evidence_write(ws, &e, fd, &err), VG_ECORRUPT);
    close(fd);
    assert_non_null(strstr(err.msg, "changed since it was added"));
    assert_int_equal(vg_evidence_check(ws, &e, seen, &result, &err), VG_OK);
    assert_string_equal(result, "changed");
    unlink(blob);
    assert_int_equal(vg_evidence_check(ws, &e, seen, &result, &err), VG_OK);
    assert_string_equal(result, "missing"); /* this workspace held it */

    /* the chain: the add, then what is recorded */
    assert_int_equal(vg_evidence_record(ws, &e, "verify", seen, "missing", NULL, &err), VG_OK);
    vg_custody *cu;
    size_t n;
    assert_int_equal(vg_evidence_custody(ws, e.id, &cu, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(cu[0].action, "add");
    assert_string_equal(cu[0].sha256, e.sha256);
    assert_string_equal(cu[1].action, "verify");
    assert_string_equal(cu[1].result, "missing");
    vg_custody_free(cu, n);

    /* found by a prefix, in any case; too short or unknown refused */
    vg_evidence g;
    char pre[9];
    snprintf(pre, sizeof pre, "%.8s", e.id);
    for (char *p = pre; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    assert_int_equal(vg_evidence_find(ws, pre, &g, &err), VG_OK);
    assert_string_equal(g.id, e.id);
    vg_evidence_clear(&g);
    assert_int_equal(vg_evidence_find(ws, "01", &g, &err), VG_EINVAL);
    assert_int_equal(vg_evidence_find(ws, "ZZZZZZZZ", &g, &err), VG_ENOTFOUND);

    /* a blob is stored only under its true hash */
    assert_int_equal(vg_evidence_store(ws, e.sha256, "other bytes", 11, &err), VG_ECORRUPT);
    assert_int_equal(vg_evidence_store(ws, e.sha256, "From: x@evil.example\n\nhello", 27, &err),
                     VG_OK);
    assert_int_equal(vg_evidence_check(ws, &e, seen, &result, &err), VG_OK);
    assert_string_equal(result, "ok");

    vg_evidence_clear(&e);
    free(blob);
    free(out);
    vg_ws_close(ws);
    free(db);
    free(f);
    rm_tree(dir);
}

/* An add the door refuses (an unknown case, a description over its cap) leaves no
 * register entry and no blob, under its hash's name or a temporary one. */
static void test_refused_add_leaves_nothing(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *db = path_in(dir, "ws.db"), *f = path_in(dir, "a.bin");
    vg_ws *ws = open_ws(db, "alice");
    vg_id c, nocase;
    new_case(ws, "c", "low", c);
    vg_ulid(vg_now_ms(), nocase);
    write_file(f, "\x01\x02\x03", 3);
    vg_err err = {0};
    assert_int_equal(vg_evidence_add(ws, nocase, f, NULL, NULL, false, NULL, &err), VG_ENOTFOUND);
    size_t big = (1u << 20) + 1;
    char *desc = malloc(big + 1);
    memset(desc, 'd', big);
    desc[big] = '\0';
    assert_int_equal(vg_evidence_add(ws, c, f, NULL, desc, false, NULL, &err), VG_EINVAL);
    free(desc);
    char *store = vg_evidence_dir(ws);
    assert_int_equal(count_files(store), 0);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM evidence"), 0);
    /* a directory and a missing file are refused before anything is made */
    assert_int_equal(vg_evidence_add(ws, c, dir, NULL, NULL, false, NULL, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "is a directory"));
    char *gone = path_in(dir, "gone");
    assert_int_equal(vg_evidence_add(ws, c, gone, NULL, NULL, false, NULL, &err), VG_ENOTFOUND);
    assert_int_equal(count_files(store), 0);
    free(gone);
    free(store);
    vg_ws_close(ws);
    free(db);
    free(f);
    rm_tree(dir);
}

/* Received ops: validated like local ones; an item whose content never came is
 * "absent", not "missing"; the register and chains replay to the same tables. */
static void test_received_and_replay(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *a = path_in(dir, "a.db"), *b = path_in(dir, "b.db");
    char *f = path_in(dir, "ref.dd"), *scratch = path_in(dir, "replay.db");
    vg_ws *wa = open_ws(a, "alice"), *wb = open_ws(b, "bob");
    vg_id c;
    new_case(wa, "c", "low", c);
    write_file(f, "disk image", 10);
    vg_evidence e, r;
    vg_err err = {0};
    assert_int_equal(vg_evidence_add(wa, c, f, "mail", NULL, false, &e, &err), VG_OK);
    assert_int_equal(vg_evidence_add(wa, c, f, NULL, NULL, true, &r, &err), VG_OK);
    assert_non_null(r.path);
    assert_int_equal(vg_evidence_record(wa, &e, "access", e.sha256, "ok", "to a pipe", &err),
                     VG_OK);
    copy_ops(wa, wb, "ORDER BY seq");
    assert_int_equal(sql_int(wb, "SELECT count(*) FROM evidence"), 2);
    assert_int_equal(sql_int(wb, "SELECT count(*) FROM custody"), 3);
    char seen[65];
    const char *result;
    assert_int_equal(vg_evidence_check(wb, &e, seen, &result, &err), VG_OK);
    assert_string_equal(result, "absent");
    char da[65], db_[65];
    assert_int_equal(vg_ws_digest(wa, da, &err), VG_OK);
    assert_int_equal(vg_ws_digest(wb, db_, &err), VG_OK);
    assert_string_equal(da, db_);
    int64_t ops;
    assert_int_equal(vg_audit_replay_check(wa, scratch, &ops, &err), VG_OK);

    /* bad payloads are refused naming the field */
    vg_op *op = vg_op_new("evidence.add", NULL);
    cJSON_AddStringToObject(op->payload, "case", c);
    cJSON_AddStringToObject(op->payload, "name", "x");
    cJSON_AddStringToObject(op->payload, "type", "data");
    cJSON_AddNumberToObject(op->payload, "size", 1);
    cJSON_AddStringToObject(op->payload, "sha256", "ABC");
    assert_non_null(strstr(must_fail(wa, op, VG_EINVAL), "sha256"));
    op = vg_op_new("evidence.add", NULL);
    cJSON_AddStringToObject(op->payload, "case", c);
    cJSON_AddStringToObject(op->payload, "name", "x");
    cJSON_AddStringToObject(op->payload, "type", "\x1b[31mred");
    cJSON_AddNumberToObject(op->payload, "size", 1);
    cJSON_AddStringToObject(op->payload, "sha256", e.sha256);
    cJSON_AddStringToObject(op->payload, "sha1", e.sha1);
    cJSON_AddStringToObject(op->payload, "md5", e.md5);
    cJSON_AddStringToObject(op->payload, "stored", "copy");
    assert_non_null(strstr(must_fail(wa, op, VG_EINVAL), "type"));
    op = vg_op_new("evidence.custody", e.id);
    cJSON_AddStringToObject(op->payload, "case", c);
    cJSON_AddStringToObject(op->payload, "action", "shred");
    assert_non_null(strstr(must_fail(wa, op, VG_EINVAL), "action"));
    vg_id other;
    new_case(wa, "other", "low", other);
    op = vg_op_new("evidence.custody", e.id);
    cJSON_AddStringToObject(op->payload, "case", other);
    cJSON_AddStringToObject(op->payload, "action", "access");
    assert_non_null(strstr(must_fail(wa, op, VG_ENOTFOUND), "not on case"));

    vg_evidence_clear(&e);
    vg_evidence_clear(&r);
    vg_ws_close(wa);
    vg_ws_close(wb);
    free(a);
    free(b);
    free(f);
    free(scratch);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_add_get_check),
        cmocka_unit_test(test_refused_add_leaves_nothing),
        cmocka_unit_test(test_received_and_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
