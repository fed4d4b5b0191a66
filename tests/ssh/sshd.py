"""tests/ssh/sshd.py — the harness of the SSH tests: a real OpenSSH server of the test's
own (/usr/sbin/sshd on a free loopback port, its host key, its authorized keys and its
log in the test's scratch directory, never the system's sshd or its configuration),
client keys (plain and encrypted), a real ssh-agent, and a HOME of the test's own whose
.ssh/config and known_hosts the test writes (vigil reads $HOME/.ssh, so the real ~/.ssh
is never touched).

sshd runs as the current user: root in CI (privilege separation, so /run/sshd must
exist), or an ordinary user (sshd then serves that user alone, which is all the tests
need: StrictModes and PAM are off, the pid file and every key are in the scratch dir).

Imported by ssh.py and tests/bench/team-ssh; vigild, tokens and workspaces come from
tests/server/converge.py (imported here as h)."""
import os
import pwd
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
import converge as h  # noqa: E402  checks, vigild on a data dir, relays, workspaces

SSHD = "/usr/sbin/sshd"
USER = pwd.getpwuid(os.getuid()).pw_name


def run(*args, input=None, env=None):
    p = subprocess.run(args, capture_output=True, text=True, input=input, env=env)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def keygen(path, passphrase="", comment="vigil-test"):
    """An ed25519 key pair at path and path.pub; the public key line."""
    for f in (path, path + ".pub"):
        if os.path.exists(f):
            os.unlink(f)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", path)
    return open(path + ".pub").read().strip()


def fingerprint(pub_path):
    """The key's SHA-256 fingerprint exactly as `ssh-keygen -lf KEY.pub -E sha256` says it."""
    return run("ssh-keygen", "-lf", pub_path, "-E", "sha256").split()[1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def descendants(pid):
    """Every process below pid (sshd forks a process per connection, in a session of its
    own, and that forks the session's command): read from /proc, children first."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
    out = []

    def walk(p):
        for c in kids.get(p, []):
            walk(c)
            out.append(c)

    walk(pid)
    return out


class Sshd:
    """sshd -D -e on 127.0.0.1:port (a free one, kept across restarts) in dir. forwarding:
    AllowTcpForwarding; path: the PATH of the sessions (SetEnv), where the exec fallback
    finds vigild; permit_open: PermitOpen (a jump host that forwards to one place);
    extra: more sshd_config lines; log_level: sshd's LogLevel (DEBUG3 logs each
    SSH2_MSG_IGNORE it receives, a client's keepalive)."""

    def __init__(self, dir, authorized, forwarding=True, path=None, permit_open=None, extra=(),
                 port=0, log_level="DEBUG1"):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        self.authorized = list(authorized)
        self.forwarding, self.path, self.permit_open = forwarding, path, permit_open
        self.extra = list(extra)
        self.log_level = log_level
        self.port = port or free_port()
        self.p = None
        self.hostkey = os.path.join(dir, "host_ed25519")
        self.new_host_key()
        self.log_path = os.path.join(dir, "sshd.log")
        if os.getuid() == 0 and not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", 0o755)  # privilege separation's empty chroot
        self.start()

    def new_host_key(self):
        """A new host key (the next start serves it): what a reinstalled host looks like."""
        self.host_pub = keygen(self.hostkey, comment="host")
        self.fp = fingerprint(self.hostkey + ".pub")

    def write_conf(self):
        ak = os.path.join(self.dir, "authorized_keys")
        with open(ak, "w") as f:
            f.write("".join(k + "\n" for k in self.authorized))
        env = []
        if self.path:
            env.append("PATH=" + self.path)
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):  # vigild under the sanitizers as here
            if os.environ.get(k):
                env.append(f"{k}={os.environ[k]}")
        lines = [f"Port {self.port}", "ListenAddress 127.0.0.1",
                 f"HostKey {self.hostkey}", f"PidFile {os.path.join(self.dir, 'sshd.pid')}",
                 f"AuthorizedKeysFile {ak}", "StrictModes no", "UsePAM no",
                 "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                 "PermitRootLogin prohibit-password", f"AllowUsers {USER}",
                 "AllowTcpForwarding " + ("yes" if self.forwarding else "no"),
                 "LogLevel " + self.log_level, "MaxStartups 100", "MaxSessions 100",
                 "ClientAliveInterval 0"]
        if self.permit_open:
            lines.append("PermitOpen " + self.permit_open)
        if env:
            lines.append("SetEnv " + " ".join(env))
        self.conf = os.path.join(self.dir, "sshd_config")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines + self.extra) + "\n")

    def start(self):
        self.write_conf()
        log = open(self.log_path, "ab")
        for _ in range(50):  # the port may be held a moment after a kill
            mark = os.path.getsize(self.log_path)
            self.p = subprocess.Popen([SSHD, "-D", "-e", "-f", self.conf], stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=log, start_new_session=True)
            for _ in range(250):
                if self.p.poll() is not None:
                    break
                if b"Server listening on" in open(self.log_path, "rb").read()[mark:]:
                    log.close()
                    return
                time.sleep(0.02)
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
            time.sleep(0.1)
        log.close()
        raise SystemExit(f"sshd did not start on port {self.port}; its log: {self.log_path}:\n"
                         + open(self.log_path).read()[-2000:])

    def kill(self):
        """SIGKILL to sshd and every process it forked (the connections' sshds and
        their commands): every session through it is cut at once."""
        if self.p is None or self.p.poll() is not None:
            return
        below = descendants(self.p.pid)
        self.p.kill()
        for pid in below:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.p.wait()

    def stop(self):
        """SIGTERM to the listener; the sessions it forked are ended too."""
        if self.p is None or self.p.poll() is not None:
            return
        below = descendants(self.p.pid)
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        for pid in below:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def restart(self):
        self.kill()
        self.start()

    def log(self):
        return open(self.log_path, errors="replace").read()

    def known_host(self, host="127.0.0.1", port=None):
        """The known_hosts line for this server as host (on port: "[host]:port")."""
        port = self.port if port is None else port
        name = host if port == 22 else f"[{host}]:{port}"
        return name + " " + " ".join(self.host_pub.split()[:2])


