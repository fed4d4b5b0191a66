/*
 * pack.c — signed playbook packs (format and contract in pack.h).
 *
 * Ed25519 from libsodium (already vigil's source of randomness and hashing): small
 * keys that fit on a line, deterministic signatures, and no parameters to get
 * wrong. The signature is over the exact bytes of the payload, so there is no
 * canonical JSON to agree on; the header is parsed strictly so nothing can ride
 * along unsigned. Trust is a plain file of public keys the analyst curates.
 */
#include "vigil/pack.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/keys.h"
#include "vigil/json.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

static char *b64(const unsigned char *bin, size_t n)
{
    size_t sz = sodium_base64_ENCODED_LEN(n, B64);
    char *s = vg_xmalloc(sz);
    sodium_bin2base64(s, sz, bin, n, B64);
    return s;
}

void vg_pack_keygen(const char *comment, char **secret_text, char **public_text)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    if (sodium_init() < 0)
        abort();
    crypto_sign_keypair(pk, sk);
    char *p = b64(pk, sizeof pk), *s = b64(sk, sizeof sk);
    vg_buf b;
    vg_buf_init(&b, 4096);
    if (vg_buf_addf(&b, "vigil-secret-key ed25519 %s\n", s) != VG_OK)
        abort();
    *secret_text = vg_buf_take(&b);
    if (vg_buf_addf(&b, "ed25519 %s %s\n", p, comment && *comment ? comment : "vigil-pack") != VG_OK)
        abort();
    *public_text = vg_buf_take(&b);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(s, strlen(s));
    free(s);
    free(p);
}

static vg_rc parse_secret(const char *text, const char *where, unsigned char sk[64], vg_err *err)
{
    static const char prefix[] = "vigil-secret-key ed25519 ";
    if (strncmp(text, prefix, sizeof prefix - 1) != 0)
        return vg_fail(err, VG_EINVAL, "%s: not a vigil secret key (vigil playbook keygen makes one)",
                       where);
    const char *k = text + sizeof prefix - 1;
    size_t l = strcspn(k, " \r\n");
    if (!vg_b64_exact(k, l, sk, crypto_sign_SECRETKEYBYTES))
        return vg_fail(err, VG_EINVAL, "%s: the secret key is damaged (not 64 bytes of base64)",
                       where);
    return VG_OK;
}

char *vg_pack_write(const vg_playbook *p, size_t n, const char *secret_text, const char *key_where,
                    vg_err *err)
{
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    if (sodium_init() < 0)
        abort();
    if (secret_text && parse_secret(secret_text, key_where, sk, err) != VG_OK)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "vigil_pack", 1);
    cJSON *arr = cJSON_AddArrayToObject(o, "playbooks");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, vg_playbook_json(&p[i]));
    char *payload = vg_json_pretty(o);
    cJSON_Delete(o);
    vg_buf msg, out;
    vg_buf_init(&msg, (size_t)-1 / 2);
    vg_buf_init(&out, (size_t)-1 / 2);
    if (vg_buf_adds(&msg, VG_PACK_MAGIC) || vg_buf_adds(&msg, payload) ||
        vg_buf_adds(&out, VG_PACK_MAGIC))
        abort();
    if (secret_text) {
        unsigned char sig[crypto_sign_BYTES];
        crypto_sign_detached(sig, NULL, (const unsigned char *)msg.data, msg.len, sk);
        char *ks = b64(sk + 32, 32), *ss = b64(sig, sizeof sig);
        if (vg_buf_addf(&out, "signer ed25519 %s\nsignature %s\n", ks, ss))
            abort();
        free(ks);
        free(ss);
        sodium_memzero(sk, sizeof sk);
    }
    if (vg_buf_adds(&out, "\n") || vg_buf_add(&out, msg.data + strlen(VG_PACK_MAGIC),
                                              msg.len - strlen(VG_PACK_MAGIC)))
        abort();
    vg_buf_free(&msg);
    free(payload);
    return vg_buf_take(&out);
}

/* Is pk among the trusted keys? A malformed line is an error naming it. */
static vg_rc trusted_has(const char *trusted, const char *where, const unsigned char *pk, bool *yes,
                         vg_err *err)
{
    *yes = false;
    int line = 0;
    for (const char *p = trusted; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        line++;
        size_t l = strcspn(p, "\n");
        const char *s = p + strspn(p, " \t");
        if (s >= p + l || *s == '#' || *s == '\r')
            continue;
        unsigned char k[crypto_sign_PUBLICKEYBYTES];
        if (strncmp(s, "ed25519 ", 8) != 0 ||
            !vg_b64_exact(s + 8, strcspn(s + 8, " \t\r\n"), k, sizeof k))
            return vg_fail(err, VG_EINVAL, "%s: line %d: not 'ed25519 PUBLIC-KEY [comment]'", where,
                           line);
        if (sodium_memcmp(k, pk, sizeof k) == 0)
            *yes = true;
    }
    return VG_OK;
}

