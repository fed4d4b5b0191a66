#!/usr/bin/env python3
"""tests/server/rls.py VIGIL VIGILD — row-level security on vigild's PostgreSQL store: a
query written without a tenant filter still returns nothing of another tenant.

A throwaway cluster (pgcluster.py); vigild makes and migrates its schema there and
serves two tenants, acme and globex, each given users, tokens, ref leases, ops and an
alert ingest with an idempotency key, so that every tenant table holds rows of both.
Then, connected as the vigild role itself (NOSUPERUSER, no BYPASSRLS: what vigild
connects as), over every table with a tenant_id column: row-level security is on and
FORCE'd; with vigil.tenant set to acme's id, SELECT count(*) with no WHERE counts
acme's rows alone, and none of globex's is in view; with the setting unset (never
set, RESET, empty, an id that is no tenant's) zero rows; with '*' every row. Writes
across the line are refused or touch nothing: an INSERT of a globex row while the
setting is acme's, an UPDATE moving an acme row to globex, and an UPDATE or DELETE of
globex's rows (none in view: zero rows, and globex's rows are all still there)."""
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402
from pgcluster import PgError  # noqa: E402

# the tables vigild's PostgreSQL store keeps per tenant (each has tenant_id)
TENANT_TABLES = ["tenants", "users", "tokens", "ref_counters", "ref_leases", "heads", "ops", "idem"]

EVE = (b'{"timestamp":"2026-11-04T21:57:58.102938+0000","event_type":"alert",'
       b'"src_ip":"203.0.113.45","dest_ip":"10.0.1.10","proto":"TCP",'
       b'"alert":{"signature_id":2001219,"signature":"ET SCAN Potential SSH Scan",'
       b'"severity":2}}\n')


