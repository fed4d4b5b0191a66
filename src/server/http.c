/*
 * http.c — the server over libmicrohttpd (Debian 12's 0.9.75): a request's life from
 * its headers to its log line (http.h says what a handler is promised).
 *
 * Threads. libmicrohttpd runs a pool of worker threads, each with its own epoll set
 * over many connections, and allows a connection to be suspended (the next part's
 * long-poll pull parks a connection that way, costing a socket and a few KB rather
 * than a thread). A handler runs on its worker and should be short: a worker's other
 * connections wait while it runs.
 *
 * A request, in libmicrohttpd's calls to on_request:
 *   1. headers read: the route (404/405), the token (401) and role (403), the
 *      declared length against the route's cap (413), the body's encoding; an
 *      error is answered here, before a byte of the body is read;
 *   2. each piece of the body, appended within the cap; a chunked body that
 *      passes it is cut off with 413 (cut_off says how);
 *   3. the body complete: the handler runs and its JSON is queued.
 * on_completed writes the log line, whatever happened, and frees the request.
 *
 * Two ways in. The daemon listens on its address; `vigild --stdio` listens
 * nowhere and hands libmicrohttpd one end of a socketpair, pumping the other end
 * to and from its stdin and stdout (http_serve_stream): the same requests, caps,
 * tokens and answers, on the channel sshd's exec gives it. Either may run beside
 * others on the same data directory, so a parked pull is also woken by another
 * process's commit: while anything is parked the waker reads the heads of the
 * parked requests' tenants every HTTP_LOOK_MS (one indexed max() each); with
 * nothing parked it reads nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "http.h"
#include "token.h"
#include "vigil/buf.h"
#include "vigil/json.h"
#include "vigil/text.h"

/* Limits. Connections: 200 analysts' clients and their long-polls with room to
 * spare (file descriptors are raised to match at start). No per-address limit:
 * every client arrives from 127.0.0.1 through its SSH tunnel. Idle connections
 * close after a minute; 32 KB of headers at most per connection. */
#define CONNECTION_LIMIT 1000u
#define CONNECTION_TIMEOUT_S 60u
#define CONNECTION_MEMORY 32768u
#define LISTEN_BACKLOG 256u

typedef struct req req;

struct http_server {
    struct MHD_Daemon *d;
    store *st;
    const route *table;
    size_t n;
    atomic_int in_flight;
    bool listening; /* started with an address (not for --stdio) */
    int listen_fd;  /* after http_quiesce: closed only after the daemon stops */
    /* parked requests, under park_mu; the waker thread resumes those whose
     * deadline passed */
    pthread_mutex_t park_mu;
    pthread_cond_t park_cv;
    req *parked;
    unsigned long wake_seq;
    bool stopping;
    pthread_t waker;
    bool waker_on;
};

/* One request's state, from its headers to its log line. */
struct req {
    struct timespec start;
    const route *rt;
    http_req hr;
    store_ident who;
    bool authed;
    vg_buf body;
    const char *encoding; /* the body's Content-Encoding, NULL for identity */
    bool decoded;
    bool answered; /* a response is queued (or written, by cut_off) */
    int status;
    size_t bytes;
    char method[16]; /* as sent, made safe, for the log */
    char path[256];
    req *next_parked;
    struct MHD_Connection *conn;
};

int64_t http_mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void http_header(http_req *r, const char *name, const char *fmt, ...)
{
    if (r->nhdr == HTTP_HEADERS)
        return;
    va_list ap;
    va_start(ap, fmt);
    snprintf(r->hdr_name[r->nhdr], sizeof r->hdr_name[0], "%s", name);
    vsnprintf(r->hdr_value[r->nhdr], sizeof r->hdr_value[0], fmt, ap);
    va_end(ap);
    r->nhdr++;
}

