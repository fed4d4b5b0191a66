/*
 * sync_client.c — a sync round with vigild (contract in sync_client.h).
 *
 * One easy handle for the whole round, so that its requests share one connection
 * (and one socket from the transport). Each request is built the same way
 * (request()): the bearer token, the step's headers and body, a time limit, and a
 * cap on what is kept of the answer: a pulled page may be 8 MB decoded (the
 * server's largest) plus slack, anything else, and every error body, 64 KB; a
 * page over its cap ends the round rather than being cut. curl decodes compressed
 * answers (CURLOPT_ACCEPT_ENCODING ""); pushed pages are compressed here, with
 * zstd, since curl does not compress requests.
 *
 * Failures are told apart because the analyst acts on them differently: offline
 * (cannot connect, the connection dropped, a time limit: try again later, the
 * ops wait), refused (an HTTP error with the server's message: something to fix),
 * or cancelled. A 409 from push or pull means the server no longer holds what
 * this replica pulled (restored from an older copy): the cursors are reset and
 * the round runs once more from the start, pushing every op of ours again (the
 * server skips those it holds).
 */
#include "sync_client.h"
#include "ssh.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zstd.h>

#include "vigil/buf.h"
#include "vigil/handoff.h"
#include "vigil/sync.h"
#include "vigil/text.h"

#define PUSH_PAGE (4u << 20)                 /* ops a push carries, before compression */
#define PUSH_CAP (16u << 20)                 /* the server's cap on a push, decoded */
#define PULL_PAGE (4u << 20)                 /* the page size asked for */
#define PULL_CAP ((8u << 20) + (1u << 20))   /* the server's largest page, and slack */
#define SMALL_CAP (64u << 10)                /* any other answer, and error bodies */
#define CONNECT_MS 5000
#define STOP_MS 50                           /* how often a connect looks at opts.stop */
#define REQUEST_S 60L
#define REF_RESERVE 20

/* ---- the TCP transport ------------------------------------------------------------ */

/* Has the flag another thread sets turned non-zero? (An atomic load: the writer
 * stores atomically too, so the flag is no data race.) */
static bool stopped(volatile int *stop) { return stop && __atomic_load_n(stop, __ATOMIC_RELAXED); }

/* Connect fd to ai within ms milliseconds: 0, or an errno (ECANCELED when *stop
 * turned non-zero: it is looked at every STOP_MS, so that a round is cancelled
 * at once even while a host does not answer). */
static int connect_within(int fd, const struct addrinfo *ai, int ms, volatile int *stop)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
        return errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS)
            return errno;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n = 0;
        for (int left = ms; left > 0 && n == 0; left -= STOP_MS) {
            if (stopped(stop))
                return ECANCELED;
            while ((n = poll(&p, 1, left < STOP_MS ? left : STOP_MS)) < 0 && errno == EINTR)
                ;
        }
        if (n == 0)
            return ETIMEDOUT;
        int e = 0;
        socklen_t el = sizeof e;
        if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
            return errno;
        if (e)
            return e;
    }
    return 0;
}

int net_tcp_connect(const char *host, int port, int ms, volatile int *stop, vg_err *err)
{
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *ai = NULL;
    int g = getaddrinfo(host, ps, &hints, &ai);
    if (g != 0) {
        vg_fail(err, VG_EIO, "cannot reach %s:%d: %s", host, port, gai_strerror(g));
        return -1;
    }
    int fd = -1, why = 0;
    for (const struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            why = errno;
        } else if ((why = connect_within(fd, a, ms, stop)) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0 && why == ETIMEDOUT)
        vg_fail(err, VG_EIO, "cannot reach %s:%d: no answer within %d s", host, port,
                (ms + 999) / 1000);
    else if (fd < 0)
        vg_fail(err, VG_EIO, "cannot reach %s:%d: %s", host, port, strerror(why));
    return fd;
}

static int tcp_connect(net_transport *t, vg_err *err)
{
    return net_tcp_connect(t->remote->host, t->remote->port, t->timeout_ms, t->stop, err);
}

