/*
 * ioc_shapes.h — hostile inputs for the IOC extractor and plain log text to weigh
 * them against, shared by tests/unit/test_ioc.c (a time ceiling for each shape)
 * and tests/bench/ioc-adversarial.c (the ratio tests/bench/run prints).
 *
 * A shape is a short unit repeated to the size asked, maybe followed by a run of
 * another unit over its second half and a fixed end. Each names a way a scanner
 * can look at the same bytes again and again: the first groups once made
 * vg_ioc_extract quadratic (or deep in recursion); the rest are the other
 * adversarial forms an extractor meets (runs of marks, defanged runs, long
 * labels, a line with no separator), kept so that none of them ever becomes so.
 */
#ifndef VIGIL_TEST_IOC_SHAPES_H
#define VIGIL_TEST_IOC_SHAPES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ioc_shape {
    const char *name;
    const char *unit; /* repeated over the text, or over its first half when run is set */
    const char *run;  /* NULL, or repeated over the second half */
    const char *end;  /* written once, last */
} ioc_shape;

static const ioc_shape ioc_shapes[] = {
    /* "scheme://" with no host, before a run of what a URL's end is trimmed of */
    {"http:/// then dots", "http:///", ".", ""},
    {"http://@ then )", "http://@", ")", ""},
    {"ws://? then commas", "ws://?", ",", ""},
    {"x=http:/// then dots", "x=http:///", ".", ""},
    {"hxxp[://][/] then [.]", "hxxp[://][/]", "[.]", ""},
    /* key:value labels, one inside the next, and a mark far away at the end */
    {"gg: labels", "gg:", NULL, ""},
    {"gg: labels then a dot", "gg:", NULL, "."},
    {"gg: labels then @", "gg:", NULL, "@"},
    {"gg:: labels then a dot", "gg::", NULL, "."},
    /* the other adversarial forms */
    {"dots", ".", NULL, ""},
    {"digits and dots", "1.", NULL, "1"},
    {"hex and colons", "a:", NULL, "a"},
    {"IPv6 groups", "fe80::", NULL, "1"},
    {"at signs", "a@", NULL, "b.com"},
    {"defanged dots", "a[.]", NULL, "com"},
    {"hxxp", "hxxp", NULL, ""},
    {"defanged URLs", "hxxp[://]", NULL, "evil.com"},
    {"63-byte labels", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.", NULL,
     "com"},
    {"percent escapes", "%41", NULL, ""},
    {"no separator", "x", NULL, ""},
    {"path segments", "/a", NULL, ""},
    {"CVE prefixes", "CVE-2024-", NULL, "1234"},
    /* paths read past their token: spans whose marks never close, words that go on
     * with a backslash, closing marks to trim */
    {"++ paths unclosed", "++C:\\a ", NULL, ""},
    {"backtick paths unclosed", "`%TEMP%\\a b ", NULL, ""},
    {"quoted paths", "\"C:\\a b", NULL, "\""},
    {"a path of spaced words", "C:\\a", " b\\c", ""},
    {"a path then )", "C:\\a", ")", ""},
    {"a key then ]", "HKCU\\x", "]", ""},
    {"URLs then [", "http://a.com/x", "[", ""},
};
#define IOC_NSHAPES (sizeof ioc_shapes / sizeof *ioc_shapes)

/* Append as many whole copies of unit as fit in t[*at..limit). */
static inline void ioc_repeat(char *t, size_t *at, size_t limit, const char *unit)
{
    size_t u = strlen(unit);
    for (; *at + u <= limit; *at += u)
        memcpy(t + *at, unit, u);
}

/* About n bytes (never more) of shape sh, NUL-terminated, in whole units; its
 * length in *len. Fresh. */
static inline char *ioc_shape_text(const ioc_shape *sh, size_t n, size_t *len)
{
    char *t = malloc(n + 1);
    size_t at = 0, body = n - strlen(sh->end);
    if (!t)
        abort();
    ioc_repeat(t, &at, sh->run ? body / 2 : body, sh->unit);
    if (sh->run)
        ioc_repeat(t, &at, body, sh->run);
    memcpy(t + at, sh->end, strlen(sh->end) + 1);
    *len = at + strlen(sh->end);
    return t;
}

/* n bytes of log text (sshd, web access, Suricata EVE, application, process,
 * firewall, mail and analyst-note lines in turn, as tests/bench/mixed-log writes),
 * with indicators from a pool of 5,000 addresses, many repeated. Deterministic.
 * NUL-terminated, cut at n. Fresh. */
static inline char *ioc_plain_text(size_t n)
{
    char *t = malloc(n + 512);
    size_t at = 0;
    uint64_t x = 7;
    if (!t)
        abort();
    for (unsigned i = 0; at < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned r = (unsigned)(x >> 33), k = r % 5000 * 2654435761u;
        char ip[16];
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", 1 + (k >> 24) % 223, k >> 16 & 255, k >> 8 & 255,
                 1 + k % 254);
        size_t room = n + 512 - at;
        int w = 0;
        switch (i % 8) {
        case 0:
            w = snprintf(t + at, room, "Nov 21 02:14:%02u fw01 sshd[%u]: Failed password for "
                         "invalid user admin from %s port %u ssh2\n", i % 60, i, ip, 1024 + r % 60000);
            break;
        case 1:
            w = snprintf(t + at, room, "%s - - [21/Nov/2026:02:14:07 +0000] \"GET /wp-login.php?"
                         "redirect_to=https://cdn%u.example.com/x HTTP/1.1\" 404 512 \"-\" "
                         "\"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"\n", ip, i % 97);
            break;
        case 2:
            w = snprintf(t + at, room, "{\"timestamp\":\"2026-11-21T02:14:07.%03uZ\",\"event_type\":"
                         "\"alert\",\"src_ip\":\"%s\",\"dest_ip\":\"10.20.0.%u\",\"proto\":\"TCP\","
                         "\"http\":{\"hostname\":\"update%u.status-telemetry.test\"}}\n",
                         i % 1000, ip, i % 250, i % 50);
            break;
        case 3:
            w = snprintf(t + at, room, "2026-11-21 02:14:07,123 INFO [worker-%u] processed batch "
                         "%u in 35 ms (queue=12, retries=0) version 4.2.%u\n", i % 16, i, i % 10);
            break;
        case 4:
            w = snprintf(t + at, room, "Process C:\\Windows\\System32\\cmd.exe spawned by "
                         "C:\\Users\\j.smith\\Downloads\\invoice_%u.exe sha256=%016llx%016llx"
                         "%016llx%016llx\n", i % 300, (unsigned long long)x,
                         (unsigned long long)(x * 3), (unsigned long long)(x * 5),
                         (unsigned long long)(x * 7));
            break;
        case 5:
            w = snprintf(t + at, room, "kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:5e:6c:00 "
                         "SRC=%s DST=192.168.1.%u LEN=60 PROTO=TCP SPT=%u DPT=22\n", ip, i % 250,
                         1024 + r % 60000);
            break;
        case 6:
            w = snprintf(t + at, room, "postfix/smtpd[%u]: NOQUEUE: reject: RCPT from unknown[%s]: "
                         "554 5.7.1 <j.smith%u@corp.example>: Relay access denied\n", i, ip, i % 30);
            break;
        default:
            w = snprintf(t + at, room, "user reported hxxps[:]//micros0ft-login[.]example/common/"
                         "login.php?id=%u and CVE-2024-%u exploitation attempt\n", i, 3400 + i % 50);
            break;
        }
        at += (size_t)w;
    }
    t[n] = '\0';
    return t;
}

#endif
