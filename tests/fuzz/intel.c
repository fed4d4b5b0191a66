/*
 * intel.c — offline threat-intel feeds (src/core/intel_feed.c): the STIX pattern
 * parser and the feed reader, which read files from outside (a feed someone sent,
 * a bundle carried on a stick).
 *
 * The input is both a STIX pattern and a feed file. Properties of the pattern: it
 * is refused (VG_EINVAL) only as a bomb, by its length or its shape; a matchable
 * one has comparisons, each of a type vigil matches and a value that normalising
 * again leaves as it is (the form artifacts are stored in) and that is valid UTF-8;
 * one that is not has none, and says why. Properties of the feed: a record is a
 * matchable value (type and value) or a kept item (no value, with why), never
 * half of each; values are normalised and valid UTF-8; no more records than the
 * cap, and the counts are those of the records handed over.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "vigil/intel.h"
#include "vigil/ioc.h"
#include "vigil/model.h"
#include "vigil/text.h"

#define CAP 500

typedef struct seen {
    int64_t n, unmatchable;
} seen;

static void check_value(int type, const char *v)
{
    fz_check(type >= 0 && type < VG_ARTIFACT_TYPE.n, "type %d", type);
    fz_check(v && *v, "an empty %s", vg_enum_name(&VG_ARTIFACT_TYPE, type));
    fz_check(vg_utf8_valid(v, strlen(v)), "a value of invalid UTF-8");
    char *again = vg_ioc_normalise(type, v);
    if (type == VG_AT_ASN || type == VG_AT_USER) /* upper/lower-cased by the feed reader */
        fz_check(strcasecmp(again, v) == 0, "normalising '%s' again gave '%s'", v, again);
    else
        fz_check(strcmp(again, v) == 0, "normalising '%s' again gave '%s'", v, again);
    free(again);
}

static vg_rc emit(void *ud, const vg_intel_rec *r, vg_err *err)
{
    (void)err;
    seen *s = ud;
    s->n++;
    fz_check((r->type >= 0) == (r->value != NULL), "a record half matchable");
    if (r->value)
        check_value(r->type, r->value);
    else {
        s->unmatchable++;
        fz_check(r->why && *r->why, "a kept item without why");
        fz_check(r->pattern != NULL, "a kept item without what the feed said");
    }
    fz_check(r->tlp >= -1 && r->tlp < VG_TLP.n, "tlp %d", r->tlp);
    fz_check(r->confidence >= -1 && r->confidence <= 100, "confidence %d", r->confidence);
    return VG_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    vg_stix_pattern p;
    vg_err err = {0};
    vg_rc rc = vg_stix_pattern_parse(text, size, &p, &err);
    if (rc != VG_OK) {
        fz_check(rc == VG_EINVAL && strstr(err.msg, "pattern"), "refused: %s", err.msg);
        fz_check(!p.matchable && p.n == 0, "a refused pattern with comparisons");
    } else if (p.matchable) {
        fz_check(p.n > 0, "matchable without a comparison");
        for (size_t i = 0; i < p.n; i++)
            check_value(p.cmps[i].type, p.cmps[i].value);
    } else {
        fz_check(p.n == 0, "not matchable with %zu comparisons", p.n);
        fz_check(p.why[0], "not matchable without why");
    }
    vg_stix_pattern_free(&p);

    seen s = {0};
    vg_intel_counts c;
    vg_intel_parse_opts o = {.where = "fuzz", .max_items = CAP};
    rc = vg_intel_parse(text, size, &o, emit, &s, &c, &err);
    fz_check(c.emitted == s.n, "counted %lld, handed over %lld", (long long)c.emitted,
             (long long)s.n);
    fz_check(c.unmatchable == s.unmatchable, "unmatchable counted %lld, seen %lld",
             (long long)c.unmatchable, (long long)s.unmatchable);
    fz_check(s.n <= CAP, "%lld records past the cap", (long long)s.n);
    fz_check(rc == VG_OK || err.msg[0], "a refusal without a message");
    return 0;
}
