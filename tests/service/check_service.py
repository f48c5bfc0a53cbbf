#!/usr/bin/env python3
"""The example detector service as an operator meets it: real process, real sockets on 127.0.0.1, JSON-lines sink.

  check_service.py --binary build/examples/detector_service [--payloads examples/payloads]

Checks delivery limits (large deliveries recorded, oversized ones refused and logged, paths validated before
they reach the recorder), behaviour out of file descriptors (no spinning accept loop, /healthz still answers),
the connection cap, and that memory stays flat over thousands of deliveries outside --demo.
Prints ok/not ok lines and ends with "N passed, M failed"; exits non-zero on any failure.
"""
import argparse
import copy
import http.client
import json
import os
import socket
import tempfile
import threading
import time

import harness
from harness import check, read_json_lines, run_parts, summary


class Service(harness.Service):
    """One detector_service process writing JSON lines to <workdir>/<name>.jsonl."""

    def __init__(self, binary, workdir, name, extra=(), nofile=None):
        self.records = os.path.join(workdir, f"{name}.jsonl")
        super().__init__(binary, workdir, name, ["--out", self.records, *extra], nofile=nofile)

    def stop(self):
        """SIGTERM, then the records it flushed on the way out."""
        super().stop(timeout=30)
        return read_json_lines(self.records)


def delivery_limits(binary, payloads, workdir):
    base = json.load(open(os.path.join(payloads, "db-orders--update-shipped-with-tracking-token.json")))
    big = copy.deepcopy(base)
    big["id"] = "0a7f2c56-1d2e-4b8a-9c3d-000000000002"
    # A row with a 2 MB text column: Hasura sends old and new images, each in full.
    big["event"]["data"]["new"]["notes"] = "n" * (2 << 20)
    big_body = json.dumps(big).encode()

    svc = Service(binary, workdir, "limits")
    status, _ = svc.request("POST", "/events/db-orders-large", big_body)
    check(status == 200, "a well-formed 2 MB Hasura delivery is answered 200", f"got {status}")
    long_path = "/events/" + "f" * 6000
    status, body = svc.request("POST", long_path, json.dumps(base).encode())
    check(status == 400 and "source function" in body, "a 6,000-character source function in the path is refused with 400 and a reason",
          f"got {status} {body[:120]}")
    status, body = svc.request("POST", "/events/orders%20x", json.dumps(base).encode())
    check(status == 400, "a source function outside A-Z a-z 0-9 . _ - is refused with 400", f"got {status}")
    status, body = svc.request("POST", "/webhook", json.dumps(base).encode())
    check(status == 404 and "/events/" in body, "a POST to any other path is 404 and names the delivery path", f"got {status} {body[:120]}")
    status, _ = svc.request("GET", "/events/db-orders")
    check(status == 405, "GET on a delivery path is 405", f"got {status}")
    status, body = svc.request("GET", "/healthz")
    check(status == 200, "GET /healthz answers 200", f"got {status}")
    status, body = svc.request("GET", "/healthz?probe=1")
    check(status == 200, "GET /healthz with a query string answers 200", f"got {status}")
    rows = svc.stop()
    functions = [r.get("source_function") for r in rows if "source_function" in r]
    check("db-orders-large" in functions, "the 2 MB delivery is recorded (an invocation row for its source function)")
    check(all(f is None or len(f) <= 128 for f in functions) and not any(f and f.startswith("fff") for f in functions),
          "nothing refused by the path check reached the recorder", f"functions seen: {sorted(set(f[:40] for f in functions if f))[:5]}")

    svc = Service(binary, workdir, "limits-small", ["--max-body-bytes", "1048576"])
    status, body = svc.request("POST", "/events/db-orders-large", big_body)
    check(status == 413, "over --max-body-bytes a delivery is answered 413", f"got {status}")
    status, _ = svc.request("POST", "/events/db-orders", json.dumps(base).encode())
    check(status == 200, "a delivery under the limit still works after a 413", f"got {status}")
    svc.stop()
    log = svc.log_text()
    check("--max-body-bytes" in log and "413" in log, "the refused oversized delivery is logged, naming the setting",
          log[-300:])


