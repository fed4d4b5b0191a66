"""tests/server/wireops.py — ops in their wire form (vigild(8), SYNC PROTOCOL) written
by hand, as a client sends them, for the server's tests and the load bench: the
ULIDs they carry, a made-up replica's origin and clock, and a message of them."""
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
