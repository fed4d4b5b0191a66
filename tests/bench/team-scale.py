#!/usr/bin/env python3
"""tests/bench/team-scale.py VIGIL VIGILD [--clients N] [--seconds S] [--procs P]
                             [--workspace WS] [--only load|ingest|join]

The PostgreSQL store's rows (issue: scale-out), each beside one vigild on SQLite on
the same machine and the same load, from one run:

  load    N clients (over 4 tenants, each its own analyst) pushing a note and
          pulling to the head, without pause, for S seconds: ops/s accepted, with
          P vigild on one throwaway PostgreSQL cluster behind haproxy (the shipped
          data/haproxy-vigild.cfg) vs one vigild on SQLite, directly;
  ingest  the same clients as sensors posting 20 alerts a request for S seconds:
          alerts/s stored;
  join    a new client's first pull (`vigil sync` on an empty workspace: the
          snapshot, then the ops after it) of the tenant holding WS (the bench's
          1M-alert workspace), from a PostgreSQL-backed vigild (the tenant moved in
          with `vigild migrate-store`) vs from the SQLite one it was moved from.

The cluster keeps fsync on (bench=True). Prints bench table rows."""
import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from pgcluster import Cluster, free_port  # noqa: E402
from wireops import AsyncConn as Conn, Replica, lines, ulid  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("vigil")
ap.add_argument("vigild")
ap.add_argument("--clients", type=int, default=200)
ap.add_argument("--seconds", type=float, default=60)
ap.add_argument("--procs", type=int, default=3)
ap.add_argument("--tenants", type=int, default=4)
ap.add_argument("--workspace")
ap.add_argument("--only", choices=["load", "ingest", "join"])
ap.add_argument("--shared", action="store_true",
                help="the PostgreSQL vigild share one data directory (one host)")
a = ap.parse_args()
VIGIL, VIGILD = os.path.abspath(a.vigil), os.path.abspath(a.vigild)
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
T = tempfile.mkdtemp(prefix="vigil-scale-")


class Server:
    """vigild processes on one store, and the address clients use (haproxy's
    when there are several)."""

    def __init__(self, name, store=None, procs=1):
        self.name, self.store, self.procs = name, store, procs
        self.ps, self.ports, self.hap = [], [], None
        self.data = [os.path.join(T, f"{name}-{0 if a.shared else i}") for i in range(procs)]

    def vd(self, *args, data=None):
        argv = [VIGILD, "--data", data or self.data[0]]
        if self.store:
            argv += ["--store", self.store]
        return subprocess.run(argv + list(args), capture_output=True, text=True,
                              check=True).stdout

    def start(self):
        for i, d in enumerate(self.data):
            pf = os.path.join(T, f"{self.name}-{i}.port")
            argv = [VIGILD, "--data", d, "--listen", "127.0.0.1:0", "--port-file", pf]
            if self.store:
                argv += ["--store", self.store]
            self.ps.append(subprocess.Popen(argv, stderr=open(pf + ".log", "w")))
            for _ in range(600):
                if os.path.exists(pf) and os.path.getsize(pf):
                    break
                time.sleep(0.05)
            self.ports.append(int(open(pf).read()))
        self.port = self.ports[0]
        if self.procs > 1:
            self.port = free_port()
            env = dict(os.environ, VIGIL_LISTEN=f"127.0.0.1:{self.port}")
            for i in range(3):
                env[f"VIGILD{i + 1}"] = f"127.0.0.1:{self.ports[i % self.procs]}"
            self.hap = subprocess.Popen(["haproxy", "-db", "-f",
                                         os.path.join(ROOT, "data", "haproxy-vigild.cfg")],
                                        env=env, stdout=subprocess.DEVNULL,
                                        stderr=open(os.path.join(T, "haproxy.log"), "w"))
            time.sleep(3)  # two health checks
        return self

    def stop(self):
        for p in self.ps + ([self.hap] if self.hap else []):
            p.send_signal(signal.SIGTERM)
        for p in self.ps + ([self.hap] if self.hap else []):
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids):
    """CPU seconds (user + system) the processes have used so far."""
    total = 0.0
    for pid in pids:
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / TICK
        except (OSError, IndexError):
            pass
    return total


def cluster_cpu(pg):
    """CPU seconds the cluster has used: the postmaster's own and its reaped
    children's (backends that ended), and its live children's."""
    if pg is None:
        return 0.0
    pm = int(open(os.path.join(pg.data, "postmaster.pid")).readline())
    f = open(f"/proc/{pm}/stat").read().rsplit(")", 1)[1].split()
    total = sum(int(x) for x in f[11:15]) / TICK
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1]) == pm:
                    kids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return total + cpu_of(kids)


