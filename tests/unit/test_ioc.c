/*
 * test_ioc.c — normalising indicator values, so one indicator is one artifact.
 */
#include "helpers.h"

#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "ioc_shapes.h"
#include "vigil/entity.h"
#include "vigil/ioc.h"
#include "vigil/model.h"

static void check(const char *type, const char *in, const char *want)
{
    char *got = vg_ioc_normalise(vg_enum_parse(&VG_ARTIFACT_TYPE, type), in);
    if (strcmp(got, want) != 0)
        fail_msg("%s '%s': got '%s', wanted '%s'", type, in, got, want);
    free(got);
}

static void test_refang(void **state)
{
    (void)state;
    check("url", "hxxps[:]//evil[.]example/a[.]php", "https://evil.example/a.php");
    check("url", "HXXP://evil(.)example", "http://evil.example");
    check("domain", "evil{.}example", "evil.example");
    check("domain", "evil[dot]example", "evil.example");
    check("email", "j.smith[@]corp[.]example", "j.smith@corp.example");
    check("email", "ceo[at]corp.example", "ceo@corp.example");
    check("ip", "203.0.113[.]7", "203.0.113.7");
    /* types that are not network indicators are left as written */
    check("filename", "invoice[.]pdf", "invoice[.]pdf");
}

static void test_case_and_space(void **state)
{
    (void)state;
    check("domain", "  Evil.Example.  ", "evil.example");
    check("sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check("ip", "2001:DB8::1", "2001:db8::1");
    check("cve", "cve-2024-3400", "CVE-2024-3400");
    check("user", "J.Smith", "J.Smith");         /* user names keep their case */
    check("url", "https://evil.example/Login", "https://evil.example/Login"); /* paths too */
    check("registry", "HKLM\\Software\\Run", "HKLM\\Software\\Run");
}

/* The list as "type value flags" lines. Fresh. */
static char *listing(const vg_ioc_list *l)
{
    size_t cap = 1, len = 0;
    for (size_t i = 0; i < l->n; i++)
        cap += strlen(l->items[i].value) + 32; /* a type name, a flag digit, 3 more */
    char *out = malloc(cap);
    out[0] = '\0';
    for (size_t i = 0; i < l->n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s %s %d\n", vg_ioc_type(l->items[i].kind),
                                l->items[i].value, l->items[i].flags);
    return out;
}

/* Extract from text; the list as "type value flags" lines. */
static char *extract(const char *text)
{
    vg_ioc_list l = {0};
    vg_ioc_extract(text, strlen(text), &l);
    char *out = listing(&l);
    vg_ioc_list_free(&l);
    return out;
}

static void expect(const char *text, const char *want)
{
    char *got = extract(text);
    if (strcmp(got, want) != 0)
        fail_msg("from '%s'\ngot:\n%swanted:\n%s", text, got, want);
    free(got);
}

#define PRIV "1"
#define RES "2"
#define DEF "4"

static void test_extract_network(void **state)
{
    (void)state;
    expect("Failed password for root from 203.0.113.7 port 52113",
           "ip 203.0.113.7 " RES "\n");
    expect("SRC=8.8.8.8 DST=192.168.1.20 via 10.0.0.1:443 and 172.16.5.4/24 (100.64.1.1).",
           "ip 8.8.8.8 0\nip 192.168.1.20 " PRIV "\nip 10.0.0.1 " PRIV "\nip 172.16.5.4 " PRIV
           "\nip 100.64.1.1 " PRIV "\n");
    expect("not addresses: 999.1.1.1 1.2.3.4.5 01.2.3.4 version 1.2.3 10.0.0", "");
    expect("v6 2001:db8::1 fe80::1%eth0 [2606:4700::1111]:443 ::1",
           "ip 2001:db8::1 " RES "\nip fe80::1 " PRIV "\nip 2606:4700::1111 0\n");
    expect("src:198.51.100.7 dst_ip:8.8.4.4 host:evil.com",
           "ip 198.51.100.7 " RES "\nip 8.8.4.4 0\ndomain evil.com 0\n");
    expect("visit Evil.COM, then evil[.]zip and status-telemetry.test; login.micros0ft.co.uk.",
           "domain evil.com 0\ndomain evil.zip " DEF "\ndomain status-telemetry.test " RES
           "\ndomain login.micros0ft.co.uk 0\n");
    expect("file names and words are not domains: invoice.pdf report.docx e.g. i.e. a.b", "");
    expect("url=https://cdn.example.com/a?b=c&d=e, and (http://203.0.113.9:8080/x).",
           "url https://cdn.example.com/a?b=c&d=e 0\nurl http://203.0.113.9:8080/x 0\n");
    expect("From: Billing <billing@d0cusign-notify.example>; cc j.smith@corp.com",
           "email billing@d0cusign-notify.example " RES "\nemail j.smith@corp.com 0\n");
}

static void test_extract_defanged(void **state)
{
    (void)state;
    expect("hxxps[:]//micros0ft-login[.]example/login.php",
           "url https://micros0ft-login.example/login.php " DEF "\n");
    expect("c2 at 198.51.100[.]23 and evil(.)com and evil{.}net and bad[dot]org",
           "ip 198.51.100.23 6\ndomain evil.com " DEF "\ndomain evil.net " DEF "\ndomain bad.org " DEF "\n");
    expect("mail ceo[at]corp[.]com or ceo[@]corp.com", "email ceo@corp.com " DEF "\n");
    expect("HXXP://Evil[.]com/Path", "url http://Evil.com/Path " DEF "\n");
}

static void test_extract_host_artifacts(void **state)
{
    (void)state;
    expect("sha256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855 "
           "md5 d41d8cd98f00b204e9800998ecf8427e sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
           "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0\n"
           "md5 d41d8cd98f00b204e9800998ecf8427e 0\n"
           "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 0\n");
    expect("not hashes: deadbeef 0123456789abcdef0123456789abcdeg", "");
    expect("exploits cve-2024-3400, CVE-2021-44228 but not CVE-24-1 or CVE-2024-12",
           "cve CVE-2024-3400 0\ncve CVE-2021-44228 0\n");
    expect("run key HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\upd set",
           "registry HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\upd 0\n");
    expect("dropped C:\\Users\\j.smith\\AppData\\upd.exe and /tmp/.x/run.sh and \\\\fs01\\share\\x.ps1",
           "filename C:\\Users\\j.smith\\AppData\\upd.exe 0\nfilename /tmp/.x/run.sh 0\n"
           "filename \\\\fs01\\share\\x.ps1 0\n");
}

static void test_extract_dedup_and_pieces(void **state)
{
    (void)state;
    vg_ioc_list l = {0};
    const char *a = "from 8.8.8.8 to evil.com", *b = "again 8.8.8.8 and EVIL.com and 1.1.1.1";
    assert_int_equal(vg_ioc_extract(a, strlen(a), &l), 2);
    assert_int_equal(vg_ioc_extract(b, strlen(b), &l), 1); /* only 1.1.1.1 is new */
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[2].value, "1.1.1.1");
    vg_ioc_list_free(&l);
    /* many repeats and many distinct values stay linear and exact */
    char *big = malloc(1 << 20);
    size_t len = 0;
    for (int i = 0; len < (1 << 20) - 64; i++)
        len += (size_t)snprintf(big + len, (1 << 20) - len, "src 10.%d.%d.%d dst 8.8.8.8\n",
                                (i >> 16) & 255, (i >> 8) & 255, i & 255);
    size_t added = vg_ioc_extract(big, len, &l);
    assert_int_equal(added, l.n);
    assert_true(l.n > 30000);
    assert_string_equal(l.items[1].value, "8.8.8.8");
    vg_ioc_list_free(&l);
    free(big);
}