void net_transport_tcp(net_transport *t, const vg_remote *r)
{
    memset(t, 0, sizeof *t);
    t->connect = tcp_connect;
    t->remote = r;
    t->timeout_ms = CONNECT_MS;
    t->how = "tcp";
}

/* ---- one connection, its requests ------------------------------------------------- */

typedef struct conn {
    CURL *e;
    net_transport tcp, *t;
    const vg_remote *r;
    struct curl_slist *resolve;
    char auth[320];         /* "Authorization: Bearer ...", wiped at the end */
    volatile int *stop;
    /* the answer being read */
    vg_buf body;
    long status;
    bool over_cap;
    int64_t upto, head;     /* Vigil-Upto, Vigil-Head; -1 when absent */
    char head_id[27];       /* Vigil-Head-Id ("" when absent) */
    char upto_id[27];       /* Vigil-Upto-Id ("" when absent) */
    /* where a 2xx answer goes instead of body, when set (a snapshot) */
    size_t (*sink)(void *ud, const char *p, size_t n);
    void *sink_ud;
    /* why the transport could not connect */
    vg_err conn_err;
    bool conn_failed;
    char curl_err[CURL_ERROR_SIZE];
    int64_t sent, received;
    bool offline, cancelled;
} conn;

static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)purpose;
    (void)addr; /* a placeholder (see conn_open): the transport knows where to go */
    conn *c = ud;
    int fd = c->t->connect(c->t, &c->conn_err);
    c->conn_failed = fd < 0;
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int socket_ready(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    (void)ud;
    (void)fd;
    (void)purpose;
    return CURL_SOCKOPT_ALREADY_CONNECTED;
}

static int progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    conn *c = ud;
    return stopped(c->stop) ? 1 : 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    conn *c = ud;
    size_t n = size * nmemb;
    if (!c->status)
        curl_easy_getinfo(c->e, CURLINFO_RESPONSE_CODE, &c->status);
    if (c->status >= 300) { /* an error body: what fits is enough to tell why */
        size_t room = c->body.cap - c->body.len;
        if (room && vg_buf_add(&c->body, p, n < room ? n : room) != VG_OK)
            c->over_cap = true;
        return n;
    }
    if (c->sink)
        return c->sink(c->sink_ud, p, n);
    if (vg_buf_add(&c->body, p, n) != VG_OK) {
        c->over_cap = true;
        return 0;
    }
    return n;
}

/* A header's number, when the line is "name: N". */
static bool header_num(const char *line, size_t n, const char *name, int64_t *out)
{
    size_t l = strlen(name);
    if (n <= l + 1 || strncasecmp(line, name, l) != 0 || line[l] != ':')
        return false;
    char num[24];
    size_t i = l + 1, k = 0;
    while (i < n && line[i] == ' ')
        i++;
    while (i < n && line[i] >= '0' && line[i] <= '9' && k < sizeof num - 1)
        num[k++] = line[i++];
    num[k] = '\0';
    if (!k)
        return false;
    *out = strtoll(num, NULL, 10);
    return true;
}

/* A header's op id, when the line is "name: ULID". */
static bool header_id(const char *line, size_t n, const char *name, char id[27])
{
    size_t l = strlen(name);
    if (n <= l + 1 || strncasecmp(line, name, l) != 0 || line[l] != ':')
        return false;
    const char *v = line + l + 1, *end = line + n;
    while (v < end && *v == ' ')
        v++;
    size_t k = 0;
    while (v + k < end && v[k] != '\r' && v[k] != '\n')
        k++;
    if (k == 26) {
        memcpy(id, v, 26);
        id[26] = '\0';
    }
    return true;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    conn *c = ud;
    size_t n = size * nmemb;
    if (!header_id(p, n, "Vigil-Head-Id", c->head_id) &&
        !header_id(p, n, "Vigil-Upto-Id", c->upto_id) &&
        !header_num(p, n, "Vigil-Upto", &c->upto))
        header_num(p, n, "Vigil-Head", &c->head);
    return n;
}