/* The playbooks of a payload, each validated. */
static vg_rc parse_payload(const char *payload, size_t len, const char *where, vg_playbook **items,
                           size_t *n, vg_err *err)
{
    cJSON *j = cJSON_ParseWithLength(payload, len);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "playbooks");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "vigil_pack");
    vg_rc rc = VG_OK;
    if (!j || !cJSON_IsArray(arr) || !cJSON_IsNumber(ver))
        rc = vg_fail(err, VG_EINVAL, "%s: the payload is not a vigil pack's JSON", where);
    else if (ver->valuedouble != 1)
        rc = vg_fail(err, VG_EINVAL, "%s: pack format %g; this vigil reads format 1", where,
                     ver->valuedouble);
    else if (cJSON_GetArraySize(arr) > VG_PB_MAX_LIBRARY)
        rc = vg_fail(err, VG_EINVAL, "%s: more than %d playbooks", where, VG_PB_MAX_LIBRARY);
    size_t cnt = rc ? 0 : (size_t)cJSON_GetArraySize(arr);
    *items = vg_xcalloc(cnt + 1, sizeof **items);
    *n = 0;
    for (size_t i = 0; rc == VG_OK && i < cnt; i++) {
        char w[600];
        snprintf(w, sizeof w, "%s: playbooks[%zu]", where, i);
        if ((rc = vg_playbook_from_json(cJSON_GetArrayItem(arr, (int)i), w, &(*items)[i], err)))
            break;
        (*n)++;
        for (size_t k = 0; k < i; k++)
            if (strcmp((*items)[k].id, (*items)[i].id) == 0)
                rc = vg_fail(err, VG_EINVAL, "%s: id '%s' is also playbooks[%zu]", w,
                             (*items)[i].id, k);
    }
    cJSON_Delete(j);
    if (rc) {
        vg_playbooks_free(*items, *n);
        *items = NULL;
        *n = 0;
    }
    return rc;
}

vg_rc vg_pack_open(const char *text, size_t len, const char *where, const char *trusted,
                   const char *trusted_where, bool allow_unsigned, vg_pack_info *info,
                   vg_playbook **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    memset(info, 0, sizeof *info);
    if (sodium_init() < 0)
        abort();
    size_t ml = strlen(VG_PACK_MAGIC);
    if (len > VG_PB_MAX_FILE)
        return vg_fail(err, VG_EINVAL, "%s: larger than %u bytes", where, VG_PB_MAX_FILE);
    if (len < ml || memcmp(text, VG_PACK_MAGIC, ml) != 0)
        return vg_fail(err, VG_EINVAL, "%s: not a vigil pack (it does not start 'vigil-pack 1')",
                       where);
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
    bool has_pk = false, has_sig = false;
    const char *p = text + ml, *end = text + len;
    while (p < end && *p != '\n') { /* header lines up to the blank line */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        size_t l = (size_t)(nl - p);
        if (l > 15 && strncmp(p, "signer ed25519 ", 15) == 0 && !has_pk) {
            if (!vg_b64_exact(p + 15, l - 15, pk, sizeof pk))
                return vg_fail(err, VG_EINVAL, "%s: the signer line is damaged", where);
            has_pk = true;
        } else if (l > 10 && strncmp(p, "signature ", 10) == 0 && !has_sig) {
            if (!vg_b64_exact(p + 10, l - 10, sig, sizeof sig))
                return vg_fail(err, VG_EINVAL, "%s: the signature line is damaged", where);
            has_sig = true;
        } else {
            return vg_fail(err, VG_EINVAL, "%s: unexpected header line '%.*s'", where,
                           (int)(l < 40 ? l : 40), p);
        }
        p = nl + 1;
    }
    if (p >= end)
        return vg_fail(err, VG_EINVAL, "%s: the pack has no payload", where);
    const char *payload = p + 1;
    size_t plen = (size_t)(end - payload);
    if (has_pk != has_sig)
        return vg_fail(err, VG_EINVAL, "%s: the pack has a %s line but no %s line; refusing it",
                       where, has_pk ? "signer" : "signature", has_pk ? "signature" : "signer");
    if (!has_pk) {
        if (!allow_unsigned)
            return vg_fail(err, VG_EINVAL,
                           "%s: the pack is not signed; refusing it (--allow-unsigned imports it"
                           " without any check of who made it)", where);
    } else {
        char *kb = b64(pk, sizeof pk);
        snprintf(info->signer, sizeof info->signer, "ed25519 %s", kb);
        free(kb);
        bool ok = false;
        vg_rc rc = trusted ? trusted_has(trusted, trusted_where, pk, &ok, err) : VG_OK;
        if (rc)
            return rc;
        if (!ok)
            return vg_fail(err, VG_EINVAL,
                           "%s: signed by %s, which is not a trusted key (%s); refusing it", where,
                           info->signer, trusted_where ? trusted_where : "no trusted-keys file");
        /* the signed message: the magic line, then the payload */
        unsigned char *msg = vg_xmalloc(ml + plen + 1);
        memcpy(msg, VG_PACK_MAGIC, ml);
        memcpy(msg + ml, payload, plen);
        int bad = crypto_sign_verify_detached(sig, msg, ml + plen, pk);
        free(msg);
        if (bad)
            return vg_fail(err, VG_ECORRUPT,
                           "%s: the signature does not match the contents: the pack was altered"
                           " after it was signed; refusing it", where);
        info->is_signed = true;
    }
    return parse_payload(payload, plen, where, items, n, err);
}
