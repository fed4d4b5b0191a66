#!/usr/bin/env python3
"""tests/server/stdio.py VIGIL VIGILD — `vigild --data D --stdio`, what an SSH exec channel
runs where sshd forbids forwarding: one HTTP/1.1 connection on its stdin and stdout, spoken
here byte by byte on pipes, as the SSH client will. The same answers as the daemon (tokens,
several requests on one connection, a push and a pull, zstd answers, the body caps),
nothing on stdout but HTTP, exit 0 soon after the client closes stdin, a 400 and an exit on
garbage, no port; and beside a daemon on the same directory: a pull parked in one process
is woken within a second by a push through the other, both ways, and a snapshot says the
head its file holds whichever process made it."""
import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import converge as cv  # noqa: E402  (the harness: checks, vigild on a data dir, tokens)
from converge import check, eq  # noqa: E402
from wireops import Replica, lines, ulid  # noqa: E402


class Stdio:
    """One `vigild --data D --stdio` on pipes, and an HTTP/1.1 client of it."""

    def __init__(self, *extra, data=None):
        self.log_path = os.path.join(cv.T, f"stdio-{time.time_ns()}.log")
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen([cv.VIGILD, "--data", data or cv.D, *extra, "--stdio"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.log)
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def request_bytes(self, method, path, token=None, body=b"", headers=None):
        h = {"Host": "vigild"}
        if token:
            h["Authorization"] = "Bearer " + token
        if body or method == "POST":
            h["Content-Length"] = str(len(body))
        h.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
        return head.encode() + b"\r\n" + body

    def _fill(self, deadline):
        """Read more of stdout into buf; False at its end or the deadline."""
        left = deadline - time.time()
        if self.eof or left <= 0:
            return False
        r, _, _ = select.select([self.p.stdout], [], [], left)
        if not r:
            return False
        d = os.read(self.p.stdout.fileno(), 65536)
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def _until(self, sep, deadline):
        while sep not in self.buf:
            if not self._fill(deadline):
                raise TimeoutError(f"no {sep!r} on stdout (have {self.buf[:200]!r})")
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def _take(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise TimeoutError(f"{n} bytes of body wanted, {len(self.buf)} came")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self, timeout=30):
        """(status, headers lower-cased, body bytes): the next answer on stdout, which
        must be exactly an HTTP/1.1 answer (anything else on stdout fails here)."""
        deadline = time.time() + timeout
        head = self._until(b"\r\n\r\n", deadline).decode("latin-1").split("\r\n")
        ver, status = head[0].split(" ")[:2]
        if ver != "HTTP/1.1":
            raise ValueError(f"not an HTTP/1.1 status line: {head[0]!r}")
        hd = {}
        for line in head[1:]:
            k, v = line.split(":", 1)
            hd[k.strip().lower()] = v.strip()
        if hd.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                n = int(self._until(b"\r\n", deadline).split(b";")[0], 16)
                if n == 0:
                    self._until(b"\r\n", deadline)
                    break
                body += self._take(n, deadline)
                self._take(2, deadline)
        else:
            body = self._take(int(hd.get("content-length", "0")), deadline)
        return int(status), hd, body

    def req(self, method, path, token=None, body=b"", headers=None, timeout=30):
        self.send(self.request_bytes(method, path, token, body, headers))
        return self.response(timeout)

    def close(self, timeout=10):
        """Close stdin; (exit status, seconds to exit, what was left on stdout)."""
        t0 = time.time()
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        deadline = t0 + timeout
        while self._fill(deadline):
            pass
        try:
            rc = self.p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.log.close()
        return rc, time.time() - t0, self.buf

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        if not self.log.closed:
            self.log.close()

    def stderr(self):
        return open(self.log_path, "rb").read().decode(errors="replace")


def jb(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


def listening_inodes():
    """Socket inodes in LISTEN on this host's TCP tables."""
    out = set()
    for t in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            for line in open(t).read().splitlines()[1:]:
                f = line.split()
                if f[3] == "0A":
                    out.add(f[9])
        except OSError:
            pass
    return out


def socket_inodes(pid):
    out = set()
    d = f"/proc/{pid}/fd"
    for fd in os.listdir(d):
        try:
            link = os.readlink(os.path.join(d, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def main():
    t0 = time.time()
    cv.setup("vigil-stdio-")
    open_procs = []
    srv = None
    try:
        tok = cv.team("acme", ["alice", "bob"])
        viewer = cv.team("globex", ["gina"], role="viewer")["gina"]
        acme_id = json.loads(cv.vigild("tenant", "ls", "--json"))
        acme_id = [t["id"] for t in acme_id if t["name"] == "acme"][0]
        rep = Replica()

        def op(kind, target, payload, actor="alice"):
            return rep.op(kind, target, payload, actor)

        # --- one connection, several requests -------------------------------------------
        s = Stdio()
        open_procs.append(s)
        st, h, body = s.req("GET", "/v1/whoami", tok["alice"])
        eq((st, (jb(body) or {}).get("user"), (jb(body) or {}).get("tenant")),
           (200, "alice", "acme"), "whoami with a good token over stdio")
        check(h.get("connection", "").lower() != "close", f"and the connection stays open: {h}")
        st, h, body = s.req("GET", "/v1/cases", tok["alice"])
        eq((st, (jb(body) or {}).get("cases")), (200, []), "a second request on the connection")
        st, _, body = s.req("POST", "/v1/refs", tok["alice"], b'{"want": 3}')
        lease = jb(body) or {}
        eq(st, 200, "a ref lease on the same connection")
        case = ulid()
        create = op("case.create", case, {"title": "over ssh exec", "ref": lease.get("lo")})
        notes = [op("note.add", ulid(), {"case": case, "body": "n" * 200}) for _ in range(30)]
        st, _, body = s.req("POST", "/v1/ops", tok["alice"], lines(create, *notes))
        eq((st, (jb(body) or {}).get("applied")), (200, 31), "a push of 31 ops over stdio")
        st, h, body = s.req("GET", "/v1/ops?after=0", tok["alice"])
        got = [json.loads(ln)["id"] for ln in body.decode().splitlines() if ln]
        eq((st, got), (200, [create["id"]] + [n["id"] for n in notes]),
           "and a pull gives them back, in order")
        head = int(h.get("vigil-head", -1))
        check(head >= 31, f"with Vigil-Head ({head})")
        st, h, zbody = s.req("GET", "/v1/ops?after=0", tok["alice"],
                             headers={"Accept-Encoding": "zstd"})
        eq((st, h.get("content-encoding")), (200, "zstd"), "a zstd answer for Accept-Encoding")
        plain = subprocess.run(["zstd", "-dqc"], input=zbody, capture_output=True).stdout
        eq(plain, body, "which decodes to the same page")
        st, _, body = s.req("GET", "/v1/cases", tok["alice"])
        eq([c["title"] for c in (jb(body) or {}).get("cases", [])], ["over ssh exec"],
           "the pushed case is read back on the same connection")
        # listens on no port, writes no port file
        check(not (socket_inodes(s.p.pid) & listening_inodes()),
              "the --stdio process listens on no TCP port")
        check(not any(f.endswith("port") for f in os.listdir(cv.D)), "and writes no port file")
        # EOF: exit 0 quickly, and nothing was on stdout but the answers
        rc, secs, rest = s.close()
        eq((rc, rest), (0, b""), "stdin closed: exit 0, nothing left on stdout")
        check(secs < 2, f"and quickly ({secs:.2f} s)")
        log = s.stderr()
        check("stdio GET /v1/whoami 200" in log, f"the log line is on stderr: {log[-300:]!r}")
        check(tok["alice"] not in log, "and never the token")

        # requests written all at once, then stdin closed: every one is answered first
        s = Stdio()
        open_procs.append(s)
        s.send(b"".join(s.request_bytes("GET", "/v1/whoami", tok["bob"]) for _ in range(3)))
        s.p.stdin.close()
        answers = [s.response(10)[0] for _ in range(3)]
        eq(answers, [200, 200, 200], "three pipelined requests then EOF: three answers")
        rc, secs, rest = s.close()
        eq((rc, rest), (0, b""), "then exit 0 and nothing else")

        # a long-poll sent, then stdin closed: nothing more can come, so it answers at
        # once (as on SIGTERM) rather than holding the process for its wait
        s = Stdio()
        open_procs.append(s)
        t1 = time.time()
        s.send(s.request_bytes("GET", f"/v1/ops?after={head}&id={notes[-1]['id']}&wait=20",
                               tok["bob"]))
        time.sleep(0.5)  # parked by now
        s.p.stdin.close()
        st, _, body = s.response(10)
        eq((st, body), (200, b""), "a parked pull at EOF: an empty page")
        rc, _, rest = s.close()
        eq((rc, rest), (0, b""), "then exit 0")
        check(time.time() - t1 < 3, f"without waiting out the pull ({time.time() - t1:.2f} s)")

        # a bad token: 401, as the daemon answers
        s = Stdio()
        open_procs.append(s)
        st, h, body = s.req("GET", "/v1/whoami", "vgt_" + "A" * 43)
        eq((st, ((jb(body) or {}).get("error") or {}).get("status")), (401, 401),
           "whoami with an unknown token: 401")
        check(h.get("www-authenticate", "").startswith("Bearer"), "with WWW-Authenticate")
        rc, secs, _ = s.close()
        eq(rc, 0, "and exit 0 after")
        s = Stdio()
        open_procs.append(s)
        st, _, body = s.req("GET", "/v1/whoami")
        eq(st, 401, "no token: 401")
        s.close()

        # --- the caps, as the daemon's -------------------------------------------------
        srv = cv.Server()
        big = b'{"want": 1}' + b" " * 5000
        ds, _, dbody = cv.req(srv.port, "POST", "/v1/refs", tok["alice"], big)
        s = Stdio()
        open_procs.append(s)
        st, _, body = s.req("POST", "/v1/refs", tok["alice"], big)
        eq((st, jb(body)), (ds, jb(dbody)), "a body past the route's cap: the daemon's answer")
        eq(st, 413, "which is 413")
        s.close()
        s = Stdio()
        open_procs.append(s)
        chunked = s.request_bytes("POST", "/v1/refs", tok["alice"], b"",
                                  {"Transfer-Encoding": "chunked"})
        chunked = chunked.replace(b"Content-Length: 0\r\n", b"")
        s.send(chunked + b"".join(b"400\r\n" + b" " * 0x400 + b"\r\n" for _ in range(6)))
        st, h, body = s.response(10)
        eq((st, ((jb(body) or {}).get("error") or {}).get("status")), (413, 413),
           "a chunked body cut off at the cap: 413")
        rc, secs, _ = s.close()
        eq(rc, 0, "and the connection ends, exit 0")

        # --- garbage ---------------------------------------------------------------------
        s = Stdio()
        open_procs.append(s)
        s.send(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")
        try:
            st, _, _ = s.response(5)
        except (TimeoutError, ValueError) as e:
            st = repr(e)
        eq(st, 400, "garbage on stdin: an HTTP 400")
        t1 = time.time()
        try:
            rc = s.p.wait(5)  # stdin still open: the server ends the connection
        except subprocess.TimeoutExpired:
            rc = "still running"
        eq(rc, 0, "and exit, stdin still open")
        check(time.time() - t1 < 3, "not a hang")
        s.kill()

        # --- beside the daemon: long-polls woken across processes ------------------------
        def parked_pull(get, after, oid, res):
            t = time.time()
            res["r"] = get(f"/v1/ops?after={after}&id={oid}&wait=10")
            res["t"] = time.time() - t

        last = notes[-1]
        _, h, _ = cv.req(srv.port, "GET", "/v1/ops?after=0", tok["alice"])
        after = int(h["vigil-upto"])

        s = Stdio()
        open_procs.append(s)
        res = {}
        th = threading.Thread(target=parked_pull, args=(
            lambda p: s.req("GET", p, tok["bob"], timeout=20), after, last["id"], res))
        th.start()
        time.sleep(0.8)
        wake = op("note.add", ulid(), {"case": case, "body": "pushed through the daemon"})
        st, _, _ = cv.req(srv.port, "POST", "/v1/ops", tok["alice"], lines(wake))
        eq(st, 200, "a push through the daemon")
        th.join(20)
        st, h, body = res.get("r", (None, {}, b""))
        got = [json.loads(ln)["id"] for ln in body.decode().splitlines() if ln]
        eq((st, got), (200, [wake["id"]]), "wakes a pull parked in --stdio with the new op")
        check(res.get("t", 99) - 0.8 < 1.0,
              f"within a second of the push ({res.get('t', 99) - 0.8:.2f} s)")
        after, last = int(h["vigil-upto"]), wake

        # the reverse: parked in the daemon, pushed through --stdio
        res = {}
        th = threading.Thread(target=parked_pull, args=(
            lambda p: cv.req(srv.port, "GET", p, tok["bob"]), after, last["id"], res))
        th.start()
        time.sleep(0.8)
        wake = op("note.add", ulid(), {"case": case, "body": "pushed through stdio"})
        st, _, _ = s.req("POST", "/v1/ops", tok["alice"], lines(wake))
        eq(st, 200, "a push through --stdio")
        th.join(20)
        st, h, body = res.get("r", (None, {}, b""))
        got = [json.loads(ln)["id"] for ln in body.decode().splitlines() if ln]
        eq((st, got), (200, [wake["id"]]), "wakes a pull parked in the daemon")
        check(res.get("t", 99) - 0.8 < 1.0,
              f"within a second of the push ({res.get('t', 99) - 0.8:.2f} s)")
        after, last = int(h["vigil-upto"]), wake

        # and one --stdio to another
        s2 = Stdio()
        open_procs.append(s2)
        res = {}
        th = threading.Thread(target=parked_pull, args=(
            lambda p: s2.req("GET", p, tok["bob"], timeout=20), after, last["id"], res))
        th.start()
        time.sleep(0.8)
        wake = op("note.add", ulid(), {"case": case, "body": "from one stdio to another"})
        s.req("POST", "/v1/ops", tok["alice"], lines(wake))
        th.join(20)
        st, _, body = res.get("r", (None, {}, b""))
        got = [json.loads(ln)["id"] for ln in body.decode().splitlines() if ln]
        eq((st, got), (200, [wake["id"]]), "a pull parked in one --stdio, woken by another's push")
        check(res.get("t", 99) - 0.8 < 1.0, f"within a second ({res.get('t', 99) - 0.8:.2f} s)")
        # another tenant's pull is not woken: its deadline answers it
        t1 = time.time()
        st, _, body = s2.req("GET", "/v1/ops?wait=1", viewer, timeout=10)
        eq((st, body), (200, b""), "another tenant's parked pull: nothing")
        check(0.9 < time.time() - t1 < 2.5, f"at its deadline ({time.time() - t1:.2f} s)")

        # a snapshot says what its file holds, whichever process made it; one without
        # that (an older vigild's file) is made again, not trusted
        os.makedirs(os.path.join(cv.D, "snapshots"), exist_ok=True)
        old = os.path.join(cv.D, "snapshots", acme_id + ".zst")
        open(old, "wb").write(subprocess.run(["zstd", "-qc"], input=b"not a workspace",
                                             capture_output=True).stdout)
        for name, get in (("--stdio, over a file without its head",
                           lambda: s.req("GET", "/v1/snapshot", tok["bob"])),
                          ("--stdio", lambda: s.req("GET", "/v1/snapshot", tok["bob"])),("--stdio", lambda: s.req("GET", "/v1/snapshot", tok["bob"])),
                          ("the daemon", lambda: cv.req(srv.port, "GET", "/v1/snapshot",
                                                        tok["bob"]))):
            st, h, snapz = get()
            snap = os.path.join(cv.T, "snap.db")
            open(snap, "wb").write(subprocess.run(["zstd", "-dqc"], input=snapz,
                                                  capture_output=True).stdout)
            rows = cv.sql(snap, "SELECT seq, id FROM ops ORDER BY seq DESC LIMIT 1")
            os.unlink(snap)
            eq((st, rows[0] if rows else None), (200, (int(h.get("vigil-head", -1)),
                                                       h.get("vigil-head-id"))),
               f"a snapshot through {name} holds the log up to its Vigil-Head")
        for p in (s, s2):
            rc, _, rest = p.close()
            eq((rc, rest), (0, b""), "each --stdio exits 0 at EOF, beside the daemon")
        eq(srv.stop(), 0, "and the daemon stops cleanly")
        srv = None

        # --- refusals at start ------------------------------------------------------------
        notdir = os.path.join(cv.T, "a-file")
        open(notdir, "w").close()
        s = Stdio(data=notdir)
        open_procs.append(s)
        rc, _, out = s.close()
        check(rc not in (0, None), f"a data dir that cannot be opened: exit {rc}")
        eq(out, b"", "and nothing on stdout")
        # (with a PostgreSQL store the directory is only a cache, which holds no data
        # of the server's either way: the message names it and what is wrong)
        why = ["a-file", "not a directory"] if cv.STORE else ["holds no vigild data"]
        check(all(w in s.stderr() for w in why), f"the reason on stderr: {s.stderr()!r}")
        # a directory that does not exist (a typo in the remote's /DIR) is not made
        missing = os.path.join(cv.T, "no-such-dir")
        s = Stdio(data=missing)
        open_procs.append(s)
        rc, _, out = s.close()
        check(rc not in (0, None), f"a data dir that does not exist: exit {rc}")
        eq(out, b"", "and nothing on stdout")
        why = ["no-such-dir", "no such data directory"] if cv.STORE else ["holds no vigild data"]
        check(all(w in s.stderr() for w in why + ["/DIR"]),
              f"says so, naming the remote's /DIR: {s.stderr()!r}")
        check(not os.path.exists(missing), "and the directory is not made")
        for extra, what in ((["--listen", "127.0.0.1:0", "--stdio"], "--listen"),
                            (["--port-file", os.path.join(cv.T, "pf"), "--stdio"], "--port-file"),
                            (["--stdio", "tenant", "ls"], "a command")):
            p = subprocess.run([cv.VIGILD, "--data", cv.D, *extra], capture_output=True,
                               text=True, stdin=subprocess.DEVNULL, timeout=10)
            eq(p.returncode, 2, f"--stdio with {what}: a usage error")
            check("--stdio" in p.stderr and p.stdout == "", f"saying so on stderr: {p.stderr!r}")
    finally:
        for p in open_procs:
            p.kill()
        if srv:
            srv.p.kill()
            srv.p.wait()
        if cv.failed == 0:
            shutil.rmtree(cv.T, ignore_errors=True)
        else:
            print("kept", cv.T)
    cv.finish(t0)


if __name__ == "__main__":
    main()
