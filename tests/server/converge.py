#!/usr/bin/env python3
"""tests/server/converge.py VIGIL VIGILD — three analysts write at once through the real
vigild and end with one state: 1,000 writes (case new, notes, case set of status,
severity, assignee and tags, artifacts, tasks), on their own cases and on each other's
once pulled, with random pauses, a sync every few writes, an offline period for each
(its relay to vigild closed) and vigild stopped and started again on the same port for
everyone. At the end every replica and a fresh fourth have the same digest, the same
case refs (no ref on two cases) and pass audit verify.

The seed is printed; VIGIL_SEED=N re-runs one. This file is also the harness of
faults.py and authz.py (imported; the test runs only as a script): the checks, vigild
started and stopped on a data directory, a TCP relay that can be closed or slowed, and
a workspace driven by the vigil CLI."""
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import http.client

VIGIL = VIGILD = T = D = None
passed = failed = 0
_lock = threading.Lock()
# A PostgreSQL URL: vigild's store (vigild(8), --store; tests/server/on-pg runs the
# suites so). Unset: the SQLite store in the data directory.
STORE = os.environ.get("VIGILD_STORE") or None


def setup(prefix):
    """Read VIGIL and VIGILD from argv; a scratch directory T with vigild's data D."""
    global VIGIL, VIGILD, T, D
    VIGIL, VIGILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    T = tempfile.mkdtemp(prefix=prefix)
    D = os.path.join(T, "data")


def check(cond, what):
    global passed, failed
    with _lock:
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAIL", what, flush=True)
    return cond


def eq(got, want, what):
    return check(got == want, f"{what}: got {got!r}, wanted {want!r}")


def finish(t0):
    print(f"{passed} passed, {failed} failed ({time.time() - t0:.1f} s)")
    sys.exit(1 if failed else 0)


def vigild(*args):
    p = subprocess.run([VIGILD, "--data", D, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"vigild {' '.join(args)}: {p.stderr}")
    return p.stdout


def team(tenant, users, role="analyst"):
    """Add tenant with users of role; {user: token}."""
    vigild("tenant", "add", tenant)
    tok = {}
    for u in users:
        vigild("user", "add", tenant, u, "--role", role)
        tok[u] = vigild("token", "new", tenant, u).split()[-1]
    return tok


class Server:
    """vigild on D, on port (0: a free one, kept for the restarts)."""

    def __init__(self, port=0):
        self.port = port
        self.p = None
        self.start()

    def start(self):
        port_file = os.path.join(T, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        log = open(os.path.join(T, "vigild.log"), "ab")
        for _ in range(50):  # the port may still be held a moment after a kill
            self.p = subprocess.Popen([VIGILD, "--data", D, "--listen", f"127.0.0.1:{self.port}",
                                       "--port-file", port_file], stderr=log)
            for _ in range(200):
                if (os.path.exists(port_file) and os.path.getsize(port_file)) or \
                        self.p.poll() is not None:
                    break
                time.sleep(0.02)
            if self.p.poll() is None:
                break
            time.sleep(0.1)
        log.close()
        self.port = int(open(port_file).read())

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        return self.p.wait(30)

    def restart(self, sig=signal.SIGTERM):
        self.stop(sig)
        self.start()

    def tenant_db(self, tenant_id):
        return os.path.join(D, "tenants", tenant_id + ".db")


def req(port, method, path, token=None, body=None, headers=None, timeout=30):
    """(status, headers lower-cased, body bytes)"""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    hd = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hd, data


def sql(db, q):
    """Rows of q on the SQLite file db, read-only."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(q).fetchall()
    finally:
        con.close()


def _pg():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pgcluster
    return pgcluster


def server_sql(srv, tenant_id, q):
    """Rows of q on the tenant's op log as the server stores it: its SQLite workspace,
    or (STORE) the PostgreSQL table as the vigild role with the tenant set, where q
    reads a table ops of (seq, id, kind) made from each op's stored line."""
    if not STORE:
        return sql(srv.tenant_db(tenant_id), q)
    out = _pg().psql(STORE, "WITH ops AS (SELECT seq, id, convert_from(line, 'UTF8')::jsonb"
                     " ->> 'kind' AS kind FROM public.ops) " + q,
                     options=f"-c vigil.tenant={tenant_id}")
    return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in line.split("|"))
            for line in out.splitlines()]


def store_copy():
    """With vigild stopped: a copy of everything it stores (the data directory, or
    with STORE its database, the data directory then being only a cache that stays
    as it is); store_restore puts the copy back, as an administrator restoring a
    backup would."""
    if not STORE:
        old = os.path.join(T, "data.old")
        shutil.copytree(D, old)
        return old
    db = STORE.rsplit("/", 1)[1]
    old = db + "_old"
    admin = os.environ["VIGIL_PG_ADMIN"]  # the cluster's superuser (on-pg sets it)
    _pg().psql(admin, f'DROP DATABASE IF EXISTS "{old}"')
    _pg().psql(admin, f'CREATE DATABASE "{old}" TEMPLATE "{db}" OWNER vigild')
    return old