def main():
    t0 = time.time()
    pgcluster.require_store(os.path.abspath(sys.argv[2]))
    pg = pgcluster.Cluster().start()
    os.environ["VIGILD_STORE"] = pg.url()  # the harness's vigild calls and Server use it
    import converge as h  # noqa: E402  (after VIGILD_STORE: its STORE)
    from converge import check, eq  # noqa: E402
    from wireops import Replica, lines, ulid  # noqa: E402
    h.setup("vigil-rls-")
    srv = None

    def q(sql, tenant=None):
        """sql as the vigild role: with vigil.tenant = tenant (None: never set)."""
        return pg.psql(sql, as_vigild=True,
                       options=None if tenant is None else f"-c vigil.tenant={tenant}")

    try:
        # --- two tenants with rows in every table, through vigild ----------------------
        tok = {}
        for tenant, users in (("acme", ["alice", "bob"]), ("globex", ["gina"])):
            tok.update(h.team(tenant, users))
        h.vigild("user", "add", "acme", "ingest", "--role", "ingest")
        tok["ingest-a"] = h.vigild("token", "new", "acme", "ingest").split()[-1]
        h.vigild("user", "add", "globex", "ingest", "--role", "ingest")
        tok["ingest-g"] = h.vigild("token", "new", "globex", "ingest").split()[-1]
        tenants = {t["name"]: t["id"] for t in json.loads(h.vigild("tenant", "ls", "--json"))}
        A, B = tenants["acme"], tenants["globex"]
        srv = h.Server()
        pushed = {}
        for user, n_notes in (("alice", 6), ("bob", 2), ("gina", 3)):
            rep = Replica()
            s, _, data = h.req(srv.port, "POST", "/v1/refs", tok[user], b'{"want": 2}')
            eq(s, 200, f"{user} leases refs")
            case = ulid()
            ops = [rep.op("case.create", case, {"title": f"{user}'s case",
                                                "ref": json.loads(data)["lo"]}, user)]
            ops += [rep.op("note.add", ulid(), {"case": case, "body": f"{user} {i}"}, user)
                    for i in range(n_notes)]
            s, _, data = h.req(srv.port, "POST", "/v1/ops", tok[user], lines(*ops))
            eq(s, 200, f"{user} pushes {len(ops)} ops: {data[:200]!r}")
            pushed[user] = {o["id"] for o in ops}
        for who in ("ingest-a", "ingest-g"):
            s, _, data = h.req(srv.port, "POST", "/v1/alerts", tok[who], EVE,
                               {"Idempotency-Key": "rls-" + who})
            eq(s, 200, f"{who} posts an alert with an idempotency key: {data[:200]!r}")

        def pulled(token):
            s, hd, data = h.req(srv.port, "GET", "/v1/ops?after=0&max=8388608", token)
            return [json.loads(x) for x in data.decode().splitlines() if x]

        a_ops, b_ops = pulled(tok["alice"]), pulled(tok["gina"])
        check({o["id"] for o in a_ops} >= pushed["alice"] | pushed["bob"],
              "acme's pull holds acme's pushes")
        check(len(a_ops) != len(b_ops), f"the tenants' logs differ in length "
                                        f"({len(a_ops)}, {len(b_ops)}): the counts tell them apart")
        srv.stop()
        srv = None

        # --- the role vigild connects as ----------------------------------------------
        eq(q("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"),
           "f|f", "the vigild role is no superuser and does not bypass row-level security")

        # --- the tables ---------------------------------------------------------------
        have = set(q("SELECT table_name FROM information_schema.columns WHERE table_schema ="
                     " 'public' AND column_name = 'tenant_id'").split())
        eq(sorted(set(TENANT_TABLES) - have), [], "vigild's per-tenant tables have tenant_id")
        tables = sorted(have)
        print("tenant tables:", " ".join(tables), flush=True)
        for t in tables:
            eq(q(f"SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid ="
                 f" 'public.{t}'::regclass"), "t|t", f"{t}: row-level security on and FORCE'd")

        def counts(t, tenant):
            """{tenant_id: rows} of t as seen with vigil.tenant = tenant."""
            out = q(f"SELECT tenant_id, count(*) FROM {t} GROUP BY 1", tenant)
            return {r.split("|")[0]: int(r.split("|")[1]) for r in out.splitlines()}

        every = {t: counts(t, "*") for t in tables}
        for t in TENANT_TABLES:
            check(every[t].get(A, 0) > 0 and every[t].get(B, 0) > 0,
                  f"{t} holds rows of both tenants (as '*'): {every[t]}")
        eq(every["ops"].get(A), len(a_ops), "acme's ops rows are its pull's ops")
        eq(every["ops"].get(B), len(b_ops), "globex's ops rows are its pull's ops")

        # --- unscoped reads -------------------------------------------------------------
        for t in tables:
            eq(int(q(f"SELECT count(*) FROM {t}", A)), every[t].get(A, 0),
               f"SELECT count(*) FROM {t}, no WHERE, as acme: acme's rows alone")
            eq(q(f"SELECT count(*) FROM {t} WHERE tenant_id <> '{A}'", A), "0",
               f"{t} as acme: no row of another tenant in view")
            eq(int(q(f"SELECT count(*) FROM {t}", B)), every[t].get(B, 0),
               f"SELECT count(*) FROM {t} as globex: globex's rows alone")
            for what, sql, tenant in (
                    ("never set", f"SELECT count(*) FROM {t}", None),
                    ("RESET", f"SET vigil.tenant = '{A}'; RESET vigil.tenant;"
                              f" SELECT count(*) FROM {t}", None),
                    ("empty", f"SELECT count(*) FROM {t}", ""),
                    ("an id that is no tenant's", f"SELECT count(*) FROM {t}", ulid()),
                    ("acme's id lower-cased", f"SELECT count(*) FROM {t}", A.lower())):
                eq(q(sql, tenant), "0", f"{t} with vigil.tenant {what}: zero rows")
        # ops' lines, read unscoped as acme, hold none of globex's op ids
        lines_a = q("SELECT convert_from(line, 'UTF8') FROM ops", A)
        eq([o["id"] for o in b_ops if o["id"] in lines_a], [],
           "acme's unscoped read of ops' lines holds no globex op id")
        # the setting is not the only door: a SET LOCAL in another transaction ends with it
        eq(q(f"BEGIN; SET LOCAL vigil.tenant = '{A}'; COMMIT; SELECT count(*) FROM ops"), "0",
           "a SET LOCAL ends with its transaction: zero rows after it")

        # --- writes across the line -------------------------------------------------------
        for t in tables:
            if not every[t].get(B):
                continue
            row = q(f"SELECT row_to_json(x) FROM {t} x WHERE tenant_id = '{B}' LIMIT 1", "*")
            try:
                q(f"INSERT INTO {t} SELECT * FROM json_populate_record(NULL::{t},"
                  f" $j${row}$j$::json)", A)
                check(False, f"{t}: an INSERT of a globex row as acme was accepted")
            except PgError as e:
                check("row-level security" in e.stderr,
                      f"{t}: an INSERT of a globex row as acme is refused by row-level "
                      f"security: {e.stderr.strip()[:200]}")
            eq(q(f"WITH x AS (UPDATE {t} SET tenant_id = tenant_id WHERE tenant_id = '{B}'"
                 f" RETURNING 1) SELECT count(*) FROM x", A), "0",
               f"{t}: an UPDATE of globex's rows as acme touches none")
            eq(q(f"WITH x AS (DELETE FROM {t} WHERE tenant_id = '{B}' RETURNING 1)"
                 f" SELECT count(*) FROM x", A), "0",
               f"{t}: a DELETE of globex's rows as acme deletes none")
            eq(q(f"WITH x AS (DELETE FROM {t} RETURNING 1) SELECT count(*) FROM x", ulid()),
               "0", f"{t}: a DELETE with no WHERE as no tenant deletes nothing")
            if every[t].get(A):
                try:
                    q(f"BEGIN; UPDATE {t} SET tenant_id = '{B}'; ROLLBACK", A)
                    check(False, f"{t}: an UPDATE moving acme's rows to globex was accepted")
                except PgError as e:
                    check("row-level security" in e.stderr,
                          f"{t}: an UPDATE moving acme's rows to globex is refused: "
                          f"{e.stderr.strip()[:200]}")
        # the brief's own case: an op for globex written while the setting is acme's
        try:
            row = json.loads(q(f"SELECT row_to_json(x) FROM ops x WHERE tenant_id = '{B}'"
                               f" ORDER BY seq DESC LIMIT 1", "*"))
            row.update(seq=row["seq"] + 1000, id=ulid())
            q(f"INSERT INTO ops SELECT * FROM json_populate_record(NULL::ops,"
              f" $j${json.dumps(row)}$j$::json)", A)
            check(False, "a new op row for globex inserted as acme was accepted")
        except PgError as e:
            check("row-level security" in e.stderr,
                  f"a new op row for globex inserted as acme: refused by row-level security "
                  f"({e.stderr.strip()[:200]})")
        eq({t: counts(t, "*") for t in tables}, every, "and every table is as it was")
        # and vigild still serves both tenants their own
        srv = h.Server()
        eq([o["id"] for o in pulled(tok["gina"])], [o["id"] for o in b_ops],
           "globex's pull after it all: its log as it was")
    finally:
        if srv and srv.p.poll() is None:
            srv.p.kill()
        if h.failed:
            print("the PostgreSQL log's end:\n" + pg.log_tail(), flush=True)
        pg.stop()
        shutil.rmtree(h.T, ignore_errors=True)
    h.finish(t0)


if __name__ == "__main__":
    main()
