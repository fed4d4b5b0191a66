/*
 * test_ioc.c — normalising indicator values, so one indicator is one artifact.
 */
#include "helpers.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refang),
        cmocka_unit_test(test_case_and_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