const char *http_query(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_request_header(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static cJSON *error_json(int status, const char *field, const char *msg)
{
    cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
    cJSON_AddNumberToObject(e, "status", status);
    cJSON_AddStringToObject(e, "message", msg);
    if (field)
        cJSON_AddStringToObject(e, "field", field);
    return j;
}

int http_error(cJSON **out, int status, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* the message may quote what the client sent: keep the JSON UTF-8 */
    char *safe = vg_utf8_repair(msg);
    *out = error_json(status, field, safe);
    free(safe);
    return status;
}

/* JSON text for an answer, with a newline (for a person with curl); frees j. */
static char *json_text(cJSON *j, size_t *len)
{
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    size_t n = strlen(text);
    text = vg_xrealloc(text, n + 2);
    text[n] = '\n';
    text[n + 1] = '\0';
    *len = n + 1;
    return text;
}

/* Queue status and j (freed) as the answer; or, when the handler gave raw bytes,
 * those (compressed when the client takes it and they are large). */
static enum MHD_Result answer(struct MHD_Connection *c, req *r, int status, cJSON *j,
                              const char *allow)
{
    size_t len = 0;
    const char *type = "application/json", *enc = NULL;
    bool negotiated = false; /* compressed or not by the client's Accept-Encoding */
    struct MHD_Response *resp;
    if (r->hr.raw_fd >= 0 && status == 200) { /* a file, sent as it is */
        cJSON_Delete(j);
        len = (size_t)r->hr.raw_fd_size;
        resp = MHD_create_response_from_fd64(r->hr.raw_fd_size, r->hr.raw_fd);
        if (resp)
            r->hr.raw_fd = -1; /* libmicrohttpd closes it */
        type = r->hr.raw_type ? r->hr.raw_type : "application/octet-stream";
    } else {
        char *text;
        if (r->hr.raw && status == 200) {
            cJSON_Delete(j);
            const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_ACCEPT_ENCODING);
            text = codec_encode(ae, r->hr.raw, r->hr.raw_len, &len, &enc);
            if (text) {
                free(r->hr.raw);
            } else {
                text = r->hr.raw;
                len = r->hr.raw_len;
            }
            r->hr.raw = NULL;
            type = r->hr.raw_type ? r->hr.raw_type : "application/octet-stream";
            negotiated = true;
        } else {
            text = json_text(j, &len);
        }
        resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(text);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (enc)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, enc);
    if (negotiated)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    for (int i = 0; i < r->hr.nhdr; i++)
        MHD_add_response_header(resp, r->hr.hdr_name[i], r->hr.hdr_value[i]);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"vigild\"");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->answered = true;
    r->status = status;
    r->bytes = len;
    return ok;
}

static enum MHD_Result fail(struct MHD_Connection *c, req *r, int status, const char *field,
                            const char *msg)
{
    return answer(c, r, status, error_json(status, field, msg), NULL);
}

/* A chunked body passed the route's cap while being read. libmicrohttpd 0.9.75
 * queues a response only before the body is read or once all of it is, and
 * reading the rest of a body we refuse is what the cap is there to prevent. So
 * the 413 is written to the socket here (plain HTTP: vigild speaks no TLS; the
 * worker that owns the connection is the one running this, and it has written
 * nothing for this request), and returning MHD_NO closes the connection. */
static _Thread_local bool cutting; /* cut_off's MHD_NO is no internal error */