static void test_defang_round_trip(void **state)
{
    (void)state;
    const char *text = "user clicked https://micros0ft-login.example/a.php?x=1 from 203.0.113.7,"
                       " mail ceo@corp.com, c2 evil.com, v6 2001:db8::1, file invoice.pdf";
    char *d = vg_defang(text);
    assert_string_equal(d, "user clicked hxxps[://]micros0ft-login[.]example/a.php?x=1 from "
                           "203[.]0[.]113[.]7, mail ceo[@]corp[.]com, c2 evil[.]com, v6 "
                           "2001[:]db8[:][:]1, file invoice.pdf");
    char *again = vg_defang(d); /* defanging defanged text changes nothing */
    assert_string_equal(again, d);
    char *r = vg_refang(d);
    assert_string_equal(r, text);
    free(again);
    free(r);
    free(d);
    /* found by fuzzing: an ftp URL must come back as itself (refang knows no
     * "fxp"), and a URL in another's path must not stay live */
    static const char *const pairs[][2] = {
        {"get ftp://files.evil.com/payload.bin now", "get ftp[://]files[.]evil[.]com/payload.bin now"},
        {"https://web.archive.org/web/2024/http://evil.com/payload",
         "hxxps[://]web[.]archive[.]org/web/2024/hxxp[://]evil[.]com/payload"},
    };
    for (size_t i = 0; i < 2; i++) {
        d = vg_defang(pairs[i][0]);
        assert_string_equal(d, pairs[i][1]);
        r = vg_refang(d);
        assert_string_equal(r, pairs[i][0]);
        free(r);
        free(d);
    }
}

/* Refanging looks for where a defanged spelling may start sixteen bytes at a time:
 * a spelling at every offset from the start of a block, across a block's end, and
 * at the very end of the text must read as before. */
static void test_refang_at_block_edges(void **state)
{
    (void)state;
    char text[128], want[128], pad[48];
    for (size_t k = 0; k < 40; k++) {
        memset(pad, 'z', k); /* 'z' is no hex digit: the padding is never a hash */
        pad[k] = '\0';
        snprintf(text, sizeof text, "%s%shxxps[:]//evil[.]example/a(.)b{.}c [at]", pad,
                 k ? " " : "");
        snprintf(want, sizeof want, "%s%shttps://evil.example/a.b.c @", pad, k ? " " : "");
        char *r = vg_refang(text);
        if (strcmp(r, want) != 0)
            fail_msg("offset %zu: got '%s', wanted '%s'", k, r, want);
        free(r);
        snprintf(text, sizeof text, "%s%sevil[.]com", pad, k ? " " : "");
        expect(text, "domain evil.com " DEF "\n");
        snprintf(text, sizeof text, "%s%shXXp://Evil.com/x", pad, k ? " " : "");
        expect(text, "url http://Evil.com/x " DEF "\n");
        /* an 'h' or a bracket that starts nothing, last in the text */
        snprintf(text, sizeof text, "%s%s8.8.8.8 h", pad, k ? " " : "");
        expect(text, "ip 8.8.8.8 0\n");
        snprintf(text, sizeof text, "%s%s8.8.8.8 [", pad, k ? " " : "");
        expect(text, "ip 8.8.8.8 0\n");
    }
}

