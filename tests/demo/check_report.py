#!/usr/bin/env python3
"""Checks a demo report against what the sink received.

  check_report.py REPORT --jsonl FILE          rows from the JSON-lines sink (last line per table+id wins)
  check_report.py REPORT --db-url URL          rows from the observability database (via psql)

Prints one `ok - ...` / `not ok - ...` line per check; the exit status is the number of failures (max 100).
"""
import json
import subprocess
import sys
from collections import Counter, defaultdict

TABLES = ["invocations", "event_executions", "job_executions", "job_logs"]


def rows_from_jsonl(path):
    latest, lines = {}, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            lines += 1
            row = json.loads(line)
            latest[(row["table"], row["id"])] = row
    out = defaultdict(list)
    for (table, _), row in latest.items():
        out[table].append(row)
    return out, lines


def rows_from_db(url, schema="event_detector_observability"):
    out = {}
    for t in TABLES:
        text = subprocess.run(["psql", url, "-AtX", "-v", "ON_ERROR_STOP=1", "-c",
                               f"SELECT row_to_json(t) FROM {schema}.{t} t"],
                              check=True, capture_output=True, text=True).stdout
        out[t] = [json.loads(line) for line in text.splitlines() if line.strip()]
    return out


def main():
    report_path, kind, source = sys.argv[1], sys.argv[2], sys.argv[3]
    report = json.load(open(report_path, encoding="utf-8"))
    lines = None
    if kind == "--jsonl":
        rows, lines = rows_from_jsonl(source)
    else:
        rows = rows_from_db(source)
    inv, ev, jobs, logs = (rows.get(t, []) for t in TABLES)
    failures = 0

    def check(name, got, want):
        nonlocal failures
        if got == want:
            print(f"ok - {name} ({got})")
        else:
            failures += 1
            print(f"not ok - {name}: sink has {got}, report says {want}")

    def check_true(name, cond, detail=""):
        nonlocal failures
        if cond:
            print(f"ok - {name}")
        else:
            failures += 1
            print(f"not ok - {name} {detail}")

    check("invocations", len(inv), report["invocations"])
    check("failed invocations (malformed payloads)", sum(r["status"] == "failed" for r in inv), report["invocations_failed"])
    check("event executions (detectors run)", len(ev), report["events_checked"])
    check("events detected", sum(bool(r["detected"]) for r in ev), report["events_detected"])
    check("detection errors", sum(r["status"] == "detection_failed" for r in ev), report["detection_errors"])
    check("jobs completed", sum(r["status"] == "completed" for r in jobs), report["jobs"]["ok"])
    check("jobs failed", sum(r["status"] == "failed" for r in jobs), report["jobs"]["failed"])
    by_job = Counter(r["job_name"] for r in jobs if r["status"] == "failed")
    want_by_job = Counter({k.split("/", 1)[1]: v for k, v in report["jobs"]["failed_by_job"].items()})
    check("failed jobs by name", dict(sorted(by_job.items())), dict(sorted(want_by_job.items())))
    unfinished = [r for r in inv + ev + jobs if r["status"] in ("running", "detecting", "handling")]
    check("rows left unfinished", len(unfinished), 0)
    check_true("failed jobs carry an error message and type",
               all(r["error_message"] and r["error_type"] for r in jobs if r["status"] == "failed"))
    check_true("thrown failures carry a stack trace",
               any(r["error_stack"] for r in jobs if r["status"] == "failed"))

    # Correlation: every child repeats its invocation's correlation ID.
    corr = {r["id"]: r["correlation_id"] for r in inv}
    check("children with their invocation's correlation_id",
          sum(corr.get(r["invocation_id"]) == r["correlation_id"] for r in ev + jobs), len(ev) + len(jobs))

    # Chains: invocations linked to the job whose write caused them.
    job_inv = {r["id"]: r["invocation_id"] for r in jobs}
    parent = {r["id"]: job_inv[r["source_job_id"]] for r in inv if r.get("source_job_id") in job_inv}
    check("linked follow-up invocations (source_job_id -> job_executions)", len(parent), report["chains"]["linked_invocations"])
    children = defaultdict(list)
    for c, p in parent.items():
        children[p].append(c)
    roots = [r["id"] for r in inv if r["id"] not in parent and children.get(r["id"])]
    check("correlation chains", len(roots), report["chains"]["count"])
    check_true("chain children share the root's correlation ID",
               all(corr[c] == corr[p] for c, p in parent.items()))
    check_true("a chain of at least 4 detected steps", report["chains"]["longest_steps"] >= 4,
               f"(longest {report['chains']['longest_steps']})")

    # Logs: job.log lines and captured std::cout lines.
    check_true("job logs written", len(logs) > 0)
    check_true("console output captured into job logs", any(r["message"].startswith("[mail]") for r in logs))
    check_true("job logs belong to written jobs", all(r["job_execution_id"] in job_inv for r in logs))

    rec = report["records"]
    check("records dropped (obs.stats)", rec["dropped"], 0)
    check("records written = recorded (obs.stats)", rec["written"], rec["recorded"])
    if lines is not None:
        check("JSON lines in the file = records written", lines, rec["written"])
    return failures


if __name__ == "__main__":
    sys.exit(min(main(), 100))
