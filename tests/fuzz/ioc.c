/*
 * ioc.c — indicator extraction, refanging and defanging (src/core/ioc.c), which
 * read every imported alert line and every copilot answer.
 *
 * The input is free text. Properties: each (kind, value) is listed once, and
 * extracting the same text again into the list adds nothing (the list's own set);
 * no value is empty; refanging never lengthens a string; a defanged text holds no
 * network indicator that is not marked as written defanged, and it keeps every
 * network indicator of the text (so a defanged paste loses nothing), when the text
 * held no defanged spelling.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "vigil/ioc.h"
#include "vigil/model.h"

static bool network(vg_ioc_kind k)
{
    return k == VG_IOC_IPV4 || k == VG_IOC_IPV6 || k == VG_IOC_DOMAIN || k == VG_IOC_URL ||
           k == VG_IOC_EMAIL;
}

/* Does l hold the indicator? A URL's scheme may come back in another case
 * (htTp:// is defanged as hxxp[://]). */
static bool holds(const vg_ioc_list *l, vg_ioc_kind kind, const char *value)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].kind == kind && (kind == VG_IOC_URL ? strcasecmp : strcmp)(
                                            l->items[i].value, value) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    vg_ioc_list l = {0};
    size_t n = vg_ioc_extract(text, size, &l);
    fz_check(n == l.n, "returned %zu, listed %zu", n, l.n);
    for (size_t i = 0; i < l.n; i++) {
        fz_check(l.items[i].value[0], "an empty %s", vg_ioc_type(l.items[i].kind));
        for (size_t j = 0; j < i; j++)
            fz_check(l.items[i].kind != l.items[j].kind ||
                         strcmp(l.items[i].value, l.items[j].value) != 0,
                     "%s '%s' listed twice", vg_ioc_type(l.items[i].kind), l.items[i].value);
        /* robustness: what an artifact of it would store */
        int type = vg_enum_parse(&VG_ARTIFACT_TYPE, vg_ioc_type(l.items[i].kind));
        free(vg_ioc_normalise(type, l.items[i].value));
    }
    fz_check(vg_ioc_extract(text, size, &l) == 0, "the same text again added indicators");

    char *c = fz_cstr(data, size);
    char *re = vg_refang(c);
    bool plain = strcmp(re, c) == 0;
    fz_check(strlen(re) <= strlen(c), "refanging lengthened %zu bytes to %zu", strlen(c),
             strlen(re));

    char *de = vg_defang(c);
    vg_ioc_list d = {0}, whole = {0};
    vg_ioc_extract(de, strlen(de), &d);
    vg_ioc_extract(c, strlen(c), &whole); /* the text up to a NUL, as defang saw it */
    /* A text that holds defanged spellings already can be refanged into other
     * tokens than its defanged form is ("[[/]]2.kh"): these are asked of live text. */
    for (size_t i = 0; plain && i < d.n; i++) {
        if (!network(d.items[i].kind))
            continue;
        fz_check(d.items[i].flags & VG_IOC_DEFANGED,
                 "%s '%s' is live in the defanged text",
                 vg_ioc_type(d.items[i].kind), d.items[i].value);
    }
    for (size_t i = 0; plain && i < whole.n; i++)
        if (network(whole.items[i].kind))
            fz_check(holds(&d, whole.items[i].kind, whole.items[i].value),
                     "defanging lost %s '%s'", vg_ioc_type(whole.items[i].kind),
                     whole.items[i].value);
    vg_ioc_list_free(&d);
    vg_ioc_list_free(&whole);
    free(re);
    free(de);
    free(c);
    vg_ioc_list_free(&l);
    return 0;
}
