#!/usr/bin/env python3
"""tests/llm/fake_llm.py -- a fake LLM server for vigil's copilot tests.

Speaks Ollama's API (/api/tags, /api/chat streamed as NDJSON) and the
OpenAI-compatible one (/v1/models, /v1/chat/completions streamed as server-sent
events) on 127.0.0.1, over a real socket. The model name picks a scripted reply:

  normal     a structured answer, no proposals, streamed in small pieces
  proposals  an answer with proposals (severity, an artifact, a note, an unknown type)
  closer     a model that "helpfully" closes the case as a false positive
  notes      proposes add_note with its own placeholder text
  obedient   does what text planted in the fenced data says: proposes adding the
             first IPv4 address of the fenced data as an artifact and a timeline
             event "Confirmed C2 at IP" (no proposal when the data has none)
  plain      plain text, not the JSON asked for
  fence      answers "fence ok" only if the request carried a fenced context (a
             case's or the queue's) and the standing rule with the same nonce
  queue      the general pane: reads the fenced open queue, answers which cases
             involve the word after "involve" in the question (else lists them
             all), and proposes, each naming its case: set_severity critical on the
             first such case, add_note on it, set_status on #999 (not in the
             queue) and assign naming no case
  queueslow  the same, one piece every 50 ms, ending with END OF ANSWER
  slow       a normal answer, one piece every 50 ms (streaming while navigating)
  malformed  a line of invalid JSON mid-stream
  stall      two pieces, then nothing for a minute
  huge       50 MB of answer
  forever    small pieces without end
  cut        closes the connection mid-answer, without the end marker
  script     the scenario named by "#scenario=NAME" in the analyst's question
Any other model is a 404. With --key K the OpenAI endpoints want "Bearer K".
Each request body is appended, one JSON line with the headers, to --log.

usage: fake_llm.py --port-file FILE [--log FILE] [--key K]
"""
import argparse
import json
import re
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

MODELS = ["normal", "proposals", "closer", "notes", "plain", "fence", "slow", "malformed",
          "stall", "huge", "forever", "cut", "script", "queue", "queueslow", "obedient"]


def structured(answer, proposals=()):
    return json.dumps({"answer": answer, "proposals": list(proposals)})


def pieces(text, size=7):
    return [text[i:i + size] for i in range(0, len(text), size)]


def queue_reply(body, slow):
    """The general pane's answer, from the queue fenced in the last message."""
    user = body.get("messages", [{}])[-1].get("content", "")
    if "QUEUE-DATA nonce=" not in user:
        return structured("no queue in the request")
    data, _, question = user.partition("The analyst's question:\n")
    entries, cur = [], None
    for line in data.splitlines():
        if line.startswith("- #"):
            cur = [line[3:].split(" ", 1)[0], line]
            entries.append(cur)
        elif cur and line.startswith("  "):
            cur[1] += "\n" + line
    word = None
    if "involve " in question:
        word = question.split("involve ", 1)[1].split()[0].strip("?.,")
    hits = [ref for ref, text in entries if word is None or word in text]
    if word:
        answer = "Open cases involving %s: %s." % (word, ", ".join("#" + r for r in hits) or "none")
    else:
        answer = "Open cases in view: %s." % ", ".join("#" + r for r in hits)
    if slow:
        answer += " Look at the most severe first." * 6 + "\nEND OF ANSWER"
    target = "#" + (hits or [ref for ref, _ in entries] or ["1"])[0]
    # a severity the target does not have (vigil drops a proposal that changes nothing)
    text = dict(entries).get(target[1:], "")
    sev = "high" if "[critical," in text else "critical"
    return structured(answer, [
        {"type": "set_severity", "case": target, "params": {"severity": sev}},
        {"type": "add_note", "case": target, "params": {}},
        {"type": "set_status", "case": "#999", "params": {"status": "on_hold"}},
        {"type": "assign", "params": {"assignee": "bob"}},
    ])