static vg_rc conn_open(conn *c, const vg_remote *r, const char *token, const net_sync_opts *o,
                       vg_err *err)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->stop = o ? o->stop : NULL;
    if (o && o->transport) {
        c->t = o->transport;
    } else {
        net_transport_for(&c->tcp, r, NULL); /* its own: closed with the connection */
        c->t = &c->tcp;
    }
    c->t->stop = c->stop;
    if (!token || !*token || strlen(token) > 256)
        return vg_fail(err, VG_EINVAL, "no usable token for %s", r->url);
    snprintf(c->auth, sizeof c->auth, "Authorization: Bearer %s", token);
    c->e = curl_easy_init();
    if (!c->e)
        return vg_fail(err, VG_EIO, "cannot start an HTTP request (libcurl.so.4 is not installed?)");
    /* curl resolves the URL's host before it asks for a socket; the transport
     * chooses where to connect, so the name resolves to a placeholder and curl
     * never looks it up. */
    char pin[300];
    snprintf(pin, sizeof pin, "%s:%d:127.0.0.1", r->host, r->port);
    c->resolve = curl_slist_append(NULL, pin);
    CURL *e = c->e;
    curl_easy_setopt(e, CURLOPT_RESOLVE, c->resolve);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, socket_ready);
    curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, c);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-sync/1");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, c);
    vg_buf_init(&c->body, SMALL_CAP);
    return VG_OK;
}

static void conn_close(conn *c)
{
    if (c->e)
        curl_easy_cleanup(c->e);
    if (c->t == &c->tcp)
        net_transport_close(&c->tcp);
    curl_slist_free_all(c->resolve);
    vg_buf_free(&c->body);
    sodium_memzero(c->auth, sizeof c->auth);
}

typedef struct request {
    const char *step;     /* "refs", "push", "pull": for messages */
    const char *method;   /* "GET" or "POST" */
    const char *path;     /* with its query */
    const char *hdrs[4];  /* more headers, NULL-ended */
    const void *body;
    size_t len;
    long timeout_s;
    size_t cap;           /* of a 2xx answer's body */
} request;

/* Run q. VG_OK when an answer came (c->status, c->body, c->upto/head hold it);
 * otherwise the transport's or curl's reason, c->offline or c->cancelled set. */
static vg_rc perform(conn *c, const request *q, vg_err *err)
{
    if (stopped(c->stop)) {
        c->cancelled = true;
        return vg_fail(err, VG_EIO, "%s: cancelled", q->step);
    }
    char url[VG_REMOTE_URL + 256];
    if (c->r->ssh) /* HTTP inside the tunnel: to vigild's loopback port */
        snprintf(url, sizeof url, "http://%s:%d%s", c->r->host, c->r->port, q->path);
    else
        snprintf(url, sizeof url, "%s%s", c->r->url, q->path);
    struct curl_slist *h = curl_slist_append(NULL, c->auth);
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip before a page */
    for (int i = 0; i < 4 && q->hdrs[i]; i++)
        h = curl_slist_append(h, q->hdrs[i]);
    CURL *e = c->e;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, q->timeout_s);
    if (strcmp(q->method, "POST") == 0 || strcmp(q->method, "PUT") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body ? q->body : "");
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, strcmp(q->method, "PUT") == 0 ? "PUT" : NULL);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    vg_buf_free(&c->body);
    vg_buf_init(&c->body, q->cap);
    c->status = 0;
    c->over_cap = c->conn_failed = false;
    c->upto = c->head = -1;
    c->head_id[0] = c->upto_id[0] = '\0';
    c->curl_err[0] = '\0';
    CURLcode res = curl_easy_perform(e);
    curl_slist_free_all(h);
    curl_off_t up = 0, down = 0;
    long reqsz = 0, hdrsz = 0;
    curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &reqsz);
    curl_easy_getinfo(e, CURLINFO_HEADER_SIZE, &hdrsz);
    c->sent += up + reqsz;
    c->received += down + hdrsz;
    if (res == CURLE_OK) {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
        return VG_OK;
    }
    if (res == CURLE_ABORTED_BY_CALLBACK) {
        c->cancelled = true;
        return vg_fail(err, VG_EIO, "%s: cancelled", q->step);
    }
    if (res == CURLE_WRITE_ERROR && c->over_cap)
        return vg_fail(err, VG_EIO, "%s: the server's answer passed the %zu KB cap", q->step,
                       q->cap >> 10);
    if (c->conn_failed) {
        /* out of reach, or refused by the transport (a host key not known, a key
         * not taken): the first waits, the second needs the analyst */
        c->offline = c->conn_err.rc == VG_EIO;
        *err = c->conn_err;
        return err->rc;
    }
    c->offline = res == CURLE_COULDNT_CONNECT || res == CURLE_OPERATION_TIMEDOUT ||
                 res == CURLE_SEND_ERROR || res == CURLE_RECV_ERROR || res == CURLE_GOT_NOTHING ||
                 res == CURLE_PARTIAL_FILE;
    const char *why = c->curl_err[0] ? c->curl_err : curl_easy_strerror(res);
    /* what the transport saw end (an exec channel's vigild failing, say) */
    const char *tw = c->t->why && c->t->why[0] ? c->t->why : NULL;
    char where[VG_REMOTE_URL + 16];
    if (c->r->ssh)
        snprintf(where, sizeof where, "%s", c->r->url);
    else
        snprintf(where, sizeof where, "%s:%d", c->r->host, c->r->port);
    if (res == CURLE_OPERATION_TIMEDOUT)
        return vg_fail(err, VG_EIO, "%s: no answer from %s within %ld s", q->step, where,
                       q->timeout_s);
    return vg_fail(err, VG_EIO, "%s: %s%s: %s%s%s", q->step,
                   c->offline ? "lost the connection to " : "", where, tw ? tw : why,
                   tw ? "; " : "", tw ? why : "");
}

