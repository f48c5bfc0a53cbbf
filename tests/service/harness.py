"""What the example service's checks share (check_service.py, check_faults.py, benchmarks/soak/soak_service.py):
ok/not ok counting, a throwaway PostgreSQL cluster (scripts/pg-cluster.sh), one detector_service process on
127.0.0.1 with its log in a file, HTTP helpers, the Prometheus text parser, steady load and reconciliation of
what the service acknowledged against the database."""
import http.client
import json
import os
import re
import resource
import signal
import subprocess
import threading
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA = "event_detector_observability"

passed = failed = 0


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


def summary():
    """Prints "N passed, M failed"; the exit code for it."""
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def run_parts(parts, on_crash=None):
    """Runs each part; a crashed part is a failure, and the others still run."""
    for part in parts:
        try:
            part()
        except Exception as e:
            check(False, "test part completed", repr(e))
            if on_crash:
                on_crash()


def wait_for(predicate, timeout, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


# ---- PostgreSQL -------------------------------------------------------------------------------------------

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

    def restart_quietly(self):
        try:
            self.restart()
        except subprocess.CalledProcessError:
            pass

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


# ---- the service ------------------------------------------------------------------------------------------

class Service:
    """One detector_service process: `args` after --port 0; stdout+stderr appended to <workdir>/<name>.log."""

    def __init__(self, binary, workdir, name, args, expect_start=True, nofile=None):
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "a")
        start = os.path.getsize(self.log_path)

        def limit_descriptors():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen([binary, "--port", "0", *args], stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir,
                                     preexec_fn=limit_descriptors if nofile is not None else None)
        self.port = None
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

    def cpu_seconds(self):
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kb(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self, timeout=60):
        """SIGTERM (the service flushes on the way out); the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def postgres_service(binary, workdir, name, db_url, extra=(), expect_start=True):
    return Service(binary, workdir, name, ["--sink", "postgres", "--db-url", db_url, *extra], expect_start=expect_start)


def read_json_lines(path):
    rows = []
    if os.path.exists(path):
        for line in open(path, errors="replace"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass
    return rows


# ---- /metrics ---------------------------------------------------------------------------------------------

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


# ---- load and reconciliation ------------------------------------------------------------------------------

class Load:
    """Steady deliveries at about `rate` per second from `threads` clients; remembers every invocation answered 200.
    `rate` 0: as fast as the service answers."""

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
        interval = self.threads / self.rate if self.rate else 0
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
                                                     f"events_detected_count FROM {SCHEMA}.invocations")}
    jobs = {r[0]: [int(x) for x in r[1:]] for r in psql(db_url, "SELECT invocation_id, count(*), count(*) FILTER (WHERE status = 'completed'), "
                                                                "count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'running') "
                                                                f"FROM {SCHEMA}.job_executions GROUP BY 1")}
    events = {r[0]: [int(x) for x in r[1:]] for r in psql(db_url, "SELECT invocation_id, count(*) FILTER (WHERE detected), "
                                                                  "count(*) FILTER (WHERE status IN ('detecting', 'handling')) "
                                                                  f"FROM {SCHEMA}.event_executions GROUP BY 1")}
    acked_set = set(acked)
    missing = [i for i in acked if i not in invocations]
    check(acked and not missing, f"{label}: every delivery answered 200 is an invocation in the database ({len(acked)} acknowledged)",
          f"{len(missing)} missing, e.g. {missing[:3]}")
    extra = set(invocations) - acked_set
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
    jobs_total = sum(j[0] for i, j in jobs.items() if i in acked_set)
    note(f"{label}: {len(acked)} invocations, {jobs_total} job rows reconciled")
    return {"acked": len(acked), "missing": len(missing), "extra": len(extra), "open": len(open_rows), "wrong": len(wrong), "jobs": jobs_total}


def open_rows(db_url):
    """Rows still running/detecting/handling, per table (invocations, events, jobs)."""
    q = (f"SELECT (SELECT count(*) FROM {SCHEMA}.invocations WHERE status = 'running'), "
         f"(SELECT count(*) FROM {SCHEMA}.event_executions WHERE status IN ('detecting', 'handling')), "
         f"(SELECT count(*) FROM {SCHEMA}.job_executions WHERE status = 'running')")
    return [int(x) for x in psql(db_url, q)[0]]


def closed_rows(db_url, error_type):
    """Invocations and jobs closed as failed with `error_type`."""
    q = (f"SELECT (SELECT count(*) FROM {SCHEMA}.invocations WHERE error_type = '{error_type}'), "
         f"(SELECT count(*) FROM {SCHEMA}.job_executions WHERE error_type = '{error_type}')")
    return [int(x) for x in psql(db_url, q)[0]]
