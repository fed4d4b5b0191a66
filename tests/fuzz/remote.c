/*
 * remote.c — a remote's URL (src/core/remote.c), typed by the analyst and stored
 * in the workspace, whose stored form names the token's section in the secrets
 * file and whose parts reach libssh and, for the exec fallback, a remote shell
 * command (`vigild --data 'DIR' --stdio`).
 *
 * Any bytes: refused with a message, or taken; a URL taken has a stored form that
 * parses to itself with the same parts, holds nothing the INI reader or a shell
 * would read as syntax (no ']', quote, space, control or non-ASCII byte), a user
 * and a host that cannot pass for an option (no leading '-'), a DIR without "..",
 * and ports in range.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vigil/remote.h"

static void safe_bytes(const char *what, const char *s)
{
    for (const char *c = s; *c; c++)
        fz_check(*c > ' ' && *c < 0x7f && !strchr("]['\"`$;\\|&<>(){}*!~ ", *c),
                 "%s '%s' holds a byte a shell or the INI reader would read", what, s);
}

static void safe_part(const char *what, const char *s)
{
    fz_check(s[0] != '-', "%s '%s' may pass for an option", what, s);
    safe_bytes(what, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fz_cstr(data, size);
    vg_remote r;
    memset(&r, 0x5a, sizeof r); /* what parsing leaves unset shows */
    vg_err err = {0};
    if (vg_remote_parse_url(url, &r, &err) != VG_OK) {
        fz_check(err.msg[0] != '\0', "'%s' refused without a message", url);
        free(url);
        return 0;
    }
    fz_check(strlen(r.url) < VG_REMOTE_URL, "stored form too long");
    safe_part("the stored URL", r.url);
    safe_part("the host", r.host);
    fz_check(r.port >= 1 && r.port <= 65535, "port %d", r.port);
    if (r.ssh) {
        fz_check(strncmp(r.url, "ssh://", 6) == 0, "an ssh remote stored as %s", r.url);
        safe_part("the SSH host", r.ssh_host);
        fz_check(r.ssh_host[0] != '\0', "no SSH host in %s", r.url);
        if (r.ssh_user[0])
            safe_part("the SSH user", r.ssh_user);
        if (r.ssh_dir[0]) {
            safe_bytes("the DIR", r.ssh_dir); /* absolute: never an option */
            fz_check(r.ssh_dir[0] == '/' && !strstr(r.ssh_dir, "/../") &&
                         strcmp(r.ssh_dir + strlen(r.ssh_dir) - 3, "/..") != 0,
                     "DIR '%s'", r.ssh_dir);
        }
        fz_check(r.ssh_port >= 0 && r.ssh_port <= 65535, "SSH port %d", r.ssh_port);
    } else {
        fz_check(strncmp(r.url, "http://", 7) == 0, "an http remote stored as %s", r.url);
    }
    vg_remote again;
    memset(&again, 0, sizeof again);
    fz_check(vg_remote_parse_url(r.url, &again, &err) == VG_OK, "stored form %s refused: %s",
             r.url, err.msg);
    fz_check(strcmp(again.url, r.url) == 0 && strcmp(again.host, r.host) == 0 &&
                 again.port == r.port && again.ssh == r.ssh &&
                 strcmp(again.ssh_host, r.ssh_host) == 0 &&
                 strcmp(again.ssh_user, r.ssh_user) == 0 &&
                 strcmp(again.ssh_dir, r.ssh_dir) == 0 && again.ssh_port == r.ssh_port,
             "%s does not parse to itself", r.url);
    free(url);
    return 0;
}