def store_restore(old):
    """Put store_copy's copy back (vigild stopped)."""
    if not STORE:
        shutil.rmtree(D)
        os.rename(old, D)
        return
    db = STORE.rsplit("/", 1)[1]
    admin = os.environ["VIGIL_PG_ADMIN"]
    _pg().psql(admin, f'DROP DATABASE "{db}" WITH (FORCE)')
    _pg().psql(admin, f'ALTER DATABASE "{old}" RENAME TO "{db}"')


class Gate:
    """A TCP relay on a loopback port of its own to vigild's port: closed (the port
    refuses, every connection through it is cut) and opened again on the same port;
    with rate, each direction passes at most rate bytes a second; with mute, vigild's
    answers are dropped (the request arrives, its answer never). up and down count
    the bytes passed each way."""

    def __init__(self, target, rate=None):
        self.target, self.rate, self.port = target, rate, 0
        self.mute = False
        self.up = self.down = 0
        self.socks, self.ls = [], None
        self.lock = threading.Lock()
        self.open()

    def open(self):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for _ in range(100):
            try:
                ls.bind(("127.0.0.1", self.port))
                break
            except OSError:
                time.sleep(0.05)
        ls.listen(64)
        self.port, self.ls = ls.getsockname()[1], ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def close(self):
        ls, self.ls = self.ls, None
        if ls:
            try:
                ls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            ls.close()
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self, ls):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u, "up"), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, "down"), daemon=True).start()

    def _pump(self, a, b, way):
        n = 4096 if self.rate else 65536
        while True:
            try:
                d = a.recv(n)
            except OSError:
                d = b""
            if not d:
                try:
                    b.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if way == "down" and self.mute:
                continue
            try:
                b.sendall(d)
            except OSError:
                return
            with self.lock:
                setattr(self, way, getattr(self, way) + len(d))
            if self.rate:
                time.sleep(len(d) / self.rate)


