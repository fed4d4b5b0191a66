#!/usr/bin/env python3
"""tests/server/scale.py VIGIL VIGILD [--clients N] [--seconds S] [--tenants T] [--bench]
                                     [--compare-sqlite]

Several vigild on one PostgreSQL store behind haproxy, under load, with faults.

A throwaway cluster (pgcluster.py); three vigild, each with its own --data directory
(its cache) and the same --store; haproxy in front of them with data/haproxy-vigild.cfg,
the shipped example itself, given only the addresses (its ${VIGIL_LISTEN} and
${VIGILD1..3}). N clients (threads; default 50, spread over T tenants), each an analyst
with a token of its own, loop over HTTP through haproxy: push one to three ops (notes,
case.set, a new case now and then with a ref from a lease of its own), then pull with
its cursor to the head, sometimes parking a long-poll; each logs every seq it pulled.

Phases, S seconds of load each:
  steady     no error at all (any status but 200, any connection failure, is one)
  wake       a pull parked on one vigild is answered within a second or so of a push
             through another (LISTEN/NOTIFY), for each vigild
  kill       a vigild SIGKILLed with a large push in hand, sent whole to it (before
             it commits it), and another once it committed one (its answer lost), while
             the clients run through haproxy; each is started again a second later
  pg restart PostgreSQL restarted (pg_ctl restart -m fast) mid-load; every vigild
             serves again on its own, without a restart
In the fault phases a failed request is retried (the same body) until it succeeds:
a retry is counted, not an error, and giving up (60 s) is one.

At the end, for each tenant: the database's log has each op id once and seqs 1..head
without a gap; every client's log of pulled seqs is exactly 1..head (no op skipped by
a cursor, none twice), with the same op at each seq as the database, every op it
pushed among them and none of another tenant's. Prints ops/s (ops applied a second)
of the steady phase, requests a second and latencies.

SCALE_DEBUG=1 prints every failed attempt (the fault phases' retries) as it happens.

--bench keeps fsync on (the issue's row: --clients 200 --seconds 60 --bench);
--compare-sqlite then runs the steady phase again, same load, against one vigild on
the SQLite store without haproxy, and prints both."""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pgcluster  # noqa: E402
from wireops import Replica, lines, ulid  # noqa: E402

CFG = os.path.join(HERE, "..", "..", "data", "haproxy-vigild.cfg")
RETRYABLE = (None, 500, 502, 503, 504)

passed = failed = 0
_lock = threading.Lock()


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


