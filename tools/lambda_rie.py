#!/usr/bin/env python3
# Vendored from the team's shared tools (shared/tools/lambda_rie.py) so the repo tests itself wherever it is cloned.
"""A minimal AWS Lambda Runtime API, for black-box checks and cold-start timing.

Runs one function process (any language) against the Runtime API on loopback,
feeds it the given events one after another, and prints one JSON object:

  {"init_ms": ..., "first_ms": ..., "warm_ms": [...], "results": [{"ok": bool, "body": ...}, ...],
   "peak_rss_kb": ..., "output_tail": "..."}

init_ms  = process start -> its first GET /invocation/next (runtime ready)
first_ms = process start -> first response or error posted
warm_ms  = for each later event: event handed out -> response posted

Usage: lambda_rie.py --events FILE.json [--env K=V ...] [--timeout S] -- COMMAND [ARGS...]
FILE.json holds a JSON list of events.
"""
import argparse, json, os, queue, resource, subprocess, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", required=True)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    events = json.load(open(a.events))
    pending = queue.Queue()
    for e in events:
        pending.put(e)
    state = {"t0": None, "ready": None, "handed": {}, "results": [], "done": threading.Event(),
             "init_error": None}
    lock = threading.Lock()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def _reply(self, code, body=b"", headers=None):
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path != PREFIX + "/invocation/next":
                return self._reply(404)
            now = time.perf_counter()
            with lock:
                if state["ready"] is None:
                    state["ready"] = now
            try:
                ev = pending.get(timeout=a.timeout)
            except queue.Empty:
                return self._reply(500)
            rid = str(uuid.uuid4())
            body = json.dumps(ev).encode()
            with lock:
                state["handed"][rid] = time.perf_counter()
            deadline = int(time.time() * 1000) + 30000
            self._reply(200, body, {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": rid,
                "Lambda-Runtime-Deadline-Ms": str(deadline),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:probe",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
            })

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            now = time.perf_counter()
            parts = self.path[len(PREFIX):].strip("/").split("/")
            if parts[:2] == ["init", "error"]:
                with lock:
                    state["init_error"] = raw.decode(errors="replace")
                self._reply(202, b"{}")
                state["done"].set()
                return
            if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                rid = parts[1]
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                with lock:
                    handed = state["handed"].get(rid, now)
                    state["results"].append({"ok": parts[2] == "response", "body": body,
                                             "t": now, "handed": handed})
                    finished = len(state["results"]) >= len(events)
                self._reply(202, b"{}")
                if finished:
                    state["done"].set()
                return
            self._reply(404)

    class Srv(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # the function process is killed mid-request at the end

    srv = Srv(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "probe",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/probe",
        "AWS_LAMBDA_LOG_STREAM_NAME": "probe",
        "AWS_REGION": env.get("AWS_REGION", "us-east-1"),
        "AWS_DEFAULT_REGION": env.get("AWS_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": env.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": env.get("AWS_SECRET_ACCESS_KEY", "test"),
        "_HANDLER": "index.handler",
        "LAMBDA_TASK_ROOT": os.getcwd(),
    })
    for kv in a.env:
        k, _, v = kv.partition("=")
        env[k] = v
    state["t0"] = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out_chunks = []
    threading.Thread(target=lambda: out_chunks.append(p.stdout.read()), daemon=True).start()
    state["done"].wait(a.timeout)
    peak_kb = None
    try:  # the function's own high-water mark; RUSAGE_CHILDREN would inherit the harness's own
        with open(f"/proc/{p.pid}/status") as st:
            for line in st:
                if line.startswith("VmHWM:"):
                    peak_kb = int(line.split()[1])
    except OSError:
        pass
    if p.poll() is None:
        p.kill()
    p.wait()
    if peak_kb is None:
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    srv.shutdown()
    time.sleep(0.05)
    t0 = state["t0"]
    res = state["results"]
    out = {
        "init_ms": round((state["ready"] - t0) * 1000, 3) if state["ready"] else None,
        "first_ms": round((res[0]["t"] - t0) * 1000, 3) if res else None,
        "warm_ms": [round((r["t"] - r["handed"]) * 1000, 3) for r in res[1:]],
        "results": [{"ok": r["ok"], "body": r["body"]} for r in res],
        "init_error": state["init_error"],
        "peak_rss_kb": peak_kb,
        "output_tail": (b"".join(out_chunks).decode(errors="replace"))[-3000:],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