/* The text ends at len, not at a NUL: a spelling cut by the end is not one. */
static void test_extract_stops_at_len(void **state)
{
    (void)state;
    const char *text = "c2 evil[.]com[.]net and hxxp://x";
    vg_ioc_list l = {0};
    assert_int_equal(vg_ioc_extract(text, strlen("c2 evil[.]com[."), &l), 1);
    assert_string_equal(l.items[0].value, "evil.com");
    assert_int_equal(l.items[0].flags, VG_IOC_DEFANGED);
    vg_ioc_list_free(&l);
    assert_int_equal(vg_ioc_extract(text, strlen("c2 evil[.]com[.]net and hx"), &l), 1);
    assert_string_equal(l.items[0].value, "evil.com.net");
    vg_ioc_list_free(&l);
}

/* The DEFANGED flag goes to the indicators written defanged and to no neighbour,
 * however many there are in one text. */
static void test_extract_defanged_flag_per_indicator(void **state)
{
    (void)state;
    expect("evil[.]com 8.8.8.8 bad(.)org 1.1.1.1 evil.com good.org hxxp://a.example/x "
           "http://b.example/y 9.9.9[.]9",
           "domain evil.com " DEF "\nip 8.8.8.8 0\ndomain bad.org " DEF "\nip 1.1.1.1 0\n"
           "domain good.org 0\nurl http://a.example/x " DEF "\n"
           "url http://b.example/y 0\nip 9.9.9.9 " DEF "\n");
}

/* The scanner remembers which marks ('@', '.', ':') a token holds; one whose only
 * mark is trimmed off, or wrapped in key=value, is classified as before. */
static void test_extract_marks_at_token_ends(void **state)
{
    (void)state;
    expect("words end. with: marks@ @start .dot :colon", "");
    expect("evil.com. 8.8.8.8: (ceo@corp.com) fe80::1, x=9.9.9.9;y=evil.net",
           "domain evil.com 0\nip 8.8.8.8 0\nemail ceo@corp.com 0\nip fe80::1 " PRIV
           "\nip 9.9.9.9 0\ndomain evil.net 0\n");
    expect("tag:2001:db8::2 at=ceo@corp.com", "ip 2001:db8::2 " RES "\nemail ceo@corp.com 0\n");
}

static void test_extract_random_bytes(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL;
    char buf[4096];
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + (size_t)(x % sizeof buf);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            static const char alphabet[] = "0123456789abcdefABCDEF.:@/\\[](){}hxtp-_ %\n";
            buf[i] = (x & 1) ? (char)(x >> 8) : alphabet[(x >> 8) % (sizeof alphabet - 1)];
        }
        vg_ioc_list l = {0};
        vg_ioc_extract(buf, n, &l); /* must not crash, overrun or leak (ASan) */
        for (size_t i = 0; i < l.n; i++)
            assert_true(strlen(l.items[i].value) <= n);
        vg_ioc_list_free(&l);
        buf[n - 1] = '\0';
        char *d = vg_defang(buf);
        free(d);
    }
}

/* ---- linear time on hostile text ------------------------------------------------ */

#define BIG (16u << 20) /* the longest line `vigil iocs` reads */

/* Extract from text[0..len) in a child process stopped at limit seconds; the
 * seconds it took. *why says what went wrong, or is NULL when nothing did; when
 * want is not NULL, the indicators found must be want (as listing() writes them). */
static double extract_in_child(const char *text, size_t len, double limit, const char *want,
                               const char **why)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct itimerval stop = {.it_value = {(time_t)limit, (suseconds_t)(limit * 1e6) % 1000000}};
        setitimer(ITIMER_REAL, &stop, NULL);
        vg_ioc_list l = {0};
        vg_ioc_extract(text, len, &l);
        char *got = want ? listing(&l) : NULL;
        int code = got && strcmp(got, want) != 0 ? 3 : 0;
        free(got);
        vg_ioc_list_free(&l);
        _exit(code);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (WIFSIGNALED(status))
        *why = WTERMSIG(status) == SIGALRM ? "still running, stopped" : strsignal(WTERMSIG(status));
    else if (WEXITSTATUS(status))
        *why = WEXITSTATUS(status) == 3 ? "other indicators found" : "the child failed";
    else
        *why = s > limit ? "over the limit" : NULL; /* the clock here counts the fork too */
    return s;
}

/* 16 MB of each hostile shape (ioc_shapes.h) is read in time proportional to its
 * length: within 20 times what 16 MB of log text takes, plus half a second. Each shape
 * once took minutes to hours at that size. */
