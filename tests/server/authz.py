#!/usr/bin/env python3
"""tests/server/authz.py VIGIL VIGILD — who may do what on vigild: every route of
src/server/routes.c's table (and a route that is not there) x every kind of caller (no
token, a malformed one, a revoked one, each role, another tenant's analyst), the status
each cell must answer written as a table, and in every refused answer, and in every
answer to the other tenant, not one byte of the tenant's data (its case titles and ids,
note bodies, op ids). Then the owned objects: a copilot ledger session is its owner's
alone (the hole a peer product shipped: a session looked up by tenant, not by user), and
a case id, a session id or an op id of another tenant gets the very answer an id that
exists nowhere gets (the other hole: a caller-supplied case id taken without an
ownership check; and no existence leak)."""
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import converge as h  # noqa: E402  the harness: checks, vigild, workspaces
from converge import check, eq  # noqa: E402
from wireops import Replica, lines, ulid  # noqa: E402

op = Replica().op


EVE = (b'{"timestamp":"2026-11-04T21:57:58.102938+0000","event_type":"alert",'
       b'"src_ip":"203.0.113.45","dest_ip":"10.0.1.10","proto":"TCP",'
       b'"alert":{"signature_id":2001219,"signature":"ET SCAN Potential SSH Scan",'
       b'"severity":2}}\n')

CALLERS = ["none", "malformed", "revoked", "admin", "analyst", "viewer", "ingest", "other"]
# route: the status for each caller, in CALLERS' order
MATRIX = {
    ("GET", "/v1/health"):  [200, 200, 200, 200, 200, 200, 200, 200],
    ("GET", "/v1/whoami"):  [401, 401, 401, 200, 200, 200, 200, 200],
    ("GET", "/v1/cases"):   [401, 401, 401, 200, 200, 200, 403, 200],
    ("POST", "/v1/refs"):   [401, 401, 401, 200, 200, 403, 403, 200],
    ("POST", "/v1/ops"):    [401, 401, 401, 200, 200, 403, 403, 400],
    ("GET", "/v1/ops"):     [401, 401, 401, 200, 200, 200, 403, 200],
    ("POST", "/v1/alerts"): [401, 401, 401, 200, 200, 403, 200, 200],
    ("GET", "/v1/snapshot"): [401, 401, 401, 200, 200, 200, 403, 200],
    ("GET", "/v1/users"):   [401, 401, 401, 200, 200, 200, 403, 200],
    ("GET", "/v1/nope"):    [404, 404, 404, 404, 404, 404, 404, 404],
    ("DELETE", "/v1/ops"):  [405, 405, 405, 405, 405, 405, 405, 405],
}


