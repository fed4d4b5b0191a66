/*
 * keys.c — identities, public key lines, fingerprints and keyrings (vigil/keys.h).
 *
 * libsodium throughout: Ed25519 and X25519 keys are 32 bytes that fit on a line,
 * and BLAKE2b (crypto_generichash) names a key set in 16 bytes. Parsing is strict:
 * a line is the one form or an error naming what is wrong, so that nothing can
 * ride along in a file of keys.
 */
#include "vigil/keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/buf.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

static void init(void)
{
    if (sodium_init() < 0)
        abort();
}

bool vg_b64_exact(const char *s, size_t slen, unsigned char *out, size_t want)
{
    size_t got = 0;
    const char *end = NULL;
    return sodium_base642bin(out, want, s, slen, NULL, &got, &end, B64) == 0 && got == want &&
           end == s + slen;
}

static void addb64(vg_buf *b, const unsigned char *bin, size_t n)
{
    char s[sodium_base64_ENCODED_LEN(64, B64)];
    sodium_bin2base64(s, sizeof s, bin, n, B64);
    if (vg_buf_adds(b, s))
        abort();
    sodium_memzero(s, sizeof s);
}

bool vg_key_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > VG_KEY_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              strchr("._@+-", ch)))
            return false;
    }
    return true;
}

void vg_identity_new(const char *name, vg_identity *out)
{
    init();
    memset(out, 0, sizeof *out);
    snprintf(out->pub.name, sizeof out->pub.name, "%s", name);
    crypto_sign_keypair(out->pub.sign, out->sign_sk);
    crypto_box_keypair(out->pub.box, out->box_sk);
}

void vg_identity_wipe(vg_identity *id)
{
    sodium_memzero(id, sizeof *id);
}

char *vg_identity_text(const vg_identity *id)
{
    vg_buf b;
    vg_buf_init(&b, 4096);
    if (vg_buf_addf(&b, "vigil-identity 1\nname %s\nsign-secret ", id->pub.name))
        abort();
    addb64(&b, id->sign_sk, sizeof id->sign_sk);
    if (vg_buf_adds(&b, "\nbox-secret "))
        abort();
    addb64(&b, id->box_sk, sizeof id->box_sk);
    if (vg_buf_adds(&b, "\n"))
        abort();
    return vg_buf_take(&b);
}

/* The value of "KEY VALUE" at the start of line p (up to the newline), or NULL. */
static const char *field(const char *p, const char *end, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        nl = end;
    if ((size_t)(nl - p) <= kl + 1 || memcmp(p, key, kl) != 0 || p[kl] != ' ')
        return NULL;
    *len = (size_t)(nl - p) - kl - 1;
    if (*len && p[kl + 1 + *len - 1] == '\r')
        (*len)--;
    return p + kl + 1;
}