class Agent:
    """A real ssh-agent on a socket in dir (-D: in the foreground, ours to stop)."""

    def __init__(self, dir):
        self.sock = os.path.join(dir, "agent.sock")
        self.p = subprocess.Popen(["ssh-agent", "-D", "-a", self.sock], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(250):
            if os.path.exists(self.sock):
                break
            time.sleep(0.02)

    def add(self, key):
        run("ssh-add", "-q", key, env=dict(os.environ, SSH_AUTH_SOCK=self.sock))

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


class Home:
    """A HOME of the test's own: .ssh/config, .ssh/known_hosts, keys under .ssh."""

    def __init__(self, dir):
        self.dir = dir
        self.ssh = os.path.join(dir, ".ssh")
        os.makedirs(self.ssh, 0o700, exist_ok=True)
        self.config_path = os.path.join(self.ssh, "config")
        self.kh_path = os.path.join(self.ssh, "known_hosts")
        self.config("")
        self.known_hosts("")

    def config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)
        os.chmod(self.config_path, 0o600)

    def known_hosts(self, text):
        with open(self.kh_path, "w") as f:
            f.write(text)

    def trust(self, *servers, host="127.0.0.1"):
        """known_hosts holding each server's key (as host, on its port)."""
        self.known_hosts("".join(s.known_host(host) + "\n" for s in servers))

    def read_known_hosts(self):
        return open(self.kh_path).read() if os.path.exists(self.kh_path) else ""

    def env(self, base, agent=None):
        """base with HOME here and the agent's socket (or none)."""
        e = dict(base, HOME=self.dir)
        e.pop("SSH_AUTH_SOCK", None)
        if agent:
            e["SSH_AUTH_SOCK"] = agent.sock
        return e


class Client(h.Client):
    """converge's workspace driven by the CLI, with HOME (and so ~/.ssh) the test's and
    the agent's socket, or none."""

    def __init__(self, name, home, agent=None):
        super().__init__(name)
        self.home = home
        self.env = home.env(self.env, agent)
