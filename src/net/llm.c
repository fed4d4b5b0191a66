/*
 * llm.c — the LLM providers (contract in llm.h).
 *
 * One libcurl multi handle per request, driven by llm_poll: curl does the socket
 * work, the write callback splits what arrives into lines (Ollama streams NDJSON,
 * one object per line; OpenAI-compatible servers stream server-sent events,
 * "data: {...}" lines ending with "data: [DONE]") and appends each line's piece of
 * the answer to a capped buffer. The request ends well only when the stream said
 * it was finished (Ollama's "done": true, SSE's [DONE] or a finish_reason); a
 * connection that closes before that is an error, so a half answer is never taken
 * for a whole one. Stalls are curl's low-speed limit (no byte for stall_s), the
 * overall limit curl's timeout; both are told apart from the time of the last byte.
 */
#include "llm.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/buf.h"

#define DEFAULT_MAX (8u << 20)
#define LINE_CAP (1u << 20)
#define ERRBODY_CAP (64u << 10)

struct llm_stream {
    CURLM *multi;
    CURL *easy;
    struct curl_slist *hdrs;
    llm_provider provider;
    char *body, *url;
    vg_buf line, text, errbody;
    size_t received, max_bytes, taken;
    int64_t lines;
    bool done_seen, status_checked;
    long status, stall_s, timeout_s;
    llm_state state;
    char error[512];
    char curl_err[CURL_ERROR_SIZE];
    double start_ms, first_ms, first_byte_ms, last_byte_ms; /* monotonic, fractional */
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int llm_provider_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "ollama") == 0)
        return LLM_OLLAMA;
    if (strcmp(name, "openai") == 0 || strcmp(name, "openai-compatible") == 0)
        return LLM_OPENAI;
    return -1;
}

const char *llm_provider_name(llm_provider p) { return p == LLM_OPENAI ? "openai" : "ollama"; }

char *llm_ollama_url(const char *host)
{
    if (!host || !*host)
        return vg_xstrdup(LLM_OLLAMA_URL);
    const char *scheme = strstr(host, "://") ? "" : "http://";
    const char *hp = strstr(host, "://") ? strstr(host, "://") + 3 : host;
    size_t n = strlen(host);
    while (n && host[n - 1] == '/')
        n--;
    /* A port is there when the host part has a colon after any IPv6 bracket. */
    const char *br = strchr(hp, ']');
    bool port = strchr(br ? br : hp, ':') != NULL;
    size_t len = n + 32;
    char *out = vg_xmalloc(len);
    snprintf(out, len, "%s%.*s%s", scheme, (int)n, host, port ? "" : ":11434");
    return out;
}

static void fail(llm_stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(llm_stream *s, const char *fmt, ...)
{
    if (s->error[0])
        return; /* the first reason is the one to tell */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
}

static void add_text(llm_stream *s, const char *piece)
{
    if (!*piece)
        return;
    if (s->first_ms < 0)
        s->first_ms = mono_ms() - s->start_ms;
    if (vg_buf_adds(&s->text, piece))
        fail(s, "the answer passed the %zu MB cap", s->max_bytes >> 20);
}

/* A message from an error object: {"error": "..."} or {"error": {"message": "..."}}. */
static const char *error_message(const cJSON *o)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (cJSON_IsString(e))
        return e->valuestring;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsString(m))
        return m->valuestring;
    return e ? "an error without a message" : NULL;
}

static void line_ollama(llm_stream *s, const char *l, size_t n)
{
    if (!n)
        return;
    cJSON *o = cJSON_ParseWithLength(l, n);
    if (!cJSON_IsObject(o)) {
        fail(s, "invalid JSON in Ollama's stream at line %lld: %.60s", (long long)s->lines, l);
    } else if (error_message(o)) {
        fail(s, "Ollama: %.300s", error_message(o));
    } else {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (cJSON_IsString(c))
            add_text(s, c->valuestring);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "done")))
            s->done_seen = true;
    }
    cJSON_Delete(o);
}