def users_on(srv, role):
    us = []
    for t in range(a.tenants):
        srv.vd("tenant", "add", f"t{t}")
    for i in range(a.clients):
        u = f"u{i}"
        srv.vd("user", "add", f"t{i % a.tenants}", u, "--role", role)
        us.append((u, srv.vd("token", "new", f"t{i % a.tenants}", u).split()[-1]))
    return us


async def writer(port, user, token, deadline, out):
    c = Conn(port)
    rep = Replica()
    st, _, data = await c.req("POST", "/v1/refs", token, b'{"want": 1}')
    case = ulid()
    await c.req("POST", "/v1/ops", token, lines(rep.op(
        "case.create", case, {"title": f"case of {user}", "ref": json.loads(data)["lo"]}, user)))
    after, aid = 0, None
    while time.time() < deadline:
        try:
            st, _, data = await c.req("POST", "/v1/ops", token, lines(rep.op(
                "note.add", ulid(), {"case": case, "body": f"note {rep.clock} by {user}"}, user)))
            if st == 200:
                out["ops"] += json.loads(data)["applied"]
            else:
                fail(out, f"push {st} {data[:200]}")
            while True:  # to the head, leaving out its own ops
                q = f"/v1/ops?after={after}&skip_origin={rep.origin}" + (
                    f"&id={aid}" if aid else "")
                st, h, data = await c.req("GET", q, token)
                if st != 200:
                    fail(out, f"pull {st} {data[:200]}")
                    break
                if int(h.get("vigil-upto", after)) > after:
                    after, aid = int(h["vigil-upto"]), h["vigil-upto-id"]
                if after >= int(h.get("vigil-head", "0")):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as e:
            fail(out, f"connection {e!r}")
            c.close()
    c.close()


async def sensor(port, i, token, deadline, out):
    c = Conn(port)
    n = 0
    while time.time() < deadline:
        recs = []
        for k in range(20):
            n += 1
            recs.append(json.dumps({
                "timestamp": "2026-12-01T10:00:00.000000+0000", "event_type": "alert",
                "src_ip": f"10.{i % 250}.{n % 250}.{k + 1}", "src_port": 40000 + k,
                "dest_ip": "192.0.2.10", "dest_port": 443, "proto": "TCP",
                "flow_id": i * 10_000_000 + n,
                "alert": {"signature_id": 2_000_000 + n % 500, "rev": 1,
                          "signature": f"ET SCAN probe {n % 500}", "severity": 2,
                          "category": "Attempted Information Leak"}}))
        body = ("\n".join(recs) + "\n").encode()
        try:
            st, _, data = await c.req("POST", "/v1/alerts", token, body,
                                      {"Idempotency-Key": f"s{i}-{n}",
                                       "Content-Type": "application/x-ndjson"})
            if st == 200:
                out["alerts"] += len(recs)
            else:
                fail(out, f"ingest {st} {data[:200]}")
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as e:
            fail(out, f"connection {e!r}")
            c.close()
    c.close()


def fail(out, what):
    out["errors"] += 1
    if len(out["why"]) < 3:
        out["why"].append(what)


def run_load(srv, kind, pg=None):
    srv.start()
    us = users_on(srv, "analyst" if kind == "load" else "ingest")
    out = {"ops": 0, "alerts": 0, "errors": 0, "why": []}

    async def go():
        deadline = time.time() + a.seconds
        if kind == "load":
            await asyncio.gather(*(writer(srv.port, u, t, deadline, out) for u, t in us))
        else:
            await asyncio.gather(*(sensor(srv.port, i, t, deadline, out)
                                   for i, (u, t) in enumerate(us)))
    mine = [p.pid for p in srv.ps]
    hap = [srv.hap.pid] if srv.hap else []
    c0 = (cpu_of(mine), cluster_cpu(pg), cpu_of(hap), sum(os.times()[:2]))
    t0 = time.time()
    try:
        asyncio.run(go())
        c1 = (cpu_of(mine), cluster_cpu(pg), cpu_of(hap), sum(os.times()[:2]))
        out["cpu"] = [b - a for a, b in zip(c0, c1)]
    finally:
        took = time.time() - t0
        srv.stop()
        if out["errors"]:  # what the servers said, for the error lines
            for i in range(srv.procs):
                log = os.path.join(T, f"{srv.name}-{i}.port.log")
                said = [x for x in open(log, errors="replace") if x.startswith("vigild: ")]
                for x in said[:3]:
                    print(f"{srv.name}-{i}: {x.rstrip()}", file=sys.stderr)
    return out, took


