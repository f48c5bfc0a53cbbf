#!/usr/bin/env python3
"""Validate hasura-metadata/ against a live database that has the schema applied.

usage: check_metadata.py METADATA_DIR DB_URL

Checks that every table, column, foreign key and function the metadata names exists in the catalog, that
the relationships (manual, with their exact column mappings), computed fields and root fields are exactly
the ones docs/schema-contract.md names, plus the rollup tables and views of sql/migrations/002_scale.up.sql, and that role
`observer` may select everything except the payload column, with a row limit, aggregations, and nothing else.
Python stdlib + PyYAML; catalog read through psql. Exit 0 when valid; prints every problem otherwise.
"""
import json
import os
import subprocess
import sys

try:
    import yaml
except ImportError:  # keep the suite runnable where PyYAML is absent; the console server's loader validates too
    print("SKIP: PyYAML not installed")
    sys.exit(0)

SCHEMA = "event_detector_observability"
# docs/schema-contract.md, "Names in the GraphQL API": name -> (kind, remote table, column mapping). Every relationship is
# manual (schema 002 has no foreign keys: sql/README.md); the mapped columns must exist and, for object
# relationships, the remote columns must be the remote table's primary key. The rollup name views relate to their
# rollup by the name column (one GraphQL query gives per-name aggregates over a time range).
RELATIONSHIPS = {
    "invocations": {
        "event_executions": ("array", "event_executions", {"id": "invocation_id"}),
        "job_executions": ("array", "job_executions", {"id": "invocation_id"}),
        "source_job_execution": ("object", "job_executions", {"source_job_id": "id"}),
        "correlated_invocations": ("array", "invocations", {"correlation_id": "correlation_id"}),
    },
    "event_executions": {
        "invocation": ("object", "invocations", {"invocation_id": "id"}),
        # invocation_id as well, so the look-up uses job_executions' invocation_id index
        "job_executions": ("array", "job_executions", {"id": "event_execution_id", "invocation_id": "invocation_id"}),
    },
    "job_executions": {
        "invocation": ("object", "invocations", {"invocation_id": "id"}),
        "event_execution": ("object", "event_executions", {"event_execution_id": "id"}),
        "triggered_invocations": ("array", "invocations", {"id": "source_job_id"}),
        "logs": ("array", "job_logs", {"id": "job_execution_id"}),
    },
    "job_logs": {"job_execution": ("object", "job_executions", {"job_execution_id": "id"})},
    "dashboard_stats": {},
    "invocation_rollup": {},
    "invocation_hourly": {},
    "correlation_rollup": {},
    "event_rollup": {},
    "job_rollup": {},
    "rollup_source_functions": {"rollups": ("array", "invocation_rollup", {"source_function": "source_function"})},
    "rollup_event_names": {"rollups": ("array", "event_rollup", {"event_name": "event_name"})},
    "rollup_job_names": {"rollups": ("array", "job_rollup", {"job_name": "job_name"})},
    "rollup_correlation_sources": {"rollups": ("array", "correlation_rollup", {"correlation_source": "correlation_source"})},
    # sql/migrations/003_detection.up.sql: the clause rollup, replays and their report
    "detection_clause_rollup": {},
    "rollup_detection_clauses": {"rollups": ("array", "detection_clause_rollup",
                                             {"event_name": "event_name", "clause_index": "clause_index", "clause_name": "clause_name"})},
    "replay_runs": {"decisions": ("array", "replay_decisions", {"id": "replay_run_id"}),
                    "report": ("array", "replay_report", {"id": "replay_run_id"})},
    "replay_decisions": {"invocation": ("object", "invocations", {"invocation_id": "id"}),
                         "replay_run": ("object", "replay_runs", {"replay_run_id": "id"})},
    "replay_report": {},
}
COMPUTED = {
    "invocations": {"success_rate": "invocation_success_rate", "avg_job_duration": "invocation_avg_job_duration"},
    "event_executions": {"job_success_rate": "event_job_success_rate"},
}
# Payload values: the trigger payload, and the values detection clauses compared (003), as recorded and as replayed.
HIDDEN_FROM_OBSERVER = {"invocations": {"source_event_payload"}, "event_executions": {"detection_clause_values"},
                        "replay_decisions": {"clause_values_before", "clause_values_after"}}