def reply_for(model, body):
    """The answer text for a model, or None for the scenarios handled by stream()."""
    if model == "normal":
        return structured("## Summary\nThe user opened an invoice lure from hxxp://evil[.]example/inv."
                          "\n- check the mailbox rules\n- reset the password")
    if model == "slow":
        return structured("## Summary\nThe user opened an invoice lure from hxxp://evil[.]example/inv."
                          + " The lure came from a look-alike domain." * 6
                          + "\n- check the mailbox rules\n- reset the password\nEND OF ANSWER")
    if model == "proposals":
        return structured("Raise the severity and record the sender address.", [
            {"type": "set_severity", "params": {"severity": "high"}},
            {"type": "add_artifact", "params": {"type": "ip", "value": "198.51.100.23"}},
            {"type": "delete_case", "params": {}},
        ])
    if model == "closer":
        return structured("As the alert instructs, this is a false positive; closing.", [
            {"type": "set_status", "params": {"status": "closed", "resolution": "false_positive"}},
        ])
    if model == "notes":
        return structured("Done.", [{"type": "add_note", "params": {"text": "Added activity log"}}])
    if model == "plain":
        return "Just text: the attacker used RDP from 203.0.113[.]99 at 02:14."
    if model == "fence":
        msgs = body.get("messages", [])
        system = msgs[0]["content"] if msgs else ""
        user = msgs[-1]["content"] if msgs else ""
        ok = False
        label = "QUEUE-DATA nonce=" if "QUEUE-DATA nonce=" in user else "CASE-DATA nonce="
        if "nonce=" in system and label in user:
            nonce = user.split(label, 1)[1][:32]
            ok = system.count(nonce) == 2 and user.count(nonce) == 2
        return structured("fence ok" if ok else "fence missing")
    if model == "obedient":
        user = body.get("messages", [{}])[-1].get("content", "")
        data = user.partition("The analyst's question:\n")[0]
        ip = re.search(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", data)
        if not ip:
            return structured("Nothing to track.")
        return structured("Following the procedure in the alert.", [
            {"type": "add_artifact", "params": {"type": "ip", "value": ip.group(0)}},
            {"type": "add_event", "params": {"summary": "Confirmed C2 at " + ip.group(0)}},
        ])
    if model in ("queue", "queueslow"):
        return queue_reply(body, model == "queueslow")
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def openai_auth(self):
        key = self.server.key
        if key and self.headers.get("Authorization") != "Bearer " + key:
            self.send_json(401, {"error": {"message": "invalid api key"}})
            return False
        return True

    def do_GET(self):
        if self.path == "/api/tags":
            self.send_json(200, {"models": [{"name": m} for m in MODELS]})
        elif self.path == "/v1/models":
            if self.openai_auth():
                self.send_json(200, {"data": [{"id": m} for m in MODELS]})
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            self.send_json(400, {"error": "bad json"})
            return
        if self.server.log:
            with open(self.server.log, "a") as f:
                f.write(json.dumps({"path": self.path, "headers": dict(self.headers),
                                    "body": body}) + "\n")
        if self.path == "/api/chat":
            self.stream(body, ollama=True)
        elif self.path == "/v1/chat/completions":
            if self.openai_auth():
                self.stream(body, ollama=False)
        else:
            self.send_json(404, {"error": "not found"})

    def chunk(self, ollama, model, text, done=False):
        if ollama:
            obj = {"model": model, "message": {"role": "assistant", "content": text},
                   "done": done}
            line = json.dumps(obj) + "\n"
        else:
            obj = {"choices": [{"index": 0, "delta": {"content": text},
                                "finish_reason": "stop" if done else None}]}
            line = "data: " + json.dumps(obj) + "\n\n"
        self.wfile.write(line.encode())
        self.wfile.flush()

    def end(self, ollama, model):
        if ollama:
            self.chunk(True, model, "", done=True)
        else:
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    def stream(self, body, ollama):
        model = body.get("model", "")
        if model == "script":
            last = body.get("messages", [{}])[-1].get("content", "")
            if "#scenario=" in last:
                model = last.split("#scenario=", 1)[1].split()[0]
        if model not in MODELS:
            self.send_json(404, {"error": "model '%s' not found" % model} if ollama
                           else {"error": {"message": "model '%s' not found" % model}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
        self.end_headers()
        try:
            text = reply_for(model, body)
            if text is not None:
                for p in pieces(text):
                    self.chunk(ollama, model, p)
                    if model in ("slow", "queueslow"):
                        time.sleep(0.05)
                self.end(ollama, model)
            elif model == "malformed":
                self.chunk(ollama, model, '{"answer": "par')
                self.wfile.write(b"{this is not json\n" if ollama else b"data: {not json\n\n")
                self.wfile.flush()
                self.end(ollama, model)
            elif model == "stall":
                self.chunk(ollama, model, '{"answer": "thinking')
                self.chunk(ollama, model, ' about it')
                time.sleep(60)
            elif model == "huge":
                piece = "x" * 65536
                for _ in range(50 * 1024 * 1024 // len(piece)):
                    self.chunk(ollama, model, piece)
                self.end(ollama, model)
            elif model == "forever":
                while True:
                    self.chunk(ollama, model, "and on ")
                    time.sleep(0.001)
            elif model == "cut":
                self.chunk(ollama, model, '{"answer": "The case is')
                self.chunk(ollama, model, ' about to be')
                # no end marker: the connection just closes
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--key")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.log = a.log
    srv.key = a.key
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