/* An answer that is not the one wanted, as an error: the step, the status and
 * the server's message and field (made safe: they are the server's bytes). */
static vg_rc refused(conn *c, const char *step, vg_err *err)
{
    cJSON *o = cJSON_ParseWithLength(vg_buf_str(&c->body), c->body.len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "field");
    char msg[600] = "", field[200] = "";
    if (cJSON_IsString(m))
        vg_text_safe(m->valuestring, strlen(m->valuestring), 0, msg, sizeof msg);
    if (cJSON_IsString(f))
        vg_text_safe(f->valuestring, strlen(f->valuestring), 0, field, sizeof field);
    cJSON_Delete(o);
    return vg_fail(err, VG_EIO, "%s: HTTP %ld from %s%s%s%s%s%s", step, c->status, c->r->url,
                   msg[0] ? ": " : "", msg, field[0] ? " (" : "", field, field[0] ? ")" : "");
}

/* A role refusal (403 naming no field): the token may not use the route. */
static bool role_refusal(conn *c)
{
    if (c->status != 403)
        return false;
    cJSON *o = cJSON_ParseWithLength(vg_buf_str(&c->body), c->body.len);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "error"),
                                                      "field");
    bool role = f == NULL;
    cJSON_Delete(o);
    return role;
}

/* The 2xx JSON object answer's integer member name. */
static bool json_int(const cJSON *o, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* ---- the round's steps ------------------------------------------------------------ */

typedef struct round {
    conn c;
    vg_ws *ws;
    const vg_remote *r;
    const net_sync_opts *o;
    net_sync_result *out;
    ZSTD_CCtx *zc;
} round;

/* A lease of case refs when the workspace needs one, and the renumbering it brings. */
static vg_rc step_refs(round *k, vg_err *err)
{
    int64_t want = 0;
    vg_rc rc = vg_refs_wanted(k->ws, REF_RESERVE, &want, err);
    if (rc || want <= 0)
        return rc;
    char body[64];
    snprintf(body, sizeof body, "{\"want\": %" PRId64 "}", want);
    request q = {"refs", "POST", "/v1/refs", {"Content-Type: application/json", NULL}, body,
                 strlen(body), REQUEST_S, SMALL_CAP};
    if ((rc = perform(&k->c, &q, err)))
        return rc;
    if (role_refusal(&k->c)) {
        k->out->read_only = true;
        return VG_OK;
    }
    if (k->c.status != 200) {
        k->out->status = k->c.status;
        return refused(&k->c, "refs", err);
    }
    cJSON *o = cJSON_ParseWithLength(vg_buf_str(&k->c.body), k->c.body.len);
    int64_t lo = 0, hi = 0;
    bool ok = json_int(o, "lo", &lo) && json_int(o, "hi", &hi) && lo >= 1 && hi - lo + 1 == want;
    cJSON_Delete(o);
    if (!ok)
        return vg_fail(err, VG_EIO, "refs: %s answered a lease that is not %" PRId64
                                    " refs {\"lo\", \"hi\"}", k->r->url, want);
    vg_ref_moves mv;
    if ((rc = vg_remote_lease(k->ws, lo, hi, &mv, err)))
        return rc;
    if (mv.n > 0) {
        k->out->renumbered += mv.n;
        k->out->renum_from_lo = mv.from_lo;
        k->out->renum_from_hi = mv.from_hi;
        k->out->renum_to_lo = mv.to_lo;
        k->out->renum_to_hi = mv.to_hi;
    }
    return VG_OK;
}

/* Push the remote's user's ops after the cursor, a compressed page at a time.
 * *conflict: the server answered 409 (it lost what we pulled). */
static vg_rc step_push(round *k, bool *conflict, vg_err *err)
{
    vg_buf page;
    vg_buf_init(&page, PUSH_CAP);
    vg_rc rc = VG_OK;
    while (rc == VG_OK) {
        vg_sync_cursor cur;
        int64_t upto = 0, n = 0;
        vg_buf_reset(&page);
        if ((rc = vg_sync_get(k->ws, k->r->name, &cur, err)) ||
            (rc = vg_sync_outbox(k->ws, k->r->name, k->r->user, PUSH_PAGE, &page, &upto, &n,
                                 err)))
            break;
        if (n == 0) {
            if (upto > cur.pushed) { /* only others' ops there: looked at, passed */
                rc = vg_sync_pushed(k->ws, k->r->name, upto, err);
                continue;
            }
            break;
        }
        size_t bound = ZSTD_compressBound(page.len);
        char *zb = vg_xmalloc(bound);
        size_t zn = ZSTD_compressCCtx(k->zc, zb, bound, page.data, page.len, 3);
        if (ZSTD_isError(zn)) {
            free(zb);
            rc = vg_fail(err, VG_EIO, "push: compressing a page: %s", ZSTD_getErrorName(zn));
            break;
        }
        char pulled[80];
        if (cur.pulled > 0)
            snprintf(pulled, sizeof pulled, "Vigil-Pulled: %" PRId64 " %s", cur.pulled,
                     cur.pulled_id);
        else
            snprintf(pulled, sizeof pulled, "Vigil-Pulled: 0");
        request q = {"push", "POST", "/v1/ops",
                     {"Content-Type: application/x-ndjson", "Content-Encoding: zstd", pulled,
                      NULL},
                     zb, zn, REQUEST_S, SMALL_CAP};
        rc = perform(&k->c, &q, err);
        free(zb);
        if (rc)
            break;
        if (k->c.status == 409) {
            *conflict = true;
            break;
        }
        if (role_refusal(&k->c)) {
            k->out->read_only = true;
            break;
        }
        if (k->c.status != 200) {
            k->out->status = k->c.status;
            rc = refused(&k->c, "push", err);
            break;
        }
        cJSON *o = cJSON_ParseWithLength(vg_buf_str(&k->c.body), k->c.body.len);
        int64_t applied = 0;
        bool ok = json_int(o, "applied", &applied);
        cJSON_Delete(o);
        if (!ok) {
            rc = vg_fail(err, VG_EIO, "push: %s answered without \"applied\"", k->r->url);
            break;
        }
        k->out->pushed += applied;
        rc = vg_sync_pushed(k->ws, k->r->name, upto, err);
    }
    vg_buf_free(&page);
    return rc;
}

/* Pull pages after the cursor until the server's head; with opts.wait, a pull
 * that finds nothing new waits that long for something. */
static vg_rc step_pull(round *k, bool *conflict, vg_err *err)
{
    int wait = k->o && k->o->wait > 0 ? (k->o->wait > 30 ? 30 : k->o->wait) : 0;
    vg_rc rc = VG_OK;
    for (;;) {
        vg_sync_cursor cur;
        if ((rc = vg_sync_get(k->ws, k->r->name, &cur, err)))
            break;
        char path[256];
        int m = snprintf(path, sizeof path, "/v1/ops?after=%" PRId64, cur.pulled);
        if (cur.pulled > 0)
            m += snprintf(path + m, sizeof path - (size_t)m, "&id=%s", cur.pulled_id);
        /* our own ops come back as the cursor's move, not their bytes */
        m += snprintf(path + m, sizeof path - (size_t)m, "&max=%u&skip_origin=%s", PULL_PAGE,
                      vg_ws_replica(k->ws));
        if (wait)
            snprintf(path + m, sizeof path - (size_t)m, "&wait=%d", wait);
        request q = {"pull", "GET", path, {NULL}, NULL, 0, wait ? wait + 15L : REQUEST_S, PULL_CAP};
        if ((rc = perform(&k->c, &q, err)))
            break;
        if (k->c.status == 409) {
            *conflict = true;
            break;
        }
        if (k->c.status != 200) {
            k->out->status = k->c.status;
            rc = refused(&k->c, "pull", err);
            break;
        }
        int64_t upto = k->c.upto, head = k->c.head;
        if (upto < 0 || head < 0) {
            rc = vg_fail(err, VG_EIO, "pull: %s answered without Vigil-Upto and Vigil-Head",
                         k->r->url);
            break;
        }
        if (k->c.body.len || upto > cur.pulled) {
            vg_received got = {0};
            if ((rc = vg_sync_take_to(k->ws, k->r->name, k->c.body.data ? k->c.body.data : "",
                                      k->c.body.len, upto, k->c.upto_id, &got, err)))
                break;
            k->out->pulled += got.applied;
        }
        if (upto >= head)
            break;
        if (upto <= cur.pulled) { /* a page that moves nothing would loop for ever */
            rc = vg_fail(err, VG_EIO, "pull: %s sent a page that ends at %" PRId64
                                      " (we hold %" PRId64 ", its head is %" PRId64 ")",
                         k->r->url, upto, cur.pulled, head);
            break;
        }
    }
    return rc;
}

#define ROSTER_EVERY_MS (10 * 60000LL) /* the team's users asked again after this */
#define ROSTER_CAP (1u << 20)

/* The team's users (GET /v1/users), for the mentions' check (vigil/handoff.h), when
 * the replica's roster is older than ROSTER_EVERY_MS. Best effort: a server that
 * does not serve the route (an older vigild), a refusal or a bad answer leaves the
 * roster as it was and the round goes on; only a lost connection, which the next
 * step would meet too, is the round's error. */
static vg_rc step_users(round *k, vg_err *err)
{
    int64_t at = 0, now = vg_now_ms();
    vg_err ignore;
    if (vg_roster_at(k->ws, k->r->name, &at, &ignore) != VG_OK ||
        (at && at <= now && now - at < ROSTER_EVERY_MS))
        return VG_OK;
    request q = {"users", "GET", "/v1/users", {NULL}, NULL, 0, REQUEST_S, ROSTER_CAP};
    vg_rc rc = perform(&k->c, &q, err);
    if (rc)
        return k->c.offline || k->c.cancelled ? rc : VG_OK;
    if (k->c.status != 200)
        return VG_OK;
    cJSON *j = cJSON_ParseWithLength(vg_buf_str(&k->c.body), k->c.body.len), *u;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "users");
    if (cJSON_IsArray(arr)) {
        size_t n = 0;
        const char **names = vg_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *names);
        cJSON_ArrayForEach(u, arr)
        {
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u, "name"));
            if (name)
                names[n++] = name;
        }
        vg_rc prc = vg_roster_put(k->ws, k->r->name, names, n, now, &ignore);
        (void)prc; /* one that could not be kept is asked for again next round */
        free(names);
    }
    cJSON_Delete(j);
    return VG_OK;
}

