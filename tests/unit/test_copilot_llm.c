/*
 * test_copilot_llm.c — the LLM providers (src/net/llm.c) against the fake server
 * (tests/llm/fake_llm.py, started here on 127.0.0.1): both streaming protocols,
 * the model list, that polling never blocks, and a clear failure with nothing
 * taken for every way a server can misbehave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "copilot.h"
#include "llm.h"

static const char *script; /* argv[1]: the fake server */
static pid_t server;
static char base[64], openai[64];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int start_server(void **state)
{
    (void)state;
    char dir[] = "/tmp/vigil-llm-XXXXXX", port_file[64];
    if (!mkdtemp(dir))
        return -1;
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    server = fork();
    if (server == 0) {
        execlp("python3", "python3", script, "--port-file", port_file, "--key", "k1",
               (char *)NULL);
        _exit(127);
    }
    int port = 0;
    for (int i = 0; i < 200 && !port; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (!port)
            usleep(50000);
    }
    unlink(port_file);
    rmdir(dir);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    snprintf(openai, sizeof openai, "http://127.0.0.1:%d/v1", port);
    return port ? 0 : -1;
}

static int stop_server(void **state)
{
    (void)state;
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    return 0;
}

static cJSON *messages(void)
{
    cJSON *m = cJSON_CreateArray(), *u = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "role", "user");
    cJSON_AddStringToObject(u, "content", "what happened?");
    cJSON_AddItemToArray(m, u);
    return m;
}

/* Run a request to the end; returns its state, the text or error in out. */
static llm_state run(const llm_config *cf, char *out, size_t outsz)
{
    cJSON *m = messages(), *schema = cop_answer_schema();
    llm_stream *s = NULL;
    vg_err err = {0};
    if (llm_chat_start(cf, m, schema, &s, &err) != VG_OK)
        fail_msg("start: %s", err.msg);
    double t0 = now_ms();
    llm_state st = llm_poll(s, 0);
    assert_true(now_ms() - t0 < 100); /* a poll with no wait does not wait */
    while (st == LLM_RUNNING)
        st = llm_poll(s, 50);
    snprintf(out, outsz, "%s", st == LLM_DONE ? llm_text(s) : llm_error(s));
    if (st == LLM_DONE)
        assert_true(llm_first_token_ms(s) >= 0);
    llm_free(s);
    cJSON_Delete(m);
    cJSON_Delete(schema);
    return st;
}

static llm_config ollama(const char *model)
{
    return (llm_config){.provider = LLM_OLLAMA, .url = base, .model = model, .timeout_s = 2,
                        .budget = 4096};
}

static void test_urls(void **state)
{
    (void)state;
    static const struct { const char *in, *want; } c[] = {
        {NULL, "http://127.0.0.1:11434"},
        {"", "http://127.0.0.1:11434"},
        {"gpu-box", "http://gpu-box:11434"},
        {"gpu-box:8080", "http://gpu-box:8080"},
        {"https://llm.corp.example/", "https://llm.corp.example:11434"},
        {"http://10.0.0.5:11434/", "http://10.0.0.5:11434"},
        {"[::1]", "http://[::1]:11434"},
        {"[::1]:9999", "http://[::1]:9999"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char *u = llm_ollama_url(c[i].in);
        if (strcmp(u, c[i].want) != 0)
            fail_msg("OLLAMA_HOST '%s': got %s, wanted %s", c[i].in ? c[i].in : "(null)", u,
                     c[i].want);
        free(u);
    }
    assert_int_equal(llm_provider_parse("ollama"), LLM_OLLAMA);
    assert_int_equal(llm_provider_parse("openai"), LLM_OPENAI);
    assert_int_equal(llm_provider_parse("gemini"), -1);
}

static void test_ollama_stream(void **state)
{
    (void)state;
    char out[4096];
    llm_config cf = ollama("normal");
    assert_int_equal(run(&cf, out, sizeof out), LLM_DONE);
    cop_answer a;
    cop_answer_parse(out, NULL, NULL, &a);
    assert_true(a.structured);
    assert_non_null(strstr(a.text, "reset the password"));
    cop_answer_clear(&a);
}

static void test_openai_stream(void **state)
{
    (void)state;
    char out[4096];
    llm_config cf = {.provider = LLM_OPENAI, .url = openai, .model = "proposals", .api_key = "k1",
                     .timeout_s = 2};
    assert_int_equal(run(&cf, out, sizeof out), LLM_DONE);
    assert_non_null(strstr(out, "set_severity"));
    cf.api_key = "wrong";
    assert_int_equal(run(&cf, out, sizeof out), LLM_FAILED);
    assert_non_null(strstr(out, "HTTP 401"));
    assert_non_null(strstr(out, "invalid api key"));
}

static void test_models(void **state)
{
    (void)state;
    llm_config cf = ollama(NULL);
    char **names;
    size_t n;
    vg_err err = {0};
    assert_int_equal(llm_models(&cf, 2, &names, &n, &err), VG_OK);
    assert_true(n > 5);
    assert_string_equal(names[0], "normal");
    llm_models_free(names, n);
    cf.url = "http://127.0.0.1:1";
    assert_int_equal(llm_models(&cf, 2, &names, &n, &err), VG_EIO);
    assert_non_null(strstr(err.msg, "cannot reach"));
}

static void test_failures(void **state)
{
    (void)state;
    static const struct { const char *model; const char *want; } c[] = {
        {"malformed", "invalid JSON in Ollama's stream"},
        {"cut", "closed the stream before the answer was complete"},
        {"huge", "passed the 1 MB cap"},
        {"stall", "the server stalled: nothing for 1 s"},
        {"forever", "no complete answer within 2 s"},
        {"nosuch", "HTTP 404"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char out[1024];
        llm_config cf = ollama(c[i].model);
        cf.max_bytes = 1 << 20;
        cf.stall_s = strcmp(c[i].model, "stall") == 0 ? 1 : 0;
        if (run(&cf, out, sizeof out) != LLM_FAILED || !strstr(out, c[i].want))
            fail_msg("%s: got '%s', wanted '%s'", c[i].model, out, c[i].want);
    }
    char out[1024];
    llm_config cf = ollama("normal");
    cf.url = "http://127.0.0.1:1";
    assert_int_equal(run(&cf, out, sizeof out), LLM_FAILED);
    assert_non_null(strstr(out, "cannot reach http://127.0.0.1:1/api/chat"));
    cf.model = "";
    llm_stream *s = NULL;
    vg_err err = {0};
    cJSON *m = messages();
    assert_int_equal(llm_chat_start(&cf, m, NULL, &s, &err), VG_EINVAL);
    assert_null(s);
    cJSON_Delete(m);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FAKE_LLM_SCRIPT\n", argv[0]);
        return 2;
    }
    script = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_ollama_stream),
        cmocka_unit_test(test_openai_stream),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