def out_of_descriptors(binary, workdir):
    # 128 descriptors and 200 idle keep-alive connections: accept() fails with EMFILE while connections wait.
    svc = Service(binary, workdir, "emfile", nofile=128)
    sockets = []
    for _ in range(200):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", svc.port))
            sockets.append(s)
        except OSError:
            break
    time.sleep(0.5)
    c0, t0 = svc.cpu_seconds(), time.time()
    time.sleep(3)
    share = (svc.cpu_seconds() - c0) / (time.time() - t0)
    check(share < 0.25, "out of file descriptors, the service does not spin (CPU share over 3 s below 25 %)", f"share {share:.2f}")
    try:
        status, _ = svc.request("GET", "/healthz", timeout=5)
    except OSError as e:
        status = str(e)
    check(status == 200, "with 200 idle connections and 128 descriptors, /healthz still answers", f"got {status}")
    for s in sockets:
        s.close()
    svc.stop()
    log = svc.log_text()
    trouble = [l for l in log.splitlines() if "cannot accept connections" in l or "refused a request" in l]
    check(len(trouble) <= 6, "the overload is logged at a bounded rate", f"{len(trouble)} lines")


def connection_cap(binary, workdir):
    svc = Service(binary, workdir, "cap", ["--max-connections", "4"])
    idle = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", svc.port), timeout=5)
        idle.append(s)
    time.sleep(0.3)
    status, _ = svc.request("GET", "/healthz", timeout=5)
    check(status == 200, "at the connection cap, a new connection replaces an idle one", f"got {status}")
    closed = 0
    for s in idle:
        s.settimeout(2)
        try:
            if s.recv(1) == b"":
                closed += 1
        except OSError:
            closed += 1
    check(closed >= 1, "the longest-idle connection was closed to make room", f"{closed} closed")
    for s in idle:
        s.close()
    # Four connections each in the middle of a request are not idle: the fifth is refused with 503.
    busy = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", svc.port), timeout=5)
        s.sendall(b"POST /events/db-orders HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        busy.append(s)
    time.sleep(0.3)
    status, body = svc.request("GET", "/healthz", timeout=5)
    check(status == 503, "at the cap with every connection busy, a new one is answered 503", f"got {status} {body[:80]}")
    for s in busy:
        s.close()
    svc.stop()

    # A connection answered 413 lingers (up to 2 s) to read what its client still sends, so the client reads the
    # answer; lingering, it serves nobody, so it is the first to close when a new connection needs its place.
    svc = Service(binary, workdir, "cap-lingering", ["--max-connections", "4", "--max-body-bytes", "1024"])
    refused = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", svc.port), timeout=5)
        s.sendall(b"POST /events/db-orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        refused.append((s, answer))
    check(all(a.startswith(b"HTTP/1.1 413") for _, a in refused), "an oversized delivery is answered 413 while its client still holds the connection",
          repr([a[:20] for _, a in refused]))
    status, body = svc.request("GET", "/healthz", timeout=5)
    check(status == 200, "at the cap with every connection lingering after a 413, a new one is served", f"got {status} {body[:80]}")
    for s, _ in refused:
        s.close()
    svc.stop()


def flat_memory(binary, payloads, workdir):
    body = open(os.path.join(payloads, "db-orders--update-shipped-with-tracking-token.json"), "rb").read()
    svc = Service(binary, workdir, "memory", ["--app-max-rows", "500"])

    def blast(n, threads=16):
        errors = []

        def worker(k):
            c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
            for _ in range(k):
                c.request("POST", "/events/db-orders", body)
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
            c.close()

        ts = [threading.Thread(target=worker, args=(n // threads,)) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return errors

    errors = blast(3000)  # warm-up: allocator pools, thread stacks, the app tables up to their cap
    before = svc.rss_kb()
    errors += blast(6000)
    after = svc.rss_kb()
    svc.stop()
    check(not errors, "6,000 deliveries outside --demo answered 200", f"{len(errors)} errors")
    per_request = (after - before) * 1024 / 6000
    check(per_request < 200, "memory stays flat outside --demo (RSS growth per delivery under 200 B)",
          f"{before} KB -> {after} KB, {per_request:.0f} B per delivery")
    print(f"# RSS {before} KB -> {after} KB over 6,000 deliveries ({per_request:.0f} B each)")


def payload_notes_and_metrics(binary, payloads, workdir):
    base = json.load(open(os.path.join(payloads, "db-orders--update-shipped-with-tracking-token.json")))
    svc = Service(binary, workdir, "notes")
    # The same key twice in one object: valid JSON, never sent by Hasura; the last value is the one used.
    text = json.dumps(base).replace('"status": "shipped"', '"status": "paid", "status": "shipped"', 1)
    assert text.count('"status"') >= 3, "the corpus payload changed: no new.status to duplicate"
    status, body = svc.request("POST", "/events/db-orders-dup", text.encode())
    check(status == 200, "a delivery with a duplicated key is answered 200", f"got {status} {body[:120]}")
    deep = copy.deepcopy(base)
    deep["id"] = "0a7f2c56-1d2e-4b8a-9c3d-000000000003"
    nested = {}
    for _ in range(300):
        nested = {"n": nested}
    deep["event"]["data"]["new"]["deep"] = nested
    status, _ = svc.request("POST", "/events/db-orders-deep", json.dumps(deep).encode())
    check(status == 200, "a delivery nested 300 levels deep is answered 200", f"got {status}")
    status, text = svc.request("GET", "/metrics")
    c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
    c.request("GET", "/metrics")
    r = c.getresponse()
    content_type = r.getheader("Content-Type", "")
    r.read()
    c.close()
    rows = svc.stop()
    invs = {r.get("source_function"): r for r in rows if r.get("table") == "invocations" and (r.get("source_function") or "").startswith("db-orders-") and r.get("status") != "running"}
    dup = invs.get("db-orders-dup", {})
    keys = (dup.get("context_data") or {}).get("payload_duplicate_keys", {})
    check(keys.get("count") == 1 and keys.get("paths") == ["/event/data/new/status"],
          "the invocation records that the body had a duplicated key, and where", json.dumps(dup.get("context_data"))[:200])
    deep_row = invs.get("db-orders-deep", {})
    check(deep_row.get("status") == "completed" and (deep_row.get("error_message") or "").startswith("truncated payload:")
          and "malformed" not in (deep_row.get("error_message") or ""),
          "an over-deep payload's invocation is completed and says truncated, not malformed",
          f"{deep_row.get('status')} {deep_row.get('error_message')}")
    check(status == 200 and content_type.startswith("text/plain") and "version=0.0.4" in content_type,
          "GET /metrics answers in the Prometheus text format", f"{status} {content_type}")
    samples, problems = {}, []
    typed = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
        elif line and not line.startswith("#"):
            name_labels, _, value = line.rpartition(" ")
            name = name_labels.split("{")[0]
            try:
                samples[name_labels] = float(value)
            except ValueError:
                problems.append(line)
            if name not in typed:
                problems.append(line)
    check(not problems and samples.get("eventscope_records_recorded_total", 0) > 0
          and samples.get('eventscope_records_written_total{sink="json_lines_sink"}', -1) >= 0
          and samples.get('detector_service_deliveries_total{status="2xx"}', 0) >= 2
          and samples.get('detector_service_records_state{state="writing"}') == 1,
          "/metrics parses (every sample typed and numeric) and counts recorded records, deliveries, the state",
          f"problems {problems[:3]}; {sorted(samples)[:6]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--payloads", default=os.path.join(os.path.dirname(__file__), "..", "..", "examples", "payloads"))
    args = ap.parse_args()
    args.binary = os.path.abspath(args.binary)  # the service runs in the test's working directory
    with tempfile.TemporaryDirectory(prefix="eventscope-service-test.") as workdir:
        run_parts([lambda: delivery_limits(args.binary, args.payloads, workdir),
                   lambda: out_of_descriptors(args.binary, workdir),
                   lambda: connection_cap(args.binary, workdir),
                   lambda: flat_memory(args.binary, args.payloads, workdir),
                   lambda: payload_notes_and_metrics(args.binary, args.payloads, workdir)])
    raise SystemExit(summary())

if __name__ == "__main__":
    main()