def req(port, method, path, token=None, body=None, headers=None, timeout=40):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def wait_port(port, limit=10):
    t = time.time() + limit
    while time.time() < t:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Vigild:
    """One vigild: its data directory (its cache), the store, a port kept across
    restarts."""

    def __init__(self, vigild, name, root, store, data=None):
        self.bin, self.name, self.store = vigild, name, store
        self.data = data or os.path.join(root, name)
        self.log_path = os.path.join(root, name + ".log")
        self.port = 0
        self.p = None

    def args(self):
        return [self.bin, "--data", self.data] + (["--store", self.store] if self.store else [])

    def admin(self, *args):
        p = subprocess.run(self.args() + list(args), capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise SystemExit(f"vigild {' '.join(args)}: {p.stderr}")
        return p.stdout

    def start(self):
        port_file = self.data + ".port"
        for _ in range(100):  # the port may still be held a moment after a kill
            if os.path.exists(port_file):
                os.unlink(port_file)
            with open(self.log_path, "ab") as log:
                self.p = subprocess.Popen(self.args() + ["--listen", f"127.0.0.1:{self.port}",
                                                         "--port-file", port_file],
                                          stderr=log, stdin=subprocess.DEVNULL)
            for _ in range(500):
                if (os.path.exists(port_file) and os.path.getsize(port_file)) or \
                        self.p.poll() is not None:
                    break
                time.sleep(0.02)
            if self.p.poll() is None:
                break
            time.sleep(0.1)
        if self.p.poll() is not None:
            raise SystemExit(f"{self.name} did not start: {self.log_tail()}")
        self.port = int(open(port_file).read())

    def kill(self, sig=signal.SIGKILL):
        if self.p and self.p.poll() is None:
            self.p.send_signal(sig)
            self.p.wait(30)

    def log_tail(self, n=15):
        try:
            return "".join(open(self.log_path, errors="replace").readlines()[-n:])
        except OSError:
            return ""


class Haproxy:
    """haproxy -db on the shipped configuration, the addresses from the environment."""

    def __init__(self, root, servers):
        self.port = pgcluster.free_port()
        self.log_path = os.path.join(root, "haproxy.log")
        env = dict(os.environ, VIGIL_LISTEN=f"127.0.0.1:{self.port}")
        for i, s in enumerate(servers, 1):
            env[f"VIGILD{i}"] = f"127.0.0.1:{s.port}"
        exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not os.access(exe, os.X_OK):
            raise SystemExit("scale.py: haproxy not found (Debian: apt-get install haproxy, "
                             "which scripts/setup installs)")
        p = subprocess.run([exe, "-c", "-q", "-f", CFG], env=env, capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"haproxy -c -f {CFG}: {p.stderr}{p.stdout}")
        with open(self.log_path, "ab") as log:
            self.p = subprocess.Popen([exe, "-db", "-f", CFG], env=env, stdout=log, stderr=log,
                                      stdin=subprocess.DEVNULL)
        if not wait_port(self.port):
            raise SystemExit(f"haproxy did not listen: {self.log_tail()}")

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def log_tail(self, n=20):
        try:
            return "".join(open(self.log_path, errors="replace").readlines()[-n:])
        except OSError:
            return ""


class Phase:
    def __init__(self, name, strict):
        self.name, self.strict = name, strict
        self.go, self.stop = threading.Event(), threading.Event()
        self.t0 = time.time()
        self.t1 = None
        self.applied = self.requests = self.retries = 0
        self.lat = []
        self.errors = []
        self.fail_first = self.fail_last = None
        self.by_server = {}
        self.causes = {}  # what the failed attempts got: a status, or the exception

    def note(self, applied=0, lat=None, server=None):
        with _lock:
            self.applied += applied
            self.requests += 1
            if lat is not None:
                self.lat.append(lat)
            if server:
                self.by_server[server] = self.by_server.get(server, 0) + 1

    def failed_once(self, what, cause):
        if os.environ.get("SCALE_DEBUG"):
            print("  attempt failed:", what, flush=True)
        with _lock:
            self.causes[cause] = self.causes.get(cause, 0) + 1
            now = time.time()
            self.fail_first = self.fail_first or now
            self.fail_last = now
            if self.strict:
                self.errors.append(what)
            else:
                self.retries += 1

    def gave_up(self, what):
        with _lock:
            self.errors.append("gave up: " + what)


class Client:
    """An analyst's replica as a load: its ops, its cursor, its log of pulled seqs."""

    def __init__(self, i, tenant, user, token, port, pause):
        self.i, self.tenant, self.user, self.token, self.port = i, tenant, user, token, port
        self.pause = pause
        self.rng = random.Random(i)
        self.rep = Replica()
        self.refs = []  # leased refs not yet used
        self.cases = []  # own and pulled case ids
        self.after, self.aid = 0, None
        self.log = []  # (seq, id) of every op pulled, in order
        self.mine = set()  # ids of ops pushed and acknowledged
        self.gaps = []
        self.conn = None

    # one keep-alive connection, made again after any failure
    def call(self, phase, method, path, body=None, want=(200,)):
        deadline = time.time() + 60
        backoff = 0.05
        while True:
            t = time.perf_counter()
            reused = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=45)
                self.conn.request(method, path, body=body,
                                  headers={"Authorization": "Bearer " + self.token})
                r = self.conn.getresponse()
                st, hd, data = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
                if hd.get("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
            except (OSError, http.client.HTTPException) as e:
                st, hd, data = None, {}, repr(e).encode()
                if self.conn:
                    self.conn.close()
                self.conn = None
            if st in want:
                phase.note(lat=time.perf_counter() - t, server=hd.get("x-vigild"))
                return st, hd, data
            what = (f"{self.user}: {method} {path.split('?')[0]} -> {st} {data[:160]!r}"
                    + (" (on a kept-alive connection)" if reused else ""))
            if st not in RETRYABLE:
                phase.gave_up(what)  # a refusal: retrying the same request cannot help
                return st, hd, data
            phase.failed_once(what, st or data.decode(errors="replace").split("(")[0])
            if time.time() > deadline:
                phase.gave_up(what)
                return st, hd, data
            time.sleep(backoff)
            backoff = min(backoff * 2, 1.0)

    def push(self, phase, ops):
        st, _, data = self.call(phase, "POST", "/v1/ops", lines(*ops))
        if st == 200:
            j = json.loads(data)
            self.mine |= {o["id"] for o in ops}
            with _lock:
                phase.applied += j.get("applied", 0)
        return st

    def new_ops(self, phase):
        r = self.rng
        u = self.user
        if not self.cases or r.random() < 0.08:
            if not self.refs:
                st, _, data = self.call(phase, "POST", "/v1/refs", b'{"want": 4}')
                if st != 200:
                    return []
                lease = json.loads(data)
                self.refs = list(range(lease["lo"], lease["hi"] + 1))
            case = ulid()
            self.cases.append(case)
            return [self.rep.op("case.create", case, {"title": f"{u} case {len(self.cases)}",
                                                      "ref": self.refs.pop(0)}, u)]
        ops = []
        for _ in range(r.randint(1, 3)):
            case = r.choice(self.cases)
            k = r.random()
            if k < 0.75:
                ops.append(self.rep.op("note.add", ulid(), {
                    "case": case, "body": f"{u} note {self.rep.clock} " + "x" * r.randint(0, 200)}, u))
            elif k < 0.9:
                ops.append(self.rep.op("case.set", case, {
                    "field": "severity", "value": r.choice(["low", "medium", "high"])}, u))
            else:
                ops.append(self.rep.op("artifact.add", ulid(), {
                    "case": case, "type": "ip", "value": f"10.{self.i % 250}.{r.randint(0, 250)}."
                                                           f"{r.randint(1, 250)}"}, u))
        return ops

    def pull(self, phase, wait=0):
        """Pull from the cursor to the head (a long-poll of wait seconds first)."""
        while True:
            q = f"/v1/ops?after={self.after}" + (f"&id={self.aid}" if self.aid else "")
            if wait:
                q += f"&wait={wait}"
            st, hd, data = self.call(phase, "GET", q)
            if st != 200:
                return False
            for line in data.decode().splitlines():
                if not line:
                    continue
                o = json.loads(line)
                last = self.log[-1][0] if self.log else 0
                if o["seq"] != last + 1:
                    self.gaps.append((last, o["seq"]))
                self.log.append((o["seq"], o["id"]))
                if o["kind"] == "case.create":
                    self.cases.append(o["target"])
                self.after, self.aid = o["seq"], o["id"]
            if wait or self.after >= int(hd.get("vigil-head", "0")):
                return True

    def run(self, phase):
        r = self.rng
        self.conn = None  # a connection of this phase's own
        phase.go.wait()
        while not phase.stop.is_set():
            ops = self.new_ops(phase)
            if ops:
                self.push(phase, ops)
            self.pull(phase)
            if r.random() < 0.1:
                self.pull(phase, wait=1)  # a long-poll, woken by anyone's push
            time.sleep(r.uniform(0, self.pause))
        if self.conn:
            self.conn.close()
            self.conn = None


def load(clients, phase, seconds, during=None):
    """Run every client for seconds; during(phase), if given, in this thread meanwhile."""
    ths = [threading.Thread(target=c.run, args=(phase,), daemon=True) for c in clients]
    for t in ths:
        t.start()  # (200 of them take a while: each waits for the go)
    phase.t0 = time.time()
    phase.go.set()
    end = time.time() + seconds
    if during:
        during(phase)
    time.sleep(max(0, end - time.time()))
    phase.t1 = time.time()
    phase.stop.set()
    for t in ths:
        t.join(120)
    check(not any(t.is_alive() for t in ths), f"{phase.name}: every client stopped")
    return phase


def report(phase):
    secs = phase.t1 - phase.t0
    lat = sorted(phase.lat)
    p50 = statistics.median(lat) * 1000 if lat else 0
    p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0
    spread = " ".join(f"{k}:{v}" for k, v in sorted(phase.by_server.items()))
    print(f"{phase.name}: {phase.applied} ops applied in {secs:.1f} s = "
          f"{phase.applied / secs:.0f} ops/s; {phase.requests} requests = "
          f"{phase.requests / secs:.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
          f"retries {phase.retries}, errors {len(phase.errors)}"
          + (f"; answered by {spread}" if spread else "")
          + (f"; failed attempts: {phase.causes}" if phase.causes else ""), flush=True)
    for e in phase.errors[:10]:
        print("   ", e, flush=True)


def store_log(pg, shared, tid):
    """[(seq, op id)] of the tenant's log as the store holds it."""
    if shared:
        con = sqlite3.connect(f"file:{shared}/tenants/{tid}.db?mode=ro", uri=True, timeout=30)
        try:
            return [tuple(r) for r in con.execute("SELECT seq, id FROM ops ORDER BY seq")]
        finally:
            con.close()
    rows = pg.psql("SELECT seq, id FROM ops ORDER BY seq", as_vigild=True,
                   options=f"-c vigil.tenant={tid}").splitlines()
    return [(int(r.split("|")[0]), r.split("|")[1]) for r in rows]


def store_has(pg, shared, tid, op_id):
    """Does the store hold the op op_id in the tenant's log (committed)?"""
    if shared:
        con = sqlite3.connect(f"file:{shared}/tenants/{tid}.db?mode=ro", uri=True, timeout=30)
        try:
            return con.execute("SELECT count(*) FROM ops WHERE id = ?", (op_id,)).fetchone()[0] > 0
        finally:
            con.close()
    return pg.psql(f"SELECT count(*) FROM ops WHERE id = '{op_id}'", as_vigild=True,
                   options=f"-c vigil.tenant={tid}") != "0"


def make_clients(admin, n, tenants, port, pause):
    names = [f"t{k}" for k in range(tenants)]
    ids = {}
    for name in names:
        admin("tenant", "add", name)
    for t in json.loads(admin("tenant", "ls", "--json")):
        ids[t["name"]] = t["id"]
    clients = []
    for i in range(n):
        tenant = names[i % tenants]
        user = f"u{i}"
        admin("user", "add", tenant, user, "--role", "analyst")
        token = admin("token", "new", tenant, user).split()[-1]
        clients.append(Client(i, ids[tenant], user, token, port, pause))
    return clients, ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("vigild")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--tenants", type=int, default=2)
    ap.add_argument("--pause", type=float, default=0.1, help="at most this long between rounds")
    ap.add_argument("--bench", action="store_true", help="fsync on")
    ap.add_argument("--compare-sqlite", action="store_true")
    ap.add_argument("--sqlite-shared", action="store_true",
                    help="no PostgreSQL: the three vigild on one SQLite data directory "
                         "(the restart phase is left out)")
    ap.add_argument("--one-data-dir", action="store_true",
                    help="on PostgreSQL, the three vigild share one data directory (one "
                         "host): their copies of the logs are one file")
    a = ap.parse_args()
    os.environ.pop("VIGILD_STORE", None)  # each vigild is given its store here
    vigild = os.path.abspath(a.vigild)
    if not a.sqlite_shared:
        pgcluster.require_store(vigild)
    t0 = time.time()
    root = tempfile.mkdtemp(prefix="vigil-scale-")
    servers, hp = [], None
    pg = None
    try:
        shared = os.path.join(root, "shared") if a.sqlite_shared else None
        if shared:
            servers = [Vigild(vigild, f"vigild{i}", root, None, shared) for i in (1, 2, 3)]
        else:
            pg = pgcluster.Cluster(bench=a.bench).start()
            one = os.path.join(root, "one") if a.one_data_dir else None
            servers = [Vigild(vigild, f"vigild{i}", root, pg.url(), one) for i in (1, 2, 3)]
        for s in servers:
            s.start()
        hp = Haproxy(root, servers)
        clients, tenant_ids = make_clients(servers[0].admin, a.clients, a.tenants, hp.port,
                                           a.pause)
        print(f"set-up: {'SQLite (one data directory)' if shared else 'PostgreSQL'}"
              f"{' (one data directory)' if a.one_data_dir else ''}, 3 vigild, haproxy on {hp.port}, {a.clients} clients in "
              f"{a.tenants} tenants ({time.time() - t0:.1f} s)", flush=True)

        # haproxy has checked each vigild and sends requests to each in turn
        seen, t_end = set(), time.time() + 20
        while len(seen) < 3 and time.time() < t_end:
            try:
                s, hd, _ = req(hp.port, "GET", "/v1/health")
                if s == 200:
                    seen.add(hd.get("x-vigild"))
            except OSError:
                pass
            time.sleep(0.05)
        eq(sorted(seen), ["vigild1", "vigild2", "vigild3"],
           "haproxy's health checks pass and it answers from every vigild")

        # --- steady -----------------------------------------------------------------
        steady = load(clients, Phase("steady", strict=True), a.seconds)
        report(steady)
        eq(steady.errors, [], "steady phase: no error")
        check(len(steady.by_server) == 3 and min(steady.by_server.values()) >
              steady.requests / 10, f"round robin: every vigild served ({steady.by_server})")
        check(steady.applied > 0, "ops were applied")

        # --- wake: a pull parked on one vigild, a push through another ------------------
        c = clients[0]
        for i in range(3):
            park, via = servers[i], servers[(i + 1) % 3]
            c.port = park.port
            c.pull(Phase("catch-up", strict=True))
            res = {}

            def parked():
                t = time.time()
                res["r"] = req(park.port, "GET", f"/v1/ops?after={c.after}&id={c.aid}&wait=10",
                               c.token)
                res["t"] = time.time() - t

            th = threading.Thread(target=parked)
            th.start()
            time.sleep(0.5)
            wake = c.rep.op("note.add", ulid(), {"case": c.cases[0], "body": "wake up"}, c.user)
            st, _, _ = req(via.port, "POST", "/v1/ops", c.token, lines(wake))
            eq(st, 200, f"a push through {via.name}")
            th.join(15)
            st, _, data = res.get("r", (None, {}, b""))
            got = [json.loads(x)["id"] for x in data.decode().splitlines() if x]
            eq((st, got), (200, [wake["id"]]),
               f"a pull parked on {park.name} answers with {via.name}'s push")
            dt = res.get("t", 99) - 0.5
            check(dt < 1.5, f"within a second or so ({dt:.2f} s)")
            print(f"wake: parked on {park.name}, pushed through {via.name}: {dt:.3f} s",
                  flush=True)
            c.mine.add(wake["id"])
        c.port = hp.port

        # --- kill: vigild SIGKILLed with a push in hand, twice -------------------------
        # vigild2 just after the push is sent whole to it (while it reads, checks or
        # applies it), vigild3 once the push is committed (its last op is in the
        # store) but before its answer is read; each is started again a second later,
        # as systemd's Restart=on-failure would. Meanwhile the clients go on through
        # haproxy, whose retries and health checks move them to the others.
        def big_push(c):
            rep = Replica()  # not the client's own, which its thread uses meanwhile
            ops = [rep.op("note.add", ulid(), {"case": c.cases[0], "body": f"big push {k} "
                                              + "y" * 100}, c.user) for k in range(3000)]
            return ops, lines(*ops)

        kills = [(clients[1], servers[1], "sent"), (clients[2], servers[2], "committed")]
        bigs = [big_push(c) for c, _, _ in kills]
        kill_info = []
        probes = []  # (the dead vigild, status, who answered) of requests while it was dead

        def kill_mid_push(phase):
            for (c, victim, when), (ops, body) in zip(kills, bigs):
                time.sleep(a.seconds / 4)
                sk = socket.create_connection(("127.0.0.1", victim.port))
                sk.sendall(f"POST /v1/ops HTTP/1.1\r\nHost: vigild\r\nAuthorization: Bearer "
                           f"{c.token}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
                t = time.time()
                if when == "sent":
                    time.sleep(0.01)
                else:
                    while not store_has(pg, shared, c.tenant, ops[-1]["id"]) and \
                            time.time() < t + 120:
                        time.sleep(0.01)
                late = when == "committed" and not store_has(pg, shared, c.tenant, ops[-1]["id"])
                victim.kill(signal.SIGKILL)
                kill_info.append(f"{victim.name} killed {time.time() - t:.2f} s after the push "
                                 f"was sent ({'NOT committed by then' if late else when})")
                sk.close()
                # while it is dead (and before haproxy's checks mark it down), a new
                # request through haproxy that is sent to it goes to another
                t_up = time.time() + 1
                while time.time() < t_up:
                    try:
                        st, hd, _ = req(hp.port, "GET", "/v1/whoami", c.token, timeout=10)
                        probes.append((victim.name, st, hd.get("x-vigild")))
                    except OSError as e:
                        probes.append((victim.name, repr(e), None))
                victim.start()

        kill = load(clients, Phase("kill", strict=False), a.seconds, kill_mid_push)
        report(kill)
        eq(kill.errors, [], "kill phase: every request succeeded in the end")
        eq([p for p in probes if p[1] != 200 or p[2] == p[0]], [],
           f"requests through haproxy while a vigild was dead: answered by the others "
           f"({len(probes)} sent)")
        print(f"kill: {len(probes)} requests sent through haproxy while a vigild was dead: "
              f"{sum(p[1] == 200 and p[2] != p[0] for p in probes)} answered by another",
              flush=True)
        for (c, victim, when), (ops, body), info in zip(kills, bigs, kill_info):
            # the push whose vigild died, retried by its client through haproxy
            t = time.time()
            st, _, data = c.call(kill, "POST", "/v1/ops", body)
            t = time.time() - t
            j = json.loads(data) if st == 200 else {}
            eq((st, j.get("applied", 0) + j.get("known", 0)), (200, len(ops)),
               f"the push {victim.name} died with, retried through haproxy: every op "
               f"applied or known")
            if when == "committed":
                eq(j.get("known"), len(ops), "the committed one: every op known, none twice")
            c.mine |= {o["id"] for o in ops}
            print(f"kill: {info}; its retry: {j.get('applied')} applied, {j.get('known')} "
                  f"known, in {t:.2f} s", flush=True)
            seen, t_end = {}, time.time() + 20
            while victim.name not in seen and time.time() < t_end:
                st, hd, _ = req(hp.port, "GET", "/v1/whoami", c.token)
                seen[hd.get("x-vigild")] = st
                time.sleep(0.1)
            eq(seen.get(victim.name), 200, f"the restarted {victim.name} serves through "
                                           f"haproxy again")

        # --- PostgreSQL restarted mid-load ---------------------------------------------
        restart_info = {}

        def restart_pg(phase):
            time.sleep(a.seconds / 3)
            t = time.time()
            pg.restart()
            restart_info["secs"] = time.time() - t
            restart_info["at"] = t

        if not shared:
            pgr = load(clients, Phase("pg restart", strict=False), a.seconds, restart_pg)
            report(pgr)
            eq(pgr.errors, [], "PostgreSQL restart phase: every request succeeded in the end")
            if pgr.fail_first:
                print(f"pg restart: pg_ctl restart took {restart_info['secs']:.1f} s; clients "
                      f"saw failures for {pgr.fail_last - pgr.fail_first:.1f} s", flush=True)
        for s in servers:
            ok = False
            for _ in range(100):
                try:
                    st, _, _ = req(s.port, "GET", "/v1/whoami", clients[0].token)
                    if st == 200:
                        ok = True
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            check(ok and s.p.poll() is None, f"{s.name} serves after PostgreSQL's restart, "
                                             f"not restarted itself")

        # --- the end: everyone converges -------------------------------------------------
        final = Phase("final", strict=True)
        for c in clients:
            c.port = hp.port
            c.conn = None
            c.pull(final)
        eq(final.errors, [], "the final pulls: no error")
        for name, tid in sorted(tenant_ids.items()):
            truth = store_log(pg, shared, tid)
            n, hi = len(truth), truth[-1][0] if truth else 0
            ids = {i for _, i in truth}
            eq(len(ids), n, f"{name}: the store's log holds each op id once")
            eq([s for s, _ in truth], list(range(1, n + 1)),
               f"{name}: its seqs are 1..{n} without a gap")
            mine = [c for c in clients if c.tenant == tid]
            for c in mine:
                eq(c.gaps, [], f"{c.user}: no seq skipped by its cursor")
                seqs = [s for s, _ in c.log]
                check(c.log == truth, f"{c.user}: its log is the store's, seq for seq "
                                      f"({len(c.log)} ops, seqs {seqs[:3]}..{seqs[-3:]}, "
                                      f"{len(set(seqs))} distinct, head {hi}, "
                                      f"{len(ids - {i for _, i in c.log})} missing)")
                lost = c.mine - ids
                eq(len(lost), 0, f"{c.user}: every op it pushed is in its tenant's log")
            print(f"{name}: {n} ops, {len(mine)} clients each pulled seqs 1..{hi}", flush=True)
        allids = {}
        for c in clients:
            allids.setdefault(c.tenant, set()).update(i for _, i in c.log)
        for t1 in allids:
            for t2 in allids:
                if t1 < t2:
                    eq(allids[t1] & allids[t2], set(), "no op is in two tenants' logs")
        summary = (f"ROW 3 vigild on {'one SQLite directory' if shared else 'PostgreSQL'} behind haproxy, {a.clients} clients, "
                   f"{a.seconds:g} s: {steady.applied / (steady.t1 - steady.t0):.0f} ops/s"
                   + ("" if shared else f" (fsync {'on' if a.bench else 'off'})"))

        if a.compare_sqlite:
            for s in servers:
                s.kill(signal.SIGTERM)
            hp.stop()
            lite = Vigild(vigild, "sqlite", root, None)
            lite.start()
            lclients, _ = make_clients(lite.admin, a.clients, a.tenants, lite.port, a.pause)
            ls = load(lclients, Phase("steady, 1 vigild on SQLite", strict=True), a.seconds)
            report(ls)
            lite.kill(signal.SIGTERM)
            summary += (f"\nROW 1 vigild on SQLite, same load: "
                        f"{ls.applied / (ls.t1 - ls.t0):.0f} ops/s")
        print(summary, flush=True)
    finally:
        if failed:
            for s in servers:
                print(f"--- {s.name}'s log:\n{s.log_tail()}", flush=True)
            if hp:
                print(f"--- haproxy's log:\n{hp.log_tail()}", flush=True)
            if pg:
                print(f"--- PostgreSQL's log:\n{pg.log_tail()}", flush=True)
        for s in servers:
            s.kill()
        if hp:
            hp.stop()
        if pg:
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{passed} passed, {failed} failed ({time.time() - t0:.1f} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