vg_rc net_sync(vg_ws *ws, const vg_remote *r, const char *token, const net_sync_opts *o,
               net_sync_result *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    round k = {.ws = ws, .r = r, .o = o, .out = out};
    vg_rc rc = conn_open(&k.c, r, token, o, err);
    if (rc == VG_OK) {
        k.zc = ZSTD_createCCtx();
        if (!k.zc)
            abort(); /* out of memory */
    }
    for (int attempt = 0; rc == VG_OK; attempt++) {
        bool conflict = false;
        if ((rc = step_refs(&k, err)))
            break;
        if (!out->read_only && (rc = step_push(&k, &conflict, err)))
            break;
        if (!conflict && attempt == 0 && (rc = step_users(&k, err)))
            break;
        if (!conflict && (rc = step_pull(&k, &conflict, err)))
            break;
        if (!conflict)
            break;
        if (attempt > 0) {
            rc = vg_fail(err, VG_EIO, "%s still refuses what this workspace pulled after its"
                                      " cursors were reset (HTTP 409)", r->url);
            break;
        }
        /* The server no longer holds what we pulled: start again from nothing. */
        out->reset = true;
        rc = vg_sync_reset(ws, r->name, err);
    }
    out->bytes_sent = k.c.sent;
    out->bytes_received = k.c.received;
    out->offline = k.c.offline;
    out->cancelled = k.c.cancelled;
    ZSTD_freeCCtx(k.zc);
    conn_close(&k.c);
    return rc;
}

