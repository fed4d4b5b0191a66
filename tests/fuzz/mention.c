/*
 * mention.c — the @mention parser (src/core/handoff.c) and the parser of the
 * times analysts give (vg_parse_when, src/core/timefmt.c).
 *
 * The input is any bytes, read as a note's text. Every name vg_mentions_each
 * reports must lie in the text right after an '@' that starts the text or follows
 * a character that cannot end an address, be made of name characters, start with
 * a letter, digit or '_', end with neither '.' nor '-', hold at most 64 bytes and
 * not be followed by '@'; vg_mentions_user must find each one (in any ASCII case);
 * the count returned is the number reported. The same bytes as a --since value
 * either fail or give a time no later than now and not before the epoch.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vigil/handoff.h"
#include "vigil/timefmt.h"

struct seen {
    const char *text;
    size_t n;
};

static bool name_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-';
}

static void check_one(void *ud, const char *name, size_t len)
{
    struct seen *s = ud;
    s->n++;
    fz_check(name > s->text && name[-1] == '@', "a name not after an '@'");
    const char *at = name - 1;
    if (at > s->text) {
        unsigned char b = (unsigned char)at[-1];
        fz_check(!name_char(b) && b != '+' && b != '@', "an '@' after 0x%02x is an address", b);
    }
    fz_check(len >= 1 && len <= 64, "a name of %zu bytes", len);
    fz_check(isalnum((unsigned char)name[0]) || name[0] == '_', "a name starting with 0x%02x",
             (unsigned char)name[0]);
    for (size_t i = 0; i < len; i++)
        fz_check(name_char((unsigned char)name[i]), "0x%02x in a name", (unsigned char)name[i]);
    fz_check(name[len - 1] != '.' && name[len - 1] != '-', "a name ending in '%c'", name[len - 1]);
    fz_check(name[len] != '@', "a name followed by '@'");
    char *who = strndup(name, len);
    for (char *p = who; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    fz_check(vg_mentions_user(s->text, who), "'%s' found, but vg_mentions_user misses it", who);
    free(who);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_cstr(data, size);
    struct seen s = {text, 0};
    size_t n = vg_mentions_each(text, check_one, &s);
    fz_check(n == s.n, "%zu mentions counted, %zu reported", n, s.n);
    fz_check(!vg_mentions_user(text, ""), "an empty name is mentioned");
    int64_t now = 1796000000000LL, t = -1;
    vg_err err = {0};
    if (vg_parse_when("--since", text, now, 0, &t, &err) == VG_OK)
        fz_check(t >= 0 && t <= now, "--since '%.40s' gave %lld", text, (long long)t);
    else
        fz_check(err.msg[0] != '\0', "a refused --since says nothing");
    free(text);
    return 0;
}
