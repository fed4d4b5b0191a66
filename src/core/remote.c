/*
 * remote.c — the team server a workspace syncs with (contract in remote.h).
 *
 * A remote is a meta row, 'remote:NAME' = {"url", "user", "tenant", "added_at"},
 * beside the sync cursors ('sync:NAME', sync.c) and the ref lease it goes with.
 * There is at most one: the server leases a workspace its case refs, and two
 * teams' leases would hand out the same refs. Adding checks and writes in one
 * transaction, so two `remote add` racing cannot both win.
 *
 * URLs are ssh:// (the team's way: src/net/ssh.c) or http:// (loopback and tests).
 * HOST is a name, an IPv4 address or, for ssh://, a ~/.ssh/config alias: the URL
 * is also the name of the token's section in the INI secrets file, where a ']'
 * would end the section name, so no URL holds one.
 */
#include "internal.h"
#include "vigil/op.h"
#include "vigil/remote.h"
#include "vigil/sync.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A statement run once per command (adding, removing, the join's check): prepared
 * and finalized by the caller, leaving the workspace's statement cache to the
 * statements every command runs. */
static vg_rc prepare_once(vg_ws *ws, const char *sql, sqlite3_stmt **st, vg_err *err)
{
    if (sqlite3_prepare_v2(ws->db, sql, -1, st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "preparing a statement");
    return VG_OK;
}

vg_rc vg_remote_check_name(const char *name, vg_err *err)
{
    size_t n = name ? strlen(name) : 0;
    bool ok = n >= 1 && n <= 64 &&
              ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'));
    for (size_t i = 1; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
             name[i] == '.' || name[i] == '_' || name[i] == '-';
    if (!ok)
        return vg_fail(err, VG_EINVAL, "remote name '%.80s' is not [a-z0-9][a-z0-9._-]{0,63}",
                       name ? name : "");
    return VG_OK;
}

/* Is s[0..n) a host: a name or an IPv4 address (and, for ssh://, a config alias)? */
static bool host_ok(const char *s, size_t n, bool alias)
{
    bool ok = n >= 1 && n <= 253 && s[0] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || (alias && s[i] == '_');
    return ok;
}

/* "N" in [1, 65535] from s[0..n), or 0. */
static int port_of(const char *s, size_t n)
{
    long port = 0;
    size_t i = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9' && port <= 65535; i++)
        port = port * 10 + (s[i] - '0');
    return i == n && n > 0 && port >= 1 && port <= 65535 ? (int)port : 0;
}

/* ssh://[USER@]HOST[:PORT][/DIR][?port=N], after the scheme. */
static vg_rc parse_ssh(const char *url, const char *a, vg_remote *r, vg_err *err)
{
    const char *end = a + strcspn(a, "/?#");
    const char *at = memchr(a, '@', (size_t)(end - a));
    if (at) {
        size_t ul = (size_t)(at - a);
        bool ok = ul >= 1 && ul <= 64 && a[0] != '-';
        for (size_t i = 0; ok && i < ul; i++)
            ok = (a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z') ||
                 (a[i] >= '0' && a[i] <= '9') || a[i] == '.' || a[i] == '_' || a[i] == '-';
        if (!ok)
            return vg_fail(err, VG_EINVAL, "URL '%.100s': the user is not [A-Za-z0-9._-]{1,64}"
                                           " (and no password: SSH keys or the agent log in)",
                           url);
        memcpy(r->ssh_user, a, ul);
        r->ssh_user[ul] = '\0';
        a = at + 1;
    }
    if (*a == '[')
        return vg_fail(err, VG_EINVAL, "URL '%.100s': an IPv6 address is not taken yet;"
                                       " use a host name or a ~/.ssh/config alias", url);
    const char *colon = memchr(a, ':', (size_t)(end - a));
    const char *hend = colon ? colon : end;
    if (!host_ok(a, (size_t)(hend - a), true))
        return vg_fail(err, VG_EINVAL, "URL '%.100s': the host is not a name, an IPv4 address"
                                       " or a ~/.ssh/config alias", url);
    memcpy(r->ssh_host, a, (size_t)(hend - a));
    r->ssh_host[hend - a] = '\0';
    if (colon && !(r->ssh_port = port_of(colon + 1, (size_t)(end - colon - 1))))
        return vg_fail(err, VG_EINVAL, "URL '%.100s': the SSH port is not a number from 1 to"
                                       " 65535", url);
    const char *p = end;
    if (*p == '/') {
        size_t dl = strcspn(p, "?#");
        while (dl > 1 && p[dl - 1] == '/') /* ssh://host/ and /dir/ are /dir */
            dl--;
        bool ok = dl <= 200;
        for (size_t i = 0; ok && i < dl; i++)
            ok = (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
                 (p[i] >= '0' && p[i] <= '9') || strchr("/._-", p[i]);
        if (!ok || strstr(p, "/../") || (dl >= 3 && strncmp(p + dl - 3, "/..", 3) == 0) ||
            (dl == 3 && strncmp(p, "/..", 3) == 0))
            return vg_fail(err, VG_EINVAL, "URL '%.100s': the path (vigild's directory on the"
                                           " host) is not /[A-Za-z0-9._/-]{0,199} without '..'",
                           url);
        if (dl > 1) {
            memcpy(r->ssh_dir, p, dl);
            r->ssh_dir[dl] = '\0';
        }
        p += strcspn(p, "?#");
    }
    r->port = 8470; /* vigild's default --listen */
    if (*p == '?') {
        size_t ql = strcspn(p + 1, "#");
        if (ql < 6 || strncmp(p + 1, "port=", 5) != 0 || !(r->port = port_of(p + 6, ql - 5)))
            return vg_fail(err, VG_EINVAL, "URL '%.100s': the query may only be ?port=N, the"
                                           " port vigild listens on (1 to 65535)", url);
        p += 1 + ql;
    }
    if (*p == '#')
        return vg_fail(err, VG_EINVAL, "URL '%.100s': no fragment in a remote's URL", url);
    r->ssh = true;
    snprintf(r->host, sizeof r->host, "127.0.0.1");
    char port[8] = "", q[16] = "";
    if (r->ssh_port)
        snprintf(port, sizeof port, ":%d", r->ssh_port);
    if (r->port != 8470)
        snprintf(q, sizeof q, "?port=%d", r->port);
    snprintf(r->url, sizeof r->url, "ssh://%s%s%s%s%s%s", r->ssh_user, *r->ssh_user ? "@" : "",
             r->ssh_host, port, r->ssh_dir, q);
    return VG_OK;
}

vg_rc vg_remote_parse_url(const char *url, vg_remote *r, vg_err *err)
{
    r->ssh = false;
    r->ssh_host[0] = r->ssh_user[0] = r->ssh_dir[0] = '\0';
    r->ssh_port = 0;
    if (strlen(url) >= VG_REMOTE_URL)
        return vg_fail(err, VG_EINVAL, "URL '%.100s...': longer than %d bytes", url,
                       VG_REMOTE_URL - 1);
    if (strncmp(url, "ssh://", 6) == 0)
        return parse_ssh(url, url + 6, r, err);
    if (strncmp(url, "http://", 7) != 0)
        return vg_fail(err, VG_EINVAL, "URL '%.100s': a remote is ssh://[USER@]HOST or"
                                       " http://HOST:PORT", url);
    const char *a = url + 7, *end = a + strcspn(a, "/?#");
    if (memchr(a, '@', (size_t)(end - a)))
        return vg_fail(err, VG_EINVAL, "URL '%.100s': no user or password in a remote's URL"
                                       " (the token goes in the secrets file)", url);
    if (*end == '?' || (*end == '/' && end[1] == '?'))
        return vg_fail(err, VG_EINVAL, "URL '%.100s': no query in a remote's URL", url);
    if (*end == '#' || (*end == '/' && end[1] == '#'))
        return vg_fail(err, VG_EINVAL, "URL '%.100s': no fragment in a remote's URL", url);
    if (*end == '/' && end[1])
        return vg_fail(err, VG_EINVAL, "URL '%.100s': no path in a remote's URL"
                                       " (http://HOST:PORT)", url);
    if (*a == '[')
        return vg_fail(err, VG_EINVAL, "URL '%.100s': an IPv6 address is not taken yet;"
                                       " use a host name", url);
    const char *colon = memchr(a, ':', (size_t)(end - a));
    if (!colon)
        return vg_fail(err, VG_EINVAL, "URL '%.100s': a port is needed (http://HOST:PORT)", url);
    size_t hl = (size_t)(colon - a);
    if (!host_ok(a, hl, false))
        return vg_fail(err, VG_EINVAL, "URL '%.100s': the host is not a name or an IPv4 address",
                       url);
    int port = port_of(colon + 1, (size_t)(end - colon - 1));
    if (!port)
        return vg_fail(err, VG_EINVAL, "URL '%.100s': the port is not a number from 1 to 65535",
                       url);
    memcpy(r->host, a, hl);
    r->host[hl] = '\0';
    r->port = port;
    snprintf(r->url, sizeof r->url, "http://%s:%d", r->host, port);
    return VG_OK;
}

/* A stored remote's JSON into out (name already set). */
static vg_rc remote_parse(const char *json, vg_remote *out, vg_err *err)
{
    cJSON *o = cJSON_Parse(json);
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(o, "url"),
                *user = cJSON_GetObjectItemCaseSensitive(o, "user"),
                *tenant = cJSON_GetObjectItemCaseSensitive(o, "tenant"),
                *at = cJSON_GetObjectItemCaseSensitive(o, "added_at");
    vg_rc rc = VG_OK;
    if (!cJSON_IsString(url) || !cJSON_IsString(user) || !cJSON_IsString(tenant) ||
        vg_remote_parse_url(url->valuestring, out, err) != VG_OK) {
        rc = vg_fail(err, VG_ECORRUPT, "remote %s: its record in the workspace is damaged",
                     out->name);
    } else {
        snprintf(out->user, sizeof out->user, "%s", user->valuestring);
        snprintf(out->tenant, sizeof out->tenant, "%s", tenant->valuestring);
        out->added_at = cJSON_IsNumber(at) ? (int64_t)at->valuedouble : 0;
    }
    cJSON_Delete(o);
    return rc;
}

vg_rc vg_remote_list(vg_ws *ws, vg_remote **out, size_t *n, vg_err *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    /* 'remote:' up to 'remote;' (the next character): the key range, by the index */
    vg_rc rc = ws_stmt_text(ws, "SELECT substr(key, 8), value FROM meta"
                                " WHERE key >= 'remote:' AND key < 'remote;' ORDER BY key", &st,
                            err);
    if (rc)
        return rc;
    int s;
    while (rc == VG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        *out = vg_xrealloc(*out, (*n + 1) * sizeof **out);
        vg_remote *r = &(*out)[*n];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = remote_parse((const char *)sqlite3_column_text(st, 1), r, err);
        (*n)++;
    }
    if (rc == VG_OK && s != SQLITE_DONE)
        rc = ws_dberr(ws, err, "reading the remotes");
    sqlite3_reset(st);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

vg_rc vg_remote_get(vg_ws *ws, const char *name, vg_remote *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    vg_remote *all;
    size_t n;
    vg_rc rc = vg_remote_list(ws, &all, &n, err);
    if (rc)
        return rc;
    size_t i = 0;
    while (name && i < n && strcmp(all[i].name, name) != 0)
        i++;
    if (i < n)
        *out = all[i];
    else if (name)
        rc = vg_fail(err, VG_ENOTFOUND, "no remote named '%.64s'%s%s", name,
                     n ? "; this workspace's is " : " (`vigil remote ls`)", n ? all[0].name : "");
    else
        rc = vg_fail(err, VG_ENOTFOUND, "this workspace has no remote"
                                        " (add one with `vigil remote add NAME URL`)");
    free(all);
    return rc;
}

vg_rc vg_remote_add(vg_ws *ws, vg_remote *r, vg_err *err)
{
    vg_rc rc = vg_remote_check_name(r->name, err);
    if (rc)
        return rc;
    if ((rc = vg_batch_begin(ws, err)))
        return rc;
    vg_remote had;
    vg_err ignore;
    rc = vg_remote_get(ws, NULL, &had, &ignore);
    if (rc == VG_OK) {
        rc = vg_fail(err, VG_EEXIST, "this workspace syncs with '%s' (%s) already: one team per"
                                     " workspace, since the server leases it its case refs"
                                     " (use another workspace with --db, or `vigil remote rm %s`)",
                     had.name, had.url, had.name);
    } else if (rc == VG_ENOTFOUND) {
        r->added_at = vg_now_ms();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "url", r->url);
        cJSON_AddStringToObject(o, "user", r->user);
        cJSON_AddStringToObject(o, "tenant", r->tenant);
        cJSON_AddNumberToObject(o, "added_at", (double)r->added_at);
        char *json = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!json)
            abort();
        char key[80];
        snprintf(key, sizeof key, "remote:%s", r->name);
        sqlite3_stmt *st;
        if ((rc = prepare_once(ws, "INSERT INTO meta(key, value) VALUES (?, ?)", &st, err)) ==
            VG_OK) {
            sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, json, -1, SQLITE_TRANSIENT);
            rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "storing the remote");
            sqlite3_finalize(st);
        }
        cJSON_free(json);
    } else {
        *err = ignore;
    }
    if (rc) {
        vg_batch_rollback(ws);
        return rc;
    }
    return vg_batch_commit(ws, err);
}

vg_rc vg_remote_rm(vg_ws *ws, const char *name, vg_err *err)
{
    vg_remote r;
    vg_rc rc = vg_remote_get(ws, name, &r, err);
    /* The cursors first: a remote left without them syncs from the start (every op
     * is offered again and skipped), never the other way round. */
    if (rc || (rc = vg_sync_forget(ws, name, err)))
        return rc;
    char key[80];
    snprintf(key, sizeof key, "remote:%s", name);
    sqlite3_stmt *st;
    if ((rc = prepare_once(ws, "DELETE FROM meta WHERE key = ?", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "removing the remote");
    sqlite3_finalize(st);
    return rc;
}

vg_rc vg_remote_foreign_actors(vg_ws *ws, const char *user, char ***out, size_t *n, vg_err *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    vg_rc rc = prepare_once(ws, "SELECT DISTINCT actor FROM ops WHERE actor <> ? ORDER BY actor",
                            &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        *out = vg_xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = col_dup(st, 0);
    }
    if (s != SQLITE_DONE) {
        rc = ws_dberr(ws, err, "reading the op log's actors");
        vg_remote_actors_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

void vg_remote_actors_free(char **actors, size_t n)
{
    for (size_t i = 0; actors && i < n; i++)
        free(actors[i]);
    free(actors);
}

vg_rc vg_remote_waiting(vg_ws *ws, const vg_remote *r, int64_t *n, vg_err *err)
{
    *n = 0;
    vg_sync_cursor c;
    sqlite3_stmt *st;
    vg_rc rc = vg_sync_get(ws, r->name, &c, err);
    if (rc || (rc = ws_stmt_text(ws, "SELECT count(*) FROM ops WHERE seq > ? AND actor = ?", &st,
                                 err)))
        return rc;
    sqlite3_bind_int64(st, 1, c.pushed);
    sqlite3_bind_text(st, 2, r->user, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        rc = ws_dberr(ws, err, "counting the ops to push");
    sqlite3_reset(st);
    return rc;
}

vg_rc vg_remote_lease(vg_ws *ws, int64_t lo, int64_t hi, vg_ref_moves *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    vg_refs refs;
    sqlite3_stmt *st;
    vg_rc rc = vg_refs_get(ws, &refs, err);
    if (rc || (rc = prepare_once(ws, "SELECT id, ref FROM cases WHERE ref >= ? ORDER BY ref", &st,
                                 err)))
        return rc;
    sqlite3_bind_int64(st, 1, refs.leased ? VG_REF_PROVISIONAL : 0);
    vg_id *ids = NULL;
    int64_t *old = NULL;
    size_t n = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            ids = vg_xrealloc(ids, cap * sizeof *ids);
            old = vg_xrealloc(old, cap * sizeof *old);
        }
        col_id(st, 0, ids[n]);
        old[n++] = sqlite3_column_int64(st, 1);
    }
    if (s != SQLITE_DONE)
        rc = ws_dberr(ws, err, "reading the refs to renumber");
    sqlite3_finalize(st);
    int64_t written = 0;
    if (rc == VG_OK)
        rc = vg_refs_lease(ws, lo, hi, &written, err);
    if (rc == VG_OK && written > 0 &&
        (rc = prepare_once(ws, "SELECT ref FROM cases WHERE id = ?", &st, err)) == VG_OK) {
        for (size_t i = 0; i < n && rc == VG_OK; i++) {
            sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_ROW) {
                rc = ws_dberr(ws, err, "reading a renumbered case");
                break;
            }
            int64_t now = sqlite3_column_int64(st, 0);
            sqlite3_reset(st);
            if (now == old[i])
                continue;
            if (out->n++ == 0) {
                out->from_lo = out->from_hi = old[i];
                out->to_lo = out->to_hi = now;
            }
            out->from_lo = old[i] < out->from_lo ? old[i] : out->from_lo;
            out->from_hi = old[i] > out->from_hi ? old[i] : out->from_hi;
            out->to_lo = now < out->to_lo ? now : out->to_lo;
            out->to_hi = now > out->to_hi ? now : out->to_hi;
        }
        sqlite3_finalize(st);
    }
    free(ids);
    free(old);
    return rc;
}