static void line_sse(llm_stream *s, const char *l, size_t n)
{
    if (!n || l[0] == ':' || strncmp(l, "data:", 5) != 0)
        return; /* blank separators, comments, event: and id: fields */
    l += 5;
    n -= 5;
    if (n && *l == ' ')
        l++, n--;
    if (n == 6 && strncmp(l, "[DONE]", 6) == 0) {
        s->done_seen = true;
        return;
    }
    cJSON *o = cJSON_ParseWithLength(l, n);
    if (!cJSON_IsObject(o)) {
        fail(s, "invalid JSON in the event stream at line %lld: %.60s", (long long)s->lines, l);
    } else if (error_message(o)) {
        fail(s, "server: %.300s", error_message(o));
    } else {
        const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "choices"), 0);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ch, "delta"), "content");
        if (cJSON_IsString(c))
            add_text(s, c->valuestring);
        const cJSON *fin = cJSON_GetObjectItemCaseSensitive(ch, "finish_reason");
        if (cJSON_IsString(fin))
            s->done_seen = true;
    }
    cJSON_Delete(o);
}

static void take_line(llm_stream *s)
{
    size_t n = s->line.len;
    const char *l = vg_buf_str(&s->line);
    if (n && l[n - 1] == '\r')
        n--;
    s->lines++;
    if (s->provider == LLM_OLLAMA)
        line_ollama(s, l, n);
    else
        line_sse(s, l, n);
    vg_buf_reset(&s->line);
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    llm_stream *s = ud;
    size_t n = size * nmemb;
    s->received += n;
    s->last_byte_ms = mono_ms();
    if (s->first_byte_ms < 0)
        s->first_byte_ms = s->last_byte_ms - s->start_ms;
    if (!s->status_checked) {
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
        s->status_checked = true;
    }
    if (s->received > s->max_bytes) {
        fail(s, "the reply passed the %zu MB cap", s->max_bytes >> 20);
        return 0;
    }
    if (s->status >= 300) {
        size_t room = ERRBODY_CAP - s->errbody.len;
        if (room && vg_buf_add(&s->errbody, p, n < room ? n : room)) {
            /* cannot happen under the cap; the message just gets shorter */
        }
        return n;
    }
    if (s->done_seen)
        return n; /* whatever follows the end is not part of the answer */
    for (size_t i = 0; i < n && !s->error[0]; i++) {
        if (p[i] == '\n') {
            take_line(s);
            if (s->done_seen)
                break;
        } else if (vg_buf_add(&s->line, p + i, 1)) {
            fail(s, "a line of the stream is longer than %u KB", LINE_CAP >> 10);
        }
    }
    return s->error[0] ? 0 : n;
}

static char *join_url(const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    size_t len = n + strlen(path) + 1;
    char *u = vg_xmalloc(len);
    snprintf(u, len, "%.*s%s", (int)n, base, path);
    return u;
}

/* The easy handle both requests share: protocols, time limits, no redirects. */
static CURL *easy_new(const char *url, long timeout_s, char *errbuf)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, timeout_s < 10 ? timeout_s : 10L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-copilot");
    return e;
}

static struct curl_slist *headers(const char *api_key)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    /* No "Expect: 100-continue" round trip before a large prompt. */
    h = curl_slist_append(h, "Expect:");
    if (api_key && *api_key) {
        size_t n = strlen(api_key) + 32;
        char *a = vg_xmalloc(n);
        snprintf(a, n, "Authorization: Bearer %s", api_key);
        h = curl_slist_append(h, a);
        sodium_memzero(a, n); /* the key is not left in freed memory */
        free(a);
    }
    return h;
}

