#!/usr/bin/env python3
"""tests/server/migrate.py VIGIL VIGILD — moving a team server from its SQLite data
directory into PostgreSQL (vigild migrate-store), as an administrator would, and
what the analysts notice afterwards: nothing.

A SQLite vigild serves two tenants; two analysts of acme sync cases, notes and an
alert import, a globex analyst a case of her own, and a sensor ingests with an
Idempotency-Key. Then vigild stops, migrate-store moves the directory into an empty
database of a throwaway cluster (pgcluster.py) and reads each log back, naming each
tenant's head; a second run, a missing directory and an unreadable URL are refused
with reasons and write nothing. vigild serves the database: the same tokens work,
the analysts' next sync carries on from their cursors (the server's log is the same
op for op, seq for seq: no 409, nothing pushed again), a new analyst joins from a
snapshot and every replica converges on one digest; the heads in the database are
the directory's. DIR/store names the database for every vigild on the directory,
and one that others may read is refused."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402

os.environ.pop("VIGILD_STORE", None)  # the directory first: converge.STORE is None
import converge as h  # noqa: E402
from converge import check, eq  # noqa: E402


def run_vigild(*args, env=None):
    return subprocess.run([h.VIGILD, *args], capture_output=True, text=True, env=env)


def main():
    t0 = time.time()
    h.setup("vigil-migrate-")
    pgcluster.require_store(h.VIGILD)
    pg = pgcluster.Cluster().start()
    srv = None
    try:
        # --- a SQLite server with two tenants at work ---------------------------------
        tok = h.team("acme", ["alice", "bob"])
        tok.update(h.team("globex", ["gina"]))
        h.vigild("user", "add", "acme", "sensor", "--role", "ingest")
        tok["sensor"] = h.vigild("token", "new", "acme", "sensor").split()[-1]
        tenants = {t["name"]: t["id"] for t in json.loads(h.vigild("tenant", "ls", "--json"))}
        srv = h.Server()
        url = f"http://127.0.0.1:{srv.port}"
        alice, bob, gina = h.Client("alice"), h.Client("bob"), h.Client("gina")
        for c, t in ((alice, "alice"), (bob, "bob"), (gina, "gina")):
            c.join(url, tok[t])
        for i in range(5):
            p = alice.run("case", "new", "--title", f"phishing wave {i}", "--severity", "high")
            check(p.returncode == 0, f"alice opens a case: {p.stderr}")
        alerts = os.path.join(h.T, "alerts.jsonl")
        import random
        h.write_alerts(alerts, 300, 6, random.Random(7))
        p = bob.run("import", alerts)
        check(p.returncode == 0, f"bob imports alerts: {p.stderr}")
        gina.run("case", "new", "--title", "globex only", "--severity", "low")
        for c in (alice, bob, gina, alice, bob):
            c.must_sync("before the move")
        p = alice.run("note", "#1", "handed to bob")
        alice.must_sync("a note")
        bob.must_sync("bob hears it")
        body = open(alerts, "rb").read()[:4000].rsplit(b"\n", 1)[0] + b"\n"
        st, _, first = h.req(srv.port, "POST", "/v1/alerts", tok["sensor"], body,
                             {"Idempotency-Key": "eve-1"})
        eq(st, 200, "the sensor's ingest on SQLite")
        bob.must_sync("bob pulls the ingest")
        before = {n: h.server_sql(srv, tid, "SELECT seq, id FROM ops ORDER BY seq DESC LIMIT 1")
                  for n, tid in tenants.items()}
        digest_before = alice.digest()
        port = srv.port
        srv.stop()
        srv = None

        # --- the move ---------------------------------------------------------------------
        to = pg.new_db("moved")
        pdata = os.path.join(h.T, "pgdata")
        p = run_vigild("--data", pdata, "migrate-store", "--from", h.D, "--to", to)
        eq(p.returncode, 0, f"migrate-store exits 0: {p.stderr}")
        for n in tenants:
            seq = before[n][0][0]
            check(f"tenant {n}: {seq} ops, head {seq}:" in p.stdout and "the same in" in p.stdout,
                  f"it names {n}'s head, read back from the database: {p.stdout!r}")
        check("vigild --data " + pdata in p.stdout, "and says how to serve it")
        again = run_vigild("--data", os.path.join(h.T, "pg2"), "migrate-store", "--from", h.D,
                           "--to", to)
        eq(again.returncode, 1, "a second move into the same database is refused")
        check("already holds 2 tenants" in again.stderr and "empty store" in again.stderr,
              f"saying why: {again.stderr!r}")
        none = run_vigild("migrate-store", "--from", os.path.join(h.T, "nowhere"), "--to", to)
        eq(none.returncode, 1, "a directory that holds no vigild data is refused")
        check("no server.db" in none.stderr, f"naming what is missing: {none.stderr!r}")
        bad = run_vigild("migrate-store", "--from", h.D, "--to", "postgresql://[bad")
        eq(bad.returncode, 1, "a URL that does not parse is refused")
        check("not a PostgreSQL connection string" in bad.stderr, f"saying so: {bad.stderr!r}")
        use = run_vigild("migrate-store", "--from", h.D)
        eq(use.returncode, 2, "migrate-store without --to is a usage error")
        rows = pg.psql("SELECT count(*) FROM tenants", db="moved").strip()
        eq(rows, "2", "the refused runs wrote nothing: two tenants, once")

        # --- serving the database: the analysts notice nothing --------------------------
        fd = os.open(os.path.join(pdata, "store"), os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, (to + "\n").encode())
        os.close(fd)
        os.chmod(os.path.join(pdata, "store"), 0o644)
        p = run_vigild("--data", pdata, "tenant", "ls")
        eq(p.returncode, 1, "DIR/store that others may read is refused")
        check("chmod 600" in p.stderr and "store" in p.stderr, f"saying how: {p.stderr!r}")
        os.chmod(os.path.join(pdata, "store"), 0o600)
        p = run_vigild("--data", pdata, "tenant", "ls", "--json")
        eq(sorted(t["name"] for t in json.loads(p.stdout or "[]")), ["acme", "globex"],
           "DIR/store names the database: tenant ls lists the moved tenants")
        h.D = pdata  # the harness's Server and vigild calls now run on the moved store
        srv = h.Server(port)  # where the analysts' remotes point
        st, _, who = h.req(srv.port, "GET", "/v1/whoami", tok["alice"])
        eq(st, 200, "alice's token works on the moved store")
        eq(json.loads(who)["tenant"], "acme", "and names her tenant")
        st, hdr, _ = h.req(srv.port, "POST", "/v1/alerts", tok["sensor"], body,
                           {"Idempotency-Key": "eve-1"})
        eq(st, 200, "the sensor's retry of the same key after the move")
        url = f"http://127.0.0.1:{srv.port}"
        # the same server, moved: the cursors still hold (the log is op for op the same)
        for c in (alice, bob, gina):
            rc, j, err = c.sync()
            eq(rc, 0, f"{c.name}'s first sync after the move: {err}")
            check(not (j or {}).get("reset"), f"{c.name}'s cursor holds: no reset ({j})")
        p = bob.run("note", "#2", "after the move")
        bob.must_sync("bob writes after the move")
        alice.must_sync("alice hears it")
        carol = h.Client("carol")
        h.vigild("user", "add", "acme", "carol", "--role", "analyst")
        carol.join(url, h.vigild("token", "new", "acme", "carol").split()[-1])
        carol.must_sync("carol joins the moved tenant (a snapshot)")
        h.converged([alice, bob, carol], "acme after the move")
        check(alice.digest() != digest_before, "bob's note after the move reached alice")
        gina.must_sync("gina after the move")
        eq(len(gina.cases()), 1, "globex still holds gina's one case, and nothing of acme's")
        heads = pg.psql("SELECT t.name, h.seq FROM heads h JOIN tenants t USING (tenant_id)"
                        " ORDER BY t.name", db="moved").split()
        got = dict(x.split("|") for x in heads)
        eq(int(got["globex"]), before["globex"][0][0], "globex's head in the database is the"
           " directory's")
        check(int(got["acme"]) > before["acme"][0][0], "acme's log went on from the moved head")
    finally:
        if srv:
            srv.stop()
        pg.stop()
    h.finish(t0)


main()