/* ---- a snapshot to start from ------------------------------------------------------ */

typedef struct unpack {
    ZSTD_DStream *z;
    int fd;
    uint64_t written;
    size_t last; /* ZSTD_decompressStream's last answer: 0 at a frame's end */
    bool bad, too_big, io;
    char *out;
} unpack;

#define SNAPSHOT_CAP ((uint64_t)64 << 30) /* decoded bytes of a snapshot */
#define SNAPSHOT_OUT (1u << 20)

static size_t unpack_some(void *ud, const char *p, size_t n)
{
    unpack *u = ud;
    ZSTD_inBuffer ib = {p, n, 0};
    while (ib.pos < ib.size) {
        ZSTD_outBuffer ob = {u->out, SNAPSHOT_OUT, 0};
        u->last = ZSTD_decompressStream(u->z, &ob, &ib);
        if (ZSTD_isError(u->last)) {
            u->bad = true;
            return 0;
        }
        if (u->written + ob.pos > SNAPSHOT_CAP) {
            u->too_big = true;
            return 0;
        }
        for (size_t off = 0; off < ob.pos;) {
            ssize_t w = write(u->fd, u->out + off, ob.pos - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                u->io = true;
                return 0;
            }
            off += (size_t)w;
        }
        u->written += ob.pos;
    }
    return n;
}

