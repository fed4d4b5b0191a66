/*
 * cmd_bundle.c — `vigil bundle export|import|show`: cases carried on a file between
 * machines that never meet, sealed to named colleagues and signed (vigil/bundle.h).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/bundle.h"
#include "vigil/evidence.h"
#include "vigil/keys.h"
#include "vigil/query.h"

/* Take every --to (repeated, or comma-separated) out of argv; *n is argv's new count. */
static int take_to(cli *c, int *argc, char **argv, char ***to, size_t *nto)
{
    int o = 0;
    *to = NULL;
    *nto = 0;
    for (int i = 0; i < *argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--to") == 0) {
            if (i + 1 == *argc)
                return cli_usage(c, "option --to needs a value");
            v = argv[++i];
        } else if (strncmp(argv[i], "--to=", 5) == 0) {
            v = argv[i] + 5;
        } else {
            argv[o++] = argv[i];
            continue;
        }
        for (const char *p = v; *p;) {
            size_t l = strcspn(p, ",");
            if (l) {
                *to = vg_xrealloc(*to, (*nto + 1) * sizeof **to);
                char *s = vg_xmalloc(l + 1);
                memcpy(s, p, l);
                s[l] = '\0';
                (*to)[(*nto)++] = s;
            }
            p += l + (p[l] == ',');
        }
    }
    *argc = o;
    return EXIT_OK;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* "64M", "512K", "2G", "0" or bytes: -1 when it is none of these. */
static int64_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    int64_t mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1 << 10;
    else if (*end == 'M' || *end == 'm')
        mult = 1 << 20;
    else if (*end == 'G' || *end == 'g')
        mult = 1ll << 30;
    else if (*end)
        return -1;
    if (*end && end[1])
        return -1;
    if (v > INT64_MAX / mult)
        return -1;
    return (int64_t)v * mult;
}

/* A custody entry (transfer) for every evidence item of the cases: what the bundle
 * did with it. */
static int custody_transfer(cli *c, const vg_id *cases, size_t ncases, const char *how,
                            const char *who, int64_t max, bool content)
{
    vg_err err = {0};
    if (vg_batch_begin(c->ws, &err) != VG_OK)
        return cli_fail(c, &err);
    vg_rc rc = VG_OK;
    for (size_t i = 0; rc == VG_OK && i < ncases; i++) {
        vg_evidence *items;
        size_t n;
        if ((rc = vg_evidence_list(c->ws, cases[i], &items, &n, &err)))
            break;
        for (size_t k = 0; rc == VG_OK && k < n; k++) {
            bool with = content && items[k].size <= max && vg_evidence_present(c->ws, &items[k]);
            char detail[600];
            snprintf(detail, sizeof detail, "%s %s (%s)", how, who,
                     with ? "with its content" : "its metadata only");
            rc = vg_evidence_record(c->ws, &items[k], "transfer", with ? items[k].sha256 : NULL,
                                    NULL, detail, &err);
        }
        vg_evidences_free(items, n);
    }
    if (rc == VG_OK)
        rc = vg_batch_commit(c->ws, &err);
    else
        vg_batch_rollback(c->ws);
    return rc ? cli_fail(c, &err) : EXIT_OK;
}

