"""tests/server/pgcluster.py — a throwaway PostgreSQL 15 cluster for vigild's tests.

    from pgcluster import Cluster
    pg = Cluster().start()        # initdb in a temporary directory, pg_ctl start
    url = pg.url()                # postgresql://vigild@127.0.0.1:PORT/vigil
    other = pg.new_db("fresh")    # another database owned by vigild: its URL
    pg.psql("SELECT 1")           # as the superuser, on the socket; the output
    pg.psql("SELECT count(*) FROM ops", as_vigild=True)  # as vigild, over TCP
    pg.restart()                  # pg_ctl restart -m fast
    pg.stop()                     # also at exit, and on SIGTERM

The cluster is made with Debian's server binaries (/usr/lib/postgresql/15/bin, or
$PG_BINDIR), as a non-root user: when the tests run as root, the binaries run as the
`postgres` system user (runuser -u postgres --) in a directory chowned to it. It
listens on 127.0.0.1 on a free port and on a socket in its own directory (mode
0700), with fsync off (Cluster(bench=True) keeps it on). The socket trusts the
bootstrap superuser `postgres`; TCP asks a password (scram-sha-256) of everyone.

`vigild` is a login role with a random password, NOSUPERUSER (row-level security
does not apply to superusers) and without BYPASSRLS, owning the database `vigil`
(UTF8). Its password is in a 0600 PGPASSFILE, exported to this process's children,
so that the URLs carry no password. One cluster per process: a second one's
PGPASSFILE replaces the first's.

Also module-level: psql(url, sql, options=...) runs psql on any URL (a suite given
VIGILD_STORE uses that), bindir() finds the binaries or says what is missing, and
require_store(VIGILD) skips (exit 77) a test whose vigild has no --store."""
import atexit
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PG_VERSION = "15"


class PgError(RuntimeError):
    """A PostgreSQL binary failed; stderr is its message."""

    def __init__(self, what, stderr):
        super().__init__(f"{what}: {stderr.strip()}")
        self.stderr = stderr


def bindir():
    """The directory holding initdb, pg_ctl and postgres, or SystemExit saying what
    to install."""
    d = os.environ.get("PG_BINDIR") or f"/usr/lib/postgresql/{PG_VERSION}/bin"
    missing = [b for b in ("initdb", "pg_ctl", "postgres", "psql")
               if not os.access(os.path.join(d, b), os.X_OK)]
    if missing:
        raise SystemExit(
            f"pgcluster: {', '.join(missing)} not found in {d}: the PostgreSQL {PG_VERSION} "
            f"server binaries are needed (Debian: apt-get install postgresql, which "
            f"scripts/setup installs; or set PG_BINDIR to another version's bin directory)")
    return d


def require_store(vigild):
    """Exit 77 (meson's skip) if this vigild has no --store (its --help names none)."""
    out = subprocess.run([vigild, "--help"], capture_output=True, text=True).stdout
    if "--store" not in out:
        print(f"SKIP: {vigild} has no --store (vigild --help does not mention it)", flush=True)
        sys.exit(77)