ROLE = "observer"

CATALOG_SQL = """
SELECT json_build_object(
  'relations', (SELECT json_object_agg(c.relname, json_build_object('kind', c.relkind,
      'columns', (SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)))
    FROM pg_class c WHERE c.relnamespace = '%(s)s'::regnamespace AND c.relkind IN ('r', 'p', 'm', 'v') AND NOT c.relispartition),
  'pkeys', (SELECT json_object_agg(t.relname, (SELECT json_agg(a.attname ORDER BY a.attname) FROM pg_attribute a
      WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)))
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE i.indisprimary AND t.relnamespace = '%(s)s'::regnamespace AND NOT t.relispartition),
  'fks', (SELECT json_agg(json_build_object('table', t.relname, 'ref', r.relname,
      'columns', (SELECT json_agg(a.attname) FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey))))
    FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
    WHERE k.contype = 'f' AND k.connamespace = '%(s)s'::regnamespace),
  'functions', (SELECT json_object_agg(p.proname, json_build_object('args',
      (SELECT json_agg(format_type(x, NULL)) FROM unnest(p.proargtypes::oid[]) x), 'volatility', p.provolatile,
      'retset', p.proretset, 'rettype_kind', (SELECT typtype FROM pg_type WHERE oid = p.prorettype)))
    FROM pg_proc p WHERE p.pronamespace = '%(s)s'::regnamespace)
)
"""

problems = []


def problem(msg):
    problems.append(msg)


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def include(base_dir, value):
    """Resolve a Hasura '!include path' string relative to base_dir."""
    if isinstance(value, str) and value.startswith("!include "):
        path = os.path.join(base_dir, value[len("!include "):].strip())
        if not os.path.isfile(path):
            problem(f"included file missing: {path}")
            return None
        return load(path), os.path.dirname(path)
    return value, base_dir