class Client:
    """A workspace of its own (T/NAME.db) and a config directory of its own, driven by
    the vigil CLI."""

    def __init__(self, name):
        self.name = name
        self.db = os.path.join(T, name + ".db")
        self.env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(T, "cfg-" + name))
        self.run("init")

    def run(self, *args, input=None, timeout=300):
        return subprocess.run([VIGIL, "--db", self.db, *args], env=self.env, input=input,
                              capture_output=True, text=True, timeout=timeout)

    def popen(self, *args):
        return subprocess.Popen([VIGIL, "--db", self.db, *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def join(self, url, token):
        p = self.run("remote", "add", "team", url, input=token + "\n")
        check(p.returncode == 0, f"{self.name} joins {url}: {p.stderr.strip()}")

    def sync(self, *more):
        """(exit status, the --json answer or None, stderr)"""
        p = self.run("sync", "--json", *more)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            j = None
        return p.returncode, j, p.stderr.strip()

    def must_sync(self, what):
        rc, j, err = self.sync()
        check(rc == 0, f"{what}: {self.name}'s sync exits {rc}: {err}")
        return j or {}

    def remote(self):
        return json.loads(self.run("remote", "ls", "--json").stdout)[0]

    def digest(self):
        return self.run("audit", "digest").stdout.strip()

    def verify(self, what):
        p = self.run("audit", "verify")
        check(p.returncode == 0, f"{what}: audit verify on {self.name}: {p.stdout} {p.stderr}")

    def cases(self):
        return json.loads(self.run("cases", "--json", "--limit", "10000").stdout)

    def op_ids(self):
        return {r[0] for r in sql(self.db, "SELECT id FROM ops")}


def write_alerts(path, n, groups, r):
    """n Suricata EVE alerts of groups hosts (a case each once imported), random by r,
    one a line into path: many ops for a test that needs a long push or pull."""
    with open(path, "w") as f:
        for i in range(n):
            g = i % groups
            f.write(json.dumps({
                "timestamp": f"2026-11-{1 + g:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:"
                             f"{i % 60:02d}.000+0000",
                "flow_id": r.randrange(1 << 60), "event_type": "alert",
                "src_ip": f"198.51.{g}.{i % 11}", "src_port": r.randrange(65536),
                "dest_ip": f"10.9.{g}.{i % 13}", "dest_port": 443, "proto": "TCP",
                "alert": {"signature_id": 3000000 + i % 40,
                          "signature": f"TEST sig {i % 40} {r.getrandbits(128):032x}",
                          "category": "Test", "severity": r.randint(1, 3)},
                "payload_printable": f"{r.getrandbits(256):064x}"}) + "\n")


def converged(clients, what):
    """Every client has the same digest and the same refs, every ref on one case and
    none provisional, and passes audit verify."""
    ds = {c.name: c.digest() for c in clients}
    check(len(set(ds.values())) == 1 and "" not in ds.values(), f"{what}: one digest: {ds}")
    refs = {c.name: sorted((k["ref"], k["id"]) for k in c.cases()) for c in clients}
    first = refs[clients[0].name]
    for c in clients[1:]:
        eq(refs[c.name] == first, True, f"{what}: {c.name} has {clients[0].name}'s case refs")
    rs = [r for r, _ in first]
    eq(len(rs), len(set(rs)), f"{what}: no ref on two cases")
    check(all(r < 1000000000 for r in rs), f"{what}: no provisional ref is left")
    for c in clients:
        c.verify(what)
    return first


def server_ops(srv, tenant_id):
    """(ops, distinct op ids) in the tenant's log on the server."""
    return server_sql(srv, tenant_id, "SELECT count(*), count(DISTINCT id) FROM ops")[0]


# ---- the convergence test ------------------------------------------------------------

STATUSES = ["new", "in_progress", "on_hold", "contained"]
SEVERITIES = ["info", "low", "medium", "high", "critical"]
PHASES = ["identification", "containment", "eradication", "recovery", "lessons_learned"]
TAGS = ["phish", "malware", "vip", "lateral", "c2", "exfil"]
WRITES = 1000


class Writer(threading.Thread):
    """One analyst: n ops written with pauses, a sync every few, an offline period."""

    def __init__(self, i, client, gate, n, seed, progress):
        super().__init__()
        self.i, self.c, self.gate, self.n = i, client, gate, n
        self.rng = random.Random(seed * 31 + i)
        self.progress = progress
        self.cases = []  # ids: its own and those pulled
        self.offline_syncs = self.synced = 0
        self.error = None

    def own(self):
        """The ops this analyst wrote (a write that changes nothing makes none)."""
        return sql(self.c.db, f"SELECT count(*) FROM ops WHERE actor = 'u{self.i}'"
                              " AND kind != 'case.renumber'")[0][0]

    def write(self, k):
        r, c = self.rng, self.c
        kind = r.choices(["new", "note", "set", "artifact", "task", "task_set"],
                         [10, 30, 25, 15, 10, 10])[0]
        if kind == "new" or not self.cases:
            p = c.run("case", "new", "--title", f"u{self.i} case {k}",
                      "--severity", r.choice(SEVERITIES), "--json")
            if p.returncode == 0:
                self.cases.append(json.loads(p.stdout)["id"])
            return p
        case = r.choice(self.cases)
        if kind == "note":
            return c.run("note", case, f"u{self.i} note {k}: " + "x" * r.randint(0, 300))
        if kind == "set":
            field = r.choice(["status", "severity", "assignee", "tags"])
            value = {"status": lambda: r.choice(STATUSES),
                     "severity": lambda: r.choice(SEVERITIES),
                     "assignee": lambda: f"u{r.randint(1, 3)}",
                     "tags": lambda: ",".join(r.sample(TAGS, r.randint(1, 3)))}[field]()
            return c.run("case", "set", case, f"{field}={value}")
        if kind == "artifact":
            return c.run("artifact", "add", case, "ip", f"10.{self.i}.{k // 250}.{k % 250}")
        if kind == "task_set":
            tasks = json.loads(c.run("case", "show", case, "--json").stdout)["tasks"]
            if tasks:
                t = r.choice(tasks)
                return c.run("task", "set", case, t["id"],
                             "status=" + r.choice(["todo", "in_progress", "done", "skipped"]))
        return c.run("task", "add", case, "--phase", r.choice(PHASES), f"u{self.i} task {k}")

    def run(self):
        try:
            r = self.rng
            off_at = r.randint(self.n // 5, self.n * 3 // 5)
            off_len = r.randint(self.n // 10, self.n // 5)
            next_sync = r.randint(3, 8)
            k = 0
            while self.own() < self.n:
                k += 1
                if k == off_at:
                    self.gate.close()
                if k == off_at + off_len:
                    self.gate.open()
                p = self.write(k)
                check(p.returncode == 0, f"u{self.i} write {k} {p.args[3:]}: {p.stderr.strip()}")
                self.progress()
                time.sleep(r.uniform(0, 0.05))
                next_sync -= 1
                if next_sync == 0:
                    next_sync = r.randint(3, 8)
                    rc, j, err = self.c.sync()
                    check(rc in (0, 3), f"u{self.i} sync after write {k} exits {rc}: {err}")
                    if rc == 3:
                        self.offline_syncs += 1
                        check(j and j.get("offline"), f"u{self.i} an offline sync says so: {j}")
                    elif rc == 0:
                        self.synced += 1
                        self.cases = [x["id"] for x in self.c.cases()]
            if self.gate.ls is None:
                self.gate.open()
        except Exception as e:  # the thread's failure is the test's
            self.error = e
            check(False, f"u{self.i}: {e!r}")


def write_together(clients, gates, writes, seed, srv):
    """Three Writers, one per client and its gate, writing writes ops in all; vigild
    stopped for everyone a while once two fifths are written, and started again on
    the same port. Each must have been offline and have synced. The writers."""
    done = [0]
    restarted = threading.Event()

    def progress():
        with _lock:
            done[0] += 1
            if done[0] == writes * 2 // 5:
                restarted.set()

    per = [writes // 3 + (1 if i < writes % 3 else 0) for i in range(3)]
    ws = [Writer(i + 1, clients[i], gates[i], per[i], seed, progress) for i in range(3)]
    for w in ws:
        w.daemon = True  # a writer that never ends must not keep a stopped test alive
        w.start()
    while not restarted.wait(1) and any(w.is_alive() for w in ws):
        pass
    srv.stop()
    time.sleep(1.5)
    srv.start()
    for w in ws:
        w.join()
    for w in ws:
        check(w.offline_syncs > 0, f"u{w.i} was offline at least once ({w.offline_syncs})")
        check(w.synced > 0, f"u{w.i} synced while writing ({w.synced})")
    return ws


def wait_for(cond, what, limit=60, step=0.02):
    """Until cond() holds (True), or a failed check after limit seconds (False)."""
    t = time.time() + limit
    while time.time() < t:
        if cond():
            return True
        time.sleep(step)
    check(False, f"timed out waiting for {what}")
    return False


def main():
    t0 = time.time()
    setup("vigil-converge-")
    seed = int(os.environ.get("VIGIL_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"seed {seed} (VIGIL_SEED={seed} runs this one again)", flush=True)
    srv = None
    try:
        tok = team("acme", ["u1", "u2", "u3", "u4"])
        srv = Server()
        acme = json.loads(req(srv.port, "GET", "/v1/whoami", tok["u1"])[2])["tenant_id"]
        gates = [Gate(srv.port) for _ in range(3)]
        clients = [Client(f"u{i + 1}") for i in range(3)]
        for c, g in zip(clients, gates):
            c.join(f"http://127.0.0.1:{g.port}", tok[c.name])
            c.must_sync("the first sync")

        ws = write_together(clients, gates, WRITES, seed, srv)
        t_write = time.time() - t0
        print(f"writes done in {t_write:.1f} s; syncs offline: "
              f"{[w.offline_syncs for w in ws]}, online: {[w.synced for w in ws]}", flush=True)

        # the end: every client syncs twice, a fresh fourth joins
        for _ in range(2):
            for c in clients:
                c.must_sync("the final syncs")
        fourth = Client("u4")
        fourth.join(f"http://127.0.0.1:{srv.port}", tok["u4"])
        j = fourth.must_sync("the fourth's first sync")
        allc = clients + [fourth]
        refs = converged(allc, "after the writes")
        n_ops, n_ids = server_ops(srv, acme)
        eq(n_ops, n_ids, "the server's log holds each op once")
        wrote = sum(w.own() for w in ws)
        check(wrote >= WRITES, f"the analysts wrote {WRITES} ops ({wrote})")
        renum = server_sql(srv, acme, "SELECT count(*) FROM ops WHERE kind = 'case.renumber'")
        eq(n_ops - renum[0][0], wrote, "the server's log holds every op they wrote")
        eq(len(fourth.op_ids()), n_ops, "the fourth, joined from the snapshot, holds the whole log")
        fifth = Client("u4")  # the same analyst's second replica, from the log op by op
        fifth.db = fifth.db.replace(".db", "-log.db")
        fifth.join(f"http://127.0.0.1:{srv.port}", tok["u4"])
        rc, j5, err5 = fifth.sync("--no-snapshot")
        eq((rc, (j5 or {}).get("pulled")), (0, n_ops), "a replica built op by op pulls the whole log")
        converged(allc + [fifth], "with a replica built from the log")
        mine = set()
        for c in clients:
            mine |= {r[0] for r in sql(c.db, f"SELECT id FROM ops WHERE actor = '{c.name}'")}
        server_ids = {r[0] for r in server_sql(srv, acme, "SELECT id FROM ops")}
        eq(len(mine - server_ids), 0, "every op a client wrote is on the server")
        authors = {c["created_by"] for c in fourth.cases()}
        eq(authors, {"u1", "u2", "u3"}, "the cases are the three analysts'")
        print(f"{len(refs)} cases, {n_ops} ops on the server", flush=True)
    finally:
        if srv and srv.p.poll() is None:
            srv.p.kill()
        shutil.rmtree(T, ignore_errors=True)
    finish(t0)


if __name__ == "__main__":
    main()
