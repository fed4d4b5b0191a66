"""tests/server/wireops.py — ops in their wire form (vigild(8), SYNC PROTOCOL) written
by hand, as a client sends them, for the server's tests and the load bench: the
ULIDs they carry, a made-up replica's origin and clock, and a message of them."""
import asyncio
import json
import secrets
import time

B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid():
    n = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(B32[(n >> (5 * (25 - i))) & 31] for i in range(26))


class Replica:
    """A made-up replica: its origin and its hybrid logical clock."""

    def __init__(self):
        self.origin = ulid()
        self.clock = int(time.time() * 1000) << 16

    def op(self, kind, target, payload, actor, tenant="", **over):
        self.clock += 1
        o = {"id": ulid(), "hlc": str(self.clock), "origin": self.origin, "actor": actor,
             "tenant": tenant, "kind": kind, "target": target, "payload": payload}
        o.update(over)
        return o


def lines(*ops):
    return "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in ops).encode()


class AsyncConn:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port, for the load benches'
    asyncio clients: req() answers (status, headers in lower case, body)."""

    def __init__(self, port):
        self.port, self.r, self.w = port, None, None

    async def open(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)

    async def req(self, method, path, token, body=b"", headers=None):
        if self.w is None:
            await self.open()
        h = f"{method} {path} HTTP/1.1\r\nHost: vigild\r\nAuthorization: Bearer {token}\r\n"
        for k, v in (headers or {}).items():
            h += f"{k}: {v}\r\n"
        if body or method == "POST":
            h += f"Content-Length: {len(body)}\r\n"
        self.w.write(h.encode() + b"\r\n" + body)
        await self.w.drain()
        status_line = await self.r.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        hdr = {}
        while True:
            line = await self.r.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode().partition(":")
            hdr[k.strip().lower()] = v.strip()
        n = int(hdr.get("content-length", "0"))
        data = await self.r.readexactly(n) if n else b""
        if hdr.get("connection", "").lower() == "close":
            self.close()
        return status, hdr, data

    def close(self):
        if self.w:
            self.w.close()
        self.r = self.w = None