vg_rc net_snapshot(const vg_remote *r, const char *token, const net_sync_opts *o, const char *path,
                   int64_t *seq, char id[27], net_sync_result *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    conn c;
    vg_rc rc = conn_open(&c, r, token, o, err);
    if (rc) {
        conn_close(&c);
        return rc;
    }
    unpack u = {.z = ZSTD_createDStream(), .fd = -1, .last = 1, .out = vg_xmalloc(SNAPSHOT_OUT)};
    u.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (!u.z || u.fd < 0) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    c.sink = unpack_some;
    c.sink_ud = &u;
    /* the answer is zstd already: curl is not to decode it again */
    curl_easy_setopt(c.e, CURLOPT_ACCEPT_ENCODING, NULL);
    request q = {"snapshot", "GET", "/v1/snapshot", {NULL}, NULL, 0, 3600L, SMALL_CAP};
    if ((rc = perform(&c, &q, err)) != VG_OK) {
        if (u.bad || u.too_big || u.io)
            rc = vg_fail(err, VG_EIO, "snapshot: %s", u.bad ? "the server sent a corrupt stream"
                                                     : u.too_big ? "larger than 64 GB decoded"
                                                                 : strerror(errno));
    } else if (c.status != 200) {
        out->status = c.status;
        rc = refused(&c, "snapshot", err);
    } else if (u.last != 0) {
        rc = vg_fail(err, VG_EIO, "snapshot: the stream from %s ended early", r->url);
    } else if (c.head < 0 || (c.head > 0 && !c.head_id[0])) { /* an empty team: 0, no id */
        rc = vg_fail(err, VG_EIO, "snapshot: %s answered without Vigil-Head and Vigil-Head-Id",
                     r->url);
    } else if (fsync(u.fd) != 0) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    } else {
        *seq = c.head;
        memcpy(id, c.head_id, 27);
    }
