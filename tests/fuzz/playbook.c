/*
 * playbook.c — the playbook loader and the pack verifier (src/core/playbook.c,
 * pack.c): files an analyst downloads or carries between sites.
 *
 * The input is read three ways: as a playbook file, as a pack checked against a
 * trusted key (this harness's own, whose signed pack is in the seed corpus), and
 * as the trusted-keys file a pack signed by that key is checked against.
 * Properties: a refusal says why; a playbook that parses writes back to a file
 * that parses to the same playbook (the export and the import agree), and exports
 * as CACAO; a pack opens only when its signature verifies or it is unsigned and
 * unsigned packs were allowed.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vigil/pack.h"
#include "vigil/playbook.h"

/* The harness's key pair (made by `vigil playbook keygen`; it signs nothing else). */
static const char SECRET[] = "vigil-secret-key ed25519 Vut7nXKfxWqfW6LRydnWKQIY3fHoaNiGrAm9adsK2QW"
                             "gRdZHmmXNZQhTev7K6G0Z97EPbfm55fc8Wg3nKgtD7A==\n";
static const char TRUSTED[] = "# the fuzz key\n"
                              "ed25519 oEXWR5plzWUIU3r+yuhtGfexD235ueX3PFoN5yoLQ+w= fuzz\n";
static char *signed_pack; /* a pack of one playbook, signed with SECRET */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char one[] = "{\"id\":\"fuzz\",\"name\":\"Fuzz\",\"version\":\"1\","
                              "\"category\":\"test\",\"description\":\"d\",\"techniques\":[],"
                              "\"tasks\":[{\"phase\":\"containment\",\"title\":\"Isolate it\","
                              "\"description\":\"Cut it off.\"}]}";
    vg_playbook p = {0};
    vg_err err = {0};
    fz_check(vg_playbook_parse(one, strlen(one), "fuzz", &p, &err) == VG_OK, "%s", err.msg);
    signed_pack = vg_pack_write(&p, 1, SECRET, "fuzz key", &err);
    fz_check(signed_pack != NULL, "%s", err.msg);
    vg_playbook_clear(&p);
    return 0;
}

static char *print(const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    fz_check(s != NULL, "a playbook does not print");
    return s;
}

/* p writes back to a file that reads as p. */
static void round_trip(const vg_playbook *p)
{
    cJSON *j = vg_playbook_json(p);
    char *text = print(j);
    vg_playbook q = {0};
    vg_err err = {0};
    fz_check(vg_playbook_parse(text, strlen(text), "again", &q, &err) == VG_OK,
             "the written playbook does not read back: %s", err.msg);
    cJSON *k = vg_playbook_json(&q);
    char *again = print(k);
    fz_check(strcmp(text, again) == 0, "the playbook read back differs:\n%s\n%s", text, again);
    cJSON *cacao = vg_playbook_cacao(p, 0);
    fz_check(cacao != NULL, "no CACAO export");
    cJSON_Delete(cacao);
    vg_op_free(vg_op_playbook_put("playbook.import", p, "fuzz"));
    cJSON_free(again);
    cJSON_free(text);
    cJSON_Delete(k);
    cJSON_Delete(j);
    vg_playbook_clear(&q);
}

static void open_pack(const char *text, size_t len, const char *trusted, bool unsigned_ok)
{
    vg_pack_info info = {0};
    vg_playbook *items = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_pack_open(text, len, "fuzz.pack", trusted, "trusted-keys", unsigned_ok, &info, &items,
                     &n, &err) != VG_OK) {
        fz_check(err.msg[0], "a pack refused without saying why");
        return;
    }
    fz_check(info.is_signed || unsigned_ok, "an unsigned pack opened");
    for (size_t i = 0; i < n; i++)
        round_trip(&items[i]);
    vg_playbooks_free(items, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    vg_playbook p = {0};
    vg_err err = {0};
    if (vg_playbook_parse(text, size, "fuzz.json", &p, &err) == VG_OK) {
        round_trip(&p);
        vg_playbook_clear(&p);
    } else {
        fz_check(err.msg[0], "a playbook refused without saying why");
    }
    open_pack(text, size, TRUSTED, true);
    open_pack(text, size, TRUSTED, false);
    char *keys = fz_cstr(data, size);
    open_pack(signed_pack, strlen(signed_pack), keys, false);
    free(keys);
    return 0;
}
