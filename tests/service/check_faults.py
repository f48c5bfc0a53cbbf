#!/usr/bin/env python3
"""The example detector service with the PostgreSQL sink, under faults an operator meets: a database stopped
(pg_ctl stop -m immediate) under steady deliveries, the service killed (-9) during that outage and restarted,
rows the killed process left running, two processes on one spool, a spool replayed with no traffic, a chain link
across a restart, no spool, bad configuration at start-up. Its own throwaway cluster (scripts/pg-cluster.sh),
real sockets; the shared parts are in harness.py.

  check_faults.py --binary build/examples/detector_service [--payloads examples/payloads] [--only PART]

Reconciles what the service acknowledged with what the database holds: every delivery answered 200 is an
invocation, final, with children counts that match its child rows, and no row is left running.
Prints ok/not ok lines and ends with "N passed, M failed"; exits non-zero on any failure. Runs in about two minutes.
"""
import argparse
import copy
import json
import os
import subprocess
import tempfile
import time
import uuid

from harness import (SCHEMA, Cluster, Load, ROOT, check, closed_rows, metric, note, open_rows, postgres_service, psql, reconcile,
                     run_parts, summary, wait_for)

Service = postgres_service


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
    # Deliveries in progress at the kill were never answered (Hasura delivers them again); the rows they left
    # running are the dead instance's, closed as failed once its spool is replayed.
    closed = wait_for(lambda: open_rows(db) == [0, 0, 0], 20, step=0.5)
    check(closed, "after the restart no row is left running (the dead instance's unfinished deliveries are closed)", f"open {open_rows(db)}")
    n_closed = closed_rows(db, "process_ended")
    m = svc2.metrics()
    svc2.stop()
    note(f"kill -9: {before} acknowledged before the kill, {len(load.acked)} in all; {load.errors} requests cut short; "
         f"replayed by the new process {metric(m, 'eventscope_records_replayed_total'):.0f}; closed as process_ended "
         f"(invocations, jobs) {n_closed}")
    reconcile(db, load.acked, "kill -9 during outage", unacked_allowed=load.errors + load.threads)


def instance_id(spool):
    return json.load(open(os.path.join(spool, "detector_service.instance")))["instance"]


def fake_running_rows(db, instance, label):
    """A running invocation tagged with `instance`, with a detecting event and a running job: what a delivery cut
    short leaves. Returns the invocation id."""
    inv, ev, job = (str(uuid.uuid4()) for _ in range(3))
    context = json.dumps({"service_instance": instance})
    psql(db, f"INSERT INTO {SCHEMA}.invocations (id, created_at, updated_at, correlation_id, source_function, source_system, "
             f"source_event_payload, status, context_data) VALUES ('{inv}', now(), now(), '{label}', 'faults', 'hasura', '{{}}', "
             f"'running', '{context}')")
    psql(db, f"INSERT INTO {SCHEMA}.event_executions (id, created_at, updated_at, invocation_id, correlation_id, event_name, status) "
             f"VALUES ('{ev}', now(), now(), '{inv}', '{label}', 'fake.event', 'detecting')")
    psql(db, f"INSERT INTO {SCHEMA}.job_executions (id, created_at, updated_at, invocation_id, event_execution_id, correlation_id, "
             f"job_name, status) VALUES ('{job}', now(), now(), '{inv}', '{ev}', '{label}', 'fake_job', 'running')")
    return inv


