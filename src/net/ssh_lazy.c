/*
 * ssh_lazy.c — libssh, loaded the first time an ssh:// remote is used.
 *
 * Linked normally, libssh and what it brings (OpenSSL's libcrypto, Kerberos,
 * zlib) would be mapped by every `vigil` command at start: 1.3 ms more for
 * `vigil --version` (2.6 ms against 1.3), for every command, although only a
 * sync talks SSH. So, as for libcurl (curl_lazy.c), vigil links none of it: this
 * file defines the libssh functions ssh.c calls, each a forwarder that dlopen()s
 * libssh.so.4 once (its constructor initialises it) and calls the real one.
 * Without libssh on the machine net_ssh_available() says so, ssh.c reports it,
 * and nothing else in vigil notices.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <libssh/libssh.h>

#include "ssh.h"

static void *lib;
static pthread_once_t loaded = PTHREAD_ONCE_INIT;

static void load(void)
{
    lib = dlopen("libssh.so.4", RTLD_LAZY | RTLD_LOCAL);
}

/* The real function called name, or NULL when libssh cannot be loaded. */
static void *sym(const char *name)
{
    pthread_once(&loaded, load);
    return lib ? dlsym(lib, name) : NULL;
}

bool net_ssh_available(void)
{
    return sym("ssh_new") != NULL;
}

/* A forwarder with a fixed argument list; the pointer is cached atomically (two
 * threads may look it up at once, and find the same). */
#define FWD(ret, name, params, args, fallback)                                                     \
    ret name params                                                                                \
    {                                                                                              \
        static ret(*real) params;                                                                  \
        ret(*r) params = __atomic_load_n(&real, __ATOMIC_ACQUIRE);                                 \
        if (!r) {                                                                                  \
            *(void **)&r = sym(#name);                                                             \
            __atomic_store_n(&real, r, __ATOMIC_RELEASE);                                          \
        }                                                                                          \
        return r ? r args : fallback;                                                              \
    }
#define VOID(name, params, args)                                                                   \
    void name params                                                                               \
    {                                                                                              \
        static void(*real) params;                                                                 \
        void(*r) params = __atomic_load_n(&real, __ATOMIC_ACQUIRE);                                \
        if (!r) {                                                                                  \
            *(void **)&r = sym(#name);                                                             \
            __atomic_store_n(&real, r, __ATOMIC_RELEASE);                                          \
        }                                                                                          \
        if (r)                                                                                     \
            r args;                                                                                \
    }

VOID(ssh_channel_free, (ssh_channel channel), (channel))
VOID(ssh_clean_pubkey_hash, (unsigned char **hash), (hash))
VOID(ssh_disconnect, (ssh_session session), (session))
VOID(ssh_free, (ssh_session session), (session))
VOID(ssh_key_free, (ssh_key key), (key))
VOID(ssh_string_free_char, (char *s), (s))
FWD(int, ssh_channel_close, (ssh_channel channel), (channel), SSH_ERROR)
FWD(int, ssh_channel_send_eof, (ssh_channel channel), (channel), SSH_ERROR)
FWD(const char *, ssh_get_error, (void *error), (error), "libssh.so.4 is not installed")
FWD(int, ssh_get_publickey_hash,
    (const ssh_key key, enum ssh_publickey_hash_type type, unsigned char **hash, size_t *hlen),
    (key, type, hash, hlen), SSH_ERROR)
FWD(int, ssh_options_get, (ssh_session session, enum ssh_options_e type, char **value),
    (session, type, value), SSH_ERROR)
FWD(int, ssh_options_get_port, (ssh_session session, unsigned int *port_target),
    (session, port_target), SSH_ERROR)
FWD(int, ssh_options_parse_config, (ssh_session session, const char *filename), (session, filename),
    SSH_ERROR)
FWD(int, ssh_options_set, (ssh_session session, enum ssh_options_e type, const void *value),
    (session, type, value), SSH_ERROR)
FWD(int, ssh_channel_get_exit_status, (ssh_channel channel), (channel), SSH_ERROR)
FWD(int, ssh_channel_is_closed, (ssh_channel channel), (channel), SSH_ERROR)
FWD(int, ssh_channel_is_eof, (ssh_channel channel), (channel), SSH_ERROR)
FWD(ssh_channel, ssh_channel_new, (ssh_session session), (session), NULL)
FWD(int, ssh_channel_open_forward,
    (ssh_channel channel, const char *remotehost, int remoteport, const char *sourcehost,
     int localport),
    (channel, remotehost, remoteport, sourcehost, localport), SSH_ERROR)
FWD(int, ssh_channel_open_session, (ssh_channel channel), (channel), SSH_ERROR)
FWD(int, ssh_channel_read_nonblocking,
    (ssh_channel channel, void *dest, uint32_t count, int is_stderr),
    (channel, dest, count, is_stderr), SSH_ERROR)
FWD(int, ssh_channel_request_exec, (ssh_channel channel, const char *cmd), (channel, cmd),
    SSH_ERROR)
FWD(int, ssh_channel_write, (ssh_channel channel, const void *data, uint32_t len),
    (channel, data, len), SSH_ERROR)
FWD(int, ssh_connect, (ssh_session session), (session), SSH_ERROR)
FWD(socket_t, ssh_get_fd, (ssh_session session), (session), -1)
FWD(char *, ssh_get_fingerprint_hash,
    (enum ssh_publickey_hash_type type, unsigned char *hash, size_t len), (type, hash, len), NULL)
FWD(int, ssh_get_server_publickey, (ssh_session session, ssh_key *key), (session, key), SSH_ERROR)
FWD(int, ssh_is_connected, (ssh_session session), (session), SSH_ERROR)
FWD(enum ssh_keytypes_e, ssh_key_type, (const ssh_key key), (key), SSH_KEYTYPE_UNKNOWN)
FWD(const char *, ssh_key_type_to_char, (enum ssh_keytypes_e type), (type), NULL)
FWD(ssh_session, ssh_new, (void), (), NULL)
FWD(int, ssh_pki_import_privkey_file,
    (const char *filename, const char *passphrase, ssh_auth_callback auth_fn, void *auth_data,
     ssh_key *pkey),
    (filename, passphrase, auth_fn, auth_data, pkey), SSH_ERROR)
FWD(int, ssh_pki_import_pubkey_file, (const char *filename, ssh_key *pkey), (filename, pkey),
    SSH_ERROR)
FWD(int, ssh_send_ignore, (ssh_session session, const char *data), (session, data), SSH_ERROR)
FWD(enum ssh_known_hosts_e, ssh_session_is_known_server, (ssh_session session), (session),
    SSH_KNOWN_HOSTS_ERROR)
FWD(int, ssh_session_update_known_hosts, (ssh_session session), (session), SSH_ERROR)
FWD(int, ssh_userauth_agent, (ssh_session session, const char *username), (session, username),
    SSH_ERROR)
FWD(int, ssh_userauth_list, (ssh_session session, const char *username), (session, username),
    SSH_ERROR)
FWD(int, ssh_userauth_none, (ssh_session session, const char *username), (session, username),
    SSH_ERROR)
FWD(int, ssh_userauth_publickey, (ssh_session session, const char *username, const ssh_key privkey),
    (session, username, privkey), SSH_ERROR)
FWD(int, ssh_userauth_try_publickey,
    (ssh_session session, const char *username, const ssh_key pubkey), (session, username, pubkey),
    SSH_ERROR)