def row_load(kind):
    pg = Cluster(bench=True).start()
    try:
        res = {}
        for name, srv in (("sqlite", Server(f"{kind}-sqlite")),
                          ("pg", Server(f"{kind}-pg", pg.new_db(f"{kind}_pg"), a.procs))):
            res[name] = run_load(srv, kind, pg if srv.store else None)
    finally:
        pg.stop()
    key = "ops" if kind == "load" else "alerts"
    (s, ts), (p, tp) = res["sqlite"], res["pg"]
    rs, rp = s[key] / ts, p[key] / tp
    what = ("clients pushing and pulling" if kind == "load" else "sensors posting 20 alerts"
            " a request")
    print(f"| {a.clients} {what} for {a.seconds:.0f} s: {a.procs} vigild on PostgreSQL"
          f" (haproxy{', one data dir' if a.shared else ''}) vs 1 vigild on SQLite"
          f" | {rp:.0f} vs {rs:.0f} {key}/s = {rp / rs:.2f}x"
          f" ({p['errors']} and {s['errors']} errors) | >= 1.5x |", flush=True)
    for name, (o, took) in (("PostgreSQL", res["pg"]), ("SQLite", res["sqlite"])):
        for w in o["why"]:
            print(f"{name}: error: {w}", file=sys.stderr)
        n = max(o[key], 1)
        v, g, h, cl = (x * 1000 / n for x in o["cpu"])
        print(f"| (CPU ms per {key[:-1]}, {name}: vigild {v:.2f}, postgres {g:.2f}, haproxy"
              f" {h:.2f}, the clients {cl:.2f}; {sum(o['cpu']) / took:.2f} of 2 cores busy)"
              f" | | |", flush=True)


def join_secs(url, token):
    t0 = time.time()
    d = tempfile.mkdtemp(dir=T, prefix="join-")
    env = dict(os.environ, XDG_CONFIG_HOME=d, XDG_DATA_HOME=d, XDG_STATE_HOME=d)
    db = os.path.join(d, "j.db")
    subprocess.run([VIGIL, "--db", db, "remote", "add", "team", url], input=token + "\n",
                   text=True, env=env, check=True, capture_output=True)
    t0 = time.time()
    subprocess.run([VIGIL, "--db", db, "sync"], env=env, check=True, capture_output=True)
    took = time.time() - t0
    shutil.rmtree(d, ignore_errors=True)
    return took


def row_join():
    if not a.workspace:
        return
    sq = Server("join-sqlite")
    sq.vd("tenant", "add", "acme")
    sq.vd("user", "add", "acme", "alice", "--role", "analyst")
    tok = sq.vd("token", "new", "acme", "alice").split()[-1]
    tid = json.loads(sq.vd("tenant", "ls", "--json"))[0]["id"]
    subprocess.run(["sqlite3", a.workspace, "PRAGMA wal_checkpoint(TRUNCATE)"],
                   capture_output=True)
    shutil.copy(a.workspace, os.path.join(sq.data[0], "tenants", tid + ".db"))
    pg = Cluster(bench=True).start()
    try:
        url = pg.new_db("join_pg")
        t0 = time.time()
        subprocess.run([VIGILD, "--data", os.path.join(T, "join-pg-0"), "migrate-store",
                        "--from", sq.data[0], "--to", url], check=True, capture_output=True)
        moved = time.time() - t0
        pgs = Server("join-pg", url)
        times = {}
        for name, srv in (("sqlite", sq), ("pg", pgs)):
            srv.start()
            try:
                # the first request makes the snapshot; the joins find it made
                first = join_secs(f"http://127.0.0.1:{srv.port}", tok)
                times[name] = sorted(join_secs(f"http://127.0.0.1:{srv.port}", tok)
                                     for _ in range(3))[1]
                times[name + "-first"] = first
            finally:
                srv.stop()
        size = os.path.getsize(a.workspace) / 1048576
        print(f"| first pull of the {size:.0f} MB tenant by a new client: vigild on"
              f" PostgreSQL vs on SQLite | {times['pg']:.2f} s vs {times['sqlite']:.2f} s ="
              f" {times['pg'] / times['sqlite']:.2f}x (median of 3; the first, snapshot made:"
              f" {times['pg-first']:.1f} s vs {times['sqlite-first']:.1f} s) | <= 1.5x |")
        print(f"| (vigild migrate-store moved it into PostgreSQL and read it back in"
              f" {moved:.0f} s) | | |", flush=True)
    finally:
        pg.stop()


try:
    for kind in ("load", "ingest", "join"):
        if a.only and a.only != kind:
            continue
        row_join() if kind == "join" else row_load(kind)
finally:
    shutil.rmtree(T, ignore_errors=True)
