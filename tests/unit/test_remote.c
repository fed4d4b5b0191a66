/*
 * test_remote.c — a remote's URL: the ssh:// and http:// forms taken, each
 * stored in one normal form with its parts parsed out, and every other form
 * refused with a message that names what is wrong (the URL is also the name of
 * the token's section in the secrets file, so nothing odd may pass).
 */
#include "helpers.h"

#include "vigil/remote.h"

typedef struct good {
    const char *url, *stored, *ssh_user, *ssh_host, *ssh_dir, *host;
    int ssh_port, port;
} good;

static void test_taken(void **state)
{
    (void)state;
    const good g[] = {
        {"ssh://soc-srv", "ssh://soc-srv", "", "soc-srv", "", "127.0.0.1", 0, 8470},
        {"ssh://analyst@soc-srv", "ssh://analyst@soc-srv", "analyst", "soc-srv", "", "127.0.0.1",
         0, 8470},
        {"ssh://a.b_c@10.0.0.7:2222/", "ssh://a.b_c@10.0.0.7:2222", "a.b_c", "10.0.0.7", "",
         "127.0.0.1", 2222, 8470},
        {"ssh://soc_jump-1?port=9000", "ssh://soc_jump-1?port=9000", "", "soc_jump-1", "",
         "127.0.0.1", 0, 9000},
        {"ssh://h/var/lib/vigild/?port=8470", "ssh://h/var/lib/vigild", "", "h", "/var/lib/vigild",
         "127.0.0.1", 0, 8470},
        {"http://127.0.0.1:8470/", "http://127.0.0.1:8470", "", "", "", "127.0.0.1", 0, 8470},
    };
    for (size_t i = 0; i < sizeof g / sizeof *g; i++) {
        vg_remote r = {0};
        vg_err err = {0};
        assert_int_equal(vg_remote_parse_url(g[i].url, &r, &err), VG_OK);
        assert_string_equal(r.url, g[i].stored);
        assert_string_equal(r.ssh_user, g[i].ssh_user);
        assert_string_equal(r.ssh_host, g[i].ssh_host);
        assert_string_equal(r.ssh_dir, g[i].ssh_dir);
        assert_string_equal(r.host, g[i].host);
        assert_int_equal(r.ssh_port, g[i].ssh_port);
        assert_int_equal(r.port, g[i].port);
        assert_int_equal(r.ssh, strncmp(g[i].url, "ssh", 3) == 0);
        /* the stored form parses to itself */
        vg_remote again = {0};
        assert_int_equal(vg_remote_parse_url(r.url, &again, &err), VG_OK);
        assert_string_equal(again.url, r.url);
    }
}

static void test_refused(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"ssh://al:pw@h", "no password"},
        {"ssh://-oProxyCommand=x", "not a name"},
        {"ssh://-l@h", "the user is not"},
        {"ssh://h:0", "SSH port"},
        {"ssh://h:65536", "SSH port"},
        {"ssh://h:22x", "SSH port"},
        {"ssh://[::1]", "IPv6"},
        {"ssh://h/a/../b", "without '..'"},
        {"ssh://h/..", "without '..'"},
        {"ssh://h/a b", "the path"},
        {"ssh://h/a]b", "the path"},
        {"ssh://h?port=", "?port=N"},
        {"ssh://h?port=70000", "?port=N"},
        {"ssh://h?user=x", "may only be ?port=N"},
        {"ssh://h#x", "no fragment"},
        {"ssh://", "not a name"},
        {"ssh://h]x", "not a name"},
        {"https://h:1", "a remote is ssh://"},
        {"http://h", "a port is needed"},
        {"http://u@h:1", "no user or password"},
        {"http://h:1/v1", "no path"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vg_remote r = {0};
        vg_err err = {0};
        assert_int_equal(vg_remote_parse_url(bad[i][0], &r, &err), VG_EINVAL);
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("%s: '%s' does not say '%s'", bad[i][0], err.msg, bad[i][1]);
    }
    /* a URL longer than the stored form's room */
    char longer[VG_REMOTE_URL + 10] = "ssh://h/";
    memset(longer + 8, 'a', sizeof longer - 9);
    longer[sizeof longer - 1] = '\0';
    vg_remote r;
    vg_err err = {0};
    assert_int_equal(vg_remote_parse_url(longer, &r, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "longer than"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taken),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