int cmd_bundle_export(cli *c, int argc, char **argv)
{
    char **to = NULL;
    size_t nto = 0;
    int rc = take_to(c, &argc, argv, &to, &nto);
    opt o[] = {{"o=", NULL}, {"ledger", NULL}, {"evidence-max=", NULL}};
    char *pos[VG_BUNDLE_MAX_CASES];
    int npos = 0;
    vg_identity me;
    vg_keyring ring = {0};
    vg_pubkey *keys = NULL;
    vg_id *cases = NULL;
    vg_buf out;
    vg_buf_init(&out, VG_BUNDLE_MAX_FILE);
    bool have_me = false;
    if (rc || (rc = cli_parse(c, argc, argv, o, 3, pos, VG_BUNDLE_MAX_CASES, &npos)))
        goto done;
    const char *path = opt_get(o, 3, "o"), *emax = opt_get(o, 3, "evidence-max");
    int64_t max = emax ? parse_size(emax) : VG_EVIDENCE_BUNDLE_MAX;
    if (max < 0) {
        rc = cli_usage(c, "--evidence-max: '%s' is not a size (64M, 512K, 0 for none)", emax);
        goto done;
    }
    if (npos == 0 || nto == 0 || !path) {
        rc = cli_usage(c, "%s", npos == 0 ? "which cases?" : nto == 0 ? "for whom? (--to NAME)"
                                                                      : "where to? (-o FILE)");
        goto done;
    }
    if ((rc = cli_open(c, 0)) || (rc = cli_identity(c, &me)))
        goto done;
    have_me = true;
    if ((rc = cli_keyring(c, &ring)))
        goto done;
    keys = vg_xcalloc(nto, sizeof *keys);
    for (size_t i = 0; i < nto; i++) {
        bool amb = false;
        const vg_pubkey *k = strcmp(to[i], me.pub.name) == 0 || strcmp(to[i], "me") == 0
                                 ? &me.pub
                                 : vg_keyring_find(&ring, to[i], &amb);
        if (!k) {
            rc = cli_error(c, "%s trusted key is '%s'%s", amb ? "more than one" : "no", to[i],
                           amb ? "; give its fingerprint" : " (vigil key ls lists them)");
            goto done;
        }
        keys[i] = *k;
    }
    cases = vg_xcalloc((size_t)npos, sizeof *cases);
    for (int i = 0; i < npos; i++)
        if ((rc = cli_case(c, pos[i], cases[i])))
            goto done;
    vg_err err = {0};
    int64_t ops = 0, carried = 0;
    if (vg_bundle_export_with(c->ws, (const vg_id *)cases, (size_t)npos, opt_get(o, 3, "ledger"),
                              max, &me, keys, nto, &out, &ops, &carried, &err) != VG_OK ||
        cli_write_atomic(path, out.data, out.len, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto done;
    }
    printf("wrote %s: %d case%s, %lld ops, %zu bytes, signed by %s, sealed to", path, npos,
           npos == 1 ? "" : "s", (long long)ops, out.len, me.pub.name);
    char names[400] = "";
    for (size_t i = 0; i < nto; i++) {
        printf("%s %s", i ? "," : "", keys[i].name);
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", keys[i].name);
    }
    putchar('\n');
    if (carried)
        printf("  with the content of %lld evidence file%s\n", (long long)carried,
               carried == 1 ? "" : "s");
    rc = custody_transfer(c, (const vg_id *)cases, (size_t)npos, "exported in a bundle to", names,
                          max, true);
done:
    if (have_me)
        vg_identity_wipe(&me);
    vg_keyring_free(&ring);
    free(keys);
    free(cases);
    vg_buf_free(&out);
    free_list(to, nto);
    return rc;
}

static int read_bundle(cli *c, const char *path, vg_buf *b)
{
    vg_err err = {0};
    vg_buf_init(b, VG_BUNDLE_MAX_FILE);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_error(c, "%s: %s", path, strerror(errno));
    vg_rc rc = vg_buf_read_file(b, f, path, &err);
    fclose(f);
    return rc ? cli_fail(c, &err) : EXIT_OK;
}

/* The key of a fingerprint: yours, or one you trust; NULL when neither. */
static const vg_pubkey *known(const vg_keyring *ring, const vg_identity *me,
                              const unsigned char *fp)
{
    unsigned char mine[VG_FP_BYTES];
    if (me) {
        vg_pubkey_fp(&me->pub, mine);
        if (memcmp(mine, fp, VG_FP_BYTES) == 0)
            return &me->pub;
    }
    return vg_keyring_by_fp(ring, fp);
}

/* "alice (vk1:...)" for a fingerprint, the name when the key is known. */
static void who(const vg_keyring *ring, const vg_identity *me, const unsigned char *fp,
                char *out, size_t outsz)
{
    char t[VG_FP_TEXT];
    vg_fp_format(fp, t);
    const vg_pubkey *k = known(ring, me, fp);
    if (k)
        snprintf(out, outsz, "%s (%s)", k->name, t);
    else
        snprintf(out, outsz, "%s (not a key you trust)", t);
}

static cJSON *fp_json(const vg_keyring *ring, const vg_identity *me, const unsigned char *fp)
{
    char t[VG_FP_TEXT];
    vg_fp_format(fp, t);
    const vg_pubkey *k = known(ring, me, fp);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "fingerprint", t);
    if (k)
        cJSON_AddStringToObject(o, "name", k->name);
    cJSON_AddBoolToObject(o, "trusted", k != NULL);
    return o;
}

