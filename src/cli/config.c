/*
 * config.c — reading the config file with libinih (Debian's libinih-dev: a small,
 * well-kept INI parser, so we do not write one). Strict on purpose: an unknown
 * section, key, theme, key name or command is refused at start with the entry
 * named, because a silently ignored typo in a key binding is a workstation that
 * does something else than the analyst believes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "vigil/model.h"
#include "vigil/query.h"

typedef struct reader {
    config *cf;
    char error[512]; /* the first mistake */
} reader;

static bool parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on"))
        return *out = true, true;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "off"))
        return *out = false, true;
    return false;
}

/* A span of time: 30m, 4h, 3d. */
static bool parse_span(const char *v, int64_t *ms)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    int64_t unit = !strcmp(end, "m") ? 60000 : !strcmp(end, "h") ? 3600000
                   : !strcmp(end, "d") ? 86400000 : 0;
    if (!unit || end == v || n <= 0 || n > 100000)
        return false;
    *ms = n * unit;
    return true;
}

static void set_str(char **slot, const char *value)
{
    free(*slot);
    *slot = vg_xstrdup(value);
}

static int entry(void *ud, const char *section, const char *name, const char *value)
{
    reader *r = ud;
    config *cf = r->cf;
    tui_config *t = &cf->tui;
    if (r->error[0])
        return 1;
#define FAIL(...) (snprintf(r->error, sizeof r->error, __VA_ARGS__), 1)
    if (!strcmp(section, "user")) {
        if (strcmp(name, "name"))
            return FAIL("[user] %s: unknown key (keys: name)", name);
        set_str(&cf->user, value);
    } else if (!strcmp(section, "workspace")) {
        if (strcmp(name, "path"))
            return FAIL("[workspace] %s: unknown key (keys: path)", name);
        set_str(&cf->db, value);
    } else if (!strcmp(section, "ui")) {
        if (!strcmp(name, "theme")) {
            static const char *const themes[] = {"dark", "light", "mono"};
            int i = 0;
            while (i < 3 && strcmp(themes[i], value))
                i++;
            if (i == 3)
                return FAIL("[ui] theme: '%s' is not one of dark, light, mono", value);
            t->theme = i;
        } else if (!strcmp(name, "ascii") || !strcmp(name, "bell")) {
            bool b;
            if (!parse_bool(value, &b))
                return FAIL("[ui] %s: '%s' is not true or false", name, value);
            if (!strcmp(name, "ascii"))
                cf->ascii = b;
            else
                t->bell = b;
        } else {
            return FAIL("[ui] %s: unknown key (keys: theme, ascii, bell)", name);
        }
    } else if (!strcmp(section, "sla")) {
        int sev = vg_enum_parse(&VG_SEVERITY, name);
        if (sev < 0)
            return FAIL("[sla] %s: not a severity (info, low, medium, high, critical)", name);
        int64_t ms = 0;
        if (strcmp(value, "none") != 0 && !parse_span(value, &ms))
            return FAIL("[sla] %s: '%s' is not a time such as 30m, 4h, 3d or none", name, value);
        if (!t->sla_set) { /* the first [sla] line starts from the defaults */
            memcpy(t->sla_ms, tui_config_sla(NULL), sizeof t->sla_ms);
            t->sla_set = true;
        }
        t->sla_ms[sev] = ms;
    } else if (!strcmp(section, "import")) {
        int64_t *slot = !strcmp(name, "window") ? &cf->import_window_ms
                        : !strcmp(name, "dedup_bucket") ? &cf->import_bucket_ms : NULL;
        if (!strcmp(name, "home_net") || !strcmp(name, "home_domains")) {
            vg_err err = {0};
            if (!cf->import_home)
                cf->import_home = vg_home_new();
            vg_rc hrc = name[5] == 'n' ? vg_home_set_nets(cf->import_home, value, &err)
                                       : vg_home_set_domains(cf->import_home, value, &err);
            if (hrc != VG_OK)
                return FAIL("[import] %s: %.400s", name, err.msg);
            return 1;
        }
        if (!strcmp(name, "infrastructure_hosts")) {
            char *end;
            long n = strtol(value, &end, 10);
            if (end == value || *end || n < 2 || n > 100000)
                return FAIL("[import] infrastructure_hosts: '%s' is not a number of hosts from 2"
                            " to 100000", value);
            cf->import_infra_hosts = (int)n;
            return 1;
        }
        if (!slot)
            return FAIL("[import] %s: unknown key (keys: window, dedup_bucket,"
                        " infrastructure_hosts, home_net, home_domains)",
                        name);
        if (!parse_span(value, slot))
            return FAIL("[import] %s: '%s' is not a time such as 30m, 4h or 3d", name, value);
    } else if (!strcmp(section, "keys")) {
        /* a binding only the workstation reads: a bad one is left out, with a
         * warning, and every other command goes on */
#define SKIP(...) (cf->nwarnings++ ? 1 : (snprintf(cf->warning, sizeof cf->warning, __VA_ARGS__), 1))
        if (!tui_key_valid(name))
            return SKIP("[keys] '%s' is not a key (a character, or Space, Enter, Esc, Tab, BTab,"
                        " Up, Down, Left, Right, Home, End, NPage, PPage)", name);
        if (!tui_command_valid(value))
            return SKIP("[keys] %s: '%s' is not a command (? in vigil lists them)", name, value);
        if (t->nkeys == TUI_MAX_KEYS)
            return SKIP("[keys] more than %d bindings", TUI_MAX_KEYS);
        if (strlen(value) >= sizeof t->keys[0].command)
            return SKIP("[keys] %s: command too long", name);
#undef SKIP
        snprintf(t->keys[t->nkeys].key, sizeof t->keys[0].key, "%s", name);
        snprintf(t->keys[t->nkeys].command, sizeof t->keys[0].command, "%s", value);
        t->nkeys++;
    } else if (!strcmp(section, "views")) {
        vg_case_query q;
        vg_err err = {0};
        if (vg_case_query_parse(value, NULL, &q, &err) != VG_OK)
            return FAIL("[views] %.64s: %.400s", name, err.msg);
        vg_case_query_clear(&q);
        if (t->nviews == TUI_MAX_VIEWS || strlen(name) >= sizeof t->views[0].name ||
            strlen(value) >= sizeof t->views[0].query)
            return FAIL("[views] %s: too many views, or a name or query too long", name);
        snprintf(t->views[t->nviews].name, sizeof t->views[0].name, "%s", name);
        snprintf(t->views[t->nviews].query, sizeof t->views[0].query, "%s", value);
        t->nviews++;
    } else if (!strcmp(section, "copilot")) {
        copilot_config *cc = &cf->copilot;
        if (!strcmp(name, "provider")) {
            if (strcmp(value, "ollama") && strcmp(value, "openai"))
                return FAIL("[copilot] provider: '%s' is not ollama or openai", value);
            set_str(&cc->provider, value);
        } else if (!strcmp(name, "url")) {
            if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
                return FAIL("[copilot] url: '%s' is not an http:// or https:// URL", value);
            set_str(&cc->url, value);
        } else if (!strcmp(name, "model")) {
            set_str(&cc->model, value);
        } else if (!strcmp(name, "timeout") || !strcmp(name, "budget")) {
            bool secs = !strcmp(name, "timeout");
            char *end;
            long n = strtol(value, &end, 10);
            long lo = secs ? 1 : 1024, hi = secs ? 3600 : 1048576;
            if (*end || end == value || n < lo || n > hi)
                return FAIL("[copilot] %s: '%s' is not a number from %ld to %ld%s", name, value,
                            lo, hi, secs ? " (seconds)" : " (tokens)");
            *(secs ? &cc->timeout_s : &cc->budget) = n;
        } else {
            return FAIL("[copilot] %s: unknown key (keys: provider, url, model, timeout, budget)",
                        name);
        }
    } else if (!strcmp(section, "copilot.policy")) {
        vg_err err = {0};
        if (cop_policy_set(&cf->copilot.policy, name, value, &err) != VG_OK)
            return FAIL("[copilot.policy] %.400s", err.msg);
    } else if (!strcmp(section, "intel")) {
        if (!strcmp(name, "db")) {
            set_str(&cf->intel_db, value);
        } else if (!strcmp(name, "max_file_size") || !strcmp(name, "max_indicators")) {
            /* a count, with K, M or G (powers of 1024 for sizes, of 1000 for counts) */
            bool size = !strcmp(name, "max_file_size");
            char *end;
            long long n = strtoll(value, &end, 10);
            int64_t unit = !*end ? 1 : !strcasecmp(end, "k") ? (size ? 1024 : 1000)
                           : !strcasecmp(end, "m") ? (size ? 1 << 20 : 1000000)
                           : !strcasecmp(end, "g") ? (size ? 1 << 30 : 1000000000) : 0;
            if (end == value || n <= 0 || !unit || n > ((int64_t)1 << 40) / unit)
                return FAIL("[intel] %s: '%s' is not a positive number (K, M or G after it)",
                            name, value);
            *(size ? &cf->intel_max_bytes : &cf->intel_max_items) = n * unit;
        } else {
            return FAIL("[intel] %s: unknown key (keys: db, max_file_size, max_indicators)", name);
        }
    } else if (!strcmp(section, "mcp.policy")) {
        vg_err err = {0};
        if (cop_policy_set(&cf->mcp_policy, name, value, &err) != VG_OK)
            return FAIL("[mcp.policy] %.400s", err.msg);
    } else {
        return FAIL("[%s]: unknown section (sections: user, workspace, ui, sla, import, keys,"
                    " views, copilot, copilot.policy, mcp.policy, intel)", section);
    }
    return 1;
#undef FAIL
}