static enum MHD_Result cut_off(struct MHD_Connection *c, req *r)
{
    char msg[160], head[256];
    snprintf(msg, sizeof msg, "the body is larger than this route's %zu bytes", r->rt->body_cap);
    size_t len;
    char *body = json_text(error_json(413, NULL, msg), &len);
    int hl = snprintf(head, sizeof head, "HTTP/1.1 413 Content Too Large\r\nContent-Type:"
                      " application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", len);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci && hl > 0) {
        struct iovec iov[2] = {{head, (size_t)hl}, {body, len}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        (void)!sendmsg(ci->connect_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        shutdown(ci->connect_fd, SHUT_WR); /* the answer, then the end, before the close */
    }
    free(body);
    r->answered = true;
    r->status = 413;
    r->bytes = len;
    cutting = true;
    return MHD_NO;
}

/* The request's headers are in: everything that can be refused before the body. */
static enum MHD_Result begin(http_server *hs, struct MHD_Connection *c, req *r, const char *url,
                             const char *method)
{
    char allow[128];
    int m = route_match(hs->table, hs->n, method, url, &r->rt, r->hr.params, allow, sizeof allow);
    if (m == 404)
        return fail(c, r, 404, NULL, "no such route");
    if (m == 405) {
        char msg[200];
        snprintf(msg, sizeof msg, "this route takes %s", allow);
        return answer(c, r, 405, error_json(405, NULL, msg), allow);
    }
    if (r->rt->roles) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_AUTHORIZATION);
        const char *secret = token_bearer(auth);
        vg_err err = {0};
        if (!auth)
            return fail(c, r, 401, NULL, "no token (Authorization: Bearer vgt_...)");
        if (!secret)
            return fail(c, r, 401, NULL, "the Authorization header is not a Bearer token");
        vg_rc rc = store_auth(hs->st, secret, &r->who, &err);
        if (rc == VG_EINVAL)
            return fail(c, r, 401, NULL, "the token is malformed");
        if (rc == VG_ENOTFOUND)
            return fail(c, r, 401, NULL, "the token is unknown or revoked");
        if (rc != VG_OK) {
            fprintf(stderr, "vigild: %s\n", err.msg);
            return fail(c, r, 500, NULL, "the server could not check the token");
        }
        r->authed = true;
        if (!(r->rt->roles & r->who.role)) {
            char msg[200];
            snprintf(msg, sizeof msg, "the %s role may not use this route",
                     store_role_name(r->who.role));
            return fail(c, r, 403, NULL, msg);
        }
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > r->rt->body_cap) {
        char msg[160];
        snprintf(msg, sizeof msg, "the body is larger than this route's %zu bytes",
                 r->rt->body_cap);
        return fail(c, r, 413, NULL, msg);
    }
    /* A compressed body (zstd, gzip) is decoded once it is all in (finish): the
     * cap holds for the bytes sent and again for the bytes decoded. */
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (ce && !codec_known(ce))
        return fail(c, r, 415, "Content-Encoding", "this vigild takes zstd, gzip or identity");
    if (ce && strcasecmp(ce, "identity") != 0)
        r->encoding = ce;
    vg_buf_init(&r->body, r->rt->body_cap);
    return MHD_YES;
}

/* Park r until http_wake, its deadline or the stop; false when a wake came while
 * its handler ran (the handler then runs again at once). */
static bool park(http_server *hs, req *r)
{
    pthread_mutex_lock(&hs->park_mu);
    bool ok = hs->wake_seq == r->hr.wake_seq && !hs->stopping;
    if (ok) {
        r->next_parked = hs->parked;
        hs->parked = r;
        MHD_suspend_connection(r->conn);
        pthread_cond_signal(&hs->park_cv);
    }
    pthread_mutex_unlock(&hs->park_mu);
    return ok;
}

/* Resume the parked requests for which pick says so. Under park_mu. */
static void resume_where(http_server *hs, bool (*pick)(req *r, const void *arg), const void *arg)
{
    for (req **p = &hs->parked; *p;) {
        req *r = *p;
        if (pick(r, arg)) {
            *p = r->next_parked;
            r->next_parked = NULL;
            MHD_resume_connection(r->conn);
        } else {
            p = &r->next_parked;
        }
    }
}

static bool of_tenant(req *r, const void *tenant)
{
    return strcmp(r->hr.park_tenant, tenant) == 0;
}

static bool any(req *r, const void *unused)
{
    (void)r, (void)unused;
    return true;
}

