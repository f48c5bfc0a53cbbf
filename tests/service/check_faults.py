#!/usr/bin/env python3
"""The example detector service with the PostgreSQL sink, under faults an operator meets: a database stopped
(pg_ctl stop -m immediate) under steady deliveries, the service killed (-9) during that outage and restarted,
no spool, bad configuration at start-up. Its own throwaway cluster (scripts/pg-cluster.sh), real sockets.

  check_faults.py --binary build/examples/detector_service [--payloads examples/payloads]

Reconciles what the service acknowledged with what the database holds: every delivery answered 200 is an
invocation, final, with children counts that match its child rows, and nothing it acknowledged is left running.
Prints ok/not ok lines and ends with "N passed, M failed"; exits non-zero on any failure. Runs in about a minute.
"""
import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import uuid

passed = failed = 0
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def check(condition, what, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok - {what}", flush=True)
    else:
        failed += 1
        print(f"not ok - {what}" + (f" ({detail})" if detail else ""), flush=True)


def note(text):
    print(f"# {text}", flush=True)


class Cluster:
    def __init__(self, directory):
        self.dir = directory
        self.script = os.path.join(ROOT, "scripts", "pg-cluster.sh")
        # Commits must be durable for a crash (-m immediate) to lose nothing the sink was told is written:
        # synchronous_commit=off would drop the last ~0.6 s of committed batches. fsync may stay off (the machine
        # does not crash here, the page cache survives).
        env = dict(os.environ, EVENTSCOPE_PG_OPTS="-c fsync=off -c full_page_writes=off -c synchronous_commit=on")
        self.url = subprocess.run(["bash", self.script, "start", directory], check=True, capture_output=True, text=True, env=env).stdout.strip()
        self.env = env
        self.base = self.url.rsplit("/", 1)[0]

    def kill(self):  # pg_ctl stop -m immediate
        subprocess.run(["bash", self.script, "kill", self.dir], check=True, capture_output=True)

    def restart(self):
        subprocess.run(["bash", self.script, "restart", self.dir], check=True, capture_output=True, env=self.env)

    def remove(self):
        subprocess.run(["bash", self.script, "remove", self.dir], capture_output=True)

    def database(self, name, schema=True):
        psql(self.url, f"CREATE DATABASE {name}")
        url = f"{self.base}/{name}"
        if schema:
            subprocess.run(["psql", url, "-qX", "-v", "ON_ERROR_STOP=1", "-f", os.path.join(ROOT, "sql", "schema.sql")],
                           check=True, capture_output=True)
        return url


def psql(url, sql):
    out = subprocess.run(["psql", url, "-AtX", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


class Service:
    """One detector_service process with the postgres sink; stdout+stderr to a log file; cwd = workdir."""

    def __init__(self, binary, workdir, name, db_url, extra=(), expect_start=True):
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "a")
        argv = [binary, "--port", "0", "--sink", "postgres", "--db-url", db_url, *extra]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        self.port = None
        start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        deadline = time.time() + 20
        while time.time() < deadline:
            text = self.log_text()[start:]
            if "listening on http://127.0.0.1:" in text:
                self.port = int(text.split("listening on http://127.0.0.1:")[1].split("/")[0])
                return
            if self.proc.poll() is not None:
                if expect_start:
                    raise RuntimeError(f"service exited: {text}")
                return
            time.sleep(0.05)
        raise RuntimeError("service did not start")

    def request(self, method, target, body=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, target, body)
            r = c.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        finally:
            c.close()

    def health(self):
        status, body = self.request("GET", "/healthz")
        return status, json.loads(body)

    def metrics(self):
        status, body = self.request("GET", "/metrics")
        return parse_prometheus(body) if status == 200 else {}

    def log_text(self):
        return open(self.log_path, errors="replace").read()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text):
    """Text exposition format 0.0.4 -> {(name, frozenset(labels)): value}; raises ValueError on a bad line."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "untyped", "summary", "histogram"):
                raise ValueError(f"bad TYPE line: {line}")
            typed.add(parts[2])
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"bad sample line: {line}")
        if m.group(1) not in typed:
            raise ValueError(f"sample before its TYPE: {line}")
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples


def metric(samples, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


class Load:
    """Steady deliveries at about `rate` per second from `threads` clients; remembers every invocation answered 200."""

    def __init__(self, service, payload, rate=100, threads=8, source_function="faults"):
        self.service, self.payload, self.rate, self.threads = service, payload, rate, threads
        self.target = f"/events/{source_function}"
        self.acked, self.other, self.errors = [], 0, 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workers = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for w in self.workers:
            w.start()

    def run(self):
        interval = self.threads / self.rate
        conn, port = None, None
        next_at = time.time()
        while not self.stopping.is_set():
            next_at += interval
            body = dict(self.payload)
            body["id"] = str(uuid.uuid4())
            try:
                if conn is None or port != self.service.port:
                    port = self.service.port
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
                conn.request("POST", self.target, json.dumps(body))
                r = conn.getresponse()
                text = r.read()
                with self.lock:
                    if r.status == 200:
                        self.acked.append(json.loads(text)["invocation_id"])
                    else:
                        self.other += 1
            except (OSError, http.client.HTTPException, ValueError):
                with self.lock:
                    self.errors += 1  # not acknowledged: Hasura would deliver it again
                conn = None
                time.sleep(0.05)
            delay = next_at - time.time()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.time()

    def stop(self):
        self.stopping.set()
        for w in self.workers:
            w.join(timeout=30)


def reconcile(db_url, acked, label, unacked_allowed=0):
    """Everything acknowledged is in the database, final, with consistent children."""
    invocations = {r[0]: r[1:] for r in psql(db_url, "SELECT id, status, total_jobs_run, total_jobs_succeeded, total_jobs_failed, "
                                                     "events_detected_count FROM event_detector_observability.invocations")}
    jobs = {r[0]: [int(x) for x in r[1:]] for r in psql(db_url, "SELECT invocation_id, count(*), count(*) FILTER (WHERE status = 'completed'), "
                                                                "count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'running') "
                                                                "FROM event_detector_observability.job_executions GROUP BY 1")}
    events = {r[0]: [int(x) for x in r[1:]] for r in psql(db_url, "SELECT invocation_id, count(*) FILTER (WHERE detected), "
                                                                  "count(*) FILTER (WHERE status IN ('detecting', 'handling')) "
                                                                  "FROM event_detector_observability.event_executions GROUP BY 1")}
    missing = [i for i in acked if i not in invocations]
    check(acked and not missing, f"{label}: every delivery answered 200 is an invocation in the database ({len(acked)} acknowledged)",
          f"{len(missing)} missing, e.g. {missing[:3]}")
    extra = set(invocations) - set(acked)
    check(len(extra) <= unacked_allowed, f"{label}: no invocation the service did not acknowledge, beyond those cut short ({len(extra)} <= {unacked_allowed})")
    open_rows = [i for i in acked if i in invocations and invocations[i][0] == "running"]
    open_rows += [i for i in acked if jobs.get(i, [0, 0, 0, 0])[3] or events.get(i, [0, 0])[1]]
    check(not open_rows, f"{label}: nothing acknowledged is left running/detecting/handling", f"{len(open_rows)} e.g. {open_rows[:3]}")
    wrong = []
    for i in acked:
        if i not in invocations:
            continue
        _, run, ok, bad, detected = invocations[i]
        j = jobs.get(i, [0, 0, 0, 0])
        e = events.get(i, [0, 0])
        if [int(run or 0), int(ok or 0), int(bad or 0)] != j[:3] or int(detected or 0) != e[0]:
            wrong.append((i, (run, ok, bad, detected), j[:3], e[0]))
    check(not wrong, f"{label}: children counts agree with the child rows for every acknowledged invocation", f"{len(wrong)} e.g. {wrong[:2]}")
    jobs_total = sum(j[0] for i, j in jobs.items() if i in set(acked))
    note(f"{label}: {len(acked)} invocations, {jobs_total} job rows reconciled")


def open_rows(db_url):
    """Rows still running/detecting/handling, per table."""
    q = ("SELECT (SELECT count(*) FROM event_detector_observability.invocations WHERE status = 'running'), "
         "(SELECT count(*) FROM event_detector_observability.event_executions WHERE status IN ('detecting', 'handling')), "
         "(SELECT count(*) FROM event_detector_observability.job_executions WHERE status = 'running')")
    return [int(x) for x in psql(db_url, q)[0]]


def closed_rows(db_url):
    q = ("SELECT (SELECT count(*) FROM event_detector_observability.invocations WHERE error_type = 'records_lost'), "
         "(SELECT count(*) FROM event_detector_observability.job_executions WHERE error_type = 'records_lost')")
    return [int(x) for x in psql(db_url, q)[0]]


def wait_for(predicate, timeout, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def outage_with_spool(binary, payload, cluster, workdir):
    """A 10 s immediate stop of PostgreSQL under ~100 deliveries/s, spool on by default."""
    db = cluster.database("outage")
    svc = Service(binary, workdir, "outage", db)
    check(os.path.isdir(os.path.join(workdir, "detector_service-state", "spool")),
          "without flags the service spools to ./detector_service-state/spool", os.listdir(workdir))
    load = Load(svc, payload, rate=100)
    time.sleep(3)
    cluster.kill()
    t_down = time.time()
    saw_spooling = wait_for(lambda: svc.health()[1].get("records") == "spooling", 8)
    status, health = svc.health()
    check(saw_spooling and status == 200 and health["status"] == "degraded",
          "during the outage /healthz says records are spooling (200, degraded)", f"{status} {health}")
    time.sleep(max(0, 10 - (time.time() - t_down)))
    m = svc.metrics()
    check(metric(m, "eventscope_records_spooled_total") > 0 and metric(m, "eventscope_sink_spool_bytes") > 0,
          "during the outage /metrics counts spooled records and spool bytes",
          f"spooled {metric(m, 'eventscope_records_spooled_total')}, bytes {metric(m, 'eventscope_sink_spool_bytes')}")
    cluster.restart()
    back = wait_for(lambda: svc.health()[1].get("records") == "writing", 20)
    check(back, "after the outage /healthz says writing again (the spool replayed)", str(svc.health()))
    time.sleep(2)
    load.stop()
    m = svc.metrics()
    code = svc.stop()
    check(code == 0, "the service stops cleanly on SIGTERM", f"exit {code}")
    log = svc.log_text()
    check("SPOOLING" in log and "writing again" in log, "the log says when records went to the spool and when writing resumed", log[-400:])
    check(metric(m, "eventscope_records_dropped_total") == 0 and metric(m, "eventscope_records_replayed_total") > 0,
          "nothing dropped, spooled rows replayed (metrics)", f"dropped {metric(m, 'eventscope_records_dropped_total')}")
    note(f"outage: {len(load.acked)} acknowledged, {load.other} other replies, {load.errors} connection errors; "
         f"spooled {metric(m, 'eventscope_records_spooled_total'):.0f}, replayed {metric(m, 'eventscope_records_replayed_total'):.0f}")
    check(load.other == 0 and load.errors == 0, "every delivery during the outage was answered 200", f"{load.other} other, {load.errors} errors")
    reconcile(db, load.acked, "outage")


def kill_during_outage(binary, payload, cluster, workdir):
    """kill -9 of the service 3 s into an outage, a new process on the same spool, then the database returns."""
    db = cluster.database("killed")
    spool = os.path.join(workdir, "killed-spool")
    svc = Service(binary, workdir, "killed", db, ["--spool-dir", spool])
    load = Load(svc, payload, rate=100)
    time.sleep(2)
    cluster.kill()
    time.sleep(3)
    before = len(load.acked)
    svc.kill9()
    check(any(f.startswith("spool-") for f in os.listdir(spool)), "the killed service left its spool files", os.listdir(spool))
    svc2 = Service(binary, workdir, "killed", db, ["--spool-dir", spool])
    load.service = svc2  # the clients move to the new process (Hasura would retry what was cut short)
    time.sleep(3)
    cluster.restart()
    back = wait_for(lambda: svc2.health()[1].get("records") == "writing", 20)
    check(back, "the restarted service replays the dead one's spool and writes again", str(svc2.health()))
    time.sleep(1)
    load.stop()
    # Known gap: deliveries in progress at the kill (never answered, so Hasura delivers them again) leave their
    # rows open; nothing marks them as the dead process's yet.
    note(f"kill -9: rows left open by the deliveries cut short (invocations, events, jobs): {open_rows(db)}")
    m = svc2.metrics()
    svc2.stop()
    note(f"kill -9: {before} acknowledged before the kill, {len(load.acked)} in all; {load.errors} requests cut short; "
         f"replayed by the new process {metric(m, 'eventscope_records_replayed_total'):.0f}")
    # Deliveries in progress at the kill were never answered; their rows may exist (not acknowledged).
    reconcile(db, load.acked, "kill -9 during outage", unacked_allowed=load.errors + load.threads)


def no_spool_is_loud(binary, payload, cluster, workdir):
    """--no-spool and the database down until the ring overflows: the loss is logged, counted and in /healthz."""
    db = cluster.database("nospool")
    svc = Service(binary, workdir, "nospool", db, ["--no-spool"])
    cluster.kill()
    load = Load(svc, payload, rate=2000, threads=16)
    dropping = wait_for(lambda: svc.health()[1].get("records") == "dropping", 40, step=0.5)
    load.stop()
    status, health = svc.health()
    check(dropping and status == 503 and health["status"] == "failing",
          "without a spool, once records are dropped /healthz answers 503 and says dropping", f"{status} {health}")
    m = svc.metrics()
    check(metric(m, "eventscope_records_dropped_total", cause="buffer_full") > 0,
          "the drops are counted by cause in /metrics", f"{metric(m, 'eventscope_records_dropped_total', cause='buffer_full')}")
    wait_for(lambda: "DROPPING" in svc.log_text(), 3)
    log = svc.log_text()
    lines = [l for l in log.splitlines() if "DROPPING" in l]
    check(lines and "ring full" in lines[0], "the drops are logged while they happen, with counts by cause", log[-300:])
    cluster.restart()
    writing = wait_for(lambda: svc.health()[1].get("records") == "writing", 40, step=0.5)
    closed = writing and wait_for(lambda: open_rows(db) == [0, 0, 0], 20, step=0.5)
    check(closed, "after the outage, rows whose final records were dropped are closed as failed, none left running",
          f"writing {writing}, open {open_rows(db)}")
    n_closed = closed_rows(db)
    check(sum(n_closed) > 0 and "closed as failed" in svc.log_text(), "the closed rows carry the reason (error_type records_lost) and are logged",
          f"{n_closed}")
    svc.stop()
    check(len([l for l in svc.log_text().splitlines() if "DROPPING" in l]) <= 8, "drop lines are rate-limited", f"{len(lines)} lines")
    note(f"no spool: {len(load.acked)} acknowledged, dropped {metric(m, 'eventscope_records_dropped_total'):.0f} records, "
         f"closed as failed (invocations, jobs) {n_closed}")


def unusable_spool(binary, payload, cluster, workdir):
    """A spool directory that cannot be created: warned at start-up, and during an outage the records that
    cannot be spooled are said to be at risk (health, log, unconfirmed acknowledgements)."""
    db = cluster.database("badspool")
    blocker = os.path.join(workdir, "not-a-directory")
    open(blocker, "w").write("a file where the spool directory should be")
    spool = os.path.join(blocker, "spool")
    svc = Service(binary, workdir, "badspool", db, ["--spool-dir", spool, "--ack-timeout-ms", "2000"])
    log = svc.log_text()
    status, health = svc.health()
    check("WARNING" in log and spool in log, "an unusable spool directory is warned about at start-up, naming it", log[-300:])
    check(spool in health.get("spool_problem", ""), "/healthz names the spool problem", f"{health}")
    cluster.kill()
    load = Load(svc, payload, rate=50, threads=4)
    at_risk = wait_for(lambda: svc.health()[1].get("records") in ("retrying", "dropping"), 15, step=0.5)
    load.stop()
    status, health = svc.health()
    check(at_risk and health["status"] != "ok", "during the outage /healthz says records are not being stored (retrying or dropping)", f"{health}")
    m = svc.metrics()
    check(metric(m, "detector_service_unconfirmed_acks_total") > 0 and metric(m, "eventscope_sink_spool_errors_total") > 0,
          "deliveries answered without their records stored, and failed spool appends, are counted",
          f"unconfirmed {metric(m, 'detector_service_unconfirmed_acks_total')}, spool errors {metric(m, 'eventscope_sink_spool_errors_total')}")
    cluster.restart()
    svc.stop()
    log = svc.log_text()
    check("cannot spool" in log and "FAILING" in log, "the failed spool appends and the failing writes are logged during the outage", log[-400:])


def bad_configuration(binary, cluster, workdir):
    """Each configuration error stops start-up with the fix named; --start-degraded starts and says so."""
    no_schema = cluster.database("noschema", schema=False)
    psql(cluster.url, "CREATE ROLE cannot_login NOLOGIN")
    cases = [
        ("a missing schema", no_schema, "sql/schema.sql"),
        ("a missing database", f"{cluster.base}/no_such_database", "create-database.sql"),
        ("a refused login", cluster.base.replace("postgres@", "cannot_login@") + "/postgres", "user/password"),
        ("an unparsable URL", "this is not a url", "--db-url"),
    ]
    for what, url, fix in cases:
        t0 = time.time()
        svc = Service(binary, workdir, "config", url, expect_start=False)
        code = svc.proc.wait(timeout=20)
        svc.log.close()
        text = svc.log_text().split("detector_service: cannot start:")[-1][:600]
        check(code != 0 and svc.port is None and fix in text and "--start-degraded" in text,
              f"{what}: start-up fails naming the fix ({fix}) and --start-degraded, in {time.time() - t0:.1f} s", f"exit {code}: {text[:300]}")
    svc = Service(binary, workdir, "degraded", no_schema, ["--start-degraded", "--spool-dir", os.path.join(workdir, "degraded-spool")])
    status, health = svc.health()
    check(status == 200 and health["status"] == "degraded" and "schema" in health.get("startup_problem", ""),
          "--start-degraded: starts, and /healthz says degraded and why", f"{status} {health}")
    svc.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--payloads", default=os.path.join(ROOT, "examples", "payloads"))
    args = ap.parse_args()
    args.binary = os.path.abspath(args.binary)  # the service runs in the test's working directory
    if "postgres" not in subprocess.run([args.binary, "--help"], capture_output=True, text=True).stdout.split("sinks in this build:")[-1]:
        print("not ok - this build of detector_service has the PostgreSQL sink\n0 passed, 1 failed")
        raise SystemExit(1)
    payload = json.load(open(os.path.join(args.payloads, "db-orders--update-shipped-with-tracking-token.json")))
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="eventscope-faults.") as workdir:
        cluster = Cluster(os.path.join(workdir, "pg"))
        try:
            for part in (lambda: outage_with_spool(args.binary, payload, cluster, workdir),
                         lambda: kill_during_outage(args.binary, payload, cluster, workdir),
                         lambda: no_spool_is_loud(args.binary, payload, cluster, workdir),
                         lambda: unusable_spool(args.binary, payload, cluster, workdir),
                         lambda: bad_configuration(args.binary, cluster, workdir)):
                try:
                    part()
                except Exception as e:  # a crashed part is a failure, and the others still run
                    check(False, "test part completed", repr(e))
                    try:
                        cluster.restart()
                    except subprocess.CalledProcessError:
                        pass
        finally:
            cluster.remove()
    note(f"fault checks took {time.time() - started:.0f} s")
    print(f"{passed} passed, {failed} failed")
    raise SystemExit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