int config_parse(config *cf, FILE *f, const char *where, char *msg, size_t msgsz)
{
    reader r = {.cf = cf};
    int line = ini_parse_file(f, entry, &r);
    if (line != 0)
        snprintf(msg, msgsz, "%s:%d: not a valid INI line", where, line);
    else if (r.error[0])
        snprintf(msg, msgsz, "%s: %s", where, r.error);
    return line != 0 || r.error[0] ? -1 : 0;
}

/* The file at path opened for reading when it is a regular file; NULL otherwise,
 * with errno (ENOENT: there is none) or, for anything else there (a FIFO, a
 * device, a directory), EFTYPE_NOT_REGULAR. Opened O_NONBLOCK, because opening a
 * FIFO planted there would wait forever for a writer; blocking again once it is
 * known to be a file. flags adds O_NOFOLLOW for the secrets. *sb: what it is. */
#define EFTYPE_NOT_REGULAR (-1)
static FILE *open_regular(const char *path, int flags, struct stat *sb, int *why)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | flags);
    *why = fd < 0 ? errno : 0;
    if (fd < 0)
        return NULL;
    int fl = fcntl(fd, F_GETFL);
    if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode) || fl < 0 ||
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        *why = EFTYPE_NOT_REGULAR;
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        *why = errno;
        close(fd);
    }
    return f;
}

