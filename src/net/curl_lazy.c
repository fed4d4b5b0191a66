/*
 * curl_lazy.c — libcurl, loaded the first time a request is made, or on a thread of
 * its own as soon as one is known to be coming (llm_preload).
 *
 * libcurl brings some twenty-five shared libraries with it (TLS, HTTP/2, Kerberos,
 * LDAP, ...). Linked normally, every `vigil` command would map them all at start,
 * several milliseconds before it prints a line, although only the copilot talks to
 * a server. So vigil links none of them: this file defines the libcurl functions
 * llm.c calls, each a forwarder that dlopen()s libcurl.so.4 once and calls the real
 * one; the load runs curl_global_init too, under one pthread_once. Without libcurl
 * on the machine, the init functions return NULL and llm.c reports that it cannot
 * start a request; nothing else in vigil notices.
 */
#define CURL_DISABLE_TYPECHECK /* our own curl_easy_setopt, not curl.h's checking macro */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "llm.h"

static void *lib;
static pthread_once_t loaded = PTHREAD_ONCE_INIT;

/* dlopen libcurl and initialise it, once, whichever thread asks first. */
static void load(void)
{
    /* RTLD_LAZY: of the thousands of functions those libraries define, only the
     * few a request calls get bound (RTLD_NOW cost ~1 ms more). */
    lib = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
    CURLcode (*init)(long) = NULL;
    if (lib)
        *(void **)&init = dlsym(lib, "curl_global_init");
    if (init)
        init(CURL_GLOBAL_DEFAULT);
}

/* The real function called name, or NULL when libcurl cannot be loaded. Waits
 * for a load llm_preload started. */
static void *sym(const char *name)
{
    pthread_once(&loaded, load);
    return lib ? dlsym(lib, name) : NULL;
}

static void *preload(void *unused)
{
    (void)unused;
    pthread_once(&loaded, load);
    return NULL;
}

void llm_preload(void)
{
    static bool started; /* called from the main thread only */
    pthread_t t;
    if (!started && pthread_create(&t, NULL, preload, NULL) == 0) {
        started = true;
        pthread_detach(t);
    }
}

bool llm_curl_available(void) { return sym("curl_easy_init") != NULL; }

/* FN(ret, name, params, args, fallback): a forwarder with a fixed argument list. */
#define FWD(ret, name, params, args, fallback)                                             \
    ret name params                                                                       \
    {                                                                                     \
        static ret(*real) params;                                                         \
        if (!real)                                                                        \
            *(void **)&real = sym(#name);                                                 \
        return real ? real args : fallback;                                               \
    }

FWD(CURL *, curl_easy_init, (void), (), NULL)
FWD(CURLcode, curl_easy_perform, (CURL *e), (e), CURLE_FAILED_INIT)
FWD(const char *, curl_easy_strerror, (CURLcode c), (c), "libcurl is not installed")
FWD(struct curl_slist *, curl_slist_append, (struct curl_slist *l, const char *s), (l, s), NULL)
FWD(CURLM *, curl_multi_init, (void), (), NULL)
FWD(CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *e), (m, e), CURLM_BAD_HANDLE)
FWD(CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *e), (m, e), CURLM_BAD_HANDLE)
FWD(CURLMcode, curl_multi_perform, (CURLM *m, int *running), (m, running), CURLM_BAD_HANDLE)
FWD(CURLMcode, curl_multi_poll,
    (CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *numfds), (m, fds, n, ms, numfds),
    CURLM_BAD_HANDLE)
FWD(CURLMsg *, curl_multi_info_read, (CURLM *m, int *left), (m, left), NULL)
FWD(CURLMcode, curl_multi_cleanup, (CURLM *m), (m), CURLM_BAD_HANDLE)

/* The ones returning nothing. */
void curl_easy_cleanup(CURL *e)
{
    static void (*real)(CURL *);
    if (!real)
        *(void **)&real = sym("curl_easy_cleanup");
    if (real)
        real(e);
}

void curl_slist_free_all(struct curl_slist *l)
{
    static void (*real)(struct curl_slist *);
    if (!real)
        *(void **)&real = sym("curl_slist_free_all");
    if (real)
        real(l);
}

/* The variadic two pass their one argument on as its type: for setopt, the
 * option's number says which (curl.h's CURLOPTTYPE_* bands of 10000); getinfo's is
 * always a pointer to where the answer goes. */
CURLcode curl_easy_setopt(CURL *e, CURLoption opt, ...)
{
    static CURLcode (*real)(CURL *, CURLoption, ...);
    if (!real)
        *(void **)&real = sym("curl_easy_setopt");
    if (!real)
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, opt);
    CURLcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = real(e, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        rc = real(e, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        rc = real(e, opt, va_arg(ap, void (*)(void)));
    else if (opt < CURLOPTTYPE_BLOB)
        rc = real(e, opt, va_arg(ap, curl_off_t));
    else
        rc = real(e, opt, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

CURLcode curl_easy_getinfo(CURL *e, CURLINFO info, ...)
{
    static CURLcode (*real)(CURL *, CURLINFO, ...);
    if (!real)
        *(void **)&real = sym("curl_easy_getinfo");
    if (!real)
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, info);
    CURLcode rc = real(e, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}
