/*
 * http.h — vigild's request machinery: a route table, what a handler sees, and the
 * server that runs them over libmicrohttpd.
 *
 * A route is {method, path pattern, the roles it admits, the largest body it
 * takes, handler}. Before a handler runs, the machinery has matched the route
 * (404, or 405 with Allow), checked the bearer token (401) and the role (403),
 * read the body within the route's cap (413) and parsed nothing else: a handler
 * gets who is asking, the body's bytes and the query's parameters, and answers a
 * status and a JSON value. Errors have one shape:
 *   {"error": {"status": 400, "message": "...", "field": "limit"}}
 * The token alone names the tenant: no route takes a tenant from the request.
 */
#ifndef VIGILD_HTTP_H
#define VIGILD_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "store.h"
#include "vigil/err.h"

struct MHD_Connection;

#define ROUTE_PARAMS 4     /* {name} segments in one pattern */
#define ROUTE_PARAM_MAX 128 /* bytes of one such segment */
#define HTTP_HEADERS 4      /* headers a handler may add to its answer */

/* A handler's answer that parks the request (a long-poll): the connection is
 * suspended, costing no thread, until http_wake names the request's tenant, the
 * tenant's log moves past park_head (a commit by another vigild process on the
 * same directory, seen within HTTP_LOOK_MS), its deadline passes or the server
 * stops; then the handler runs again (runs > 0). */
#define HTTP_PARK 0
#define HTTP_LOOK_MS 200 /* how often the heads of parked requests' tenants are read */

typedef struct http_server http_server;

typedef struct http_req {
    const char *method;
    const char *path;     /* without the query string */
    const store_ident *who; /* NULL on a route that admits anyone */
    store *st;
    const char *body;     /* the body, NUL-terminated ("" when none) */
    size_t body_len;
    char params[ROUTE_PARAMS][ROUTE_PARAM_MAX]; /* the pattern's {name} segments, in order */
    struct MHD_Connection *conn;
    http_server *hs;
    /* An answer other than JSON: raw (freed by the machinery, compressed for the
     * client's Accept-Encoding when large) of type raw_type; *out is then unused. */
    char *raw;
    size_t raw_len;
    const char *raw_type;
    /* Or a file sent as it is (closed by the machinery): raw_fd >= 0, its size. */
    int raw_fd;
    uint64_t raw_fd_size;
    /* Headers added to the answer (http_header). */
    char hdr_name[HTTP_HEADERS][32], hdr_value[HTTP_HEADERS][128];
    int nhdr;
    /* Parking: how many times the handler has run for this request, and the
     * deadline (monotonic ms), tenant and that tenant's head (the seq its log
     * ended at when the handler looked) it set before answering HTTP_PARK. */
    int runs;
    int64_t park_until;
    vg_id park_tenant;
    int64_t park_head;
    unsigned long wake_seq; /* http_wake's count when this run began */
} http_req;

/* Add a header to the answer (at most HTTP_HEADERS; more are dropped). */
void http_header(http_req *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Milliseconds of the monotonic clock, for park_until. */
int64_t http_mono_ms(void);
/* Wake the parked requests of a tenant (its log has grown). */
void http_wake(http_server *hs, const char *tenant_id);
/* Has the server been told to stop? A parked request then answers at once. */
bool http_stopping(http_server *hs);

/* A handler answers a status and sets *out to the JSON it answers with (owned by
 * the machinery from then on); http_error builds an error answer. */
typedef int (*http_handler)(http_req *r, cJSON **out);

typedef struct route {
    const char *method;  /* "GET"; a GET route also answers HEAD */
    const char *pattern; /* "/v1/cases" or "/v1/cases/{ref}": {x} is one segment */
    unsigned roles;      /* store_role bits admitted; 0: no token needed */
    size_t body_cap;     /* the largest body taken, in bytes; 0: none */
    http_handler fn;
} route;

/* The value of the query parameter name, or NULL. */
const char *http_query(const http_req *r, const char *name);
/* The value of the request's header name, or NULL. */
const char *http_request_header(const http_req *r, const char *name);
/* Set *out to the error answer for status (field may be NULL) and return status. */
int http_error(cJSON **out, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Match method and path against the table: 200 and *found (params filled), 404
 * when no pattern matches the path, 405 when one does for other methods only
 * (allow then lists them, comma-separated). */
int route_match(const route *table, size_t n, const char *method, const char *path,
                const route **found, char params[ROUTE_PARAMS][ROUTE_PARAM_MAX], char *allow,
                size_t allowsz);

/* The routes vigild serves (routes.c). */
extern const route http_routes[];
extern const size_t http_nroutes;

/* A running server. */
/* Listen on addr and serve table with st until http_stop. *port is the port bound
 * (the one asked for, or the one the system chose for port 0). With addr NULL,
 * listen nowhere (*port 0): the server then serves the connection that
 * http_serve_stream hands it (vigild --stdio). */
VG_WUR vg_rc http_start(store *st, const route *table, size_t n, const struct sockaddr *addr,
                        http_server **out, unsigned *port, vg_err *err);
/* Serve one HTTP connection whose bytes arrive on in and leave on out (pipes or
 * sockets: what sshd gives an exec channel), on a server started without an
 * address, and return when it ends: the client closed in and every answer to
 * what it sent has been written (a parked request answering at once once in is
 * closed, as when stopping), or the server closed the connection (an answer it
 * closes after, an idle minute), or out can take no more. */
VG_WUR vg_rc http_serve_stream(http_server *hs, int in, int out, vg_err *err);
/* Stop accepting connections and answer parked requests; requests already begun
 * go on. */
void http_quiesce(http_server *hs);
/* Requests begun and not yet answered. */
int http_in_flight(http_server *hs);
/* Close every connection and free the server (NULL is fine). */
void http_stop(http_server *hs);

#endif
