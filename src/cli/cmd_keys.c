/*
 * cmd_keys.c — `vigil keygen` and `vigil key show|trust|ls|rm`: the analyst's own
 * key set and the colleagues' keys they trust (vigil/keys.h), and the loaders the
 * bundle, backup and pack commands share.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "paths.h"
#include "vigil/keys.h"

#define KEYFILE_MAX (1u << 20)

/* The file at path into b (capped), or VG_ENOTFOUND when it is not there. */
static vg_rc read_small(const char *path, vg_buf *b, vg_err *err)
{
    vg_buf_init(b, KEYFILE_MAX);
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_fail(err, errno == ENOENT ? VG_ENOTFOUND : VG_EIO, "%s: %s", path,
                       strerror(errno));
    vg_rc rc = vg_buf_read_file(b, f, path, err);
    fclose(f);
    return rc;
}

/* The identity file's text parsed into out; rc and err say why not. */
static vg_rc identity_load(vg_identity *out, char **path_out, vg_err *err)
{
    char *path = paths_identity();
    vg_buf b;
    vg_rc rc = read_small(path, &b, err);
    struct stat sb;
    if (rc == VG_ENOTFOUND)
        rc = vg_fail(err, VG_ENOTFOUND, "you have no key set yet (%s): `vigil keygen` makes one",
                     path);
    else if (rc == VG_OK && stat(path, &sb) == 0 && (sb.st_mode & 077))
        rc = vg_fail(err, VG_EINVAL, "%s can be read by others (mode %03o); chmod 600 it first",
                     path, (unsigned)(sb.st_mode & 0777));
    else if (rc == VG_OK)
        rc = vg_identity_parse(b.data ? b.data : "", b.len, path, out, err);
    if (b.data)
        sodium_memzero(b.data, b.len);
    vg_buf_free(&b);
    if (path_out)
        *path_out = path;
    else
        free(path);
    return rc;
}

int cli_identity_quiet(vg_identity *out)
{
    vg_err err = {0};
    return identity_load(out, NULL, &err) == VG_OK ? EXIT_OK : EXIT_FAIL;
}

int cli_identity(cli *c, vg_identity *out)
{
    vg_err err = {0};
    return identity_load(out, NULL, &err) == VG_OK ? EXIT_OK : cli_fail(c, &err);
}

int cli_keyring(cli *c, vg_keyring *out)
{
    char *path = paths_keyring();
    vg_buf b;
    vg_err err = {0};
    vg_rc rc = read_small(path, &b, &err);
    int ret = EXIT_OK;
    memset(out, 0, sizeof *out);
    if (rc && rc != VG_ENOTFOUND)
        ret = cli_fail(c, &err);
    else if (rc == VG_OK && vg_keyring_parse(vg_buf_str(&b), path, out, &err) != VG_OK)
        ret = cli_fail(c, &err);
    vg_buf_free(&b);
    free(path);
    return ret;
}

static void key_json(cJSON *o, const vg_pubkey *k)
{
    char fp[VG_FP_TEXT], *line = vg_pubkey_line(k);
    vg_pubkey_fp_text(k, fp);
    line[strcspn(line, "\n")] = '\0';
    cJSON_AddStringToObject(o, "name", k->name);
    cJSON_AddStringToObject(o, "fingerprint", fp);
    cJSON_AddStringToObject(o, "key", line);
    free(line);
}

