#!/usr/bin/env python3
"""tests/server/sync.py VIGIL VIGILD — the sync protocol as vigild(8) states it, against
the real vigild on a loopback port: ref leases, push (who may push what, whole or
nothing, compressed bodies), pull (pages, cursors, a restored server's 409, the
long-poll), alert ingest (the counts of `vigil import`, idempotency keys) and a
parked pull answered on SIGTERM. Ops are written here in their wire form (what a
client sends), so each refusal is tested apart from any client."""
import gzip
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wireops import Replica, lines, ulid  # noqa: E402

VIGIL, VIGILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
T = tempfile.mkdtemp(prefix="vigil-sync-")
D = os.path.join(T, "data")
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", what, flush=True)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, wanted {want!r}")


def vigild(*args):
    p = subprocess.run([VIGILD, "--data", D, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"vigild {' '.join(args)}: {p.stderr}")
    return p.stdout


REPLICA = Replica()
ORIGIN = REPLICA.origin


def op(kind, target, payload, actor="a-analyst", tenant="", **over):
    return REPLICA.op(kind, target, payload, actor, tenant, **over)


class Server:
    def __init__(self):
        self.log = open(os.path.join(T, "log"), "ab")
        port_file = os.path.join(T, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.p = subprocess.Popen([VIGILD, "--data", D, "--listen", "127.0.0.1:0",
                                   "--port-file", port_file], stderr=self.log)
        for _ in range(200):
            if os.path.exists(port_file) and os.path.getsize(port_file):
                break
            time.sleep(0.05)
        self.port = int(open(port_file).read())

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        return self.p.wait(20)


def req(method, path, token=None, body=None, headers=None, timeout=30):
    """(status, headers dict lower-cased, body bytes)"""
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    hd = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hd, data


def jbody(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


def err_is(res, status, field, what):
    s, _, data = res
    eq(s, status, what + ": status")
    j = jbody(data) or {}
    e = j.get("error", {})
    eq(e.get("status"), status, what + ": error.status")
    if field is not None:
        eq(e.get("field"), field, what + ": error.field")
    return e.get("message", "")


def pull(token, after=0, oid=None, **q):
    path = f"/v1/ops?after={after}"
    if oid:
        path += "&id=" + oid
    for k, v in q.items():
        path += f"&{k}={v}"
    s, h, data = req("GET", path, token)
    ops = [json.loads(l) for l in data.decode().splitlines() if l]
    return s, h, ops


def head(token):
    s, h, _ = pull(token, max=1024)
    return int(h.get("vigil-head", "-1"))


def zstd(data, *flags):
    return subprocess.run(["zstd", "-q", "-c", *flags], input=data, capture_output=True).stdout


try:
    # --- set-up: two tenants, a user of each role, tokens ----------------------------
    vigild("tenant", "add", "acme")
    vigild("tenant", "add", "globex")
    TOK = {}
    for role in ("admin", "analyst", "viewer", "ingest"):
        vigild("user", "add", "acme", "a-" + role, "--role", role)
        TOK[role] = vigild("token", "new", "acme", "a-" + role).split()[-1]
    vigild("user", "add", "acme", "a-analyst2", "--role", "analyst")
    TOK["analyst2"] = vigild("token", "new", "acme", "a-analyst2").split()[-1]
    vigild("user", "add", "globex", "g-analyst", "--role", "analyst")
    TOK["globex"] = vigild("token", "new", "globex", "g-analyst").split()[-1]
    srv = Server()
    s, _, data = req("GET", "/v1/whoami", TOK["analyst"])
    ACME_ID = jbody(data)["tenant_id"]

    # --- ref leases --------------------------------------------------------------------
    s, _, data = req("POST", "/v1/refs", TOK["analyst"], b'{"want": 5}')
    eq(s, 200, "an analyst leases refs")
    lease = jbody(data)
    check(lease["hi"] - lease["lo"] == 4, f"a lease of 5 refs: {lease}")
    s, _, data = req("POST", "/v1/refs", TOK["analyst2"], b'{"want": 3}')
    lease2 = jbody(data)
    check(lease2["lo"] > lease["hi"], f"the next lease follows the last: {lease} {lease2}")
    s, _, data = req("POST", "/v1/refs", TOK["globex"], b'{"want": 2}')
    eq(jbody(data)["lo"], 1, "each tenant counts its own refs")
    err_is(req("POST", "/v1/refs", TOK["viewer"], b'{"want": 5}'), 403, None,
           "a viewer leases no refs")
    err_is(req("POST", "/v1/refs", TOK["analyst"], b'{"want": 0}'), 400, "want", "want 0")
    err_is(req("POST", "/v1/refs", TOK["analyst"], b'{"want": 2000000}'), 400, "want",
           "want too many")
    err_is(req("POST", "/v1/refs", TOK["analyst"], b'{"want": 1, "lo": 1}'), 400, "lo",
           "an unknown member")
    err_is(req("POST", "/v1/refs", TOK["analyst"], b'{"want": 1, "want": 2}'), 400, "want",
           "duplicate keys")

    # --- push ----------------------------------------------------------------------------
    case1 = ulid()
    create1 = op("case.create", case1, {"title": "Phish at acme", "ref": lease["lo"]})
    note1 = op("note.add", ulid(), {"case": case1, "body": "first note"})
    msg = lines(create1, note1)
    s, _, data = req("POST", "/v1/ops", TOK["analyst"], msg)
    eq(s, 200, "a push of a case and its note")
    eq((jbody(data) or {}).get("applied"), 2, "both applied")
    H = jbody(data)["head"]
    s, _, data = req("POST", "/v1/ops", TOK["analyst"], msg)
    eq((jbody(data)["applied"], jbody(data)["known"]), (0, 2), "a retried push stores nothing")
    eq(head(TOK["viewer"]), H, "and the log did not grow")
    s, _, data = req("GET", "/v1/cases", TOK["viewer"])
    eq([(c["ref"], c["title"]) for c in jbody(data)["cases"]], [(lease["lo"], "Phish at acme")],
       "the pushed case is the tenant's, with its leased ref")

    def refused(msg_ops, status, field, what, token="analyst", **hdr):
        before = head(TOK["viewer"])
        m = err_is(req("POST", "/v1/ops", TOK[token], msg_ops, hdr), status, field, what)
        eq(head(TOK["viewer"]), before, what + ": nothing of the message stored")
        return m

    c2 = ulid()
    good = op("case.create", c2, {"title": "ok", "ref": lease["lo"] + 1})
    m = refused(lines(good, op("note.add", ulid(), {"case": c2, "body": "x"}, actor="a-admin")),
                403, "actor", "an op claiming another actor")
    check("a-admin" in m and "a-analyst" in m, f"the refusal names both: {m}")
    refused(lines(op("case.create", ulid(), {"title": "t", "ref": lease["lo"] + 1},
                     tenant=ulid())), 403, "tenant", "an op naming another tenant")
    # the tenant's own id is fine
    s, _, _ = req("POST", "/v1/ops", TOK["analyst"],
                  lines(op("note.add", ulid(), {"case": case1, "body": "t"}, tenant=ACME_ID)))
    eq(s, 200, "an op naming its own tenant")
    refused(lines(op("case.create", ulid(), {"title": "t", "ref": 999})), 403, "ref",
            "a case with a ref leased to nobody")
    refused(lines(op("case.create", ulid(), {"title": "t", "ref": lease2["lo"]})), 403, "ref",
            "a case with a ref leased to another user", token="analyst")
    refused(lines(op("case.create", ulid(), {"title": "t"})), 400, "ref",
            "a case without a ref (a replica's door would number it its own way)")
    refused(lines(op("case.renumber", case1, {"ref": lease["lo"] + 2})), 403, "ref",
            "renumbering a synced case")
    # renumbered in the message that creates it: what a joining replica sends
    c3 = ulid()
    s, _, data = req("POST", "/v1/ops", TOK["analyst"],
                     lines(op("case.create", c3, {"title": "made offline", "ref": 7}),
                           op("case.renumber", c3, {"ref": lease["lo"] + 2})))
    eq(s, 200, "a case renumbered into the pusher's lease in the message that makes it")
    m = refused(lines(good, op("note.add", ulid(), {"case": ulid(), "body": "orphan"})), 400,
                "line 2", "a note whose case is missing (a stamped op's parent)")
    refused(lines(good) + b'{"id": "nope"}\n', 400, "line 2", "a malformed line after a good one")
    refused(lines(good) + b'\xff\xfe\n', 400, "line 2", "invalid UTF-8")
    refused(b"[" * 10000 + b"]" * 10000 + b"\n", 400, "line 1", "10,000-deep JSON")
    bad_utf8 = lines(op("note.add", ulid(), {"case": case1, "body": "x"})).replace(
        b'"x"', b'"\xc3\x28"')
    refused(bad_utf8, 400, "line 1", "invalid UTF-8 inside a payload")
    refused(lines(op("note.add", ulid(), {"case": case1, "body": "x"}, nope=1)), 400, "line 1",
            "an unknown member")
    err_is(req("POST", "/v1/ops", TOK["viewer"], lines(good)), 403, None, "a viewer cannot push")
    err_is(req("POST", "/v1/ops", TOK["ingest"], lines(good)), 403, None, "ingest cannot push")
    err_is(req("POST", "/v1/ops", None, lines(good)), 401, None, "no token")
    # a ledger session is its owner's alone
    sess = ulid()
    s, _, _ = req("POST", "/v1/ops", TOK["analyst"], lines(op(
        "ledger.add", sess, {"case": case1, "user": "a-analyst", "seq": 1,
                             "kind": "prompt", "content": "summarise"})))
    eq(s, 200, "an analyst's own ledger session")
    refused(lines(op("ledger.add", sess, {"case": case1, "user": "a-analyst2", "seq": 2,
                                          "kind": "prompt", "content": "mine now"}, actor="a-analyst2")),
            403, "session", "appending to another user's session", token="analyst2")

    # compressed bodies
    c4 = ulid()
    zmsg = lines(op("case.create", c4, {"title": "zstd", "ref": lease["lo"] + 3}))
    s, _, data = req("POST", "/v1/ops", TOK["analyst"], zstd(zmsg),
                     {"Content-Encoding": "zstd"})
    eq((s, (jbody(data) or {}).get("applied")), (200, 1), "a zstd push")
    gmsg = lines(op("note.add", ulid(), {"case": c4, "body": "gzip"}))
    s, _, data = req("POST", "/v1/ops", TOK["analyst"], gzip.compress(gmsg),
                     {"Content-Encoding": "gzip"})
    eq((s, (jbody(data) or {}).get("applied")), (200, 1), "a gzip push")
    big = lines(*[op("note.add", ulid(), {"case": c4, "body": "n" * 200}) for _ in range(200)])
    refused(zstd(big)[:-20], 400, "Content-Encoding", "a truncated zstd body",
            **{"Content-Encoding": "zstd"})
    refused(gzip.compress(big)[:-20], 400, "Content-Encoding", "a truncated gzip body",
            **{"Content-Encoding": "gzip"})
    refused(b"not zstd at all", 400, "Content-Encoding", "a corrupt zstd body",
            **{"Content-Encoding": "zstd"})
    bomb = zstd(b"\n" * (17 << 20), "-19")
    check(len(bomb) < 100000, f"the bomb is small on the wire ({len(bomb)} bytes)")
    refused(bomb, 413, "Content-Encoding", "a body that inflates past the 16 MB cap",
            **{"Content-Encoding": "zstd"})
    err_is(req("POST", "/v1/ops", TOK["analyst"], b"x", {"Content-Encoding": "br"}), 415,
           "Content-Encoding", "an encoding vigild does not take")

    # --- pull ----------------------------------------------------------------------------
    s, h, ops = pull(TOK["viewer"])
    eq(s, 200, "a viewer pulls")
    eq(h.get("content-type"), "application/x-ndjson", "pull is NDJSON")
    seqs = [o["seq"] for o in ops]
    eq(seqs, list(range(1, len(ops) + 1)), "the seqs are gap-free from 1")
    eq(int(h["vigil-upto"]), seqs[-1], "Vigil-Upto is the last seq of the page")
    eq(int(h["vigil-head"]), seqs[-1], "Vigil-Head is the newest")
    check(create1["id"] in [o["id"] for o in ops], "the pushed ops are in the pull")
    pushed = [o for o in ops if o["id"] == create1["id"]][0]
    eq(pushed["payload"], create1["payload"], "an op's payload comes back as it was sent")
    # pages
    got, after, aid, pages = [], 0, None, 0
    while True:
        s, h, page = pull(TOK["viewer"], after, aid, max=1024)
        pages += 1
        if not page:
            break
        got += page
        after, aid = page[-1]["seq"], page[-1]["id"]
        if after >= int(h["vigil-head"]):
            break
    eq([o["id"] for o in got], [o["id"] for o in ops], "pages of 1 KB give the same ops")
    check(pages > 2, f"in several pages ({pages})")
    s, h, _ = req("GET", "/v1/ops?after=0", TOK["viewer"], headers={"Accept-Encoding": "zstd"})
    eq(h.get("content-encoding"), "zstd", "a large page is zstd for a client that takes it")
    s, h, _ = req("GET", "/v1/ops?after=0", TOK["viewer"], headers={"Accept-Encoding": "gzip"})
    eq(h.get("content-encoding"), "gzip", "or gzip")
    # cursors
    last = ops[-1]
    s, h, page = pull(TOK["viewer"], last["seq"], last["id"])
    eq((s, page, h["vigil-upto"]), (200, [], str(last["seq"])), "nothing after the head")
    err_is(req("GET", f"/v1/ops?after={last['seq']}&id={ulid()}", TOK["viewer"]), 409, "id",
           "a cursor naming an op this server does not hold there")
    err_is(req("GET", f"/v1/ops?after={last['seq'] + 5}&id={last['id']}", TOK["viewer"]), 409,
           "id", "a cursor past the head (a server restored from an older copy)")
    err_is(req("POST", "/v1/ops", TOK["analyst"], lines(good),
               {"Vigil-Pulled": f"{last['seq'] + 5} {last['id']}"}), 409, "Vigil-Pulled",
           "a push from a replica that pulled more than this server holds")
    # a replica's own ops come back as its cursor's move, not as their bytes
    s, h, mine = pull(TOK["viewer"], skip_origin=ORIGIN)
    eq([o for o in mine if o["origin"] == ORIGIN], [], "skip_origin leaves out that replica's ops")
    eq([o["id"] for o in mine], [o["id"] for o in ops if o["origin"] != ORIGIN],
       "and sends every other op")
    eq((int(h["vigil-upto"]), h.get("vigil-upto-id")), (last["seq"], last["id"]),
       "Vigil-Upto and Vigil-Upto-Id name the last op looked at, though it was left out")
    err_is(req("GET", "/v1/ops?skip_origin=nope", TOK["viewer"]), 400, "skip_origin",
           "a skip_origin that is no replica id")
    err_is(req("GET", "/v1/ops?after=3", TOK["viewer"]), 400, "id", "after without id")
    for q, f in (("after=-1", "after"), ("wait=31", "wait"), ("max=10", "max"), ("after=x", "after")):
        err_is(req("GET", "/v1/ops?" + q, TOK["viewer"]), 400, f, q)
    err_is(req("GET", "/v1/ops", TOK["ingest"]), 403, None, "ingest cannot pull")
    s, h, gops = pull(TOK["globex"])
    eq((s, gops), (200, []), "another tenant's pull holds none of acme's ops")

    # long-poll: a parked pull hears a push within a second
    res = {}

    def parked():
        t0 = time.time()
        res["r"] = pull(TOK["viewer"], last["seq"], last["id"], wait=10)
        res["t"] = time.time() - t0

    th = threading.Thread(target=parked)
    th.start()
    time.sleep(0.5)
    wake = op("note.add", ulid(), {"case": case1, "body": "wake up"})
    t_push = time.time()
    req("POST", "/v1/ops", TOK["analyst"], lines(wake))
    th.join(15)
    s, h, page = res["r"]
    eq([o["id"] for o in page], [wake["id"]], "a parked pull answers with the new op")
    check(res["t"] - 0.5 < 2.0, f"within a second or so of the push ({res['t']:.2f} s)")
    # another tenant's push does not wake it; the deadline does
    t0 = time.time()
    s, h, page = pull(TOK["globex"], wait=1)
    dt = time.time() - t0
    eq((s, page), (200, []), "a long-poll with nothing new ends empty")
    check(0.9 <= dt < 3, f"at its deadline ({dt:.2f} s)")

    # --- ingest ----------------------------------------------------------------------
    eve = open(os.path.join(FIXTURES, "import", "suricata.eve.json"), "rb").read()
    ws = os.path.join(T, "local.db")
    p = subprocess.run([VIGIL, "--db", ws, "import", "--json", "-"], input=eve,
                       capture_output=True)
    local = json.loads(p.stdout)
    s, h, data = req("POST", "/v1/alerts", TOK["ingest"], eve, {"Idempotency-Key": "eve-1"})
    eq(s, 200, "an ingest token posts alerts")
    ans = jbody(data) or {}
    for k in ("read", "stored", "merged", "cases_created", "rejected", "skipped"):
        eq(ans.get(k), local.get(k), f"ingest's {k} is vigil import's")
    s, _, snapz = req("GET", "/v1/snapshot", TOK["viewer"])
    srvdb = os.path.join(T, "after-ingest.db")
    open(srvdb, "wb").write(subprocess.run(["zstd", "-dqc"], input=snapz,
                                           capture_output=True).stdout)
    import sqlite3
    q = "SELECT source_ref, title, techniques FROM alerts ORDER BY source_ref, title"
    eq(sqlite3.connect(srvdb).execute(q).fetchall(), sqlite3.connect(ws).execute(q).fetchall(),
       "ingested alerts are the imported ones, ATT&CK techniques mapped alike")
    s, _, data = req("GET", "/v1/cases?limit=500", TOK["viewer"])
    refs = [c["ref"] for c in jbody(data)["cases"]]
    eq(len(refs), len(set(refs)), "the cases ingest opened take refs no replica holds")
    H = head(TOK["viewer"])
    s, h, data = req("POST", "/v1/alerts", TOK["ingest"], eve, {"Idempotency-Key": "eve-1"})
    eq((s, jbody(data)), (200, ans), "a retried key answers the first answer again")
    eq(h.get("idempotent-replayed"), "true", "saying it was replayed")
    eq(head(TOK["viewer"]), H, "and stores nothing")
    err_is(req("POST", "/v1/alerts", TOK["ingest"], eve[:-300], {"Idempotency-Key": "eve-1"}),
           422, "Idempotency-Key", "a key reused with another body")
    err_is(req("POST", "/v1/alerts", TOK["ingest"], eve, {"Idempotency-Key": "a b"}), 400,
           "Idempotency-Key", "a key with a space")
    s, _, data = req("POST", "/v1/alerts", TOK["ingest"], gzip.compress(eve),
                     {"Content-Encoding": "gzip"})
    eq((s, (jbody(data) or {}).get("read")), (200, local["read"]), "a gzip ingest")
    s, _, data = req("POST", "/v1/alerts", TOK["ingest"], b'{"not": "an alert"}\n')
    eq((s, jbody(data)["rejected"]), (200, 1), "a record no format knows is counted rejected")
    check("line 1" in jbody(data).get("first_rejected", ""), "and the first rejected is named")
    s, _, data = req("POST", "/v1/refs", TOK["analyst"], b'{"want": 2}')
    check(jbody(data)["lo"] > max(refs), "a lease after an ingest starts past its cases' refs")
    err_is(req("POST", "/v1/alerts", TOK["globex"] + "x", eve), 401, None, "a bad token")

    # --- a snapshot to start from -----------------------------------------------------
    s, h, data = req("GET", "/v1/snapshot", TOK["viewer"])
    eq((s, h.get("content-type")), (200, "application/zstd"), "a viewer fetches a snapshot")
    snap = os.path.join(T, "snap.db")
    open(snap, "wb").write(subprocess.run(["zstd", "-dqc"], input=data,
                                          capture_output=True).stdout)
    import sqlite3
    con = sqlite3.connect(snap)
    eq(con.execute("SELECT max(seq) FROM ops").fetchone()[0], int(h["vigil-head"]),
       "the snapshot holds the log up to Vigil-Head")
    eq(con.execute("SELECT id FROM ops ORDER BY seq DESC LIMIT 1").fetchone()[0],
       h["vigil-head-id"], "and Vigil-Head-Id is its newest op")
    eq(con.execute("SELECT count(*) FROM meta WHERE key IN ('replica', 'refs')"
                   " OR key GLOB 'aux:*'").fetchone()[0], 0,
       "without vigild's replica id, ref lease or idempotency records")
    con.close()
    p = subprocess.run([VIGIL, "--db", snap, "audit", "verify"], capture_output=True, text=True)
    eq(p.returncode, 0, "the snapshot is a workspace whose log verifies: " + p.stderr[:200])
    s2, h2, data2 = req("GET", "/v1/snapshot", TOK["analyst"])
    eq((s2, h2.get("vigil-head")), (200, h["vigil-head"]), "a second fetch, nothing new")
    err_is(req("GET", "/v1/snapshot", TOK["ingest"]), 403, None, "ingest fetches no snapshot")
    s, h, data = req("GET", "/v1/snapshot", TOK["globex"])
    check(b"Phish at acme" not in subprocess.run(["zstd", "-dqc"], input=data,
                                                  capture_output=True).stdout,
          "another tenant's snapshot holds none of acme's cases")

    # --- SIGTERM answers a parked pull at once -------------------------------------
    res = {}

    _, _, everything = pull(TOK["viewer"])
    tail = everything[-1]

    def parked2():
        res["r"] = req("GET", f"/v1/ops?after={tail['seq']}&id={tail['id']}&wait=30",
                       TOK["viewer"])

    th = threading.Thread(target=parked2)
    th.start()
    time.sleep(1)
    t0 = time.time()
    rc = srv.stop()
    th.join(10)
    eq(rc, 0, "vigild exits 0 on SIGTERM with a pull parked")
    check(time.time() - t0 < 5, f"without waiting out the long-poll ({time.time() - t0:.1f} s)")
    eq(res.get("r", (None,))[0], 200, "the parked pull was answered")
finally:
    try:
        srv.p.kill()
    except Exception:
        pass
    shutil.rmtree(T, ignore_errors=True)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