static void print_cases(cli *c, const cJSON *m)
{
    const cJSON *cs;
    cJSON_ArrayForEach(cs, cJSON_GetObjectItemCaseSensitive(m, "cases"))
    {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(cs, "ref");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cs, "id");
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(cs, "title");
        printf("  #%-5lld ", cJSON_IsNumber(ref) ? (long long)ref->valuedouble : 0LL);
        out_safe(c, cJSON_IsString(id) ? id->valuestring : "");
        fputs("  ", stdout);
        out_safe(c, cJSON_IsString(title) ? title->valuestring : "");
        putchar('\n');
    }
}

int cmd_bundle_show(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which bundle?");
    bool json = opt_get(o, 1, "json");
    vg_buf b;
    if ((rc = read_bundle(c, pos[0], &b)))
        return rc;
    vg_err err = {0};
    vg_bundle_info info;
    vg_keyring ring = {0};
    vg_identity me;
    bool have_me = false;
    char *ops = NULL;
    size_t opslen = 0;
    if (vg_bundle_header((const unsigned char *)b.data, b.len, pos[0], &info, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto done;
    }
    if ((rc = cli_keyring(c, &ring)))
        goto done;
    /* the contents, when this analyst can open it; else the clear header alone */
    char why[600] = "";
    if (cli_identity_quiet(&me) == EXIT_OK) {
        have_me = true;
        vg_bundle_info_free(&info);
        if (vg_bundle_open((const unsigned char *)b.data, b.len, pos[0], &me, &ring, &info, &ops,
                           &opslen, &err) != VG_OK) {
            snprintf(why, sizeof why, "%s", err.msg);
            vg_err e2 = {0};
            if (vg_bundle_header((const unsigned char *)b.data, b.len, pos[0], &info, &e2))
                goto done;
        }
    } else {
        snprintf(why, sizeof why, "you have no key set to open it with");
    }
    int64_t lines = 0;
    for (size_t i = 0; i < opslen; i++)
        lines += ops[i] == '\n';
    char w[160];
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddItemToObject(j, "sender", fp_json(&ring, have_me ? &me : NULL, info.sender));
        cJSON *r = cJSON_AddArrayToObject(j, "recipients");
        for (size_t i = 0; i < info.nrecipients; i++)
            cJSON_AddItemToArray(r, fp_json(&ring, have_me ? &me : NULL, info.recipients[i]));
        cJSON_AddNumberToObject(j, "ops", (double)info.ops);
        cJSON_AddNumberToObject(j, "bytes", (double)b.len);
        cJSON_AddBoolToObject(j, "opened", info.manifest != NULL);
        if (info.manifest)
            cJSON_AddItemToObject(j, "manifest", cJSON_Duplicate(info.manifest, true));
        else
            cJSON_AddStringToObject(j, "not_opened", why);
        out_json(j);
        goto done;
    }
    who(&ring, have_me ? &me : NULL, info.sender, w, sizeof w);
    printf("bundle %s: %zu bytes, %lld ops\nfrom   %s\n", pos[0], b.len, (long long)info.ops, w);
    for (size_t i = 0; i < info.nrecipients; i++) {
        who(&ring, have_me ? &me : NULL, info.recipients[i], w, sizeof w);
        printf("%s %s\n", i ? "      " : "to    ", w);
    }
    if (!info.manifest) {
        fputs("not opened: ", stdout);
        out_safe(c, why);
        putchar('\n');
        goto done;
    }
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(info.manifest, "created_at");
    const cJSON *led = cJSON_GetObjectItemCaseSensitive(info.manifest, "ledger");
    char when[32] = "";
    if (cJSON_IsNumber(at))
        fmt_time((int64_t)at->valuedouble, when, sizeof when);
    printf("signature verified; made %s; %lld op lines%s\ncases:\n", when, (long long)lines,
           cJSON_IsTrue(led) ? ", with the copilot ledger" : "");
    print_cases(c, info.manifest);
done:
    if (have_me)
        vg_identity_wipe(&me);
    vg_bundle_info_free(&info);
    vg_keyring_free(&ring);
    free(ops);
    vg_buf_free(&b);
    return rc;
}

