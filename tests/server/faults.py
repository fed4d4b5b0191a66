#!/usr/bin/env python3
"""tests/server/faults.py VIGIL VIGILD — sync when things break, with the real vigild and
the real vigil: vigild SIGKILLed mid-push (the body half sent; and again with a page
stored but its answer lost) and mid-pull, a client SIGKILLed mid-pull, and a server
restored from an older copy of its data directory. Each time: nothing lost (every op
a client wrote is on the server), nothing stored twice (the server's log has each op
id once), the next sync resumes from its cursor, and every client ends with the same
digest. The slow and the lost answers are a relay's (converge.Gate), between the
client and vigild, so the kills land where they are meant to."""
import json
import os
import random
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import converge as h  # noqa: E402  the harness: checks, vigild, relays, workspaces
from converge import check, eq  # noqa: E402


wait_for = h.wait_for


def big_outbox(c, seed):
    """Thousands of c's ops, some MB of them: an import of generated alerts (which
    opens cases), the library's playbooks applied to those cases, notes."""
    r = random.Random(seed)
    path = os.path.join(h.T, "alerts.jsonl")
    h.write_alerts(path, 40000, 20, r)  # 20 hosts' alerts: 20 cases, 20,000 ops, 7 MB
    p = c.run("import", path)
    check(p.returncode == 0, f"the import: {p.stderr}")
    ids = [k["id"] for k in c.cases()]
    for k, case in enumerate(ids):
        for pb in ("phishing", "malware-infection", "data-exfiltration", "insider-data-theft"):
            c.run("playbook", "apply", case, pb)
        c.run("note", case, f"note {k}: " + f"{r.getrandbits(2000):0500x}")
    return len(c.op_ids())