int cmd_keygen(cli *c, int argc, char **argv)
{
    opt o[] = {{"name=", NULL}, {"force", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 2, pos, 0, &npos)))
        return rc;
    const char *name = opt_get(o, 2, "name");
    if (!name)
        name = c->actor;
    if (!vg_key_name_ok(name))
        return cli_usage(c, "a key's name is 1 to %d of A-Z a-z 0-9 . _ @ + - (--name N)",
                         VG_KEY_NAME_MAX);
    char *path = paths_identity();
    vg_err err = {0};
    if (access(path, F_OK) == 0 && !opt_get(o, 2, "force")) {
        rc = cli_error(c, "%s already holds your key set; not replacing it (--force makes a new"
                          " one: bundles sealed to the old key can no longer be opened)", path);
        free(path);
        return rc;
    }
    vg_identity id;
    vg_identity_new(name, &id);
    char *text = vg_identity_text(&id);
    if (paths_ensure_parent(path, &err) != VG_OK ||
        cli_write_atomic(path, text, strlen(text), &err) != VG_OK) {
        rc = cli_fail(c, &err);
    } else {
        chmod(path, 0600);
        char fp[VG_FP_TEXT], *line = vg_pubkey_line(&id.pub);
        vg_pubkey_fp_text(&id.pub, fp);
        printf("key set for %s in %s (mode 0600: keep it private)\n", id.pub.name, path);
        printf("fingerprint %s\n", fp);
        printf("give colleagues this line (`vigil key trust` takes it):\n  %s", line);
        free(line);
    }
    sodium_memzero(text, strlen(text));
    free(text);
    vg_identity_wipe(&id);
    free(path);
    return rc;
}

int cmd_key_show(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)))
        return rc;
    vg_identity id;
    if ((rc = cli_identity(c, &id)))
        return rc;
    if (opt_get(o, 1, "json")) {
        cJSON *j = cJSON_CreateObject();
        key_json(j, &id.pub);
        out_json(j);
    } else {
        char fp[VG_FP_TEXT], *line = vg_pubkey_line(&id.pub);
        vg_pubkey_fp_text(&id.pub, fp);
        fputs(line, stdout);
        printf("fingerprint %s\n", fp);
        free(line);
    }
    vg_identity_wipe(&id);
    return EXIT_OK;
}

static int write_ring(cli *c, char *text)
{
    char *path = paths_keyring();
    vg_err err = {0};
    int rc = EXIT_OK;
    if (paths_ensure_parent(path, &err) != VG_OK ||
        cli_write_atomic(path, text, strlen(text), &err) != VG_OK)
        rc = cli_fail(c, &err);
    free(path);
    free(text);
    return rc;
}