static void test_extract_linear_on_hostile_text(void **state)
{
    (void)state;
    vg_ioc_list warm = {0};
    vg_ioc_extract("8.8.8.8", 7, &warm); /* the suffix list is loaded before any clock */
    vg_ioc_list_free(&warm);
    const char *why;
    char *plain = ioc_plain_text(BIG);
    double base = extract_in_child(plain, BIG, 300, NULL, &why);
    free(plain);
    assert_null(why);
    double limit = 20 * base + 0.5;
    int slow = 0;
    for (size_t k = 0; k < IOC_NSHAPES; k++) {
        size_t len;
        char *t = ioc_shape_text(&ioc_shapes[k], BIG, &len);
        double s = extract_in_child(t, len, limit, NULL, &why);
        free(t);
        if (why) {
            print_error("16 MB of \"%s\": %s after %.2f s (limit %.2f s: 20 x %.2f s for 16 MB "
                        "of log text, + 0.5 s)\n", ioc_shapes[k].name, why, s, limit, base);
            slow++;
        }
    }
    if (slow)
        fail_msg("%d of %zu hostile shapes were not read in linear time", slow, IOC_NSHAPES);
}

/* key:value labels nested 300,000 deep ("gg:gg:...:evil.com"): the value under them
 * all is found, with no stack frame per level (the ASan build sees an overflow). */
static void test_extract_deep_labels(void **state)
{
    (void)state;
    size_t n = 300000;
    char *t = malloc(3 * n + sizeof "evil.com");
    for (size_t i = 0; i < n; i++)
        memcpy(t + 3 * i, "gg:", 3);
    memcpy(t + 3 * n, "evil.com", sizeof "evil.com");
    const char *why;
    extract_in_child(t, strlen(t), 60, "domain evil.com 0\n", &why);
    free(t);
    if (why)
        fail_msg("\"gg:\" x 300,000 then evil.com: %s", why);
}