static bool expired(req *r, const void *now)
{
    return r->hr.park_until <= *(const int64_t *)now;
}

static void wake_from_store(void *ud, const char *tenant_id) { http_wake(ud, tenant_id); }

void http_wake(http_server *hs, const char *tenant_id)
{
    pthread_mutex_lock(&hs->park_mu);
    hs->wake_seq++;
    resume_where(hs, of_tenant, tenant_id);
    pthread_mutex_unlock(&hs->park_mu);
}

bool http_stopping(http_server *hs)
{
    pthread_mutex_lock(&hs->park_mu);
    bool s = hs->stopping;
    pthread_mutex_unlock(&hs->park_mu);
    return s;
}

/* A tenant with parked requests, and the head its log is at now. */
typedef struct look {
    vg_id tenant;
    int64_t head;
} look;

static bool moved(req *r, const void *arg)
{
    const look *l = arg;
    return strcmp(r->hr.park_tenant, l->tenant) == 0 && r->hr.park_head < l->head;
}

/* Resume the parked requests whose tenant's log has moved past the head they
 * saw: a commit by another process, which calls no http_wake in this one. Called
 * with park_mu held, which it drops while reading: a handler takes a tenant's
 * lock and then park_mu (http_wake), so reading under park_mu could deadlock. A
 * head that cannot be read wakes nobody; those requests answer at their
 * deadline as before. */
static void look_for_moves(http_server *hs)
{
    size_t n = 0, cap = 0;
    look *ls = NULL;
    for (req *r = hs->parked; r; r = r->next_parked) {
        size_t i = 0;
        while (i < n && strcmp(ls[i].tenant, r->hr.park_tenant) != 0)
            i++;
        if (i < n)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            ls = vg_xrealloc(ls, cap * sizeof *ls);
        }
        memcpy(ls[n].tenant, r->hr.park_tenant, sizeof ls[n].tenant);
        n++;
    }
    pthread_mutex_unlock(&hs->park_mu);
    for (size_t i = 0; i < n; i++) {
        vg_err err = {0};
        if (store_tenant_head(hs->st, ls[i].tenant, &ls[i].head, &err) != VG_OK)
            ls[i].head = -1;
    }
    pthread_mutex_lock(&hs->park_mu);
    for (size_t i = 0; i < n; i++)
        if (ls[i].head >= 0)
            resume_where(hs, moved, &ls[i]);
    free(ls);
}

/* The waker: resumes each parked request at its deadline, or when its tenant's
 * log moves (look_for_moves, every HTTP_LOOK_MS while any is parked). */
static void *waker(void *arg)
{
    http_server *hs = arg;
    int64_t next_look = 0;
    pthread_mutex_lock(&hs->park_mu);
    while (!hs->stopping || hs->parked) {
        int64_t now = http_mono_ms(), next = now + 60000;
        if (hs->parked && !hs->stopping && now >= next_look) {
            look_for_moves(hs);
            next_look = http_mono_ms() + HTTP_LOOK_MS;
            continue;
        }
        resume_where(hs, expired, &now);
        for (req *r = hs->parked; r; r = r->next_parked)
            if (r->hr.park_until < next)
                next = r->hr.park_until;
        if (hs->parked && next_look < next)
            next = next_look;
        if (hs->stopping)
            resume_where(hs, any, NULL);
        else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t wait = next > now ? next - now : 0;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&hs->park_cv, &hs->park_mu, &ts);
        }
    }
    pthread_mutex_unlock(&hs->park_mu);
    return NULL;
}

