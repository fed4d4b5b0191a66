/*
 * test_export.c — the pieces every export leans on: name-based UUIDs (checked
 * against the RFC's own example and STIX's SCO rule), CSV fields a spreadsheet
 * will not execute, and HTML escaping.
 */
#include "helpers.h"

#include "export.h"

static void test_uuid5(void **state)
{
    (void)state;
    /* RFC 9562 appendix A.4: the DNS namespace and "www.example.com" */
    static const unsigned char dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                          0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    char u[37];
    export_uuid5(dns, "www.example.com", 15, u);
    assert_string_equal(u, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    char id[96], id2[96];
    export_stix_id("report", "report:01ABC", id, sizeof id);
    export_stix_id("report", "report:01ABC", id2, sizeof id2);
    assert_string_equal(id, id2);
    assert_int_equal(strlen(id), strlen("report--") + 36);
    assert_int_equal(id[8 + 14], '5'); /* the version nibble */
    export_stix_id("report", "report:01ABD", id2, sizeof id2);
    assert_string_not_equal(id, id2);
}

static void check_csv(const char *in, const char *want)
{
    vg_buf b;
    vg_buf_init(&b, 4096);
    assert_int_equal(export_csv_field(&b, in), VG_OK);
    if (strcmp(vg_buf_str(&b), want) != 0)
        fail_msg("csv '%s': got [%s], wanted [%s]", in ? in : "(null)", vg_buf_str(&b), want);
    vg_buf_free(&b);
}

static void test_csv(void **state)
{
    (void)state;
    check_csv("plain", "plain");
    check_csv(NULL, "");
    check_csv("", "");
    check_csv("a,b", "\"a,b\"");
    check_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
    check_csv("two\nlines", "\"two\nlines\"");
    check_csv("=1+2", "\"'=1+2\"");
    check_csv("+cmd", "\"'+cmd\"");
    check_csv("-2", "\"'-2\"");
    check_csv("@SUM(A1)", "\"'@SUM(A1)\"");
    check_csv("\tx", "\"'\tx\"");
    check_csv("a=1", "a=1"); /* only the first character makes a formula */
    vg_buf b;
    vg_buf_init(&b, 4096);
    const char *row[] = {"x", "y,z", ""};
    assert_int_equal(export_csv_row(&b, row, 3), VG_OK);
    assert_string_equal(vg_buf_str(&b), "x,\"y,z\",\r\n");
    vg_buf_free(&b);
}

static void test_html(void **state)
{
    (void)state;
    vg_buf b;
    vg_buf_init(&b, 4096);
    assert_int_equal(export_html(&b, "<script>a('x') && \"y\"</script>\xff"), VG_OK);
    assert_string_equal(vg_buf_str(&b),
                        "&lt;script&gt;a(&#39;x&#39;) &amp;&amp; &quot;y&quot;&lt;/script&gt;\xef\xbf\xbd");
    vg_buf_free(&b);
    /* a cap that is reached fails cleanly */
    vg_buf_init(&b, 8);
    assert_int_not_equal(export_html(&b, "<<<<<<<<"), VG_OK);
    vg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid5),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
