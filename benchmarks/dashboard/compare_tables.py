#!/usr/bin/env python3
"""Tables (markdown) from the JSON lines benchmarks/dashboard/compare.sh writes: compare_tables.py OUT_DIR."""
import json
import os
import sys

d = sys.argv[1]


def load(name):
    p = os.path.join(d, name)
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []


def fmt(x, nd=1):
    return "-" if x is None else f"{x:,.{nd}f}"


ingest = load("ingest.jsonl")
if ingest:
    print("### Ingest through postgres_sink (job rows/s; client CPU = the producing process, user+sys s)\n")
    print("| batch size | before: job rows/s | after: job rows/s | after / before | before: client CPU s | after: client CPU s |")
    print("|---:|---:|---:|---:|---:|---:|")
    by = {(r["variant"], r["batch_size"]): r for r in ingest}
    for b in sorted({r["batch_size"] for r in ingest}):
        x, y = by.get(("before", b)), by.get(("after", b))
        ratio = y["job_rows_per_s"] / x["job_rows_per_s"] if x and y else None
        cpu = lambda r: None if not r else r["client_user_s"] + r["client_sys_s"]
        print(f"| {b:,} | {fmt(x and x['job_rows_per_s'], 0)} | {fmt(y and y['job_rows_per_s'], 0)} | {fmt(ratio, 2)}x | {fmt(cpu(x), 2)} | {fmt(cpu(y), 2)} |")

storage = load("storage.jsonl")
if storage:
    print("\n### Bytes on disk per row through the sink, after VACUUM (20,000 invocations x 5 jobs, 1 log line each)\n")
    print("| variant | job row: total | heap | indexes | invocation | event execution | job log | per invocation (4 tables) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in storage:
        t = r["tables"]
        j = t["job_executions"]
        print(f"| {r['variant']} | **{fmt(r['bytes_per_job_row'], 0)}** | {fmt(j['table_bytes'] / j['rows'], 0)} | {fmt(j['index_bytes'] / j['rows'], 0)} | "
              f"{fmt(t['invocations']['bytes_per_row'], 0)} | {fmt(t['event_executions']['bytes_per_row'], 0)} | {fmt(t['job_logs']['bytes_per_row'], 0)} | "
              f"{fmt(r['bytes_per_invocation_5_jobs'], 0)} |")
    for r in storage:
        if r.get("job_index_bytes_per_row"):
            print(f"\njob_executions indexes ({r['variant']}), B per job row: " +
                  ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["job_index_bytes_per_row"].items())))

gen = load("generate.jsonl")
dash = load("dashboard.jsonl")
if dash:
    sizes = sorted({r["job_rows"] for r in dash})
    largest = sizes[-1]
    by = {(r["variant"], r["op"], r["job_rows"], r["hours"]): r for r in dash}
    ops = {v: list(dict.fromkeys(r["op"] for r in dash if r["variant"] == v)) for v in ("before", "after")}
    allops = list(dict.fromkeys(ops["after"] + ops["before"]))
    cell = lambda r: "-" if not r else ("ERROR" if r["error"] else f'{r["p95_ms"]:.1f}')
    print(f"\n### Dashboard operations at {largest / 1e6:g}M job rows: p95 ms of {dash[0]['reps']} timed runs (after 2 warm-up), 24 h and 7-day windows\n")
    print("| operation | before 24 h | after 24 h | before 7 d | after 7 d |")
    print("|---|---:|---:|---:|---:|")
    for op in allops:
        cells = [cell(by.get((v, op, largest, h))) for h in (24, 168) for v in ("before", "after")]
        print(f"| {op} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
    for v in ("before", "after"):
        for h in (24, 168):
            rows = [by[(v, op, largest, h)] for op in ops[v] if (v, op, largest, h) in by]
            ok = sum(1 for r in rows if not r["error"] and r["p95_ms"] < 50)
            worst = max(rows, key=lambda r: r["p95_ms"] or 0) if rows else None
            print(f"\n{v}, {h} h: {ok} of {len(rows)} operations under 50 ms p95" + (f"; worst {worst['op']} {worst['p95_ms']:.1f} ms" if worst else ""))
    for v in ("after", "before"):
        print(f"\n### Growth curve ({v}): p95 ms per data set size, 24 h / 7 d\n")
        print("| operation | " + " | ".join(f"{s / 1e6:g}M" for s in sizes) + " |")
        print("|---|" + "---:|" * len(sizes))
        for op in ops[v]:
            print(f"| {op} | " + " | ".join(f"{cell(by.get((v, op, s, 24)))} / {cell(by.get((v, op, s, 168)))}" for s in sizes) + " |")
if gen:
    print("\n### Data generation (benchmarks/dashboard/generate.sql, the same for both) and VACUUM ANALYZE, seconds\n")
    print("| job rows | before: generate | before: vacuum | after: generate | after: vacuum |")
    print("|---:|---:|---:|---:|---:|")
    g = {(r["variant"], r["job_rows"]): r for r in gen}
    for s in sorted({r["job_rows"] for r in gen}):
        x, y = g.get(("before", s)), g.get(("after", s))
        print(f"| {s:,} | {fmt(x and x['generate_s'])} | {fmt(x and x['vacuum_analyze_s'])} | {fmt(y and y['generate_s'])} | {fmt(y and y['vacuum_analyze_s'])} |")
scale = load("scale.jsonl")
if scale:
    print("\n### At the largest size: bytes per row of the generated data, retention of one day, p95 error\n")
    print("| variant | job rows | job row B (heap + indexes) | invocation B | event B | log B | retention: job rows removed | seconds | s per 100k job rows |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in scale:
        b = r["bytes"]
        tot = lambda t: f"{b[t]['heap_b_per_row'] + b[t]['index_b_per_row']:.0f} ({b[t]['heap_b_per_row']:.0f} + {b[t]['index_b_per_row']:.0f})"
        ret = r["retention"]
        rm = ret.get("job_rows_removed") or 0
        per = f"{ret['seconds'] / rm * 1e5:.3f}" if rm else "-"
        print(f"| {r['variant']} | {r['job_rows']:,} | {tot('job_executions')} | {tot('invocations')} | {tot('event_executions')} | {tot('job_logs')} | {rm:,} | {ret['seconds']:.2f} | {per} |")
    for r in scale:
        if r["p95_error"]:
            e = r["p95_error"]
            print(f"\nRollup p95 vs percentile_cont ({r['variant']}): per hour and source function over {e['groups']:,} groups, "
                  f"max relative error {100 * e['max_rel_error']:.2f} %, median {100 * e['median_rel_error']:.2f} %; windows: " +
                  "; ".join(f"{w['hours']} h: {w['rollup']} vs {w['percentile_cont']:.2f} ms ({100 * w['rel_error']:.2f} %)" for w in e["windows"]))
        if isinstance(r["retention"]["result"], list):
            print(f"\nRetention ({r['variant']}): " + "; ".join(f"{x['day']}: {x['invocations_dropped']:,} invocations, {x['job_executions_dropped']:,} jobs" for x in r["retention"]["result"]))