def psql(url, sql, options=None, timeout=60):
    """Run sql (one or more statements) with psql on url; stdout, unaligned and
    without headers (rows one a line, columns split by '|'). options goes to
    PGOPTIONS (e.g. "-c vigil.tenant=ID"). PgError with psql's stderr on an error."""
    env = dict(os.environ)
    if options is not None:
        env["PGOPTIONS"] = options
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    p = subprocess.run([os.path.join(bindir(), "psql"), "-X", "-q", "-A", "-t",
                        "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"],
                       input=sql, capture_output=True, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        raise PgError("psql", p.stderr)
    return p.stdout.strip()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cluster:
    def __init__(self, bench=False, keep=None, conf=None):
        """bench: fsync on. keep: leave the directory (and its log) after stop;
        default $PGCLUSTER_KEEP. conf: more postgresql.conf settings {name: value}
        (values as the file writes them: "'text'", "on", "100")."""
        self.bench = bench
        self.more_conf = dict(conf or {})
        self.keep = bool(os.environ.get("PGCLUSTER_KEEP")) if keep is None else keep
        self.bin = bindir()
        self.root = os.geteuid() == 0
        self.dir = None
        self.port = None
        self.running = False
        self.password = secrets.token_urlsafe(24)

    # --- running the server's binaries as a non-root user ---------------------------
    def _as_owner(self, argv):
        if self.root:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def _run(self, what, argv, timeout=120):
        p = subprocess.run(self._as_owner(argv), capture_output=True, text=True,
                           timeout=timeout, cwd=self.dir, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            tail = ""
            if self.log and os.path.exists(self.log):
                tail = "\n" + "".join(open(self.log, errors="replace").readlines()[-20:])
            raise PgError(what, p.stderr + p.stdout + tail)
        return p.stdout

    @property
    def data(self):
        return os.path.join(self.dir, "data")

    @property
    def sock(self):
        return os.path.join(self.dir, "sock")

    @property
    def log(self):
        """The server's log file (pg_ctl -l)."""
        return os.path.join(self.dir, "postgresql.log") if self.dir else None

    @property
    def passfile(self):
        return os.path.join(self.dir, "pgpass")

    def start(self):
        """initdb, configure, start, make the vigild role and database; self."""
        if self.root:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise SystemExit("pgcluster: running as root, the server must run as another "
                                 "user and there is no 'postgres' user (Debian's postgresql "
                                 "package makes it)")
        self.dir = tempfile.mkdtemp(prefix="vigil-pg-")
        atexit.register(self.stop)
        if threading_main() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            # meson's timeout sends SIGTERM: exit through atexit, stopping the server
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        os.mkdir(self.sock, 0o700)
        if self.root:
            for d in (self.dir, self.sock):
                os.chown(d, pw.pw_uid, pw.pw_gid)
        # the superuser's password is never used (the socket trusts it, TCP is refused
        # it by pg_hba below); initdb wants one for scram as the host default
        pwfile = os.path.join(self.dir, "init-pw")
        with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(secrets.token_urlsafe(24) + "\n")
        if self.root:
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        self._run("initdb", [os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres",
                             "-E", "UTF8", "--locale=C", "--auth-local=trust",
                             "--auth-host=scram-sha-256", "--pwfile", pwfile, "-N"])
        os.unlink(pwfile)
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.sock}'",
            "unix_socket_permissions": "0700",
            "max_connections": "300",
            "shared_buffers": "'64MB'",
            "log_min_messages": "warning",
            "log_connections": "off",
            "log_line_prefix": "'%m [%p] %u@%d '",
            "password_encryption": "'scram-sha-256'",
        }
        if not self.bench:
            conf.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        conf.update(self.more_conf)
        hba = ("local all postgres trust\n"
               "local all all scram-sha-256\n"
               "host all postgres 127.0.0.1/32 reject\n"
               "host all all 127.0.0.1/32 scram-sha-256\n")
        if self.root:
            # the files are postgres's: write them as postgres
            self._write_as_owner(os.path.join(self.data, "pg_hba.conf"), hba)
        else:
            with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
                f.write(hba)
        extra = "".join(f"{k} = {v}\n" for k, v in conf.items())
        for attempt in range(20):
            self.port = free_port()
            text = extra + f"port = {self.port}\n"
            path = os.path.join(self.data, "postgresql.auto.conf")
            if self.root:
                self._write_as_owner(path, text)
            else:
                with open(path, "w") as f:
                    f.write(text)
            try:
                self._pg_ctl("start")
                break
            except PgError as e:
                if "already in use" not in str(e) or attempt == 19:
                    raise
        self.running = True
        with open(os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(f"127.0.0.1:{self.port}:*:vigild:{self.password}\n"
                    f"localhost:{self.port}:*:vigild:{self.password}\n")
        os.environ["PGPASSFILE"] = self.passfile
        self.psql(f"CREATE ROLE vigild LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
                  f"PASSWORD '{self.password}'", db="postgres")
        self.new_db("vigil")
        return self

    def _write_as_owner(self, path, text):
        p = subprocess.run(self._as_owner(["tee", path]), input=text, capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise PgError(f"writing {path}", p.stderr)

    def _pg_ctl(self, action, *more):
        argv = [os.path.join(self.bin, "pg_ctl"), action, "-D", self.data, "-w", "-t", "60",
                *more]
        if action in ("start", "restart"):
            argv += ["-l", self.log]
        return self._run(f"pg_ctl {action}", argv)

    # --- what tests use ------------------------------------------------------------
    def url(self, db="vigil"):
        """The URL vigild takes (--store, VIGILD_STORE): TCP, the vigild role, no
        password (PGPASSFILE has it)."""
        return f"postgresql://vigild@127.0.0.1:{self.port}/{db}"

    def admin_url(self, db="postgres"):
        """The bootstrap superuser on the cluster's socket."""
        return f"postgresql://postgres@/{db}?host={self.sock}&port={self.port}"

    def new_db(self, name):
        """Another database, owned by vigild (UTF8): its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"a database name of letters, digits and _: {name!r}")
        self.psql(f'CREATE DATABASE "{name}" OWNER vigild ENCODING \'UTF8\' '
                  f"TEMPLATE template0", db="postgres")
        return self.url(name)

    def psql(self, sql, db="vigil", as_vigild=False, options=None):
        """Run sql on db as the superuser on the socket, or as vigild over TCP (the
        password from PGPASSFILE); psql's unaligned output (PgError on an error)."""
        return psql(self.url(db) if as_vigild else self.admin_url(db), sql, options)

    def log_tail(self, n=30):
        """The last n lines of the server's log, for a failure's message."""
        try:
            return "".join(open(self.log, errors="replace").readlines()[-n:])
        except (OSError, TypeError):
            return ""

    def restart(self):
        """pg_ctl restart -m fast: every connection is cut; back when it accepts."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self):
        """Stop the server (fast, then immediate) and remove its directory. Safe to
        call twice; registered with atexit."""
        if self.dir is None:
            return
        if self.running:
            try:
                self._pg_ctl("stop", "-m", "fast")
            except (PgError, subprocess.TimeoutExpired):
                try:
                    self._pg_ctl("stop", "-m", "immediate")
                except (PgError, subprocess.TimeoutExpired):
                    pass
            self.running = False
        if os.environ.get("PGPASSFILE") == self.passfile:
            del os.environ["PGPASSFILE"]
        if self.keep:
            print(f"pgcluster: kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


def threading_main():
    import threading
    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    # a smoke test: python3 tests/server/pgcluster.py
    t0 = time.time()
    pg = Cluster().start()
    print("started on port", pg.port, f"({time.time() - t0:.1f} s)")
    print(pg.psql("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user",
                  as_vigild=True))
    print(pg.psql("SHOW fsync"))
    u = pg.new_db("other")
    print(u, psql(u, "SELECT current_database()"))
    pg.restart()
    print(pg.psql("SELECT 1", as_vigild=True))
    pg.stop()
    print(f"done ({time.time() - t0:.1f} s)")