static const char *next_line(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

vg_rc vg_identity_parse(const char *text, size_t len, const char *where, vg_identity *out,
                        vg_err *err)
{
    init();
    memset(out, 0, sizeof *out);
    const char *p = text, *end = text + len, *v;
    size_t vl;
    static const char magic[] = "vigil-identity 1\n";
    if (len < sizeof magic - 1 || memcmp(text, magic, sizeof magic - 1) != 0)
        return vg_fail(err, VG_EINVAL, "%s: not a vigil identity (`vigil keygen` makes one)",
                       where);
    p += sizeof magic - 1;
    if (!(v = field(p, end, "name", &vl)) || vl > VG_KEY_NAME_MAX)
        return vg_fail(err, VG_EINVAL, "%s: line 2: not 'name NAME'", where);
    memcpy(out->pub.name, v, vl);
    if (!vg_key_name_ok(out->pub.name))
        return vg_fail(err, VG_EINVAL, "%s: line 2: the name is not 1 to %d of A-Z a-z 0-9 . _ @ + -",
                       where, VG_KEY_NAME_MAX);
    p = next_line(p, end);
    if (!(v = field(p, end, "sign-secret", &vl)) ||
        !vg_b64_exact(v, vl, out->sign_sk, sizeof out->sign_sk)) {
        vg_identity_wipe(out);
        return vg_fail(err, VG_EINVAL, "%s: line 3: the signing key is damaged", where);
    }
    p = next_line(p, end);
    if (!(v = field(p, end, "box-secret", &vl)) || !vg_b64_exact(v, vl, out->box_sk, sizeof out->box_sk)) {
        vg_identity_wipe(out);
        return vg_fail(err, VG_EINVAL, "%s: line 4: the encryption key is damaged", where);
    }
    /* the public halves come from the secret ones, so they cannot disagree */
    crypto_sign_ed25519_sk_to_pk(out->pub.sign, out->sign_sk);
    crypto_scalarmult_base(out->pub.box, out->box_sk);
    return VG_OK;
}

char *vg_pubkey_line(const vg_pubkey *k)
{
    vg_buf b;
    vg_buf_init(&b, 4096);
    if (vg_buf_addf(&b, "vigil-key 1 %s ed25519:", k->name))
        abort();
    addb64(&b, k->sign, sizeof k->sign);
    if (vg_buf_adds(&b, " x25519:"))
        abort();
    addb64(&b, k->box, sizeof k->box);
    if (vg_buf_adds(&b, "\n"))
        abort();
    return vg_buf_take(&b);
}

vg_rc vg_pubkey_parse(const char *line, size_t len, vg_pubkey *out, vg_err *err)
{
    init();
    memset(out, 0, sizeof *out);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    static const char magic[] = "vigil-key 1 ";
    if (len < sizeof magic - 1 || memcmp(line, magic, sizeof magic - 1) != 0)
        return vg_fail(err, VG_EINVAL,
                       "not a vigil public key (it does not start 'vigil-key 1'; `vigil key show`"
                       " prints one)");
    const char *p = line + sizeof magic - 1, *end = line + len;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp || (size_t)(sp - p) > VG_KEY_NAME_MAX)
        return vg_fail(err, VG_EINVAL, "the key has no name");
    memcpy(out->name, p, (size_t)(sp - p));
    if (!vg_key_name_ok(out->name))
        return vg_fail(err, VG_EINVAL, "the key's name is not 1 to %d of A-Z a-z 0-9 . _ @ + -",
                       VG_KEY_NAME_MAX);
    p = sp + 1;
    sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp || (size_t)(sp - p) < 8 || memcmp(p, "ed25519:", 8) != 0 ||
        !vg_b64_exact(p + 8, (size_t)(sp - p) - 8, out->sign, sizeof out->sign))
        return vg_fail(err, VG_EINVAL, "the key's ed25519: part is damaged");
    p = sp + 1;
    if ((size_t)(end - p) < 7 || memcmp(p, "x25519:", 7) != 0 ||
        !vg_b64_exact(p + 7, (size_t)(end - p) - 7, out->box, sizeof out->box))
        return vg_fail(err, VG_EINVAL, "the key's x25519: part is damaged");
    return VG_OK;
}

void vg_pubkey_fp(const vg_pubkey *k, unsigned char out[VG_FP_BYTES])
{
    unsigned char both[64], h[32];
    init();
    memcpy(both, k->sign, 32);
    memcpy(both + 32, k->box, 32);
    crypto_generichash(h, sizeof h, both, sizeof both, NULL, 0);
    memcpy(out, h, VG_FP_BYTES);
}

void vg_fp_format(const unsigned char fp[VG_FP_BYTES], char out[VG_FP_TEXT])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    memcpy(out, "vk1:", 4);
    o = 4;
    for (int i = 0; i < VG_FP_BYTES; i++) {
        if (i && i % 2 == 0)
            out[o++] = '-';
        out[o++] = hex[fp[i] >> 4];
        out[o++] = hex[fp[i] & 15];
    }
    out[o] = '\0';
}

void vg_pubkey_fp_text(const vg_pubkey *k, char out[VG_FP_TEXT])
{
    unsigned char fp[VG_FP_BYTES];
    vg_pubkey_fp(k, fp);
    vg_fp_format(fp, out);
}

vg_rc vg_keyring_parse(const char *text, const char *where, vg_keyring *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    int line = 0;
    size_t cap = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        line++;
        size_t l = strcspn(p, "\n");
        const char *s = p + strspn(p, " \t");
        if (s >= p + l || *s == '#' || *s == '\r')
            continue;
        vg_pubkey k;
        vg_err e = {0};
        if (vg_pubkey_parse(s, (size_t)(p + l - s), &k, &e) != VG_OK) {
            vg_keyring_free(out);
            return vg_fail(err, VG_EINVAL, "%s: line %d: %s", where, line, e.msg);
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 8;
            out->keys = vg_xrealloc(out->keys, cap * sizeof *out->keys);
        }
        out->keys[out->n++] = k;
    }
    return VG_OK;
}