/* The body is in: run the handler and queue its answer (or park the request). */
static enum MHD_Result finish(http_server *hs, struct MHD_Connection *c, req *r, const char *url,
                              const char *method)
{
    if (r->encoding && !r->decoded) {
        vg_buf plain;
        vg_err err = {0};
        vg_buf_init(&plain, r->rt->body_cap);
        vg_rc rc = codec_decode(r->encoding, r->body.data ? r->body.data : "", r->body.len,
                                &plain, &err);
        vg_buf_free(&r->body);
        r->body = plain;
        r->decoded = true;
        if (rc != VG_OK) {
            vg_buf_free(&r->body);
            return fail(c, r, rc == VG_EEXIST ? 413 : 400, "Content-Encoding", err.msg);
        }
    }
    r->conn = c;
    r->hr.hs = hs;
    r->hr.method = method;
    r->hr.path = url;
    r->hr.who = r->authed ? &r->who : NULL;
    r->hr.st = hs->st;
    r->hr.body = vg_buf_str(&r->body);
    r->hr.body_len = r->body.len;
    r->hr.conn = c;
    for (;;) {
        cJSON *out = NULL;
        pthread_mutex_lock(&hs->park_mu);
        r->hr.wake_seq = hs->wake_seq;
        pthread_mutex_unlock(&hs->park_mu);
        int status = r->rt->fn(&r->hr, &out);
        r->hr.runs++;
        if (status == HTTP_PARK) {
            cJSON_Delete(out);
            if (park(hs, r))
                return MHD_YES;
            continue; /* woken while it ran: look again */
        }
        if (!out && !r->hr.raw)
            out = error_json(500, NULL, "the handler gave no answer");
        return answer(c, r, status, out, NULL);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    http_server *hs = cls;
    req *r = *con_cls;
    if (!r) {
        r = vg_xcalloc(1, sizeof *r);
        r->hr.raw_fd = -1;
        *con_cls = r;
        atomic_fetch_add(&hs->in_flight, 1);
        clock_gettime(CLOCK_MONOTONIC, &r->start);
        vg_text_safe(method, strlen(method), VG_TEXT_ASCII, r->method, sizeof r->method);
        vg_text_safe(url, strlen(url), VG_TEXT_ASCII, r->path, sizeof r->path);
        return begin(hs, c, r, url, method);
    }
    if (r->answered) { /* refused before its body: libmicrohttpd drops the rest */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        if (*upload_size > r->rt->body_cap - r->body.len)
            return cut_off(c, r);
        if (vg_buf_add(&r->body, upload, *upload_size) != VG_OK)
            return cut_off(c, r);
        *upload_size = 0;
        return MHD_YES;
    }
    return finish(hs, c, r, url, method);
}

/* "127.0.0.1:53412" or "[::1]:53412", "stdio" for --stdio's connection */
static void peer_text(struct MHD_Connection *c, char *out, size_t outsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_UNIX) {
        snprintf(out, outsz, "stdio");
    } else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(out, outsz, "%s:%u", ip, port);
    } else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ci->client_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(out, outsz, "[%s]:%u", ip, port);
    } else {
        snprintf(out, outsz, "?");
    }
}