/* After a merge: a case of the bundle whose ref numbers another case here too. */
static void ref_clashes(cli *c, const cJSON *m)
{
    const cJSON *cs;
    cJSON_ArrayForEach(cs, cJSON_GetObjectItemCaseSensitive(m, "cases"))
    {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(cs, "ref");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cs, "id");
        char ref_s[24], found[27];
        vg_err err = {0};
        if (!cJSON_IsNumber(ref) || !cJSON_IsString(id))
            continue;
        snprintf(ref_s, sizeof ref_s, "#%lld", (long long)ref->valuedouble);
        if (vg_case_resolve(c->ws, ref_s, found, &err) == VG_EAMBIGUOUS)
            fprintf(stderr,
                    "vigil: %s: warning: %s also numbers a case of this workspace; name the"
                    " bundle's by its id, %.26s\n", c->name, ref_s, id->valuestring);
    }
}

int cmd_bundle_import(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which bundle?");
    vg_buf b;
    if ((rc = read_bundle(c, pos[0], &b)))
        return rc;
    vg_identity me;
    vg_keyring ring = {0};
    vg_bundle_info info = {0};
    char *ops = NULL;
    size_t opslen = 0;
    bool have_me = false;
    vg_err err = {0};
    vg_received r;
    if ((rc = cli_open(c, 0)) || (rc = cli_identity(c, &me)))
        goto done;
    have_me = true;
    if ((rc = cli_keyring(c, &ring)))
        goto done;
    if (vg_bundle_open((const unsigned char *)b.data, b.len, pos[0], &me, &ring, &info, &ops,
                       &opslen, &err) != VG_OK ||
        vg_bundle_merge(c->ws, info.manifest, ops, opslen, &r, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto done;
    }
    char w[160];
    who(&ring, &me, info.sender, w, sizeof w);
    int64_t stored = 0;
    if (vg_bundle_evidence_store(c->ws, &info, &stored, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto done;
    }
    {
        const cJSON *cs;
        vg_id *ids = NULL;
        size_t nids = 0;
        cJSON_ArrayForEach(cs, cJSON_GetObjectItemCaseSensitive(info.manifest, "cases"))
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(cs, "id");
            if (!cJSON_IsString(id) || !vg_ulid_valid(id->valuestring))
                continue;
            ids = vg_xrealloc(ids, (nids + 1) * sizeof *ids);
            snprintf(ids[nids++], sizeof(vg_id), "%s", id->valuestring);
        }
        /* only what this import brought is a transfer: a bundle imported again is not */
        if (r.applied > 0)
            rc = custody_transfer(c, (const vg_id *)ids, nids, "received in a bundle from", w,
                                  INT64_MAX, true);
        free(ids);
        if (rc)
            goto done;
    }
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(info.manifest, "cases");
    int nc = cJSON_GetArraySize(cases);
    if (opt_get(o, 1, "json")) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddItemToObject(j, "sender", fp_json(&ring, &me, info.sender));
        cJSON_AddItemToObject(j, "cases", cJSON_Duplicate(cases, true));
        cJSON_AddNumberToObject(j, "ops", (double)(r.applied + r.known));
        cJSON_AddNumberToObject(j, "applied", (double)r.applied);
        cJSON_AddNumberToObject(j, "known", (double)r.known);
        cJSON_AddNumberToObject(j, "evidence_stored", (double)stored);
        out_json(j);
    } else if (r.applied == 0) {
        printf("bundle %s from %s: nothing new: all %lld ops are here already (it, or a later"
               " bundle of the same cases, was imported before)\n", pos[0], w,
               (long long)r.known);
    } else {
        printf("bundle %s from %s: signature verified; %d case%s, %lld ops: %lld new, %lld"
               " already here\n", pos[0], w, nc, nc == 1 ? "" : "s",
               (long long)(r.applied + r.known), (long long)r.applied, (long long)r.known);
        print_cases(c, info.manifest);
    }
    if (stored && !opt_get(o, 1, "json"))
        printf("  evidence content: %lld file%s stored, each checked against its SHA-256\n",
               (long long)stored, stored == 1 ? "" : "s");
    ref_clashes(c, info.manifest);
done:
    if (have_me)
        vg_identity_wipe(&me);
    vg_bundle_info_free(&info);
    vg_keyring_free(&ring);
    free(ops);
    vg_buf_free(&b);
    return rc;
}