/* RFC 5952: one spelling for each IPv6 address, whatever the sensor wrote. */
static void test_ipv6_canonical(void **state)
{
    (void)state;
    check("ip", "fe80:0:0:0:870A:159e:acca:1b3", "fe80::870a:159e:acca:1b3");
    check("ip", "FE80::870A:159E:ACCA:01B3", "fe80::870a:159e:acca:1b3");
    check("ip", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    check("ip", "2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1");      /* the longest run */
    check("ip", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");    /* the first of equal runs */
    check("ip", "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* one zero group stays */
    check("ip", "0:0:0:0:0:ffff:c000:280", "::ffff:192.0.2.128");
    check("ip", "::FFFF:192.0.2.128", "::ffff:192.0.2.128");
    check("ip", "0:0:0:0:0:0:0:0", "::");
    check("ip", "FE80:0::1%eth0", "fe80::1%eth0"); /* the zone index as written */
    check("ip", "203.0.113.7", "203.0.113.7");
    check("ip", "not:an:address", "not:an:address"); /* left as it is */
    /* extraction lists each address once, in that form */
    expect("from FE80:0:0:0:870A:159E:ACCA:01B3 then fe80::870a:159e:acca:1b3 and 2001:DB8::0:1",
           "ip fe80::870a:159e:acca:1b3 " PRIV "\nip 2001:db8::1 " RES "\n");
}

static void scope_is(const char *addr, int want)
{
    int got = vg_ip_scope_of(addr);
    if (got != want)
        fail_msg("%s: scope %s, wanted %s", addr, got < 0 ? "none" : vg_ip_scope_name(got),
                 want < 0 ? "none" : vg_ip_scope_name(want));
}

/* One classification of addresses, and the ones that name no host. */
static void test_ip_scope(void **state)
{
    (void)state;
    scope_is("8.8.8.8", VG_IP_PUBLIC);
    scope_is("2606:4700::1111", VG_IP_PUBLIC);
    scope_is("203.0.113.7", VG_IP_DOCUMENTATION);
    scope_is("2001:db8::1", VG_IP_DOCUMENTATION);
    scope_is("10.1.2.3", VG_IP_PRIVATE);
    scope_is("100.64.0.1", VG_IP_PRIVATE);
    scope_is("fd00::1", VG_IP_PRIVATE);
    scope_is("::ffff:192.168.1.1", VG_IP_PRIVATE); /* mapped: its IPv4 address */
    scope_is("127.0.0.53", VG_IP_LOOPBACK);
    scope_is("::1", VG_IP_LOOPBACK);
    scope_is("169.254.169.254", VG_IP_LINK_LOCAL);
    scope_is("fe80::1%eth0", VG_IP_LINK_LOCAL);
    scope_is("febf::1", VG_IP_LINK_LOCAL);
    scope_is("fec0::1", VG_IP_PUBLIC); /* past fe80::/10 */
    scope_is("224.0.0.251", VG_IP_MULTICAST);
    scope_is("239.255.255.250", VG_IP_MULTICAST);
    scope_is("ff02::fb", VG_IP_MULTICAST);
    scope_is("255.255.255.255", VG_IP_BROADCAST);
    scope_is("0.0.0.0", VG_IP_UNSPECIFIED);
    scope_is("::", VG_IP_UNSPECIFIED);
    scope_is("0.1.2.3", VG_IP_RESERVED);
    scope_is("240.0.0.1", VG_IP_RESERVED);
    scope_is("198.18.0.1", VG_IP_RESERVED);
    scope_is("192.168.1.255", VG_IP_PRIVATE); /* x.x.x.255 alone is an address */
    scope_is("8.8.8.255", VG_IP_PUBLIC);
    scope_is("evil.com", -1);
    scope_is("1.2.3.4:80", -1);
    scope_is("01.2.3.4", -1);
    scope_is("", -1);
    assert_true(vg_ip_scope_no_host(VG_IP_MULTICAST));
    assert_true(vg_ip_scope_no_host(VG_IP_BROADCAST));
    assert_true(vg_ip_scope_no_host(VG_IP_LINK_LOCAL));
    assert_true(vg_ip_scope_no_host(VG_IP_UNSPECIFIED));
    assert_true(vg_ip_scope_no_host(VG_IP_LOOPBACK));
    assert_false(vg_ip_scope_no_host(VG_IP_PRIVATE));
    assert_false(vg_ip_scope_no_host(VG_IP_PUBLIC));
    assert_false(vg_ip_scope_no_host(VG_IP_DOCUMENTATION));
}

/* `vigil iocs` tags by the same classification; x.x.x.255 is a broadcast only
 * when the text writes the subnet it is the broadcast of. */
static void test_extract_scopes(void **state)
{
    (void)state;
    const char *text = "mdns 224.0.0.251 ssdp ff02::c bcast 255.255.255.255 apipa 169.254.3.4 "
                       "any 0.0.0.0 net 10.1.2.255/24 host 10.1.4.255 wide 10.1.6.255/22 "
                       "p2p 10.9.9.255/31 pub 8.8.8.8";
    vg_ioc_list l = {0};
    vg_ioc_extract(text, strlen(text), &l);
    static const struct {
        const char *value;
        int scope, flags;
    } want[] = {
        {"224.0.0.251", VG_IP_MULTICAST, VG_IOC_RESERVED},
        {"ff02::c", VG_IP_MULTICAST, VG_IOC_RESERVED},
        {"255.255.255.255", VG_IP_BROADCAST, VG_IOC_RESERVED},
        {"169.254.3.4", VG_IP_LINK_LOCAL, VG_IOC_PRIVATE},
        {"0.0.0.0", VG_IP_UNSPECIFIED, VG_IOC_RESERVED},
        {"10.1.2.255", VG_IP_BROADCAST, VG_IOC_RESERVED}, /* the /24's broadcast */
        {"10.1.4.255", VG_IP_PRIVATE, VG_IOC_PRIVATE},    /* no subnet written */
        {"10.1.6.255", VG_IP_PRIVATE, VG_IOC_PRIVATE},    /* a host of 10.1.4.0/22 */
        {"10.9.9.255", VG_IP_PRIVATE, VG_IOC_PRIVATE},    /* a /31 has no broadcast */
        {"8.8.8.8", VG_IP_PUBLIC, 0},
    };
    assert_int_equal(l.n, sizeof want / sizeof *want);
    for (size_t i = 0; i < l.n; i++) {
        assert_string_equal(l.items[i].value, want[i].value);
        if ((int)l.items[i].scope != want[i].scope || l.items[i].flags != want[i].flags)
            fail_msg("%s: scope %s flags %d, wanted %s %d", want[i].value,
                     vg_ip_scope_name(l.items[i].scope), l.items[i].flags,
                     vg_ip_scope_name(want[i].scope), want[i].flags);
    }
    vg_ioc_list_free(&l);
}

typedef struct seen {
    char text[2048];
} seen;

static void saw(void *ud, int type, const char *value, bool ioc, int place)
{
    seen *s = ud;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%s %s%s @%d\n", VG_ARTIFACT_TYPE.names[type],
             value, ioc ? " ioc" : "", place);
}

static char *each_ioc(const char *json)
{
    cJSON *e = cJSON_Parse(json);
    assert_non_null(e);
    seen s = {{0}};
    vg_entity_each_ioc(e, saw, &s);
    cJSON_Delete(e);
    return strdup(s.text);
}

/* Addresses that name no host are no entity (no IOC, no correlation key); the
 * others keep their IOC flag by scope, and a home_ name is never an IOC. */
static void test_entities_never_iocs(void **state)
{
    (void)state;
    char *got =
        each_ioc("{\"src_ip\": [\"203.0.113.9\", \"224.0.0.251\", \"FF02::FB\","
                 " \"169.254.1.1\", \"fe80::1%eth0\", \"0.0.0.0\", \"::\", \"::1\","
                 " \"127.0.0.1\", \"255.255.255.255\", \"10.0.0.5\", \"192.168.1.255\"],"
                 " \"dest_ip\": \"2001:DB8:0:0:0:0:0:7\","
                 " \"home_src_ip\": \"198.51.100.20\", \"home_domain\": \"corp.example\","
                 " \"domain\": \"evil.example\", \"home_bogus\": \"x\", \"host\": \"ws-1\"}");
    /* the places count the values vigil saw before scopes: the multicast and
     * link-local ones (1 to 4) keep theirs, so an earlier op's places still name
     * the same values */
    assert_string_equal(got, "ip 203.0.113.9 ioc @0\nip 10.0.0.5 @5\nip 192.168.1.255 @6\n"
                             "ip 2001:db8::7 ioc @7\nip 198.51.100.20 @8\ndomain corp.example @9\n"
                             "domain evil.example ioc @10\nhostname ws-1 @11\n");
    free(got);
    int ip = vg_entity_type("ip");
    assert_false(vg_entity_is_ioc(ip, "224.0.0.251"));
    assert_false(vg_entity_is_ioc(ip, "ff02::1"));
    assert_false(vg_entity_is_ioc(ip, "169.254.169.254"));
    assert_false(vg_entity_is_ioc(ip, "fe80::870a:159e:acca:1b3"));
    assert_false(vg_entity_is_ioc(ip, "255.255.255.255"));
    assert_false(vg_entity_is_ioc(ip, "0.0.0.0"));
    assert_false(vg_entity_is_ioc(ip, "::"));
    assert_true(vg_entity_is_ioc(ip, "8.8.8.255"));
    assert_true(vg_entity_is_ioc(ip, "203.0.113.9:443")); /* an address with its port */
    assert_int_equal(vg_entity_type("home_dest_ip"), ip);
    assert_int_equal(vg_entity_type("home_url"), vg_entity_type("url"));
    assert_int_equal(vg_entity_type("home_bogus"), -1);
    assert_true(vg_entity_is_home("home_domain"));
    assert_false(vg_entity_is_home("domain"));
    assert_false(vg_entity_is_home("home_"));
}

static char *homed(const vg_home *h, const char *json, int want_changed)
{
    cJSON *e = cJSON_Parse(json);
    assert_non_null(e);
    int n = vg_entity_home(h, e);
    if (n != want_changed)
        fail_msg("%s: %d values moved or left out, wanted %d", json, n, want_changed);
    char *s = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    return s;
}

/* The organisation's own values move to home_ names on the author's side. */
static void test_entity_home(void **state)
{
    (void)state;
    vg_err err = {0};
    vg_home *h = vg_home_new();
    assert_int_equal(vg_home_set_nets(h,
                                      "198.51.100.0/24, 2001:db8:1::/48 ,10.20.30.0/24, "
                                      "203.0.113.77",
                                      &err),
                     VG_OK);
    assert_int_equal(vg_home_set_domains(h, "corp.example, *.Example.ORG, .lab.test.", &err),
                     VG_OK);
    assert_true(vg_home_has_ip(h, "198.51.100.200"));
    assert_true(vg_home_has_ip(h, "2001:DB8:1:0::5"));
    assert_true(vg_home_has_ip(h, "203.0.113.77"));
    assert_false(vg_home_has_ip(h, "203.0.113.78"));
    assert_false(vg_home_has_ip(h, "10.0.0.1")); /* home_net replaced the defaults */
    assert_true(vg_home_has_domain(h, "mail.corp.example"));
    assert_true(vg_home_has_domain(h, "EXAMPLE.org."));
    assert_true(vg_home_has_domain(h, "x.lab.test"));
    assert_false(vg_home_has_domain(h, "notcorp.example"));
    assert_false(vg_home_has_domain(h, "corp.example.evil.com"));

    /* the victim's public address is an entity, not an indicator; the attacker's
     * stays an indicator; a private one needs no deciding */
    char *got = homed(h,
                      "{\"src_ip\":\"203.0.113.9\",\"dest_ip\":[\"198.51.100.7\","
                      "\"10.20.30.4\",\"8.8.8.8\"],\"host\":\"ws-1\"}",
                      1);
    assert_string_equal(got, "{\"src_ip\":\"203.0.113.9\",\"dest_ip\":[\"10.20.30.4\","
                             "\"8.8.8.8\"],\"host\":\"ws-1\",\"home_dest_ip\":\"198.51.100.7\"}");
    free(got);
    /* names: a domain, a URL's host, an e-mail address's domain; a subnet's
     * broadcast left out; a home_ name there already gains the value */
    got = homed(h,
                "{\"domain\":[\"www.corp.example\",\"evil.example\"],\"url\":"
                "\"https://user@intranet.example.org:8443/login\",\"sender\":\"ceo@Corp.Example\","
                "\"recipient\":\"x@evil.example\",\"ip\":\"10.20.30.255\","
                "\"home_dest_ip\":\"198.51.100.1\",\"dest_ip\":\"198.51.100.2\"}",
                5);
    assert_string_equal(got, "{\"domain\":[\"evil.example\"],\"recipient\":\"x@evil.example\","
                             "\"home_domain\":\"www.corp.example\",\"home_url\":"
                             "\"https://user@intranet.example.org:8443/login\","
                             "\"home_sender\":\"ceo@Corp.Example\","
                             "\"home_dest_ip\":[\"198.51.100.1\",\"198.51.100.2\"]}");
    free(got);
    /* nothing of the organisation's: nothing written */
    got = homed(h, "{\"src_ip\":\"8.8.8.8\",\"domain\":\"evil.example\"}", 0);
    assert_string_equal(got, "{\"src_ip\":\"8.8.8.8\",\"domain\":\"evil.example\"}");
    free(got);
    /* the defaults: the private ranges, whose broadcasts are left out and whose
     * addresses, never IOCs, keep their names; a URL on a private host is home */
    got = homed(NULL,
                "{\"src_ip\":\"10.1.2.3\",\"dest_ip\":\"10.255.255.255\","
                "\"url\":\"http://192.168.1.10/admin\"}",
                2);
    assert_string_equal(got,
                        "{\"src_ip\":\"10.1.2.3\",\"home_url\":\"http://192.168.1.10/admin\"}");
    free(got);

    /* mistakes name the entry and change nothing */
    assert_int_equal(vg_home_set_nets(h, "10.0.0.0/8, 10.0.0.0/33", &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "'10.0.0.0/33' is not a network"));
    assert_int_equal(vg_home_set_nets(h, "corp.example", &err), VG_EINVAL);
    assert_int_equal(vg_home_set_nets(h, "1.2.3.4/", &err), VG_EINVAL);
    assert_int_equal(vg_home_set_domains(h, "corp example", &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "'corp example' is not a domain name"));
    assert_true(vg_home_has_ip(h, "198.51.100.200"));
    assert_true(vg_home_has_domain(h, "corp.example"));
    assert_int_equal(vg_home_set_nets(h, "", &err), VG_OK); /* none */
    assert_false(vg_home_has_ip(h, "198.51.100.200"));
    vg_home_free(h);
    vg_home_free(NULL);
}

/* Through the door: one artifact for two spellings of an address; an alert's
 * values that name no host bring nothing; home_ values are artifacts, never IOCs,
 * and a replica that receives the ops computes the same flags. */
static void test_artifacts_through_the_door(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *a_path = path_in(dir, "a.db"), *b_path = path_in(dir, "b.db");
    vg_ws *a = open_ws(a_path, "alice"), *b = open_ws(b_path, "bob");
    vg_id case_id;
    new_case(a, "v6", "high", case_id);
    must_apply(a, vg_op_artifact_add(case_id, "ip", "FE80:0:0:0:870A:159E:ACCA:01B3"));
    must_apply(a, vg_op_artifact_add(case_id, "ip", "fe80::870a:159e:acca:1b3"));
    must_apply(a, vg_op_artifact_add(case_id, "ip", "2001:db8:0:0:0:0:0:9"));
    assert_int_equal(sql_int(a, "SELECT count(*) FROM artifacts WHERE type = 'ip'"), 2);
    assert_int_equal(sql_int(a, "SELECT count(*) FROM artifacts WHERE value IN"
                                " ('fe80::870a:159e:acca:1b3', '2001:db8::9')"),
                     2);
    vg_op *op = vg_op_new("alert.add", NULL);
    cJSON_AddStringToObject(op->payload, "source", "suricata");
    cJSON_AddStringToObject(op->payload, "source_ref", "v6-1");
    cJSON_AddStringToObject(op->payload, "title", "ET INFO mDNS");
    cJSON_AddNumberToObject(op->payload, "event_time", 1731000000000.0);
    cJSON_AddStringToObject(op->payload, "case", case_id);
    cJSON_AddBoolToObject(op->payload, "artifacts", true);
    cJSON_AddItemToObject(
        op->payload, "entities",
        cJSON_Parse(
            "{\"src_ip\": [\"203.0.113.9\", \"2001:DB8::9\"], \"dest_ip\": [\"224.0.0.251\","
            " \"ff02::fb\", \"169.254.1.1\", \"0.0.0.0\"], \"home_dest_ip\": \"198.51.100.20\"}"));
    must_apply(a, op);
    copy_ops(a, b, "ORDER BY seq");
    vg_ws *ws[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sql_int(ws[i], "SELECT count(*) FROM artifacts WHERE type = 'ip'"), 4);
        assert_int_equal(sql_int(ws[i], "SELECT is_ioc FROM artifacts WHERE value = '203.0.113.9'"),
                         1);
        assert_int_equal(
            sql_int(ws[i], "SELECT is_ioc FROM artifacts WHERE value = '198.51.100.20'"), 0);
        assert_int_equal(
            sql_int(ws[i], "SELECT sightings FROM artifacts WHERE value = '2001:db8::9'"), 2);
        assert_int_equal(sql_int(ws[i], "SELECT count(*) FROM artifacts WHERE value IN"
                                        " ('224.0.0.251', 'ff02::fb', '169.254.1.1', '0.0.0.0')"),
                         0);
        assert_int_equal(sql_int(ws[i], "SELECT count(*) FROM alert_keys WHERE key LIKE 'ip:2%'"
                                        " OR key LIKE 'ip:1%' OR key LIKE 'ip:f%'"
                                        " OR key LIKE 'ip:0%'"),
                         3);
    }
    vg_ws_close(a);
    vg_ws_close(b);
    free(a_path);
    free(b_path);
    rm_tree(dir);
}

/* What real threat reports write (#17 item 17; tests/fixtures/real/reports holds
 * the reports themselves and tests/cli/ioc their measured precision and recall). */
static void test_extract_real_reports(void **state)
{
    (void)state;
    /* markup is not part of a URL: AsciiDoc's ++ and link text, backticks, <...> */
    expect("- `++http://get.adobe[.]com/flashplayer/download/update/x32++`\n"
           "The https://www.misp-project.org[MISP] event, <https://evil.example/a>,"
           " `https://evil.example/b` and [text](https://evil.example/c).",
           "url http://get.adobe.com/flashplayer/download/update/x32 " DEF "\n"
           "url https://www.misp-project.org 0\nurl https://evil.example/a 0\n"
           "url https://evil.example/b 0\nurl https://evil.example/c 0\n");
    expect("http://[2001:db8::1]:8080/x[1] file://46.8.19[.]163/mise/server.exe",
           "url http://[2001:db8::1]:8080/x 0\nurl file://46.8.19.163/mise/server.exe " DEF "\n");
    /* registry keys keep their {CLSID}, spaces inside, a doubled backslash is one */
    expect(
        "* `HKCU\\Software\\Classes\\CLSID\\\\{49CBB1C7-97D1-485A-9EC1-A26065633066}`\n"
        "[HKEY_CURRENT_USER\\Software\\Classes\\CLSID\\{A7F7DE86-C5BF-4239-A220-BF7523F5501E}]\n"
        "HKCU\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Explorer\\ScreenSaver is set\n"
        "reg add HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v upd",
        "registry HKCU\\Software\\Classes\\CLSID\\{49CBB1C7-97D1-485A-9EC1-A26065633066} 0\n"
        "registry HKEY_CURRENT_USER\\Software\\Classes\\CLSID\\{A7F7DE86-C5BF-4239-A220-"
        "BF7523F5501E} 0\n"
        "registry HKCU\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Explorer\\ScreenSaver 0\n"
        "registry HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run 0\n");
    /* %TEMP%\... and %APPDATA%\... paths, ~ and spaces inside, no C:\Program */
    expect(" * `%TEMP%\\~DF1E06.tmp`\n * `++%TEMP%\\iecache.bin++`\n"
           "- `%APPDATA%/Microsoft/Windows/scawrdot.db`\n"
           "- `C:\\Program Files\\VMware\\VMware Tools\\VMware VGAuth\\readme.txt`\n"
           "* `++C:\\Program Files (x86)\\Mozilla Firefox\\rasadhlp.dll++`\n"
           "%STARTUP%\\Control Panel.lnk\n"
           "\"ImagePath\"= \"%SystemRoot%\\System32\\svchost.exe -k DComLaunch\"\n"
           "dropped C:\\Users\\Public\\a.exe and then C:\\Intel\\ (a folder), then 50%.",
           "filename %TEMP%\\~DF1E06.tmp 0\nfilename %TEMP%\\iecache.bin 0\n"
           "filename %APPDATA%/Microsoft/Windows/scawrdot.db 0\n"
           "filename C:\\Program Files\\VMware\\VMware Tools\\VMware VGAuth\\readme.txt 0\n"
           "filename C:\\Program Files (x86)\\Mozilla Firefox\\rasadhlp.dll 0\n"
           "filename %STARTUP%\\Control Panel.lnk 0\n"
           "filename %SystemRoot%\\System32\\svchost.exe 0\n"
           "filename C:\\Users\\Public\\a.exe 0\nfilename C:\\Intel\\ 0\n");
    /* a version in a user agent is no address; names in prose are no domains */
    expect("Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9.0.19) Gecko/2010040116 at 9.9.9.9",
           "ip 9.9.9.9 0\n");
    expect("a compiled ASP.NET page and asp.net, VB.NET, [APKGOD.NET].zip, loader.zip and "
           "clip.mov, but evil[.]zip and ASPNET[.]NET",
           "domain evil.zip " DEF "\ndomain aspnet.net " DEF "\n");
    /* base64 runs and request targets are no file names; real paths still are */
    expect("/GvhBwH59oUDdpifd9uaGqNN/gDKIyEpdFX/QoXYaY8OoxIa+fDN+f+iSxhOwBIN\n"
           "/7NRmh2/F3v/QArQONQ48YKvtFyALOk+q+QXwDUm9zVPJQ4VYrihWtFyRD0mFGi9\n"
           "185.106.96[.]158 port 80 - GET /spfooh/cacerts.crl\n"
           "cron runs /var/tmp/qCVwOWA >/dev/null 2>&1",
           "ip 185.106.96.158 " DEF "\nfilename /var/tmp/qCVwOWA 0\n");
}

/* An op written before address scopes, its places counted with a multicast
 * address among them: this vigil brings the same value to the case. */
static void test_old_places(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *path = path_in(dir, "w.db");
    vg_ws *ws = open_ws(path, "alice");
    vg_id case_id;
    new_case(ws, "old", "high", case_id);
    char json[600];
    snprintf(json, sizeof json,
             "{\"source\":\"ids\",\"source_ref\":\"o-1\",\"title\":\"t\",\"event_time\":1790000000000,"
             "\"case\":\"%s\",\"entities\":{\"dest_ip\":[\"224.0.0.251\",\"203.0.113.5\"],"
             "\"host\":\"h-1\"},\"artifacts\":[1]}", case_id);
    vg_id origin;
    vg_ulid(1, origin);
    must_apply(ws, stamped("alert.add", NULL, ((uint64_t)1790000000000 << 16), origin, json));
    char *got = sql_text(ws, "SELECT group_concat(type || ' ' || value) FROM artifacts");
    assert_string_equal(got, "ip 203.0.113.5");
    free(got);
    vg_ws_close(ws);
    free(path);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refang),
        cmocka_unit_test(test_case_and_space),
        cmocka_unit_test(test_extract_network),
        cmocka_unit_test(test_extract_defanged),
        cmocka_unit_test(test_extract_host_artifacts),
        cmocka_unit_test(test_extract_dedup_and_pieces),
        cmocka_unit_test(test_defang_round_trip),
        cmocka_unit_test(test_extract_random_bytes),
        cmocka_unit_test(test_refang_at_block_edges),
        cmocka_unit_test(test_extract_stops_at_len),
        cmocka_unit_test(test_extract_defanged_flag_per_indicator),
        cmocka_unit_test(test_extract_marks_at_token_ends),
        cmocka_unit_test(test_extract_deep_labels),
        cmocka_unit_test(test_extract_linear_on_hostile_text),
        cmocka_unit_test(test_ipv6_canonical),
        cmocka_unit_test(test_ip_scope),
        cmocka_unit_test(test_extract_scopes),
        cmocka_unit_test(test_entities_never_iocs),
        cmocka_unit_test(test_entity_home),
        cmocka_unit_test(test_artifacts_through_the_door),
        cmocka_unit_test(test_old_places),
        cmocka_unit_test(test_extract_real_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