def ended_instance_rows_are_closed(binary, payload, cluster, workdir):
    """Two services share one database, each with its own spool. One is killed (-9) under load and restarted:
    the rows its dead instance left running are closed as failed (process_ended, naming it), the live
    instance's rows and untagged rows are not touched."""
    db = cluster.database("instances")
    spool_a, spool_b = os.path.join(workdir, "instances-a"), os.path.join(workdir, "instances-b")
    a = Service(binary, workdir, "instances-a", db, ["--spool-dir", spool_a])
    b = Service(binary, workdir, "instances-b", db, ["--spool-dir", spool_b])
    dead, live = instance_id(spool_a), instance_id(spool_b)
    check(dead != live, "each process has its own instance ID in its spool directory", f"{dead} {live}")
    status, body = a.request("POST", "/events/faults", json.dumps(payload))
    tagged = psql(db, f"SELECT context_data->>'service_instance' FROM {SCHEMA}.invocations WHERE id = '{json.loads(body)['invocation_id']}'")
    check(status == 200 and tagged == [[dead]], "an invocation row carries the instance that wrote it (context_data.service_instance)", f"{tagged}")
    # A delivery cut short leaves a running invocation whose start record is in the database: made here by hand
    # so that the check does not depend on where the kill lands; real ones are made by the load below.
    cut_short = fake_running_rows(db, dead, "cut-short")
    of_live = fake_running_rows(db, live, "live-instance")
    untagged = fake_running_rows(db, "", "untagged")
    load = Load(a, payload, rate=100)
    time.sleep(2)
    a.kill9()
    load.stop()
    a2 = Service(binary, workdir, "instances-a", db, ["--spool-dir", spool_a])
    log_line = "jobs it left running"
    closed = wait_for(lambda: log_line in a2.log_text(), 20, step=0.5)
    check(closed and f"previous instance {dead}" in a2.log_text() and "WITHOUT STOPPING" in a2.log_text(),
          "the restarted service names the previous instance, says it ended without stopping, and logs what it closed",
          a2.log_text()[-500:])
    row = psql(db, f"SELECT status, error_type, error_message FROM {SCHEMA}.invocations WHERE id = '{cut_short}'")[0]
    children = psql(db, f"SELECT (SELECT string_agg(status, ',') FROM {SCHEMA}.event_executions WHERE invocation_id = '{cut_short}'), "
                        f"(SELECT string_agg(status || ':' || error_type, ',') FROM {SCHEMA}.job_executions WHERE invocation_id = '{cut_short}')")[0]
    check(row[0] == "failed" and row[1] == "process_ended" and dead in row[2] and "kill -9" in row[2],
          "a running invocation of the dead instance is closed as failed, error_type process_ended, naming the instance", f"{row}")
    check(children == ["failed", "failed:process_ended"], "its running event and job are closed too", f"{children}")
    still = psql(db, f"SELECT id, status FROM {SCHEMA}.invocations WHERE id IN ('{of_live}', '{untagged}') ORDER BY id")
    check([r[1] for r in still] == ["running", "running"], "rows of the other live instance, and untagged rows, stay as they are", f"{still}")
    left = psql(db, f"SELECT count(*) FROM {SCHEMA}.invocations WHERE status = 'running' AND context_data->>'service_instance' = '{dead}'")
    check(left == [["0"]], "no row of the dead instance is left running", f"{left}")
    state = json.load(open(os.path.join(spool_a, "detector_service.instance")))
    check(state["instance"] == instance_id(spool_a) != dead and state["ended"] == [],
          "the instance file names the new process and no instance is left to close", f"{state}")
    a2.stop()
    b.stop()
    # A clean stop is recorded: the next start has nothing to report.
    a3 = Service(binary, workdir, "instances-a3", db, ["--spool-dir", spool_a])
    time.sleep(2.5)
    a3.stop()
    check("WITHOUT STOPPING" not in a3.log_text(), "after a clean stop the next start reports no ended instance", a3.log_text()[-300:])
    note(f"instances: {len(load.acked)} acknowledged before the kill, closed as process_ended (invocations, jobs) "
         f"{closed_rows(db, 'process_ended')}")


def one_process_per_spool(binary, payload, cluster, workdir):
    """A second process on a spool directory in use refuses to start, naming the first (even with
    --start-degraded: both would replay the same files); once the first stops, it starts."""
    db = cluster.database("onespool")
    spool = os.path.join(workdir, "shared-spool")
    first = Service(binary, workdir, "first", db, ["--spool-dir", spool])
    for extra in ([], ["--start-degraded"]):
        t0 = time.time()
        second = Service(binary, workdir, "second", db, ["--spool-dir", spool, *extra], expect_start=False)
        code = second.proc.wait(timeout=20)
        second.log.close()
        text = second.log_text().split("cannot start:")[-1][:400]
        check(code != 0 and second.port is None and "in use by another detector_service" in text and f"pid {first.proc.pid}" in text,
              f"a second process on the same spool {' '.join(extra) or 'without flags'} exits in {time.time() - t0:.1f} s naming the first's pid",
              f"exit {code}: {text}")
    status, _ = first.request("POST", "/events/faults", json.dumps(payload))
    check(status == 200, "the first process is unaffected", f"{status}")
    first.stop()
    third = Service(binary, workdir, "third", db, ["--spool-dir", spool])
    check(third.port is not None, "after the first stops, another process takes the spool")
    third.stop()