/* One line a request on stderr (the journal under systemd), written with one
 * write(2) so that workers' lines never interleave:
 *   2026-11-03T14:02:11.123Z 127.0.0.1:53412 GET /v1/cases 200 1234 0.8ms acme/alice
 * Never a header's value, a query string or a body: the token travels in one, and
 * alert text in another. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    http_server *hs = cls;
    req *r = *con_cls;
    if (!r)
        return;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double ms = (double)(end.tv_sec - r->start.tv_sec) * 1e3 +
                (double)(end.tv_nsec - r->start.tv_nsec) / 1e6;
    char when[32], peer[64], status[8], line[640];
    vg_iso8601(vg_now_ms(), when, sizeof when);
    peer_text(c, peer, sizeof peer);
    if (r->answered)
        snprintf(status, sizeof status, "%d", r->status);
    else
        snprintf(status, sizeof status, "-");
    int n = snprintf(line, sizeof line, "%s %s %s %s %s %zu %.1fms%s%s%s%s%s\n", when, peer,
                     r->method, r->path, status, r->bytes, ms, r->authed ? " " : "",
                     r->authed ? r->who.tenant.name : "", r->authed ? "/" : "",
                     r->authed ? r->who.user : "",
                     why == MHD_REQUEST_TERMINATED_COMPLETED_OK || r->status == 413
                         ? "" : " (connection closed before the answer was sent)");
    if (n > 0)
        (void)!write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    vg_buf_free(&r->body);
    free(r->hr.raw);
    if (r->hr.raw_fd >= 0)
        close(r->hr.raw_fd);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&hs->in_flight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_server *hs = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    /* libmicrohttpd says this, on this thread, of the close cut_off asked for */
    bool expected = cutting && strncmp(msg, "Application reported internal error", 35) == 0;
    cutting = false;
    /* --stdio's connection is a socketpair, where TCP's options do not apply (and
     * there is no Nagle delay to warn of): libmicrohttpd tries them on every
     * answer */
    if (!hs->listening && (strncmp(msg, "Setting TCP_", 12) == 0 ||
                           strncmp(msg, "Failed to push the data from buffers", 36) == 0))
        expected = true;
    if (expected)
        return;
    fprintf(stderr, "vigild: libmicrohttpd: %s\n", msg);
}

