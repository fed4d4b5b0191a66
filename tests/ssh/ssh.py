#!/usr/bin/env python3
"""tests/ssh/ssh.py VIGIL VIGILD — sync over SSH with a real OpenSSH server: vigil opens
the session itself (libssh) and carries sync's HTTP to vigild's loopback port over a
direct-tcpip channel, or over an exec channel running `vigild --stdio` where the sshd
forbids forwarding. Each sshd is the test's own (sshd.py: a free loopback port, host
keys and authorized keys it generates), behind it the real vigild; HOME is a scratch
directory, so ~/.ssh/config, known_hosts, keys and the agent are the test's.

What an analyst would notice, one part each: a bad URL refused with the reason; an
unknown host key refused with its fingerprint and the command that accepts it, `remote
trust` (a wrong fingerprint refused, nothing written), then accepted; a changed host
key refused loudly, trust refusing too; hashed known_hosts; a key file (the default
one, and IdentityFile/IdentitiesOnly/User from ~/.ssh/config); keepalives on an idle
tunnel at ServerAliveInterval; the agent; an encrypted
key's passphrase typed on a terminal (a pty; asked once, typed with the echo off),
and no hang without one; ProxyJump through one and two jump sshds (their logs show
the forwards; no ssh(1) on PATH), a jump host's unknown key named and trusted, the
jump host down; AllowTcpForwarding no and the exec fallback syncing, and both ways
named when neither works; `remote test` for a good remote and for each of a closed
port, a silent one (ConnectTimeout), no usable key and an unknown host key; sshd
SIGKILLed mid-push and mid-pull and started again: the next sync finishes, nothing
lost or stored twice; and converge.py's three analysts converging with their remotes
on ssh:// (shorter: 300 writes), tunnels cut and vigild restarted.

The workstation (TUI) on an ssh:// remote is tests/tui/ssh's. VIGIL_SSH_KEEP=1 keeps
the scratch directory (the sshd logs) for a look after a failure.

The seed is printed; VIGIL_SEED=N re-runs one. VIGIL_SSH_ONLY=part,part runs some parts
(the names in PARTS)."""
import json
import os
import pty
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import termios
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sshd as s  # noqa: E402  sshd, keys, agent, HOME; converge.py as s.h
from sshd import h  # noqa: E402
from converge import check, eq, sql  # noqa: E402

STEPS = ["resolve", "connect", "host key", "auth", "channel", "vigild", "token"]
tok = {}
srv = None  # vigild on loopback
tenant = None
keep = []  # every sshd and agent started, stopped at the end


def sshd(name, **kw):
    d = s.Sshd(os.path.join(h.T, name), **kw)
    keep.append(d)
    return d


def home(name):
    return s.Home(os.path.join(h.T, "home-" + name))


def client(name, hm, agent=None):
    return s.Client(name, hm, agent)


def url(server_or_port, user="", dir="", host="127.0.0.1"):
    port = server_or_port if isinstance(server_or_port, int) else server_or_port.port
    return f"ssh://{user + '@' if user else ''}{host}:{port}{dir}?port={srv.port}"


def add(c, u, who, what):
    p = c.run("remote", "add", "team", u, input=tok[who] + "\n", timeout=120)
    check(p.returncode == 0, f"{what}: remote add {u} exits {p.returncode}: {said(p.stderr)}")
    return p


def note(c, text):
    cs = c.cases()
    if not cs:
        p = c.run("case", "new", "--title", text, "--json")
        check(p.returncode == 0, f"{c.name} opens a case: {p.stderr}")
        return
    p = c.run("note", cs[0]["id"], text)
    check(p.returncode == 0, f"{c.name} writes a note: {p.stderr}")


def trust_cmd(what, fp):
    """The command the refusal tells the analyst to run (the URL may be shell-quoted)."""
    return f"vigil remote trust {what} {fp}"


