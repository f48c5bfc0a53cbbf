#!/usr/bin/env python3
"""Soak of the example detector service with the PostgreSQL sink (not in CI): steady deliveries for a long
time with periodic database outages (pg_ctl stop -m immediate) and, optionally, kill -9 of the service in the
middle of an outage followed by a restart on the same spool. Every few seconds it samples the service's RSS,
open file descriptors and CPU time; at the end it reconciles deliveries answered 200 against the database.

  benchmarks/soak/soak_service.py --binary build/examples/detector_service [--duration 60] [--rate 200]
      [--outage-every 30] [--outage-seconds 20] [--kill-every 0] [--spool-sync interval] [--service-args "--http-threads 16"]

A throwaway cluster (scripts/pg-cluster.sh, synchronous_commit=on) is started and removed. Prints a sample table
and a summary; the figures of a run go to benchmarks/README.md ("Issue 15").
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "service"))
import harness as cf  # noqa: E402  (the cluster, service, load and reconcile helpers of the service tests)


def proc_sample(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--payloads", default=os.path.join(cf.ROOT, "examples", "payloads"))
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--outage-every", type=float, default=30, help="seconds between outage starts (0: none)")
    ap.add_argument("--outage-seconds", type=float, default=20)
    ap.add_argument("--kill-every", type=int, default=0, help="kill -9 the service in every Nth outage (0: never)")
    ap.add_argument("--spool-sync", default="interval")
    ap.add_argument("--sample-every", type=float, default=5)
    ap.add_argument("--service-args", default="", help="more detector_service flags, e.g. '--http-threads 16'")
    ap.add_argument("--plain", action="store_true", help="pass no spool flags (a build from before issue 15, for the 'before' column)")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    payload = json.load(open(os.path.join(args.payloads, "db-orders--update-shipped-with-tracking-token.json")))

    with tempfile.TemporaryDirectory(prefix="eventscope-soak.") as work:
        cluster = cf.Cluster(os.path.join(work, "pg"))
        try:
            db = cluster.database("soak")
            extra = [] if args.plain else ["--spool-dir", os.path.join(work, "spool"), "--spool-sync", args.spool_sync]
            extra += args.service_args.split()
            svc = cf.postgres_service(binary, work, "soak", db, extra)
            load = cf.Load(svc, payload, rate=args.rate, threads=args.threads)
            t0 = time.time()
            next_outage = t0 + args.outage_every if args.outage_every > 0 else float("inf")
            outage_end, outages, kills = None, 0, 0
            next_sample = t0
            cpu_base = 0.0
            print(f"{'t s':>6} {'acked':>7} {'rate/s':>7} {'state':>9} {'RSS KB':>8} {'fds':>4} {'CPU s':>7} {'spool B':>9} {'dropped':>7}", flush=True)
            last_acked, last_t = 0, t0
            samples = []
            while time.time() - t0 < args.duration:
                now = time.time()
                if outage_end is None and now >= next_outage:
                    cluster.kill()
                    outages += 1
                    outage_end = now + args.outage_seconds
                    next_outage += args.outage_every
                    if args.kill_every and outages % args.kill_every == 0:
                        time.sleep(min(3, args.outage_seconds / 2))
                        cpu_base += proc_sample(svc.proc.pid)[2]
                        svc.kill9()
                        kills += 1
                        svc = cf.postgres_service(binary, work, "soak", db, extra)
                        load.service = svc
                elif outage_end is not None and now >= outage_end:
                    cluster.restart()
                    outage_end = None
                if now >= next_sample:
                    rss, fds, cpu = proc_sample(svc.proc.pid)
                    try:
                        _, health = svc.health()
                    except OSError:
                        health = {}
                    m = svc.metrics()
                    acked = len(load.acked)
                    rate = (acked - last_acked) / max(1e-9, now - last_t)
                    last_acked, last_t = acked, now
                    row = (now - t0, acked, rate, health.get("records", "?"), rss, fds, cpu_base + cpu,
                           cf.metric(m, "eventscope_sink_spool_bytes"), cf.metric(m, "eventscope_records_dropped_total"))
                    samples.append(row)
                    print(f"{row[0]:6.0f} {row[1]:7d} {row[2]:7.0f} {row[3]:>9} {row[4]:8d} {row[5]:4d} {row[6]:7.1f} {row[7]:9.0f} {row[8]:7.0f}", flush=True)
                    next_sample += args.sample_every
                time.sleep(0.1)
            if outage_end is not None:
                cluster.restart()
            load.stop()
            if not args.plain:
                cf.wait_for(lambda: svc.health()[1].get("records") == "writing", 60, step=0.5)
                cf.wait_for(lambda: cf.open_rows(db) == [0, 0, 0], 30, step=0.5)
            left_open = cf.open_rows(db)
            m = svc.metrics()
            svc.stop()
            elapsed = time.time() - t0
            print(f"# {elapsed:.0f} s, {outages} outages of {args.outage_seconds:.0f} s, {kills} kill -9; "
                  f"{len(load.acked)} deliveries answered 200 ({len(load.acked) / elapsed:.0f}/s), {load.other} other replies, "
                  f"{load.errors} cut short; spooled {cf.metric(m, 'eventscope_records_spooled_total'):.0f}, "
                  f"replayed {cf.metric(m, 'eventscope_records_replayed_total'):.0f}, dropped {cf.metric(m, 'eventscope_records_dropped_total'):.0f}")
            if samples:
                rss = [s[4] for s in samples]
                fds = [s[5] for s in samples]
                print(f"# RSS {min(rss)}–{max(rss)} KB (first {rss[0]}, last {rss[-1]}); fds {min(fds)}–{max(fds)}")
            cf.reconcile(db, load.acked, "soak", unacked_allowed=load.errors + load.threads * max(1, kills))
            total = cf.psql(db, f"SELECT count(*) FROM {cf.SCHEMA}.invocations")[0][0]
            print(f"# invocations in the database {total} (answered 200: {len(load.acked)}; the rest were cut short by a kill, never "
                  f"answered); rows left open (invocations, events, jobs) {left_open}; closed as process_ended (invocations, jobs) "
                  f"{cf.closed_rows(db, 'process_ended')}, as records_lost {cf.closed_rows(db, 'records_lost')}")
            cf.check(args.plain or left_open == [0, 0, 0], "no row left running")
            print(f"# reconcile: {cf.passed} passed, {cf.failed} failed")
            raise SystemExit(0 if cf.failed == 0 else 1)
        finally:
            cluster.remove()


if __name__ == "__main__":
    main()