/* As many file descriptors as the hard limit allows: a connection is one. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

vg_rc http_start(store *st, const route *table, size_t n, const struct sockaddr *addr,
                 http_server **out, unsigned *port, vg_err *err)
{
    raise_nofile();
    http_server *hs = vg_xcalloc(1, sizeof *hs);
    hs->st = st;
    hs->table = table;
    hs->n = n;
    hs->listen_fd = -1;
    hs->listening = addr != NULL;
    atomic_init(&hs->in_flight, 0);
    pthread_mutex_init(&hs->park_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&hs->park_cv, &ca);
    pthread_condattr_destroy(&ca);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cpus < 2 ? 4 : cpus > 8 ? 16 : (unsigned)cpus * 2;
    unsigned want = !addr ? 0
                    : addr->sa_family == AF_INET6
                        ? ntohs(((const struct sockaddr_in6 *)addr)->sin6_port)
                        : ntohs(((const struct sockaddr_in *)addr)->sin_port);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (!addr)
        flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC; /* ITC: to hear of an added connection */
    else if (addr->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* a pool of one is refused with a warning: none then */
    struct MHD_OptionItem pool[] = {{MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL},
                                    {MHD_OPTION_END, 0, NULL}};
    errno = 0;
    hs->d = MHD_start_daemon(flags, (uint16_t)want, NULL, NULL, on_request, hs,
                             MHD_OPTION_EXTERNAL_LOGGER, mhd_log, hs, /* first, to hear all */
                             MHD_OPTION_SOCK_ADDR, addr,
                             MHD_OPTION_ARRAY, addr ? pool : pool + 1,
                             MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT,
                             MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                             MHD_OPTION_LISTEN_BACKLOG_SIZE, LISTEN_BACKLOG,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, hs,
                             MHD_OPTION_END);
    if (!hs->d) {
        int e = errno;
        pthread_cond_destroy(&hs->park_cv);
        pthread_mutex_destroy(&hs->park_mu);
        free(hs);
        return vg_fail(err, VG_EIO, "cannot %s: %s", addr ? "listen" : "start serving",
                       e ? strerror(e) : "libmicrohttpd failed");
    }
    const union MHD_DaemonInfo *di =
        addr ? MHD_get_daemon_info(hs->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    *port = di ? di->port : want;
    hs->waker_on = pthread_create(&hs->waker, NULL, waker, hs) == 0;
    store_watch(st, wake_from_store, hs); /* another process's commit, when the store hears it */
    *out = hs;
    return VG_OK;
}

void http_quiesce(http_server *hs)
{
    if (!hs)
        return;
    if (hs->listening && hs->listen_fd < 0)
        hs->listen_fd = MHD_quiesce_daemon(hs->d);
    pthread_mutex_lock(&hs->park_mu);
    hs->stopping = true;
    resume_where(hs, any, NULL);
    pthread_cond_signal(&hs->park_cv);
    pthread_mutex_unlock(&hs->park_mu);
}

int http_in_flight(http_server *hs) { return atomic_load(&hs->in_flight); }

void http_stop(http_server *hs)
{
    if (!hs)
        return;
    store_watch(hs->st, NULL, NULL);
    http_quiesce(hs); /* no request stays parked past the daemon */
    if (hs->waker_on)
        pthread_join(hs->waker, NULL);
    MHD_stop_daemon(hs->d);
    pthread_cond_destroy(&hs->park_cv);
    pthread_mutex_destroy(&hs->park_mu);
    if (hs->listen_fd >= 0)
        close(hs->listen_fd);
    free(hs);
}

/* --- one connection on a pair of pipes (vigild --stdio) ------------------------------ */

/* Copy from into to until from ends (true) or either fails (false). With stop >= 0,
 * also stop (false) when stop hangs up: the other thread's way of ending this one
 * without pthread_cancel. */
static bool copy_stream(int from, int to, int stop)
{
    char buf[65536];
    for (;;) {
        if (stop >= 0) {
            struct pollfd pf[2] = {{from, POLLIN, 0}, {stop, 0, 0}};
            if (poll(pf, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                return false;
            }
            if (pf[1].revents & (POLLHUP | POLLERR | POLLNVAL))
                return false;
            if (!pf[0].revents)
                continue;
        }
        ssize_t n = read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return false;
            off += w;
        }
    }
}

typedef struct pump {
    http_server *hs;
    int in, sock;
} pump;

/* The client's bytes into the connection. At their end, the end of the stream:
 * libmicrohttpd reads what came before it first, answers it, and closes the
 * connection when it reads the end, so every request sent is answered. A client
 * that has closed its end sends nothing more to wait for, so a parked pull then
 * answers at once, as on SIGTERM, rather than holding the process up to its 30
 * seconds. It stops too when the socket hangs up (both ways shut:
 * libmicrohttpd closed the connection, or http_serve_stream is done). */
static void *pump_in(void *arg)
{
    pump *p = arg;
    if (copy_stream(p->in, p->sock, p->sock))
        http_quiesce(p->hs);
    shutdown(p->sock, SHUT_WR);
    return NULL;
}

vg_rc http_serve_stream(http_server *hs, int in, int out, vg_err *err)
{
    /* libmicrohttpd serves sockets; stdin and stdout may be pipes. Each direction
     * has its own thread doing blocking copies, so that neither waits on the
     * other (a large answer being read while the client still sends). */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return vg_fail(err, VG_EIO, "socketpair: %s", strerror(errno));
    struct sockaddr_un peer = {.sun_family = AF_UNIX};
    if (MHD_add_connection(hs->d, sv[1], (struct sockaddr *)&peer, sizeof peer) != MHD_YES) {
        int e = errno; /* libmicrohttpd has closed sv[1] */
        close(sv[0]);
        return vg_fail(err, VG_EIO, "cannot serve the connection: %s",
                       e ? strerror(e) : "libmicrohttpd refused it");
    }
    pump p = {hs, in, sv[0]};
    pthread_t t;
    int e = pthread_create(&t, NULL, pump_in, &p);
    if (e != 0) {
        close(sv[0]);
        return vg_fail(err, VG_EIO, "cannot start a thread: %s", strerror(e));
    }
    /* The answers out, until libmicrohttpd closes its end. The client's side
     * may still be open (after a 400, or an idle minute): its thread is told. */
    (void)copy_stream(sv[0], out, -1);
    shutdown(sv[0], SHUT_RDWR); /* a hang-up for pump_in's poll, and its write fails */
    pthread_join(t, NULL);
    close(sv[0]);
    return VG_OK;
}