def replay_without_traffic(binary, payload, cluster, workdir):
    """After an outage the spool is replayed although no delivery arrives: /healthz goes back to ok by itself."""
    db = cluster.database("idle")
    svc = Service(binary, workdir, "idle", db, ["--spool-dir", os.path.join(workdir, "idle-spool")])
    cluster.kill()
    load = Load(svc, payload, rate=50, threads=4)
    spooling = wait_for(lambda: svc.health()[1].get("records") == "spooling", 10)
    time.sleep(1)
    load.stop()
    cluster.restart()
    t0 = time.time()
    ok = wait_for(lambda: svc.health()[1].get("status") == "ok", 30, step=0.5)
    took = time.time() - t0
    m = svc.metrics()
    check(spooling and ok and metric(m, "eventscope_sink_spool_bytes") == 0,
          f"with no delivery after the outage, the spool is replayed and /healthz says ok again ({took:.1f} s)",
          f"spooling seen {spooling}, health {svc.health()}, spool bytes {metric(m, 'eventscope_sink_spool_bytes')}")
    svc.stop()
    reconcile(db, load.acked, "replay without traffic")


def chain_link_across_restart(binary, payload, cluster, workdir):
    """A chain link (an invocation caused by a job's database write: source_job_id, from the tracking token the
    job wrote) whose parent job is not in the database yet, both spooled during an outage, then kill -9 and a
    restart: the link and its parent arrive."""
    db = cluster.database("chain")
    spool = os.path.join(workdir, "chain-spool")
    svc = Service(binary, workdir, "chain", db, ["--spool-dir", spool])
    cluster.kill()
    parent = copy.deepcopy(payload)
    parent["id"] = str(uuid.uuid4())
    status, body = svc.request("POST", "/events/chain-parent", json.dumps(parent))
    reply = json.loads(body)
    job_id, correlation = reply["jobs"][0]["job_id"], reply["correlation_id"]
    child = copy.deepcopy(payload)
    child["id"] = str(uuid.uuid4())
    child["event"]["data"]["new"]["updated_by"] = f"db-orders|{correlation}|{job_id}"
    status2, body2 = svc.request("POST", "/events/chain-child", json.dumps(child))
    child_reply = json.loads(body2)
    check(status == 200 and status2 == 200 and child_reply["source_job_id"] == job_id,
          "during an outage a chain link is acknowledged, naming its parent job", f"{status} {status2} {child_reply.get('source_job_id')} {job_id}")
    svc.kill9()
    svc2 = Service(binary, workdir, "chain", db, ["--spool-dir", spool])
    cluster.restart()
    arrived = wait_for(lambda: psql(db, f"SELECT count(*) FROM {SCHEMA}.invocations WHERE id = '{child_reply['invocation_id']}'") == [["1"]], 20, step=0.5)
    link = psql(db, f"SELECT j.id, i.correlation_id, i.status FROM {SCHEMA}.invocations i JOIN {SCHEMA}.job_executions j ON j.id = i.source_job_id "
                    f"WHERE i.id = '{child_reply['invocation_id']}'")
    check(arrived and link == [[job_id, correlation, "completed"]],
          "after kill -9 and a restart the child invocation is in the database, linked to its parent job, same correlation ID",
          f"arrived {arrived}, {link}")
    svc2.stop()


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
    n_closed = closed_rows(db, "records_lost")
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
    ap.add_argument("--only", help="run only the parts whose names contain this")
    args = ap.parse_args()
    args.binary = os.path.abspath(args.binary)  # the service runs in the test's working directory
    if "postgres" not in subprocess.run([args.binary, "--help"], capture_output=True, text=True).stdout.split("sinks in this build:")[-1]:
        print("not ok - this build of detector_service has the PostgreSQL sink\n0 passed, 1 failed")
        raise SystemExit(1)
    payload = json.load(open(os.path.join(args.payloads, "db-orders--update-shipped-with-tracking-token.json")))
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="eventscope-faults.") as workdir:
        cluster = Cluster(os.path.join(workdir, "pg"))
        parts = [outage_with_spool, kill_during_outage, ended_instance_rows_are_closed, one_process_per_spool, replay_without_traffic,
                 chain_link_across_restart, no_spool_is_loud, unusable_spool]
        try:
            run_parts([(lambda p=p: p(args.binary, payload, cluster, workdir)) for p in parts if not args.only or args.only in p.__name__]
                      + ([lambda: bad_configuration(args.binary, cluster, workdir)] if not args.only or args.only in "bad_configuration" else []),
                      on_crash=cluster.restart_quietly)
        finally:
            cluster.remove()
    note(f"fault checks took {time.time() - started:.0f} s")
    raise SystemExit(summary())


if __name__ == "__main__":
    main()