vg_rc llm_chat_start(const llm_config *cf, const cJSON *messages, const cJSON *schema,
                     llm_stream **out, vg_err *err)
{
    *out = NULL;
    if (!cf->model || !*cf->model)
        return vg_fail(err, VG_EINVAL, "no model named (set [copilot] model or pass --model)");
    llm_stream *s = vg_xcalloc(1, sizeof *s);
    s->provider = cf->provider;
    s->max_bytes = cf->max_bytes ? cf->max_bytes : DEFAULT_MAX;
    s->timeout_s = cf->timeout_s > 0 ? cf->timeout_s : 120;
    s->stall_s = cf->stall_s > 0 ? cf->stall_s : s->timeout_s < 30 ? s->timeout_s : 30;
    s->first_ms = s->first_byte_ms = -1;
    s->state = LLM_RUNNING;
    vg_buf_init(&s->line, LINE_CAP);
    vg_buf_init(&s->text, s->max_bytes);
    vg_buf_init(&s->errbody, ERRBODY_CAP);

    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "model", cf->model);
    cJSON_AddItemToObject(req, "messages", cJSON_Duplicate(messages, true));
    cJSON_AddBoolToObject(req, "stream", true);
    if (cf->provider == LLM_OLLAMA) {
        if (schema)
            cJSON_AddItemToObject(req, "format", cJSON_Duplicate(schema, true));
        cJSON *opts = cJSON_AddObjectToObject(req, "options");
        cJSON_AddNumberToObject(opts, "num_ctx", (double)(cf->budget ? cf->budget : 8192));
        cJSON_AddStringToObject(req, "keep_alive", cf->keep_alive ? cf->keep_alive : "10m");
        s->url = join_url(cf->url ? cf->url : LLM_OLLAMA_URL, "/api/chat");
    } else {
        if (schema) {
            cJSON *rf = cJSON_AddObjectToObject(req, "response_format");
            cJSON_AddStringToObject(rf, "type", "json_schema");
            cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
            cJSON_AddStringToObject(js, "name", "vigil_answer");
            cJSON_AddItemToObject(js, "schema", cJSON_Duplicate(schema, true));
        }
        s->url = join_url(cf->url ? cf->url : LLM_OPENAI_URL, "/chat/completions");
    }
    s->body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!s->body)
        abort();

    s->easy = easy_new(s->url, s->timeout_s, s->curl_err);
    s->multi = curl_multi_init();
    if (!s->easy || !s->multi) {
        llm_free(s);
        return vg_fail(err, VG_EIO, "cannot start an HTTP request (%s)",
                       llm_curl_available() ? "libcurl" : "libcurl.so.4 is not installed");
    }
    s->hdrs = headers(cf->provider == LLM_OPENAI ? cf->api_key : NULL);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_TIME, s->stall_s);
    s->start_ms = s->last_byte_ms = mono_ms();
    if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK) {
        llm_free(s);
        return vg_fail(err, VG_EIO, "cannot start an HTTP request (%s)",
                       llm_curl_available() ? "libcurl" : "libcurl.so.4 is not installed");
    }
    *out = s;
    return VG_OK;
}

/* The reason a finished transfer failed, or "" when it did not. */
static void finish(llm_stream *s, CURLcode res)
{
    if (s->error[0])
        return;
    if (res == CURLE_OPERATION_TIMEDOUT) {
        if (mono_ms() - s->last_byte_ms >= s->stall_s * 1000 - 250)
            fail(s, "the server stalled: nothing for %ld s (%s)", s->stall_s, s->url);
        else
            fail(s, "no complete answer within %ld s (%s)", s->timeout_s, s->url);
    } else if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST) {
        fail(s, "cannot reach %s: %s", s->url,
             s->curl_err[0] ? s->curl_err : curl_easy_strerror(res));
    } else if (res != CURLE_OK) {
        fail(s, "%s: %s", s->url, s->curl_err[0] ? s->curl_err : curl_easy_strerror(res));
    } else if (s->status >= 300 || !s->status_checked) {
        long code = s->status;
        if (!s->status_checked)
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 300 || code == 0) {
            cJSON *o = cJSON_ParseWithLength(vg_buf_str(&s->errbody), s->errbody.len);
            const char *m = error_message(o);
            fail(s, "HTTP %ld from %s%s%.300s", code, s->url, m ? ": " : "", m ? m : "");
            cJSON_Delete(o);
            return;
        }
    }
    if (!s->error[0] && s->line.len && !s->done_seen)
        take_line(s); /* a last line without its newline */
    if (!s->error[0] && !s->done_seen)
        fail(s, "the server closed the stream before the answer was complete (%zu bytes)",
             s->text.len);
}