/* "vigil: WHAT: PATH: why" for a file open_regular could not open. */
static void open_failed(const char *what, const char *path, int why)
{
    if (why == EFTYPE_NOT_REGULAR)
        fprintf(stderr, "vigil: %s: %s: not a regular file (a FIFO, device or directory);"
                        " vigil refuses it\n", what, path);
    else
        fprintf(stderr, "vigil: %s: %s: %s\n", what, path, strerror(why));
}

int config_read(config *cf)
{
    cop_policy_default(&cf->copilot.policy);
    cop_policy_default(&cf->mcp_policy);
    char *path = paths_config();
    struct stat sb;
    int why;
    FILE *f = open_regular(path, 0, &sb, &why);
    int rc = 0;
    if (f) {
        char msg[1024];
        rc = config_parse(cf, f, path, msg, sizeof msg);
        fclose(f);
        if (rc)
            fprintf(stderr, "vigil: config: %s\n", msg);
        else if (cf->nwarnings)
            fprintf(stderr, "vigil: config: %s: %s: left out%s\n", path, cf->warning,
                    cf->nwarnings > 1 ? ", with more [keys] lines like it" : "");
    } else if (why != ENOENT) {
        open_failed("config", path, why);
        rc = -1;
    }
    free(path);
    return rc;
}

const int64_t *config_sla(const config *cf)
{
    return tui_config_sla(cf ? &cf->tui : NULL);
}

void config_free(config *cf)
{
    free(cf->user);
    free(cf->db);
    cf->user = cf->db = NULL;
    free(cf->intel_db);
    cf->intel_db = NULL;
    free(cf->copilot.provider);
    free(cf->copilot.url);
    free(cf->copilot.model);
    cf->copilot.provider = cf->copilot.url = cf->copilot.model = NULL;
    vg_home_free(cf->import_home);
    cf->import_home = NULL;
}

typedef struct secret_reader {
    const char *section, *key;
    char *value;
} secret_reader;