def main():
    t0 = time.time()
    h.setup("vigil-faults-")
    seed = int(os.environ.get("VIGIL_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"seed {seed} (VIGIL_SEED={seed} runs this one again)", flush=True)
    srv = None
    try:
        tok = h.team("acme", ["alice", "bob", "carol", "dave"])
        srv = h.Server()
        acme = json.loads(h.req(srv.port, "GET", "/v1/whoami", tok["alice"])[2])["tenant_id"]

        def on_server():
            return h.server_sql(srv, acme, "SELECT count(*), count(DISTINCT id) FROM ops")[0]

        def server_ids():
            return {r[0] for r in h.server_sql(srv, acme, "SELECT id FROM ops")}

        def once(what):
            n, d = on_server()
            eq(n, d, f"{what}: the server's log holds each op once")
            return n

        # --- vigild SIGKILLed mid-push ---------------------------------------------------
        alice = h.Client("alice")
        ga = h.Gate(srv.port)
        alice.join(f"http://127.0.0.1:{ga.port}", tok["alice"])
        alice.must_sync("alice's first sync")
        n_alice = big_outbox(alice, seed)
        check(n_alice > 3000, f"alice holds thousands of ops to push ({n_alice})")
        print(f"alice's outbox: {n_alice} ops ({time.time() - t0:.1f} s)", flush=True)

        # 1. killed while the body is half sent: nothing of the message is stored
        ga.rate = 256 << 10
        sync = alice.popen("sync", "--json")
        wait_for(lambda: ga.up > (150 << 10), "the push's body to be on its way")
        srv.stop(signal.SIGKILL)
        out, err = sync.communicate(timeout=60)
        eq(sync.returncode, 3, f"a sync whose server died mid-push is offline ({err.strip()})")
        check("wait to push" in err, f"and says its ops wait ({err.strip()})")
        srv.start()
        eq(once("killed mid-body"), 0, "a message cut off mid-body stores nothing")
        eq(alice.remote()["pushed"], 0, "every op still waits to push")

        # 2. killed after a page is stored, before its answer reached the client
        ga.rate, ga.mute = None, True
        sync = alice.popen("sync", "--json")
        wait_for(lambda: on_server()[0] > 0, "a pushed page to be stored")
        stored = on_server()[0]
        srv.stop(signal.SIGKILL)
        out, err = sync.communicate(timeout=60)
        eq(sync.returncode, 3, f"a sync whose answer was lost is offline ({err.strip()})")
        eq(alice.remote()["pushed"], 0, "the client did not count the page as pushed")
        ga.mute = False
        srv.start()
        check(0 < once("killed after a page") < n_alice,
              f"the server kept the page it committed ({stored} of {n_alice})")
        j = alice.must_sync("alice pushes again")
        n_alice = len(alice.op_ids())  # with the renumbering a lease may have brought
        eq(j.get("pushed"), n_alice - stored, "the next sync applies only what the server lacked")
        eq(once("after the pushes"), n_alice, "the server holds every op of alice's")
        eq(alice.remote()["waiting"], 0, "nothing waits")
        eq(alice.op_ids() - server_ids(), set(), "no op of alice's is missing on the server")
        bob = h.Client("bob")
        bob.join(f"http://127.0.0.1:{srv.port}", tok["bob"])
        j = bob.must_sync("bob's first sync")
        eq(len(bob.op_ids()), n_alice, "bob, joined from the snapshot, holds the whole log")
        h.converged([alice, bob], "after the kills mid-push")
        total = n_alice
        print(f"mid-push done ({time.time() - t0:.1f} s)", flush=True)

        # --- vigild SIGKILLed mid-pull ---------------------------------------------------
        carol = h.Client("carol")
        gc = h.Gate(srv.port, rate=512 << 10)
        carol.join(f"http://127.0.0.1:{gc.port}", tok["carol"])
        sync = carol.popen("sync", "--json", "--no-snapshot")  # the log, a page at a time
        wait_for(lambda: carol.remote()["pulled"] > 0, "carol's first page")
        srv.stop(signal.SIGKILL)
        out, err = sync.communicate(timeout=60)
        eq(sync.returncode, 3, f"a sync whose server died mid-pull is offline ({err.strip()})")
        at = carol.remote()["pulled"]
        check(0 < at < total, f"carol holds part of the log ({at} of {total})")
        carol.verify("killed mid-pull")
        srv.start()
        gc.rate = None
        j = carol.must_sync("carol syncs again")
        eq(j.get("pulled"), total - at, "she resumes from her cursor")
        h.converged([alice, bob, carol], "after vigild's kill mid-pull")

        # --- a client SIGKILLed mid-pull -------------------------------------------------
        dave = h.Client("dave")
        gd = h.Gate(srv.port, rate=512 << 10)
        dave.join(f"http://127.0.0.1:{gd.port}", tok["dave"])
        sync = dave.popen("sync", "--no-snapshot")
        wait_for(lambda: dave.remote()["pulled"] > 0, "dave's first page")
        sync.send_signal(signal.SIGKILL)
        sync.wait(30)
        at = dave.remote()["pulled"]
        check(0 < at < total, f"dave holds part of the log ({at} of {total})")
        dave.verify("vigil killed mid-pull")
        gd.rate = None
        j = dave.must_sync("dave syncs again")
        eq(j.get("pulled"), total - at, "he resumes from his cursor")
        everyone = [alice, bob, carol, dave]
        h.converged(everyone, "after a client's kill mid-pull")
        print(f"mid-pull done ({time.time() - t0:.1f} s)", flush=True)

        # --- a server restored from an older copy of its data directory -----------------
        # (with PostgreSQL, of its database: the data directory is vigild's cache of
        # it, left as it is, newer than the database it is restored to)
        def restored(write, what):
            """Copy the data directory (vigild stopped), let everyone write and sync,
            put the copy back; the ids of every op the clients hold."""
            srv.stop()
            old = h.store_copy()
            srv.start()
            for k in range(3):
                for c in everyone:
                    write(c, k)
                    c.must_sync(f"{what}: syncs after the copy")
            for c in everyone:
                c.must_sync(f"{what}: in step after the copy")
            wrote = set()
            for c in everyone:
                wrote |= c.op_ids()
            srv.stop()
            h.store_restore(old)
            srv.start()
            check(len(wrote) > once(what), f"{what}: the restored server lost ops the clients hold")
            return wrote

        case = alice.cases()[0]["id"]

        def work(c, k):
            p = c.run("note", case, f"{c.name} after the copy {k}")
            check(p.returncode == 0, f"{c.name} writes a note: {p.stderr}")
            p = c.run("case", "set", case, f"assignee={c.name}")
            check(p.returncode == 0, f"{c.name} takes the case: {p.stderr}")

        wrote = restored(work, "notes after the copy")
        for c in everyone:
            rc, j, err = c.sync()
            eq(rc, 0, f"{c.name} syncs with the restored server ({err})")
            eq((j or {}).get("reset"), True, f"{c.name}'s sync reports the reset")
        for c in everyone:
            c.must_sync("after the reset")
        eq(len(wrote - server_ids()), 0, "every op any client wrote is on the server again")
        once("after the restore")
        h.converged(everyone, "after the restore")
        print(f"restore done ({time.time() - t0:.1f} s)", flush=True)

        # Cases opened after the copy take refs from leases the restored server.db
        # no longer records: the first 409 tells vigild its copy is older, and it
        # takes those refs back as the pushers' (and leases no one else a ref a
        # lost lease may have given).
        def open_case(c, k):
            c.run("case", "new", "--title", f"{c.name} after the copy {k}")

        wrote = restored(open_case, "cases after the copy")
        why = []
        for _ in range(2):
            for c in everyone:
                rc, j, err = c.sync()
                if rc != 0:
                    why.append(f"{c.name}: {err}")
        eq(why, [], "every sync after the restore succeeds")
        lost = wrote - server_ids()
        eq(len(lost), 0, "no op of the cases opened after the copy is lost")
        h.converged(everyone, "after the restore, with cases opened after the copy")
    finally:
        if srv and srv.p.poll() is None:
            srv.p.kill()
        shutil.rmtree(h.T, ignore_errors=True)
    h.finish(t0)


if __name__ == "__main__":
    main()