void vg_keyring_free(vg_keyring *r)
{
    free(r->keys);
    memset(r, 0, sizeof *r);
}

/* who as fingerprint hex digits (dashes and a "vk1:" prefix dropped): its length,
 * 0 when it is not one. */
static size_t fp_digits(const char *who, char *out, size_t outsz)
{
    if (strncmp(who, "vk1:", 4) == 0)
        who += 4;
    size_t n = 0;
    for (; *who; who++) {
        if (*who == '-')
            continue;
        char ch = *who >= 'A' && *who <= 'F' ? (char)(*who + 32) : *who;
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) || n + 1 >= outsz)
            return 0;
        out[n++] = ch;
    }
    out[n] = '\0';
    return n;
}

const vg_pubkey *vg_keyring_find(const vg_keyring *r, const char *who, bool *ambiguous)
{
    const vg_pubkey *found = NULL;
    int hits = 0;
    char want[2 * VG_FP_BYTES + 2];
    size_t wl = fp_digits(who, want, sizeof want);
    vg_pubkey line;
    vg_err e = {0};
    bool is_line = vg_pubkey_parse(who, strlen(who), &line, &e) == VG_OK;
    for (size_t i = 0; i < r->n; i++) {
        const vg_pubkey *k = &r->keys[i];
        bool match = strcmp(k->name, who) == 0;
        if (!match && wl >= 8) {
            char fp[VG_FP_TEXT], digits[2 * VG_FP_BYTES + 2];
            vg_pubkey_fp_text(k, fp);
            fp_digits(fp, digits, sizeof digits);
            match = strncmp(digits, want, wl) == 0;
        }
        if (!match && is_line)
            match = memcmp(k->sign, line.sign, 32) == 0 && memcmp(k->box, line.box, 32) == 0;
        if (match) {
            found = k;
            hits++;
        }
    }
    if (ambiguous)
        *ambiguous = hits > 1;
    return hits == 1 ? found : NULL;
}

const vg_pubkey *vg_keyring_by_fp(const vg_keyring *r, const unsigned char fp[VG_FP_BYTES])
{
    for (size_t i = 0; i < r->n; i++) {
        unsigned char f[VG_FP_BYTES];
        vg_pubkey_fp(&r->keys[i], f);
        if (sodium_memcmp(f, fp, VG_FP_BYTES) == 0)
            return &r->keys[i];
    }
    return NULL;
}

static void add_line(vg_buf *b, const vg_pubkey *k)
{
    char *l = vg_pubkey_line(k), fp[VG_FP_TEXT];
    vg_pubkey_fp_text(k, fp);
    if (vg_buf_addf(b, "# %s %s\n%s", k->name, fp, l))
        abort();
    free(l);
}

static char *ring_text(const vg_keyring *r, const unsigned char *skip, const vg_pubkey *add,
                       bool *replaced)
{
    vg_buf b;
    vg_buf_init(&b, (size_t)-1 / 2);
    if (vg_buf_adds(&b, "# vigil keyring: the keys this analyst trusts (vigil key trust)\n"))
        abort();
    unsigned char afp[VG_FP_BYTES];
    if (add)
        vg_pubkey_fp(add, afp);
    for (size_t i = 0; i < r->n; i++) {
        unsigned char f[VG_FP_BYTES];
        vg_pubkey_fp(&r->keys[i], f);
        if (skip && memcmp(f, skip, VG_FP_BYTES) == 0)
            continue;
        if (add && memcmp(f, afp, VG_FP_BYTES) == 0) {
            if (replaced)
                *replaced = true;
            continue;
        }
        add_line(&b, &r->keys[i]);
    }
    if (add)
        add_line(&b, add);
    return vg_buf_take(&b);
}

char *vg_keyring_add(const vg_keyring *r, const vg_pubkey *k, bool *replaced)
{
    if (replaced)
        *replaced = false;
    return ring_text(r, NULL, k, replaced);
}

char *vg_keyring_text_without(const vg_keyring *r, const unsigned char fp[VG_FP_BYTES])
{
    return ring_text(r, fp, NULL, NULL);
}