def said(text, limit=400):
    """What a program said, on one line and short enough for a failure message."""
    text = " | ".join(line for line in (text or "").strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[:limit] + "..."


def no_secret_in(text, secret, what):
    check(secret not in text, f"{what}: the secret is not printed")


# ---- a terminal: the passphrase prompt ----------------------------------------------

def on_pty(argv, env, script, timeout=60):
    """Run argv with a pty as its controlling terminal (its own session, so /dev/tty is the
    pty); for each (expected text, answer) in script, in whatever order they come, wait
    for the text then type the answer. (exit status or None on a timeout, everything it
    wrote)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out, at, end = b"", 0, time.time() + timeout
    script = list(script)
    echo_off = []
    rc = None
    try:
        while time.time() < end:
            seen = [(out.index(w.encode(), at), w, a) for w, a in script if w.encode() in out[at:]]
            if seen:
                pos, want, answer = min(seen)
                script.remove((want, answer))
                at = pos + len(want)
                # type only once the terminal's echo is off, as a person would: the
                # prompt may be written before the reader sets the terminal (and
                # flushes what was typed ahead). On Linux the master side reads the
                # pty's modes.
                quiet = time.time() + 5
                while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < quiet:
                    time.sleep(0.01)
                echo_off.append(not termios.tcgetattr(fd)[3] & termios.ECHO)
                os.write(fd, answer.encode())
                continue
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    d = os.read(fd, 4096)
                except OSError:  # EIO: every writer of the terminal has gone
                    d = b""
                if not d:
                    break
                out += d
        else:
            os.kill(pid, signal.SIGKILL)
        _, st = os.waitpid(pid, 0)
        rc = os.waitstatus_to_exitcode(st)
        if time.time() >= end:
            rc = None
    finally:
        os.close(fd)
    check(all(echo_off), f"{argv[3:]}: the terminal's echo was off at each prompt ({echo_off})")
    return rc, out.decode(errors="replace")


# ---- the parts ----------------------------------------------------------------------

def bad_urls():
    hm = home("urls")
    c = client("urls", hm)
    for u, says in [("ssh://", "the host is not a name"),
                    ("ssh://analyst:pw@soc-srv", "no password"),
                    ("ssh://soc-srv:0", "the SSH port is not a number from 1 to 65535"),
                    ("ssh://soc-srv:70000", "the SSH port is not a number"),
                    ("ssh://soc-srv?port=abc", "the query may only be ?port=N"),
                    ("ssh://soc-srv?x=1", "the query may only be ?port=N"),
                    ("ssh://soc-srv/../etc", "without '..'"),
                    ("ssh://soc srv", "the host is not"),
                    ("ssh://[::1]:22", "IPv6"),
                    ("sftp://soc-srv", "a remote is ssh://")]:
        p = c.run("remote", "add", "team", u, input="")
        eq(p.returncode, 2, f"remote add {u!r} is refused as a usage error ({said(p.stderr)})")
        check(says in p.stderr, f"remote add {u!r}: the error says '{says}': {said(p.stderr)}")
        check("token" not in p.stderr, f"remote add {u!r}: refused before a token is asked for")
    eq(c.run("remote", "ls", "--json").stdout.strip(), "[]", "no bad URL was stored")


def host_keys():
    """Unknown → refused with the fingerprint and the command; trust → accepted;
    changed → refused loudly; forgotten → trust by the remote's name."""
    hm = home("trust")
    s.keygen(os.path.join(hm.ssh, "id_ed25519"))
    d = sshd("sshd-trust", authorized=[open(os.path.join(hm.ssh, "id_ed25519.pub")).read()])
    c = client("trust", hm)
    u = url(d)
    hop = f"[127.0.0.1]:{d.port}"
    p = c.run("remote", "add", "team", u, input=tok["alice"] + "\n", timeout=120)
    eq(p.returncode, 1, f"an unknown host key is refused ({said(p.stderr)})")
    check(d.fp in p.stderr, f"the refusal names the key's SHA-256 fingerprint {d.fp}: "
                            f"{said(p.stderr)}")
    check(hop in p.stderr or "127.0.0.1" in p.stderr, f"and the host: {said(p.stderr)}")
    check(trust_cmd(u, d.fp) in p.stderr or trust_cmd(f"'{u}'", d.fp) in p.stderr,
          f"and the command that accepts it, with the URL: {said(p.stderr)}")
    eq(hm.read_known_hosts(), "", "nothing is written to known_hosts")
    eq(c.run("remote", "ls", "--json").stdout.strip(), "[]", "the remote is not stored")
    no_secret_in(p.stdout + p.stderr, tok["alice"], "the refusal")

    wrong = "SHA256:" + "A" * 43
    p = c.run("remote", "trust", u, wrong, timeout=120)
    eq(p.returncode, 1, f"trust with a fingerprint that is not the offered key's ({said(p.stderr)})")
    check(d.fp in p.stderr and wrong in p.stderr, f"names both fingerprints: {said(p.stderr)}")
    eq(hm.read_known_hosts(), "", "a wrong fingerprint writes nothing")
    p = c.run("remote", "trust", u, input="", timeout=120)
    check(p.returncode != 0, f"trust without a fingerprint and no terminal refuses "
                             f"({p.returncode}: {said(p.stderr)})")
    eq(hm.read_known_hosts(), "", "and writes nothing")

    p = c.run("remote", "trust", u, d.fp, timeout=120)
    eq(p.returncode, 0, f"trust with the right fingerprint ({said(p.stderr)})")
    kh = hm.read_known_hosts()
    check(d.host_pub.split()[1] in kh, f"the key is in known_hosts: {kh!r}")
    f = subprocess.run(["ssh-keygen", "-F", hop, "-f", hm.kh_path], capture_output=True, text=True)
    check(f.returncode == 0 and d.host_pub.split()[1] in f.stdout,
          f"ssh-keygen -F {hop} finds it (ssh(1) would too): {f.stdout.strip()}")
    add(c, u, "alice", "after trust")
    note(c, "over a trusted host key")
    rc, j, err = c.sync()
    eq(rc, 0, f"sync after trust ({said(err)})")

    # the host reinstalled: another key on the same host and port
    d.new_host_key()
    d.restart()
    before = hm.read_known_hosts()
    for cmd in (["sync"], ["remote", "test", "team"]):
        p = c.run(*cmd, timeout=120)
        eq(p.returncode, 1, f"{' '.join(cmd)} with a changed host key fails ({said(p.stderr)})")
        check("CHANGED" in p.stdout + p.stderr, f"{' '.join(cmd)} says CHANGED, loudly: "
                                                f"{said(p.stdout + p.stderr)}")
    p = c.run("remote", "trust", "team", d.fp, timeout=120)
    eq(p.returncode, 1, f"trust refuses to replace a changed key ({said(p.stderr)})")
    check("CHANGED" in p.stderr, f"saying why: {said(p.stderr)}")
    eq(hm.read_known_hosts(), before, "known_hosts is untouched")

    # the analyst removes the old line after checking; the stored remote is trusted by name
    hm.known_hosts("")
    p = c.run("sync", timeout=120)
    eq(p.returncode, 1, f"an unknown key again ({said(p.stderr)})")
    check(trust_cmd("team", d.fp) in p.stderr or trust_cmd("'team'", d.fp) in p.stderr,
          f"the command names the stored remote: {said(p.stderr)}")
    p = c.run("remote", "trust", "team", d.fp, timeout=120)
    eq(p.returncode, 0, f"trust by the remote's name ({said(p.stderr)})")
    rc, j, err = c.sync()
    eq(rc, 0, f"and sync works again ({said(err)})")


def hashed_known_hosts():
    hm = home("hashed")
    key = os.path.join(hm.ssh, "id_ed25519")
    s.keygen(key)
    d = sshd("sshd-hashed", authorized=[open(key + ".pub").read()])
    hm.trust(d)
    s.run("ssh-keygen", "-q", "-H", "-f", hm.kh_path)
    kh = hm.read_known_hosts()
    check(kh.startswith("|1|") and "127.0.0.1" not in kh, f"known_hosts is hashed: {kh!r}")
    c = client("hashed", hm)
    add(c, url(d), "bob", "a hashed known_hosts entry")
    rc, j, err = c.sync()
    eq(rc, 0, f"sync with a hashed known_hosts ({said(err)})")
    eq(hm.read_known_hosts(), kh, "known_hosts is left as it was")


def key_files():
    """The default key (~/.ssh/id_ed25519), then a config alias naming User, HostName,
    Port, IdentityFile and IdentitiesOnly."""
    hm = home("keys")
    dflt = os.path.join(hm.ssh, "id_ed25519")
    other = os.path.join(h.T, "keys-elsewhere", "analyst_key")
    os.makedirs(os.path.dirname(other))
    s.keygen(dflt)
    s.keygen(other)
    d = sshd("sshd-keys", authorized=[open(dflt + ".pub").read(), open(other + ".pub").read()])
    hm.trust(d)
    c = client("keys", hm)
    add(c, url(d, user=s.USER), "carol", "the default key file")
    rc, j, err = c.sync()
    eq(rc, 0, f"sync with ~/.ssh/id_ed25519 ({said(err)})")
    check(s.fingerprint(dflt + ".pub") in d.log(), "sshd accepted the default key")

    os.rename(dflt, dflt + ".away")  # only the IdentityFile is left
    hm.config(f"Host soc-srv\n  HostName 127.0.0.1\n  Port {d.port}\n  User {s.USER}\n"
              f"  IdentityFile {other}\n  IdentitiesOnly yes\n  ConnectTimeout 5\n"
              f"  ServerAliveInterval 10\n")
    c2 = client("alias", hm)
    add(c2, f"ssh://soc-srv?port={srv.port}", "carol", "a ~/.ssh/config alias")
    rc, j, err = c2.sync()
    eq(rc, 0, f"sync through the alias with its IdentityFile ({said(err)})")
    log = d.log()
    check(s.fingerprint(other + ".pub") in log, "sshd accepted the alias's IdentityFile")
    eq(c2.remote()["url"], f"ssh://soc-srv?port={srv.port}", "the remote keeps the alias")
    h.converged([c, c2], "two replicas over SSH")
    os.rename(dflt + ".away", dflt)


def keepalive():
    """An idle tunnel keeps talking, so a NAT does not drop it: with ServerAliveInterval 1
    in the config, a sync long-polling 4 s with nothing to pull sends about one
    SSH2_MSG_IGNORE a second (sshd logs each at DEBUG3); without the key, the default
    interval (15 s) sends none in those 4 s."""
    hm = home("alive")
    key = os.path.join(hm.ssh, "id_ed25519")
    s.keygen(key)
    d = sshd("sshd-alive", authorized=[open(key + ".pub").read()], log_level="DEBUG3")
    hm.trust(d)
    hm.config(f"Host alive\n  HostName 127.0.0.1\n  Port {d.port}\n  User {s.USER}\n"
              "  ServerAliveInterval 1\n")
    c = client("alive", hm)
    add(c, f"ssh://alive?port={srv.port}", "judy", "a remote whose config sets keepalives")
    rc, j, err = c.sync()
    eq(rc, 0, f"the first sync ({said(err)})")
    ignores = lambda: d.log().count("Received SSH2_MSG_IGNORE")  # noqa: E731
    before = ignores()
    t = time.time()
    rc, j, err = c.sync("--wait", "4")
    eq(rc, 0, f"a sync long-polling 4 s ({said(err)})")
    took, n = time.time() - t, ignores() - before
    check(n >= 2 and n <= took + 2, f"keepalives while idle: {n} in {took:.1f} s")
    hm.config(f"Host alive\n  HostName 127.0.0.1\n  Port {d.port}\n  User {s.USER}\n")
    before = ignores()
    rc, j, err = c.sync("--wait", "4")
    eq(rc, 0, f"the same without ServerAliveInterval ({said(err)})")
    eq(ignores() - before, 0, "the default interval (15 s) sends none in 4 s")


def agent_auth():
    hm = home("agent")
    key = os.path.join(h.T, "agent-only", "id_ed25519")  # not where vigil looks for files
    os.makedirs(os.path.dirname(key))
    s.keygen(key)
    d = sshd("sshd-agent", authorized=[open(key + ".pub").read()])
    hm.trust(d)
    ag = s.Agent(h.T)
    keep.append(ag)
    ag.add(key)
    os.rename(key, key + ".gone")  # the agent alone holds it now
    c = client("agent", hm, ag)
    add(c, url(d), "dave", "agent auth")
    rc, j, err = c.sync()
    eq(rc, 0, f"sync with the key in ssh-agent ({said(err)})")
    check(s.fingerprint(key + ".pub") in d.log(), "sshd accepted the agent's key")
    c.env.pop("SSH_AUTH_SOCK")
    rc, j, err = c.sync()
    eq(rc, 1, f"without the agent there is no key: sync fails ({said(err)})")
    check("auth" in err.lower() or "refused the keys" in err,
          f"saying the keys were refused: {said(err)}")


def encrypted_key():
    hm = home("enc")
    key = os.path.join(hm.ssh, "id_work")
    secret = "correct horse 42"
    s.keygen(key, passphrase=secret)
    d = sshd("sshd-enc", authorized=[open(key + ".pub").read()])
    hm.trust(d)
    hm.config(f"Host *\n  IdentityFile {key}\n  IdentitiesOnly yes\n")
    c = client("enc", hm)
    u = url(d)
    prompt = f"Passphrase for {key}: "
    rc, out = on_pty([h.VIGIL, "--db", c.db, "remote", "add", "team", u], c.env,
                     [("token for", tok["erin"] + "\n"), (prompt, secret + "\n"),
                      (prompt, secret + "\n")])  # answered if asked again, counted below
    eq(rc, 0, f"remote add on a terminal, token and passphrase typed: {said(out)!r}")
    check(prompt in out, f"the passphrase is asked as '{prompt}': {out!r}")
    eq(out.count(prompt), 1, f"remote add asks for the passphrase once: {said(out)!r}")
    no_secret_in(out, secret, "the passphrase prompt (no echo)")
    no_secret_in(out, tok["erin"], "the token prompt (no echo)")
    note(c, "written behind an encrypted key")
    rc, out = on_pty([h.VIGIL, "--db", c.db, "sync"], c.env,
                     [(prompt, secret + "\n"), (prompt, secret + "\n")])
    eq(rc, 0, f"sync on a terminal with the passphrase typed: {said(out)!r}")
    eq(out.count(prompt), 1, f"sync asks for the passphrase once: {said(out)!r}")
    no_secret_in(out, secret, "sync's prompt")
    eq(c.remote()["waiting"], 0, "the note was pushed")
    rc, out = on_pty([h.VIGIL, "--db", c.db, "sync"], c.env, [(prompt, "wrong " + secret + "\n")])
    check(rc is not None and rc != 0, f"a wrong passphrase: sync fails ({rc}): {said(out)!r}")
    # no terminal at all (a cron job): no prompt to answer, so no wait, and nothing kept
    t = time.time()
    p = subprocess.run([h.VIGIL, "--db", c.db, "sync"], env=c.env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, start_new_session=True, timeout=60)
    eq(p.returncode, 1, f"without a terminal the encrypted key cannot be used ({said(p.stderr)})")
    check(time.time() - t < 30, f"and it says so without waiting ({time.time() - t:.1f} s)")
    secrets = ""
    for root, _, files in os.walk(os.path.join(h.T, "cfg-" + c.name)):
        secrets += "".join(open(os.path.join(root, f), errors="replace").read() for f in files)
    no_secret_in(secrets, secret, "the config directory (the passphrase is never stored)")


def proxy_jump():
    """ProxyJump: one hop, then two (a comma list), each a real sshd; each jump's log
    shows the forward it made to the next hop."""
    hm = home("jump")
    key = os.path.join(hm.ssh, "id_ed25519")
    pub = [s.keygen(key)]
    target = sshd("sshd-target", authorized=pub)
    jump2 = sshd("sshd-jump2", authorized=pub, permit_open=f"127.0.0.1:{target.port}")
    jump = sshd("sshd-jump", authorized=pub,
                permit_open=f"127.0.0.1:{target.port} 127.0.0.1:{jump2.port}")
    hm.trust(target, jump, jump2)
    hm.config(f"Host jump\n  HostName 127.0.0.1\n  Port {jump.port}\n  User {s.USER}\n"
              f"Host jump2\n  HostName 127.0.0.1\n  Port {jump2.port}\n"
              f"Host soc-srv\n  HostName 127.0.0.1\n  Port {target.port}\n  ProxyJump jump\n"
              f"Host soc-deep\n  HostName 127.0.0.1\n  Port {target.port}\n"
              f"  ProxyJump jump,jump2\n")
    fwd = f"target 127.0.0.1 port {target.port}"
    c = client("jump", hm)
    add(c, f"ssh://soc-srv?port={srv.port}", "frank", "through a jump host")
    note(c, "through the jump host")
    rc, j, err = c.sync()
    eq(rc, 0, f"sync through ProxyJump ({said(err)})")
    check(fwd in jump.log(), f"the jump sshd forwarded to the target ({fwd})")
    check(f"target 127.0.0.1 port {srv.port}" in target.log(),
          "the target sshd opened the channel to vigild")
    check("Accepted publickey" in jump.log() and "Accepted publickey" in target.log(),
          "the key logged in at both hops")
    eq(jump2.log().count("Accepted publickey"), 0, "the second jump was not used")
    c2 = client("deep", hm)
    c2.env["PATH"] = os.path.join(h.T, "no-such-dir")  # the hops are vigil's, not ssh(1)'s
    add(c2, f"ssh://soc-deep?port={srv.port}", "frank", "through two jump hosts")
    rc, j, err = c2.sync()
    eq(rc, 0, f"sync through ProxyJump jump,jump2 ({said(err)})")
    check(f"target 127.0.0.1 port {jump2.port}" in jump.log(), "the first jump forwarded to the"
                                                                " second")
    check(fwd in jump2.log(), "the second jump forwarded to the target")
    h.converged([c, c2], "replicas behind jump hosts")
    # the jump host's key not known yet: refused naming that hop, trusted by name
    hm.trust(target, jump2)
    rc, j, err = c.sync()
    eq(rc, 1, f"an unknown key on the jump host is refused ({said(err)})")
    check(jump.fp in err and str(jump.port) in err, f"naming the jump hop and its key: {said(err)}")
    p = c.run("remote", "trust", "team", jump.fp, timeout=120)
    eq(p.returncode, 0, f"trust the jump host's key by the remote's name ({said(p.stderr)})")
    check(jump.host_pub.split()[1] in hm.read_known_hosts(), "the jump's key is in known_hosts")
    rc, j, err = c.sync()
    eq(rc, 0, f"then sync goes through ({said(err)})")
    # the jump host down: no way to the target, and the message says which hop
    jump.stop()
    rc, j, err = c.sync()
    check(rc != 0, f"the jump host down: sync fails ({rc}: {err})")
    check("jump" in err or str(jump.port) in err, f"naming the jump hop: {said(err)}")
    jump.start()


def exec_fallback():
    """AllowTcpForwarding no: vigil runs `vigild --data DIR --stdio` as an exec channel;
    with no vigild either, the error names both ways."""
    hm = home("exec")
    key = os.path.join(hm.ssh, "id_ed25519")
    pub = [s.keygen(key)]
    bin = os.path.join(h.T, "bin")
    os.makedirs(bin, exist_ok=True)
    if not os.path.exists(os.path.join(bin, "vigild")):
        os.symlink(h.VIGILD, os.path.join(bin, "vigild"))
    d = sshd("sshd-exec", authorized=pub, forwarding=False, path=f"{bin}:/usr/bin:/bin")
    hm.trust(d)
    w = subprocess.run(["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o",
                        f"UserKnownHostsFile={hm.kh_path}", "-i", key, "-p", str(d.port),
                        f"{s.USER}@127.0.0.1", "command -v vigild"], capture_output=True,
                       text=True, timeout=60, env=hm.env(os.environ))
    eq(w.stdout.strip(), os.path.join(bin, "vigild"), f"the sessions' vigild is ours ({w.stderr})")
    mark = len(d.log())  # what vigil made sshd log, after that check's own session
    c = client("exec", hm)
    add(c, url(d, dir=h.D), "gina", "forwarding forbidden")
    note(c, "over the exec fallback")
    rc, j, err = c.sync()
    eq(rc, 0, f"sync with AllowTcpForwarding no ({said(err)})")
    eq((j or {}).get("pushed", 0) > 0, True, f"it pushed ({j})")
    log = d.log()[mark:]
    check("refused local port forward" in log, "sshd refused the direct-tcpip channel")
    check("Starting session: command" in log, "and ran a command instead")
    # a replica on the tunnel of another sshd sees what went through the fallback
    d2 = sshd("sshd-exec2", authorized=pub)
    hm.trust(d, d2)
    c2 = client("exec-peer", hm)
    add(c2, url(d2), "gina", "the same analyst's second replica")
    c2.must_sync("the peer's first sync")
    note(c2, "back the other way")
    c2.must_sync("the peer pushes")
    c.must_sync("the fallback pulls")
    h.converged([c, c2], "across the fallback and the tunnel")
    # forwarding forbidden and no vigild on that PATH: both ways fail, both are named
    d.path = "/usr/bin:/bin"
    d.restart()
    rc, j, err = c.sync()
    check(rc != 0, f"no forwarding and no vigild: sync fails ({rc})")
    low = err.lower()
    check(("direct-tcpip" in low or "forward" in low) and "vigild" in low,
          f"the error names both ways and why: {said(err)}")


def remote_test():
    hm = home("rtest")
    key = os.path.join(hm.ssh, "id_ed25519")
    pub = [s.keygen(key)]
    d = sshd("sshd-rtest", authorized=pub)
    hm.trust(d)
    hm.config(f"Host soc-srv\n  HostName 127.0.0.1\n  Port {d.port}\n")
    c = client("rtest", hm)
    add(c, f"ssh://soc-srv?port={srv.port}", "hank", "remote test's remote")

    def steps(what, want_rc):
        p = c.run("remote", "test", "team", timeout=120)
        eq(p.returncode, want_rc, f"{what}: remote test exits {want_rc} ({said(p.stderr)})")
        got = []
        for line in p.stdout.splitlines():
            m = re.match(r"(ok|FAIL)\s+(" + "|".join(STEPS) + r")\b\s*(.*)", line)
            check(m, f"{what}: a line is 'ok|FAIL STEP detail': {line!r}")
            if m:
                got.append(m.groups())
        return got, p

    got, p = steps("a good remote", 0)
    eq([(w, st) for w, st, _ in got], [("ok", st) for st in STEPS],
       f"every step ok, in order: {said(p.stdout)}")
    check(len(got) > 3 and s.USER in got[3][2], f"auth names the user it logged in as "
                                                f"({s.USER}, the login name by default): {got[3:4]}")
    no_secret_in(p.stdout + p.stderr, tok["hank"], "remote test")
    closed = s.free_port()
    hm.config(f"Host soc-srv\n  HostName 127.0.0.1\n  Port {closed}\n  ConnectTimeout 5\n")
    got, p = steps("a closed port", 1)
    eq([(w, st) for w, st, _ in got], [("ok", "resolve"), ("FAIL", "connect")],
       f"resolve ok, connect FAILs, nothing after: {said(p.stdout)}")
    check(got and str(closed) in got[-1][2] + p.stderr, f"naming the port: {said(p.stdout)}")
    # a port that takes the connection and never says a word (a hung host, a black
    # hole on the way): ConnectTimeout ends the wait
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(8)
    hm.config(f"Host soc-srv\n  HostName 127.0.0.1\n  Port {mute.getsockname()[1]}\n"
              f"  ConnectTimeout 2\n")
    t = time.time()
    got, p = steps("a silent port", 1)
    took = time.time() - t
    mute.close()
    check(got and got[-1][0] == "FAIL" and got[-1][1] in ("connect", "host key"),
          f"a silent port FAILs at connect or the key exchange: {said(p.stdout)}")
    check(took < 20, f"within ConnectTimeout's reach, not hanging ({took:.1f} s)")
    hm.config(f"Host soc-srv\n  HostName 127.0.0.1\n  Port {d.port}\n")
    os.rename(key, key + ".away")
    got, p = steps("no key", 1)
    eq([(w, st) for w, st, _ in got], [("ok", "resolve"), ("ok", "connect"), ("ok", "host key"),
                                       ("FAIL", "auth")], f"auth FAILs: {said(p.stdout)}")
    os.rename(key + ".away", key)
    hm.known_hosts("")
    got, p = steps("an unknown host key", 1)
    eq([(w, st) for w, st, _ in got][-1:], [("FAIL", "host key")], f"host key FAILs: {said(p.stdout)}")
    check(d.fp in p.stdout + p.stderr, f"with the fingerprint: {said(p.stdout)}")
    hm.trust(d)
    hm.config(f"Host soc-srv\n  HostName 127.0.0.1\n  Port {d.port}\n")
    got, p = steps("a good remote again", 0)


def sshd_killed():
    """sshd SIGKILLed (with every session it forked) mid-push, then mid-pull, and
    started again on its port: the next sync finishes, nothing lost or doubled."""
    hm = home("kill")
    key = os.path.join(hm.ssh, "id_ed25519")
    pub = [s.keygen(key)]
    d = sshd("sshd-kill", authorized=pub)
    gate = h.Gate(d.port)  # a slow line in front of sshd, so the kill lands mid-transfer
    hm.known_hosts(d.known_host(port=gate.port) + "\n")
    u = url(gate.port)
    db = srv.tenant_db(tenant)

    def on_server():
        return sql(db, "SELECT count(*), count(DISTINCT id) FROM ops")[0]

    def cut():
        """sshd and its sessions SIGKILLed, and what the relay holds dropped with them:
        the bytes sshd had written before it died must not reach the client from the
        relay's buffers as if the line had stayed up."""
        d.kill()
        gate.close()

    base = on_server()[0]
    a = client("kill-a", hm)
    add(a, u, "ivan", "the push's replica")
    a.must_sync("its first sync")
    ops = outbox(a, 1500)
    check(ops > 1000, f"a thousand ops or more wait to push ({ops})")
    waiting = a.remote()["waiting"]
    gate.rate = 64 << 10
    up = gate.up
    sync = a.popen("sync", "--json")
    wait_for(lambda: gate.up - up > (64 << 10) or sync.poll() is not None,
             "the push's body to be on its way")
    check(sync.poll() is None, "the sync was still pushing when sshd was killed")
    cut()
    out, err = sync.communicate(timeout=120)
    eq(sync.returncode, 3, f"a sync whose sshd died mid-push is offline ({said(err)}; "
                           f"{said(out)}; {gate.up - up} bytes had gone)")
    mid = on_server()
    eq(mid[0], mid[1], "the server holds each op once")
    d.start()
    gate.open()
    gate.rate = None
    j = a.must_sync("the sync after sshd came back")
    now = on_server()
    eq(now[0], now[1], "after the resumed push the server holds each op once")
    eq(a.remote()["waiting"], 0, f"nothing waits (was {waiting})")
    server_ids = {r[0] for r in sql(db, "SELECT id FROM ops")}
    eq(len(a.op_ids() - server_ids), 0, "no op of the replica is missing on the server")

    b = client("kill-b", hm)
    add(b, u, "ivan", "the pull's replica")
    gate.rate = 16 << 10  # pages are compressed: slower, so the kill lands mid-pull
    down = gate.down
    sync = b.popen("sync", "--json", "--no-snapshot")  # the log a page at a time
    # half the log's bytes on their way (its pages are large: what is cut is the page
    # in flight, and the cursor must not have moved past it)
    wait_for(lambda: gate.down - down > (96 << 10) or sync.poll() is not None,
             "the pull to be on its way")
    check(sync.poll() is None, "the sync was still pulling when sshd was killed")
    cut()
    out, err = sync.communicate(timeout=120)
    eq(sync.returncode, 3, f"a sync whose sshd died mid-pull is offline ({said(err)}; "
                           f"{said(out)}; {gate.down - down} bytes had come)")
    at = b.remote()["pulled"]
    b.verify("killed mid-pull")
    d.start()
    gate.open()
    gate.rate = None
    total = on_server()[0]
    check(at < total, f"the replica does not hold the whole log yet ({at} of {total})")
    rc, j, err = b.sync("--no-snapshot")
    eq(rc, 0, f"the pull after sshd came back ({said(err)})")
    eq((j or {}).get("pulled"), total - at, f"it resumed from its cursor ({at} of {total} before)")
    h.converged([a, b], "after sshd's kills")
    gate.close()


def outbox(c, n_alerts):
    """Many ops: an import of generated alerts (cases with them), a playbook and notes."""
    path = os.path.join(h.T, c.name + "-alerts.jsonl")
    r = random.Random(n_alerts)
    h.write_alerts(path, n_alerts, 10, r)
    p = c.run("import", path)
    check(p.returncode == 0, f"the import: {p.stderr}")
    for k, case in enumerate(x["id"] for x in c.cases()):
        c.run("playbook", "apply", case, "phishing")
        c.run("note", case, f"note {k}: " + f"{r.getrandbits(2000):0500x}")
    return len(c.op_ids())


def wait_for(cond, what, limit=120):
    return h.wait_for(cond, what, limit, step=0.01)


def converge_over_ssh(seed, writes=300):
    """converge.py's three analysts, each on an ssh:// remote through a relay in front of
    one sshd (closing it cuts the analyst's tunnel: offline), vigild restarted for
    everyone mid-way; at the end one digest, one set of refs, every op once."""
    hm = home("conv")
    key = os.path.join(hm.ssh, "id_ed25519")
    pub = [s.keygen(key)]
    d = sshd("sshd-conv", authorized=pub)
    users = ["u1", "u2", "u3", "u4"]
    ctok = h.team("conv", users)
    conv = json.loads(h.req(srv.port, "GET", "/v1/whoami", ctok["u1"])[2])["tenant_id"]
    gates = [h.Gate(d.port) for _ in range(3)]
    hm.known_hosts("".join(d.known_host(port=g.port) + "\n" for g in gates) + d.known_host() + "\n")
    clients = []
    for i, g in enumerate(gates):
        c = s.Client(users[i], hm)
        p = c.run("remote", "add", "team", url(g.port), input=ctok[users[i]] + "\n")
        check(p.returncode == 0, f"{c.name} joins over SSH: {said(p.stderr)}")
        c.must_sync("the first sync")
        clients.append(c)
        if p.returncode != 0:  # converge's writers count their ops by the remote's user
            return
    ws = h.write_together(clients, gates, writes, seed, srv)
    print(f"converge: syncs offline {[w.offline_syncs for w in ws]}, online "
          f"{[w.synced for w in ws]}", flush=True)
    for _ in range(2):
        for c in clients:
            c.must_sync("the final syncs")
    fourth = s.Client("u4", hm)
    p = fourth.run("remote", "add", "team", url(d), input=ctok["u4"] + "\n")
    check(p.returncode == 0, f"a fourth joins over SSH: {said(p.stderr)}")
    fourth.must_sync("the fourth's first sync")
    h.converged(clients + [fourth], "converged over SSH")
    n_ops, n_ids = h.server_ops(srv, conv)
    eq(n_ops, n_ids, "the server's log holds each op once")
    wrote = sum(w.own() for w in ws)
    renum = sql(srv.tenant_db(conv), "SELECT count(*) FROM ops WHERE kind = 'case.renumber'")[0][0]
    eq(n_ops - renum, wrote, "the server's log holds every op they wrote")
    for g in gates:
        g.close()


PARTS = {"urls": bad_urls, "hostkeys": host_keys, "hashed": hashed_known_hosts,
         "keys": key_files, "keepalive": keepalive, "agent": agent_auth,
         "passphrase": encrypted_key, "jump": proxy_jump, "exec": exec_fallback,
         "test": remote_test, "kill": sshd_killed, "converge": None}


def main():
    global srv, tenant
    # meson ends a test that overruns with SIGTERM: the finally below still stops
    # every sshd, agent and vigild and removes the scratch directory
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("SIGTERM: stopped"))
    t0 = time.time()
    for tool in (s.SSHD, "/usr/bin/ssh-keygen", "/usr/bin/ssh-agent", "/usr/bin/ssh-add"):
        if not os.path.exists(tool):  # meson's "skipped"; scripts/setup installs them
            print(f"SKIP: {tool} is missing (scripts/setup installs openssh-server and"
                  " openssh-client)")
            sys.exit(77)
    h.setup("vigil-ssh-")
    seed = int(os.environ.get("VIGIL_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"seed {seed} (VIGIL_SEED={seed} runs this one again)", flush=True)
    only = [p for p in os.environ.get("VIGIL_SSH_ONLY", "").split(",") if p]
    try:
        names = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivan",
                 "judy"]
        tok.update(h.team("acme", names))
        srv = h.Server()
        tenant = json.loads(h.req(srv.port, "GET", "/v1/whoami", tok["alice"])[2])["tenant_id"]
        for name, part in PARTS.items():
            if only and name not in only:
                continue
            t = time.time()
            try:
                if part is None:
                    converge_over_ssh(seed)
                else:
                    part()
            except Exception:  # a part's crash is its failure; the others still run
                check(False, f"{name}: {traceback.format_exc()}")
            print(f"{name}: done ({time.time() - t:.1f} s)", flush=True)
    finally:
        for k in reversed(keep):
            try:
                k.stop() if isinstance(k, s.Sshd) else k.close()
            except Exception:
                pass
        if srv and srv.p.poll() is None:
            srv.p.kill()
        if os.environ.get("VIGIL_SSH_KEEP"):
            print("kept", h.T)
        else:
            shutil.rmtree(h.T, ignore_errors=True)
    h.finish(t0)


if __name__ == "__main__":
    main()