llm_state llm_poll(llm_stream *s, int wait_ms)
{
    if (s->state != LLM_RUNNING)
        return s->state;
    int running = 0;
    curl_multi_perform(s->multi, &running);
    if (running && wait_ms > 0) {
        curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
        curl_multi_perform(s->multi, &running);
    }
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        finish(s, m->data.result);
        s->state = s->error[0] ? LLM_FAILED : LLM_DONE;
    }
    if (s->state == LLM_RUNNING && s->error[0]) {
        /* our own cap or parse failure: the transfer is being aborted */
        s->state = LLM_FAILED;
    }
    return s->state;
}

const char *llm_text(const llm_stream *s) { return vg_buf_str(&s->text); }

size_t llm_take_new(llm_stream *s, const char **from)
{
    *from = vg_buf_str(&s->text) + s->taken;
    size_t n = s->text.len - s->taken;
    s->taken = s->text.len;
    return n;
}

const char *llm_error(const llm_stream *s) { return s->error; }
double llm_first_token_ms(const llm_stream *s) { return s->first_ms; }
double llm_first_byte_ms(const llm_stream *s) { return s->first_byte_ms; }

void llm_free(llm_stream *s)
{
    if (!s)
        return;
    if (s->multi && s->easy)
        curl_multi_remove_handle(s->multi, s->easy);
    if (s->easy)
        curl_easy_cleanup(s->easy);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    curl_slist_free_all(s->hdrs);
    if (s->body)
        cJSON_free(s->body);
    free(s->url);
    vg_buf_free(&s->line);
    vg_buf_free(&s->text);
    vg_buf_free(&s->errbody);
    free(s);
}

static size_t on_list(char *p, size_t size, size_t nmemb, void *ud)
{
    vg_buf *b = ud;
    return vg_buf_add(b, p, size * nmemb) ? 0 : size * nmemb;
}

vg_rc llm_models(const llm_config *cf, long timeout_s, char ***names, size_t *n, vg_err *err)
{
    *names = NULL;
    *n = 0;
    char errbuf[CURL_ERROR_SIZE] = "";
    bool ollama = cf->provider == LLM_OLLAMA;
    char *url = join_url(cf->url ? cf->url : ollama ? LLM_OLLAMA_URL : LLM_OPENAI_URL,
                         ollama ? "/api/tags" : "/models");
    CURL *e = easy_new(url, timeout_s, errbuf);
    if (!e) {
        free(url);
        return vg_fail(err, VG_EIO, "cannot start an HTTP request (%s)",
                       llm_curl_available() ? "libcurl" : "libcurl.so.4 is not installed");
    }
    vg_buf b;
    vg_buf_init(&b, LINE_CAP);
    struct curl_slist *h = headers(cf->provider == LLM_OPENAI ? cf->api_key : NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_list);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    CURLcode res = curl_easy_perform(e);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    vg_rc rc = VG_OK;
    if (res != CURLE_OK) {
        rc = vg_fail(err, VG_EIO, "cannot reach %s: %s", url,
                     errbuf[0] ? errbuf : curl_easy_strerror(res));
    } else if (code != 200) {
        rc = vg_fail(err, VG_EIO, "HTTP %ld from %s", code, url);
    } else {
        cJSON *o = cJSON_ParseWithLength(vg_buf_str(&b), b.len);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(
            o, cf->provider == LLM_OLLAMA ? "models" : "data");
        if (!cJSON_IsArray(list)) {
            rc = vg_fail(err, VG_EIO, "%s: not a model list", url);
        } else {
            const cJSON *it;
            cJSON_ArrayForEach(it, list) {
                const cJSON *nm = cJSON_GetObjectItemCaseSensitive(
                    it, cf->provider == LLM_OLLAMA ? "name" : "id");
                if (!cJSON_IsString(nm))
                    continue;
                *names = vg_xrealloc(*names, (*n + 1) * sizeof **names);
                (*names)[(*n)++] = vg_xstrdup(nm->valuestring);
            }
        }
        cJSON_Delete(o);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    vg_buf_free(&b);
    free(url);
    return rc;
}

void llm_models_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}
