/*
 * bundle.c — a case bundle as `vigil bundle import` reads it from a USB stick
 * (src/core/bundle.c), for the recipient of tests/fixtures/bundle/golden.vb.
 *
 * The input is the file. It is either refused with a message naming why, or it
 * opens (sender trusted, signature good, sealed to this key, body whole) and its
 * ops are merged into a fresh workspace whole or not at all: after a refusal the
 * log holds nothing, after a success what was applied, and the chain verifies.
 * Forging a signature is beyond a fuzzer, so what it reaches past the header is
 * the golden file's own body; the header parser and the size checks are its
 * ground.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vigil/bundle.h"

/* tests/fixtures/bundle: bob's key set and the keyring that trusts alice */
static const char identity[] =
    "vigil-identity 1\nname bob\n"
    "sign-secret s3mVMs/C0LMVfk+VFKbtbdGxcosRIE2RwatuJNgO+GF+nLja9Qb4fqF2o8PeCk1BzblL9+205mNSmJvufm4KuQ==\n"
    "box-secret 1xFZoX2uNeu8JeJgsUVPV15KXsTy48g1iBSXHdxtEsc=\n";
static const char ring_text[] =
    "vigil-key 1 alice ed25519:hFKLdoBOgWAUfLUNjftoBUbob5hpg+OprB+bgkWHFm0= x25519:V8uBULRUCt+oDtnyUsucWeo3OHUK6cvF6a+TNWaOFgo=\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_identity me;
    vg_keyring ring;
    vg_err err = {0};
    fz_check(vg_identity_parse(identity, strlen(identity), "id", &me, &err) == VG_OK, "%s",
             err.msg);
    fz_check(vg_keyring_parse(ring_text, "ring", &ring, &err) == VG_OK, "%s", err.msg);
    vg_bundle_info info;
    char *ops = NULL;
    size_t len = 0;
    if (vg_bundle_open(data, size, "f.vb", &me, &ring, &info, &ops, &len, &err) != VG_OK) {
        fz_check(err.msg[0] != '\0' && !ops && !info.manifest, "a refusal with no reason");
    } else {
        vg_ws *ws = fz_workspace();
        vg_received r;
        vg_rc rc = vg_bundle_merge(ws, info.manifest, ops, len, &r, &err);
        int64_t count = -1, bad = -1;
        fz_check(vg_audit_verify(ws, NULL, &count, &bad, &err) == VG_OK,
                 "the log does not verify after a bundle: %s", err.msg);
        fz_check(count == (rc == VG_OK ? r.applied : 0), "%lld ops after a bundle %s",
                 (long long)count, rc == VG_OK ? "taken" : "refused");
        fz_workspace_drop(ws);
    }
    vg_bundle_info_free(&info);
    free(ops);
    vg_keyring_free(&ring);
    vg_identity_wipe(&me);
    return 0;
}
