#!/usr/bin/env python3
"""tests/bench/team-ingest.py VIGIL VIGILD FILE — HTTP alert ingest of FILE beside
`vigil import` of it: vigild on loopback takes FILE in POST /v1/alerts requests
of at most 60 MB (split at line ends, as a shipper would batch it), one after
another, each with an Idempotency-Key; `vigil import` reads it into a fresh
workspace. Prints one bench row (alerts per second, and the ratio) and checks
that both stored the same number of alerts and cases."""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

VIGIL, VIGILD, FILE = (os.path.abspath(x) for x in sys.argv[1:4])
T = tempfile.mkdtemp(prefix="vigil-ingest-")
D = os.path.join(T, "data")
CHUNK = 60 << 20


def vd(*args):
    return subprocess.run([VIGILD, "--data", D, *args], capture_output=True, text=True,
                          check=True).stdout


try:
    vd("tenant", "add", "acme")
    vd("user", "add", "acme", "sensor", "--role", "ingest")
    tok = vd("token", "new", "acme", "sensor").split()[-1]
    pf = os.path.join(T, "port")
    p = subprocess.Popen([VIGILD, "--data", D, "--listen", "127.0.0.1:0", "--port-file", pf],
                         stderr=open(os.path.join(T, "log"), "w"))
    while not (os.path.exists(pf) and os.path.getsize(pf)):
        time.sleep(0.05)
    port = int(open(pf).read())
    totals = {}
    t0 = time.time()
    with open(FILE, "rb") as f:
        n = 0
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            if not chunk.endswith(b"\n"):
                chunk += f.readline()
            n += 1
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            c.request("POST", "/v1/alerts", body=chunk, headers={
                "Authorization": "Bearer " + tok, "Idempotency-Key": f"bench-{n}"})
            r = c.getresponse()
            ans = json.loads(r.read())
            if r.status != 200:
                raise SystemExit(f"ingest request {n}: {r.status} {ans}")
            for k in ("read", "stored", "merged", "cases_created", "rejected"):
                totals[k] = totals.get(k, 0) + ans[k]
            c.close()
    ingest_s = time.time() - t0
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    ws = os.path.join(T, "imp.db")
    t0 = time.time()
    out = subprocess.run([VIGIL, "--db", ws, "import", "--json", FILE], capture_output=True,
                         text=True, check=True).stdout
    import_s = time.time() - t0
    local = json.loads(out)
    same = all(totals[k] == local[k] for k in ("read", "stored", "merged", "rejected"))
    ir, lr = totals["read"] / ingest_s, local["read"] / import_s
    print(f"| HTTP alert ingest ({totals['read']} records, {n} requests) vs vigil import | "
          f"{ir:.0f}/s vs {lr:.0f}/s = {ir / lr:.2f}x{'' if same else ' (COUNTS DIFFER)'} |"
          f" >= 0.8x |")
    if not same:
        print("ingest:", totals, "import:", local, file=sys.stderr)
finally:
    shutil.rmtree(T, ignore_errors=True)
