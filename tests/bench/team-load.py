#!/usr/bin/env python3
"""tests/bench/team-load.py VIGILD [--clients N] [--seconds S] [--tenants T] [--check]

The team server under load, on loopback: N clients (spread over T tenants, each
client its own analyst with its own token and case) push a note and pull what is
new, over and over, with a pause of 0.2 to 1 s between rounds, for S seconds.
Prints, as rows of the bench table: requests, errors, p50/p99 latency of a
request, how long a write takes to reach another client's parked long-poll, and
vigild's resident memory with N clients connected and parked.

--check (CI's short run): exit 1 on any error; latencies are printed, never
judged (the machine is shared)."""
import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from wireops import AsyncConn as Conn, Replica, lines, ulid  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("vigild")
ap.add_argument("--clients", type=int, default=200)
ap.add_argument("--seconds", type=float, default=60)
ap.add_argument("--tenants", type=int, default=4)
ap.add_argument("--check", action="store_true")
a = ap.parse_args()
VIGILD = os.path.abspath(a.vigild)
T = tempfile.mkdtemp(prefix="vigil-load-")
D = os.path.join(T, "data")


def vd(*args):
    return subprocess.run([VIGILD, "--data", D, *args], capture_output=True, text=True,
                          check=True).stdout


lat, errors, visible = [], [], []


async def client(port, user, token, deadline):
    c = Conn(port)
    rep = Replica()  # the client's replica: its origin and clock
    st, _, data = await c.req("POST", "/v1/refs", token, b'{"want": 1}')
    if st != 200:
        errors.append(f"refs {st}")
        return
    case = ulid()
    st, _, data = await c.req("POST", "/v1/ops", token,
                              lines(rep.op("case.create", case, {"title": f"case of {user}",
                                                                 "ref": json.loads(data)["lo"]},
                                           user)))
    if st != 200:
        errors.append(f"create {st} {data[:200]}")
        return
    after, aid = 0, None
    while time.time() < deadline:
        t0 = time.perf_counter()
        try:
            st, _, data = await c.req("POST", "/v1/ops", token, lines(rep.op(
                "note.add", ulid(), {"case": case, "body": f"note {rep.clock} by {user}"},
                user)))
            t1 = time.perf_counter()
            lat.append(t1 - t0)
            if st != 200:
                errors.append(f"push {st} {data[:200]}")
            while True:
                q = f"/v1/ops?after={after}" + (f"&id={aid}" if aid else "")
                t1 = time.perf_counter()
                st, h, data = await c.req("GET", q, token)
                lat.append(time.perf_counter() - t1)
                if st != 200:
                    errors.append(f"pull {st} {data[:200]}")
                    break
                ops = [json.loads(x) for x in data.splitlines() if x]
                if ops:
                    after, aid = ops[-1]["seq"], ops[-1]["id"]
                if after >= int(h.get("vigil-head", "0")):
                    break
        except (ConnectionError, asyncio.IncompleteReadError) as e:
            errors.append(f"connection: {e}")
            c.close()
            c = Conn(port)
        await asyncio.sleep(random.uniform(0.2, 1.0))
    c.close()


async def visibility(port, writer, wtoken, reader, rtoken, rounds=20):
    """A push by writer, heard by reader's parked long-poll: seconds from the push."""
    cw, cr = Conn(port), Conn(port)
    # the reader walks to the head first
    after, aid = 0, None
    while True:
        q = f"/v1/ops?after={after}" + (f"&id={aid}" if aid else "") + "&max=8388608"
        st, h, data = await cr.req("GET", q, rtoken)
        ops = [json.loads(x) for x in data.splitlines() if x]
        if ops:
            after, aid = ops[-1]["seq"], ops[-1]["id"]
        if after >= int(h["vigil-head"]):
            break
    st, _, data = await cw.req("POST", "/v1/refs", wtoken, b'{"want": 1}')
    case = ulid()
    rep = Replica()
    await cw.req("POST", "/v1/ops", wtoken, lines(rep.op("case.create", case, {
        "title": "visibility", "ref": json.loads(data)["lo"]}, writer)))
    for _ in range(rounds):
        q = f"/v1/ops?after={after}&id={aid}&wait=10"
        poll = asyncio.ensure_future(cr.req("GET", q, rtoken))
        await asyncio.sleep(0.3)
        t0 = time.perf_counter()
        await cw.req("POST", "/v1/ops", wtoken, lines(rep.op("note.add", ulid(), {
            "case": case, "body": "seen?"}, writer)))
        st, h, data = await poll
        visible.append(time.perf_counter() - t0)
        ops = [json.loads(x) for x in data.splitlines() if x]
        if ops:
            after, aid = ops[-1]["seq"], ops[-1]["id"]
    cw.close()
    cr.close()


async def parked_rss(port, pid, users):
    conns = []
    for user, token in users:
        c = Conn(port)
        await c.open()
        conns.append(c)
    await asyncio.gather(*(c.req("GET", "/v1/whoami", tok) for c, (u, tok) in zip(conns, users)))
    await asyncio.sleep(1)
    rss = 0
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            rss = int(l.split()[1]) / 1024
    for c in conns:
        c.close()
    return rss


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")


async def main():
    users = []
    for t in range(a.tenants):
        vd("tenant", "add", f"t{t}")
    for i in range(a.clients):
        t = i % a.tenants
        u = f"u{i}"
        vd("user", "add", f"t{t}", u, "--role", "analyst")
        users.append((u, vd("token", "new", f"t{t}", u).split()[-1]))
    pf = os.path.join(T, "port")
    log = open(os.path.join(T, "log"), "w")
    p = subprocess.Popen([VIGILD, "--data", D, "--listen", "127.0.0.1:0", "--port-file", pf],
                         stderr=log)
    for _ in range(200):
        if os.path.exists(pf) and os.path.getsize(pf):
            break
        await asyncio.sleep(0.05)
    port = int(open(pf).read())
    try:
        idle = await parked_rss(port, p.pid, users)
        deadline = time.time() + a.seconds
        t0 = time.time()
        await asyncio.gather(*(client(port, u, tok, deadline) for u, tok in users))
        took = time.time() - t0
        # writer and reader in one tenant (u0 and u{tenants})
        await visibility(port, users[0][0], users[0][1], users[a.tenants][0],
                         users[a.tenants][1])
        rss_after = 0
        for l in open(f"/proc/{p.pid}/status"):
            if l.startswith("VmRSS:"):
                rss_after = int(l.split()[1]) / 1024
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(20)
        shutil.rmtree(T, ignore_errors=True)
    print(f"| {a.clients} clients pushing and pulling for {a.seconds:.0f} s | "
          f"{len(lat)} requests ({len(lat) / took:.0f}/s), {len(errors)} errors, "
          f"p50 {pct(lat, .5) * 1000:.1f} ms, p99 {pct(lat, .99) * 1000:.1f} ms | "
          f"0 errors, p99 < 50 ms |")
    print(f"| a write in one client heard by another's long-poll | p50 "
          f"{pct(visible, .5) * 1000:.1f} ms, max {max(visible) * 1000:.1f} ms "
          f"({len(visible)} writes) | p50 <= 1 s |")
    print(f"| vigild RSS, idle with {a.clients} clients connected"
          f" | {idle:.1f} MB (after the load: {rss_after:.1f} MB) | < 64 MB |")
    for e in errors[:5]:
        print("error:", e, file=sys.stderr)
    if a.check and errors:
        sys.exit(1)


asyncio.run(main())