out:
    out->bytes_sent = c.sent;
    out->bytes_received = c.received;
    out->offline = c.offline;
    out->cancelled = c.cancelled;
    if (u.fd >= 0)
        close(u.fd);
    if (rc && u.fd >= 0)
        unlink(path);
    ZSTD_freeDStream(u.z);
    free(u.out);
    conn_close(&c);
    return rc;
}

vg_rc net_whoami(const vg_remote *r, const char *token, const net_sync_opts *o,
                 net_whoami_result *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    conn c;
    vg_rc rc = conn_open(&c, r, token, o, err);
    request q = {"whoami", "GET", "/v1/whoami", {NULL}, NULL, 0, REQUEST_S, SMALL_CAP};
    if (rc == VG_OK && (rc = perform(&c, &q, err)) == VG_OK) {
        out->status = c.status;
        if (c.status != 200) {
            rc = refused(&c, "whoami", err);
        } else {
            cJSON *j = cJSON_ParseWithLength(vg_buf_str(&c.body), c.body.len);
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "tenant"),
                        *u = cJSON_GetObjectItemCaseSensitive(j, "user"),
                        *ro = cJSON_GetObjectItemCaseSensitive(j, "role");
            vg_err ignore;
            if (cJSON_IsString(t) && cJSON_IsString(u) && cJSON_IsString(ro) &&
                vg_remote_check_name(t->valuestring, &ignore) == VG_OK &&
                vg_remote_check_name(u->valuestring, &ignore) == VG_OK &&
                strlen(ro->valuestring) < sizeof out->role) {
                snprintf(out->tenant, sizeof out->tenant, "%s", t->valuestring);
                snprintf(out->user, sizeof out->user, "%s", u->valuestring);
                snprintf(out->role, sizeof out->role, "%s", ro->valuestring);
            } else {
                rc = vg_fail(err, VG_EIO, "whoami: %s answered without tenant, user and role",
                             r->url);
            }
            cJSON_Delete(j);
        }
    }
    out->offline = c.offline;
    conn_close(&c);
    return rc;
}

/* ---- evidence content on demand (PUT and GET /v1/evidence/SHA256) --------------- */

vg_rc net_evidence_put(const vg_remote *r, const char *token, const net_sync_opts *o,
                       const char *sha256, const void *data, size_t len, long *status, vg_err *err)
{
    conn c;
    char path[128];
    *status = 0;
    snprintf(path, sizeof path, "/v1/evidence/%.64s", sha256);
    vg_rc rc = conn_open(&c, r, token, o, err);
    request q = {"evidence put", "PUT", path, {"Content-Type: application/octet-stream"}, data,
                 len, 600L, SMALL_CAP};
    if (rc == VG_OK && (rc = perform(&c, &q, err)) == VG_OK) {
        *status = c.status;
        if (c.status != 200)
            rc = refused(&c, "evidence put", err);
    }
    conn_close(&c);
    return rc;
}

vg_rc net_evidence_get(const vg_remote *r, const char *token, const net_sync_opts *o,
                       const char *sha256, size_t cap, vg_buf *out, long *status, vg_err *err)
{
    conn c;
    char path[128];
    *status = 0;
    snprintf(path, sizeof path, "/v1/evidence/%.64s", sha256);
    vg_rc rc = conn_open(&c, r, token, o, err);
    request q = {"evidence get", "GET", path, {NULL}, NULL, 0, 600L, cap};
    if (rc == VG_OK && (rc = perform(&c, &q, err)) == VG_OK) {
        *status = c.status;
        if (c.status != 200) {
            rc = refused(&c, "evidence get", err);
        } else {
            vg_buf_reset(out);
            if (c.body.len && vg_buf_add(out, c.body.data, c.body.len))
                rc = vg_fail(err, VG_EIO, "evidence get: larger than %zu bytes", cap);
        }
    }
    conn_close(&c);
    return rc;
}