def main():
    t0 = time.time()
    h.setup("vigil-authz-")
    srv = None
    try:
        user = {"admin": "a-admin", "analyst": "a-analyst", "viewer": "a-viewer",
                "ingest": "a-ingest"}
        tok = {}
        h.vigild("tenant", "add", "acme")
        for role, u in user.items():
            h.vigild("user", "add", "acme", u, "--role", role)
            tok[role] = h.vigild("token", "new", "acme", u).split()[-1]
        h.vigild("user", "add", "acme", "a-analyst2", "--role", "analyst")
        tok["analyst2"] = h.vigild("token", "new", "acme", "a-analyst2").split()[-1]
        tok["revoked"] = h.vigild("token", "new", "acme", "a-analyst").split()[-1]
        rows = json.loads(h.vigild("token", "ls", "acme", "--json"))
        h.vigild("token", "revoke", [t["id"] for t in rows if t["user"] == "a-analyst"][-1])
        tok.update(h.team("globex", ["g-analyst"]))
        tok["other"] = tok.pop("g-analyst")
        user["other"] = "g-analyst"
        tok["malformed"] = "vgt_" + "x" * 20
        tok["none"] = None
        srv = h.Server()

        # the tenant's data: cases and notes made with vigil, synced; a copilot session
        alice = h.Client("alice")
        alice.join(f"http://127.0.0.1:{srv.port}", tok["analyst"])
        titles, bodies = [], []
        for i in range(3):
            titles.append(f"Acme secret case {secrets.token_hex(8)}")
            c = json.loads(alice.run("case", "new", "--title", titles[-1], "--json").stdout)
            bodies.append(f"acme private note {secrets.token_hex(8)}")
            alice.run("note", c["id"], bodies[-1])
        alice.must_sync("alice pushes acme's cases")
        case = alice.cases()[0]["id"]
        session = ulid()
        s, _, _ = h.req(srv.port, "POST", "/v1/ops", tok["analyst"], lines(op(
            "ledger.add", session, {"case": case, "user": "a-analyst", "seq": 1, "kind": "prompt",
                                    "content": "acme private prompt"}, "a-analyst")))
        eq(s, 200, "a-analyst opens a copilot session")
        secret = titles + bodies + ["acme private prompt", session, case]
        secret += [k["id"] for k in alice.cases()] + list(alice.op_ids())

        def leaks(data, sent=b""):
            """The tenant's strings in an answer, but for those the request itself sent."""
            return [x for x in secret if x.encode() in data and x.encode() not in (sent or b"")]

        # --- the matrix -------------------------------------------------------------------
        def body_for(method, path, who):
            actor = user.get(who, "a-analyst")
            if (method, path) == ("POST", "/v1/refs"):
                return b'{"want": 1}'
            if (method, path) == ("POST", "/v1/ops"):
                return lines(op("note.add", ulid(), {"case": case, "body": f"by {who}"}, actor))
            if (method, path) == ("POST", "/v1/alerts"):
                return EVE
            return None

        # every route of the table has its row (a route added later is not forgotten)
        src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
                                "server", "routes.c")).read()
        routes = set(re.findall(r'\{"([A-Z]+)", "(/v1/[a-z/{}]*)"', src))
        eq(routes - set(MATRIX), set(), "every route in routes.c has a row in the matrix")

        table = []
        for (method, path), want in MATRIX.items():
            got = []
            for who, w in zip(CALLERS, want):
                body = body_for(method, path, who)
                s, hd, data = h.req(srv.port, method, path, tok[who], body)
                got.append(s)
                eq(s, w, f"{method} {path} as {who}")
                if s == 200 and hd.get("content-type") == "application/zstd":
                    data = subprocess.run(["zstd", "-dqc"], input=data,
                                          capture_output=True).stdout  # a snapshot, read
                if s >= 300 or who == "other":
                    eq(leaks(data, body), [], f"{method} {path} as {who} ({s}): bytes of acme's data")
                if s >= 400:
                    e = json.loads(data or b"{}")
                    eq(e.get("error", {}).get("status"), s,
                       f"{method} {path} as {who}: the error's shape")
            table.append(f"{method:6} {path:12} " + " ".join(f"{g:>9}" for g in got))
        print(" " * 20 + " ".join(f"{c:>9}" for c in CALLERS))
        print("\n".join(table), flush=True)

        # another tenant sees none of it
        s, _, data = h.req(srv.port, "GET", "/v1/cases?limit=500", tok["other"])
        eq((s, json.loads(data)["cases"]), (200, []), "globex's /v1/cases holds no acme case")
        s, _, data = h.req(srv.port, "GET", "/v1/ops?after=0&max=8388608", tok["other"])
        ids = {json.loads(l)["id"] for l in data.decode().splitlines() if l}
        eq(ids & alice.op_ids(), set(), "globex's pull holds none of acme's ops")
        eq(leaks(data), [], "nor any byte of acme's data")

        # --- a ledger session is its owner's alone ----------------------------------------
        def push(who, *ops, headers=None):
            s, _, data = h.req(srv.port, "POST", "/v1/ops", tok[who], lines(*ops), headers)
            return s, json.loads(data or b"{}")

        for who in ("analyst2", "admin"):
            s, j = push(who, op("ledger.add", session, {
                "case": case, "user": user.get(who, "a-analyst2"), "seq": 2, "kind": "prompt",
                "content": "mine now"}, user.get(who, "a-analyst2")))
            eq((s, j.get("error", {}).get("field")), (403, "session"),
               f"{who} appends to a-analyst's session")
        s, j = push("analyst2", op("ledger.add", session, {
            "case": case, "user": "a-analyst", "seq": 2, "kind": "prompt", "content": "as her"},
            "a-analyst2"))
        eq(s, 403, "a-analyst2 appends to it naming a-analyst as the entry's user")
        fresh = ulid()
        s, j = push("analyst2", op("ledger.add", fresh, {
            "case": case, "user": "a-analyst", "seq": 1, "kind": "prompt", "content": "forged"},
            "a-analyst2"))
        check(s in (400, 403), f"a-analyst2 opens a session in a-analyst's name: {s} {j}")
        print("a session opened in another's name:", s, j.get("error", {}).get("message"))
        s, j = push("analyst", op("ledger.add", session, {
            "case": case, "user": "a-analyst", "seq": 2, "kind": "response", "content": "ok"},
            "a-analyst"))
        eq(s, 200, f"its owner appends to it: {j}")

        # --- another tenant's ids answer as ids that exist nowhere --------------------------
        def same(kind, target_of, payload_of, what, who="other"):
            """Push kind naming acme's ids and then ids that exist nowhere: one answer."""
            ans = []
            for real in (True, False):
                c = case if real else ulid()
                t = target_of(c)
                o = op(kind, t, payload_of(c), user[who])
                s, hd, data = h.req(srv.port, "POST", "/v1/ops", tok[who], lines(o))
                eq(leaks(data, lines(o)), [], f"{what}: no acme data in the answer")
                text = data.decode().replace(o["id"], "OP").replace(c, "CASE").replace(t, "T")
                ans.append((s, text))
            eq(ans[0], ans[1], f"{what}: acme's id answers as an id that exists nowhere")
            check(ans[0][0] >= 400, f"{what}: refused ({ans[0]})")

        same("note.add", lambda c: ulid(), lambda c: {"case": c, "body": "x"},
             "globex's note on acme's case")
        same("case.set", lambda c: c, lambda c: {"field": "title", "value": "mine"},
             "globex's case.set on acme's case")
        same("artifact.add", lambda c: ulid(), lambda c: {"case": c, "type": "ip",
                                                          "value": "10.0.0.1"},
             "globex's artifact on acme's case")
        same("task.add", lambda c: ulid(), lambda c: {"case": c, "title": "t",
                                                      "phase": "containment"},
             "globex's task on acme's case")
        same("ledger.add", lambda c: session if c == case else ulid(),
             lambda c: {"case": c, "user": "g-analyst", "seq": 2, "kind": "prompt",
                        "content": "x"}, "globex's entry in acme's session")
        # a cursor naming acme's op at its seq, and one naming an op no one has
        first = sorted(alice.op_ids())[0]
        seq = [r[0] for r in h.server_sql(srv, json.loads(h.req(
            srv.port, "GET", "/v1/whoami", tok["analyst"])[2])["tenant_id"],
            f"SELECT seq FROM ops WHERE id = '{first}'")][0]
        a = [h.req(srv.port, "GET", f"/v1/ops?after={seq}&id={i}", tok["other"])
             for i in (first, ulid())]
        eq((a[0][0], a[1][0]), (409, 409), "globex's pull naming acme's op, and an unknown op")
        eq(a[0][2].replace(first.encode(), b"X"), a[1][2].replace(
            a[1][2].split(b"op ")[1][:26], b"X"), "answer alike")
        # and nothing of globex's attempts reached acme
        s, _, data = h.req(srv.port, "GET", "/v1/cases?limit=500", tok["viewer"])
        have = {c["title"] for c in json.loads(data)["cases"]}
        check(set(titles) <= have and "mine" not in have,
              f"acme's cases are as acme made them: {sorted(have)}")
    finally:
        if srv and srv.p.poll() is None:
            srv.p.kill()
        shutil.rmtree(h.T, ignore_errors=True)
    h.finish(t0)


if __name__ == "__main__":
    main()