int cmd_key_trust(cli *c, int argc, char **argv)
{
    opt o[] = {{"name=", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "whose key? (a file holding its line, or the line itself)");
    vg_buf b;
    vg_err err = {0};
    const char *text = pos[0];
    size_t len = strlen(pos[0]);
    bool is_file = strncmp(pos[0], "vigil-key ", 10) != 0;
    vg_buf_init(&b, KEYFILE_MAX);
    if (is_file) {
        if (read_small(pos[0], &b, &err) != VG_OK) {
            vg_buf_free(&b);
            return cli_fail(c, &err);
        }
        text = vg_buf_str(&b);
        len = b.len;
        /* the key is the file's first line that is not a comment */
        while (len && (*text == '#' || *text == '\n')) {
            const char *nl = memchr(text, '\n', len);
            len -= nl ? (size_t)(nl + 1 - text) : len;
            text = nl ? nl + 1 : text + len;
        }
        len = strcspn(text, "\n");
    }
    vg_pubkey k;
    if (vg_pubkey_parse(text, len, &k, &err) != VG_OK) {
        vg_buf_free(&b);
        return cli_error(c, "%s: %s", is_file ? pos[0] : "the key", err.msg);
    }
    vg_buf_free(&b);
    const char *name = opt_get(o, 1, "name");
    if (name) {
        if (!vg_key_name_ok(name))
            return cli_usage(c, "a key's name is 1 to %d of A-Z a-z 0-9 . _ @ + -",
                             VG_KEY_NAME_MAX);
        snprintf(k.name, sizeof k.name, "%s", name);
    }
    vg_keyring r;
    if ((rc = cli_keyring(c, &r)))
        return rc;
    for (size_t i = 0; i < r.n; i++) {
        unsigned char a[VG_FP_BYTES], f[VG_FP_BYTES];
        vg_pubkey_fp(&r.keys[i], a);
        vg_pubkey_fp(&k, f);
        if (strcmp(r.keys[i].name, k.name) == 0 && memcmp(a, f, sizeof a) != 0) {
            vg_keyring_free(&r);
            return cli_error(c, "another key is already trusted as '%s'; give this one a name"
                                " of its own (--name N) or `vigil key rm %s` first", k.name,
                             k.name);
        }
    }
    bool replaced = false;
    char *ring = vg_keyring_add(&r, &k, &replaced);
    vg_keyring_free(&r);
    if ((rc = write_ring(c, ring)))
        return rc;
    char fp[VG_FP_TEXT];
    vg_pubkey_fp_text(&k, fp);
    printf("%s %s %s: check the fingerprint with its owner\n", replaced ? "renamed" : "trusted",
           k.name, fp);
    return EXIT_OK;
}

int cmd_key_rm(cli *c, int argc, char **argv)
{
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which key? (its name or fingerprint)");
    vg_keyring r;
    if ((rc = cli_keyring(c, &r)))
        return rc;
    bool amb = false;
    const vg_pubkey *k = vg_keyring_find(&r, pos[0], &amb);
    if (!k) {
        vg_keyring_free(&r);
        return cli_error(c, "%s trusted key matches '%s'%s", amb ? "more than one" : "no", pos[0],
                         amb ? "; give more of the fingerprint" : "");
    }
    unsigned char fp[VG_FP_BYTES];
    char fpt[VG_FP_TEXT], name[VG_KEY_NAME_MAX + 1];
    vg_pubkey_fp(k, fp);
    vg_fp_format(fp, fpt);
    snprintf(name, sizeof name, "%s", k->name);
    char *ring = vg_keyring_text_without(&r, fp);
    vg_keyring_free(&r);
    if ((rc = write_ring(c, ring)))
        return rc;
    printf("no longer trusted: %s %s\n", name, fpt);
    return EXIT_OK;
}

int cmd_key_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)))
        return rc;
    vg_keyring r;
    if ((rc = cli_keyring(c, &r)))
        return rc;
    if (opt_get(o, 1, "json")) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < r.n; i++) {
            cJSON *k = cJSON_CreateObject();
            key_json(k, &r.keys[i]);
            cJSON_AddItemToArray(a, k);
        }
        out_json(a);
    } else if (r.n == 0) {
        puts("no trusted keys (vigil key trust FILE adds a colleague's)");
    } else {
        for (size_t i = 0; i < r.n; i++) {
            char fp[VG_FP_TEXT];
            vg_pubkey_fp_text(&r.keys[i], fp);
            printf("%-20s %s\n", r.keys[i].name, fp);
        }
    }
    vg_keyring_free(&r);
    return EXIT_OK;
}

char *cli_pack_trusted(void)
{
    vg_buf b;
    vg_buf_init(&b, (size_t)-1 / 2);
    vg_keyring r = {0};
    vg_identity me;
    vg_err err = {0};
    char *path = paths_keyring();
    vg_buf t;
    if (read_small(path, &t, &err) == VG_OK && vg_keyring_parse(vg_buf_str(&t), path, &r, &err))
        memset(&r, 0, sizeof r);
    vg_buf_free(&t);
    free(path);
    bool own = cli_identity_quiet(&me) == EXIT_OK;
    for (size_t i = 0; i < r.n + own; i++) {
        const vg_pubkey *k = i < r.n ? &r.keys[i] : &me.pub;
        char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, k->sign, 32, sodium_base64_VARIANT_ORIGINAL);
        if (vg_buf_addf(&b, "ed25519 %s %s\n", b64, k->name))
            abort();
    }
    if (own)
        vg_identity_wipe(&me);
    vg_keyring_free(&r);
    char *s = vg_buf_take(&b);
    return s ? s : vg_xstrdup("");
}