def main():
    meta_dir, db_url = sys.argv[1], sys.argv[2]
    out = subprocess.run(["psql", db_url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", CATALOG_SQL % {"s": SCHEMA}],
                         check=True, capture_output=True, text=True).stdout
    cat = json.loads(out)
    rels, funcs, pkeys = cat["relations"] or {}, cat["functions"] or {}, cat["pkeys"] or {}

    version = load(os.path.join(meta_dir, "version.yaml"))
    if version != {"version": 3}:
        problem(f"version.yaml must be 'version: 3', got {version!r}")
    dbs_dir = os.path.join(meta_dir, "databases")
    dbs = load(os.path.join(dbs_dir, "databases.yaml"))
    if not (isinstance(dbs, list) and len(dbs) == 1 and dbs[0].get("name") == "observability" and dbs[0].get("kind") == "postgres"):
        problem("databases.yaml must hold exactly one postgres source named 'observability'")
        return
    src = dbs[0]
    url = src.get("configuration", {}).get("connection_info", {}).get("database_url", {})
    if not (isinstance(url, dict) and url.get("from_env")):
        problem("the source's database_url must come from an environment variable (from_env)")
    tables, tdir = include(dbs_dir, src.get("tables"))
    seen = {}
    for entry in tables or []:
        t, _ = include(tdir, entry)
        if t is None:
            continue
        name = t["table"]["name"]
        schema = t["table"]["schema"]
        fname = entry[len("!include "):].strip() if isinstance(entry, str) else None
        if fname and fname != f"{schema}_{name}.yaml":
            problem(f"{fname}: file name should be {schema}_{name}.yaml")
        if schema != SCHEMA:
            problem(f"{name}: schema {schema} != {SCHEMA}")
        seen[name] = t
        if name not in rels:
            problem(f"{name}: tracked but not in the catalog")
            continue
        columns = set(rels[name]["columns"])
        # root fields: exactly the Hasura names without the schema prefix
        conf = t.get("configuration", {})
        crf = conf.get("custom_root_fields", {})
        if conf.get("custom_name") != name:
            problem(f"{name}: configuration.custom_name must be {name}")
        want = {"select": name, "select_aggregate": f"{name}_aggregate"}
        if rels[name]["kind"] in ("r", "p"):
            want["select_by_pk"] = f"{name}_by_pk"
        for k, v in want.items():
            if crf.get(k) != v:
                problem(f"{name}: custom_root_fields.{k} must be {v}, got {crf.get(k)!r}")
        # relationships
        got = {}
        for kind in ("object", "array"):
            for r in t.get(f"{kind}_relationships", []) or []:
                got[r["name"]] = (kind, r["using"])
        expected = RELATIONSHIPS.get(name, {})
        if set(got) != set(expected):
            problem(f"{name}: relationships {sorted(got)} != docs/schema-contract.md {sorted(expected)}")
        for rname, (kind, remote, mapping) in expected.items():
            if rname not in got:
                continue
            gkind, using = got[rname]
            if gkind != kind:
                problem(f"{name}.{rname}: must be an {kind} relationship")
                continue
            mc = using.get("manual_configuration", {})
            if mc.get("remote_table") != {"name": remote, "schema": SCHEMA} or mc.get("column_mapping") != mapping:
                problem(f"{name}.{rname}: manual_configuration must map {mapping} onto {remote}, got {using!r}")
                continue
            remote_columns = set(rels.get(remote, {}).get("columns", []))
            for lc, rc in mapping.items():
                if lc not in columns or rc not in remote_columns:
                    problem(f"{name}.{rname}: mapped column {lc}->{rc} missing in the catalog")
            if kind == "object" and sorted(mapping.values()) != pkeys.get(remote):
                problem(f"{name}.{rname}: an object relationship must reach {remote}'s primary key {pkeys.get(remote)}")
        # computed fields
        cfs = {c["name"]: c["definition"]["function"] for c in t.get("computed_fields", []) or []}
        want_cf = COMPUTED.get(name, {})
        if set(cfs) != set(want_cf):
            problem(f"{name}: computed fields {sorted(cfs)} != {sorted(want_cf)}")
        for cname, fn in cfs.items():
            f = funcs.get(fn.get("name"))
            if fn.get("schema") != SCHEMA or f is None:
                problem(f"{name}.{cname}: function {fn} not in the catalog")
                continue
            if fn["name"] != want_cf.get(cname):
                problem(f"{name}.{cname}: must use {want_cf.get(cname)}")
            if f["args"] != [f"{SCHEMA}.{name}"] or f["volatility"] not in ("s", "i") or f["retset"] or f["rettype_kind"] != "b":
                problem(f"{name}.{cname}: {fn['name']} must be STABLE/IMMUTABLE, take only {name} and return a base type: {f}")
        # permissions
        for kind in ("insert", "update", "delete"):
            if t.get(f"{kind}_permissions"):
                problem(f"{name}: must not have {kind}_permissions")
        perms = {p["role"]: p["permission"] for p in t.get("select_permissions", []) or []}
        if set(perms) != {ROLE}:
            problem(f"{name}: select_permissions must be for role {ROLE} only, got {sorted(perms)}")
            continue
        p = perms[ROLE]
        pcols = p.get("columns")
        if pcols == "*" or not isinstance(pcols, list):
            problem(f"{name}: observer columns must be an explicit list")
            continue
        unknown = set(pcols) - columns
        if unknown:
            problem(f"{name}: observer columns not in the catalog: {sorted(unknown)}")
        hidden = HIDDEN_FROM_OBSERVER.get(name, set())
        if set(pcols) != columns - hidden:
            problem(f"{name}: observer must see exactly all columns except {sorted(hidden)}; "
                    f"missing {sorted(columns - hidden - set(pcols))}, extra {sorted(set(pcols) & hidden)}")
        if sorted(p.get("computed_fields", []) or []) != sorted(want_cf):
            problem(f"{name}: observer computed_fields must be {sorted(want_cf)}")
        if not isinstance(p.get("limit"), int) or p["limit"] <= 0:
            problem(f"{name}: observer needs a positive row limit")
        if p.get("allow_aggregations") is not True:
            problem(f"{name}: observer needs allow_aggregations: true")
        if p.get("filter") != {}:
            problem(f"{name}: observer filter should be {{}} (all rows)")
    if set(seen) != set(RELATIONSHIPS):
        problem(f"tracked {sorted(seen)} != {sorted(RELATIONSHIPS)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main()
    for p in problems:
        print("metadata: " + p)
    sys.exit(1 if problems else 0)