static int secret_entry(void *ud, const char *section, const char *name, const char *value)
{
    secret_reader *r = ud;
    if (!strcmp(section, r->section) && !strcmp(name, r->key))
        set_str(&r->value, value);
    return 1;
}

/* The secrets file opened for reading after the checks every reader and writer
 * makes: a regular file (no symlink), readable by its owner alone. 0 with *f the
 * file, 0 with *f NULL when there is none, -1 after printing why it is refused. */
static int secrets_open(const char *path, FILE **f)
{
    struct stat sb;
    int why;
    *f = open_regular(path, O_NOFOLLOW, &sb, &why);
    if (!*f) {
        if (why != ENOENT)
            open_failed("secrets", path, why);
        return why == ENOENT ? 0 : -1;
    }
    /* Checked on the open file, so the file read is the file checked. */
    if (sb.st_mode & 077) {
        fprintf(stderr, "vigil: secrets: %s: mode %04o lets others read it; vigil refuses it"
                        " (chmod 600 %s)\n", path, (unsigned)(sb.st_mode & 07777), path);
        fclose(*f);
        *f = NULL;
        return -1;
    }
    return 0;
}

int config_secret(const char *section, const char *key, char **out)
{
    *out = NULL;
    char *path = paths_secrets();
    FILE *f;
    int rc = secrets_open(path, &f);
    if (rc != 0 || !f) {
        free(path);
        return rc;
    }
    secret_reader r = {section, key, NULL};
    int line = ini_parse_file(f, secret_entry, &r);
    fclose(f);
    if (line != 0) {
        fprintf(stderr, "vigil: secrets: %s:%d: not a valid INI line\n", path, line);
        free(r.value);
        free(path);
        return -1;
    }
    free(path);
    *out = r.value;
    return 0;
}

int config_secrets_load(vg_buf *out)
{
    char *path = paths_secrets();
    FILE *f;
    vg_err err = {0};
    int rc = secrets_open(path, &f);
    if (rc == 0 && f && vg_buf_read_file(out, f, path, &err) != VG_OK) {
        fprintf(stderr, "vigil: secrets: %s\n", err.msg);
        rc = -1;
    }
    if (f)
        fclose(f);
    free(path);
    return rc;
}

#define DEFAULT_BUDGET 8192
#define DEFAULT_TIMEOUT 120

/* Strongest first: the command line (--model), the environment (OLLAMA_HOST,
 * OPENAI_BASE_URL, OPENAI_API_KEY), the config file (the API key from the 0600
 * secrets file), then the defaults (Ollama on 127.0.0.1:11434). */
int config_copilot(const config *cf, const char *model, tui_copilot *s)
{
    const copilot_config *cc = &cf->copilot;
    memset(s, 0, sizeof *s);
    s->policy = &cc->policy;
    int p = llm_provider_parse(cc->provider ? cc->provider : "ollama");
    s->lc.provider = p < 0 ? LLM_OLLAMA : (llm_provider)p;
    const char *env = getenv(s->lc.provider == LLM_OLLAMA ? "OLLAMA_HOST" : "OPENAI_BASE_URL");
    if (env && *env)
        s->url = s->lc.provider == LLM_OLLAMA ? llm_ollama_url(env) : vg_xstrdup(env);
    else if (cc->url)
        s->url = vg_xstrdup(cc->url);
    else
        s->url = vg_xstrdup(s->lc.provider == LLM_OLLAMA ? LLM_OLLAMA_URL : LLM_OPENAI_URL);
    s->lc.url = s->url;
    s->lc.model = model ? model : cc->model;
    s->lc.timeout_s = cc->timeout_s ? cc->timeout_s : DEFAULT_TIMEOUT;
    s->lc.budget = (size_t)(cc->budget ? cc->budget : DEFAULT_BUDGET);
    if (s->lc.provider == LLM_OPENAI) {
        const char *k = getenv("OPENAI_API_KEY");
        if (k && *k)
            s->key = vg_xstrdup(k);
        else if (config_secret("copilot", "api_key", &s->key) != 0)
            return -1;
        s->lc.api_key = s->key;
    }
    return 0;
}

void config_copilot_free(tui_copilot *s)
{
    free(s->url);
    if (s->key) {
        sodium_memzero(s->key, strlen(s->key));
        free(s->key);
    }
    s->url = s->key = NULL;
}
