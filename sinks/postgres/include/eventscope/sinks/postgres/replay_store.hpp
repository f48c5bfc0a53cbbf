// The PostgreSQL side of a dry-run replay (eventscope/replay.hpp): reads stored invocations (payload and
// production decisions) selected by time range, source function and correlation ID, writes the replay's run and
// decisions to replay_runs / replay_decisions (sql/migrations/003_detection.up.sql: never the production
// tables), and reads the report back (the replay_report view plus the changed decisions).
//
//   replay::postgres_store store(conninfo, "event_detector_observability");
//   replay::replay_session session;
//   auto run = store.begin_run(selection);
//   store.for_each(selection, [&](const replay::stored_invocation& s) {
//       store.add(run, s, session.run(s, [&](eventscope::recorder& rec) { my_detector(rec, s.body, s.source_function); }));
//   });
//   store.finish(run);
//   std::cout << replay::format_report(store.report(run));
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <eventscope/replay.hpp>

namespace eventscope::replay {

// Which stored invocations to replay. Empty strings are "any"; times are anything PostgreSQL reads as
// timestamptz ("2026-11-30 08:00Z", "now() - interval" is not accepted: give a time).
struct selection {
    std::string from, to;  // created_at in [from, to)
    std::string source_function;
    std::string correlation_id;
    std::size_t limit = 10000;  // at most this many invocations, oldest first
    std::string build_label;    // stored with the run: which build was replayed

    nlohmann::json to_json() const {
        nlohmann::json j = nlohmann::json::object();
        if (!from.empty()) j["from"] = from;
        if (!to.empty()) j["to"] = to;
        if (!source_function.empty()) j["source_function"] = source_function;
        if (!correlation_id.empty()) j["correlation_id"] = correlation_id;
        j["limit"] = limit;
        return j;
    }
};

class postgres_store {
public:
    postgres_store(const std::string& conninfo, const std::string& schema) : connection_(conninfo), schema_(connection_.quote_name(schema)) {
        pqxx::work t(connection_);
        auto r = t.exec_params("SELECT to_regclass($1) IS NOT NULL", table("replay_runs"));
        if (!r[0][0].as<bool>())
            throw std::runtime_error("replay: " + table("replay_runs") + " does not exist: apply sql/migrations up to 003 (sql/migrate.sh up)");
    }

    // Creates the run; returns its id.
    std::string begin_run(const selection& s) {
        pqxx::work t(connection_);
        auto r = t.exec_params("INSERT INTO " + table("replay_runs") + " (build_label, selection) VALUES ($1, $2::jsonb) RETURNING id::text",
                               s.build_label.empty() ? nullptr : s.build_label.c_str(), s.to_json().dump());
        t.commit();
        return r[0][0].as<std::string>();
    }

    // Calls `f(stored_invocation)` for every selected, finished invocation, oldest first, reading pages of
    // `page` rows. Invocations without a stored payload (capture::metrics, or payload capture off) are counted
    // in `skipped` and not passed to f. Returns how many were passed.
    template <class F>
    std::size_t for_each(const selection& s, F&& f, std::size_t& skipped, std::size_t page = 200) {
        std::string after_time = "-infinity", after_id = "00000000-0000-0000-0000-000000000000";
        std::size_t seen = 0, passed = 0;
        skipped = 0;
        const std::string sql =
            "SELECT i.id::text, i.created_at::text, i.source_function, COALESCE(i.correlation_id, ''), "
            "       CASE WHEN i.source_event_payload = '{}'::jsonb THEN NULL "
            "            WHEN jsonb_typeof(i.source_event_payload->'_eventscope_unparsed_body') = 'string' "
            "              THEN i.source_event_payload->>'_eventscope_unparsed_body' "
            "            ELSE i.source_event_payload::text END, "
            "       (SELECT COALESCE(json_agg(json_build_object('event_name', e.event_name, 'detected', e.detected, 'status', e.status, "
            "               'clauses', e.detection_clauses, 'clause_values', e.detection_clause_values, "
            "               'rejected_by', e.detection_rejected_by, 'error', e.detection_error) ORDER BY e.created_at, e.id), '[]')::text "
            "        FROM " + table("event_executions") + " e WHERE e.invocation_id = i.id) "
            "FROM " + table("invocations") + " i "
            "WHERE i.status <> 'running' AND ($1 = '' OR i.created_at >= $1::timestamptz) AND ($2 = '' OR i.created_at < $2::timestamptz) "
            "  AND ($3 = '' OR i.source_function = $3) AND ($4 = '' OR i.correlation_id = $4) "
            "  AND (i.created_at, i.id) > ($5::timestamptz, $6::uuid) "
            "ORDER BY i.created_at, i.id LIMIT $7";
        while (seen < s.limit) {
            const std::size_t asked = std::min(page, s.limit - seen);
            pqxx::result rows;
            {
                pqxx::work t(connection_);
                rows = t.exec_params(sql, s.from, s.to, s.source_function, s.correlation_id, after_time, after_id, static_cast<long>(asked));
            }
            if (rows.empty()) break;
            for (const auto& row : rows) {
                ++seen;
                after_time = row[1].as<std::string>();
                after_id = row[0].as<std::string>();
                if (row[4].is_null()) {
                    ++skipped;
                    continue;
                }
                stored_invocation inv;
                inv.id = after_id;
                inv.created_at = after_time;
                inv.source_function = row[2].as<std::string>();
                inv.correlation_id = row[3].as<std::string>();
                inv.body = row[4].as<std::string>();
                for (const auto& e : nlohmann::json::parse(row[5].as<std::string>())) {
                    event_decision d;
                    d.event_name = e.value("event_name", "");
                    d.detected = e.value("detected", false);
                    d.status = e.value("status", "");
                    d.clauses = e["clauses"];
                    d.clause_values = e["clause_values"];
                    if (e["rejected_by"].is_string()) d.rejected_by = e["rejected_by"].get<std::string>();
                    if (e["error"].is_string()) d.error = e["error"].get<std::string>();
                    inv.before.push_back(std::move(d));
                }
                ++passed;
                f(static_cast<const stored_invocation&>(inv));
            }
            if (rows.size() < asked) break;
        }
        return passed;
    }

    // Buffers the decisions of one replayed invocation; written in batches (and by finish()).
    void add(const std::string& run_id, const stored_invocation& s, const std::vector<compared_decision>& decisions) {
        pending_run_ = run_id;
        for (const auto& d : decisions) {
            nlohmann::json row = {{"invocation_id", s.id},
                                  {"invocation_created_at", s.created_at},
                                  {"source_function", s.source_function},
                                  {"correlation_id", s.correlation_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.correlation_id)},
                                  {"event_name", d.event_name},
                                  {"changed", d.changed}};
            if (d.detected_before) row["detected_before"] = *d.detected_before;
            if (d.detected_after) row["detected_after"] = *d.detected_after;
            if (!d.changed_clause.empty()) row["changed_clause"] = d.changed_clause;
            if (d.before) {
                if (!d.before->rejected_by.empty()) row["rejected_by_before"] = d.before->rejected_by;
                row["clauses_before"] = d.before->clauses;
                row["clause_values_before"] = d.before->clause_values;
            }
            if (d.after) {
                if (!d.after->rejected_by.empty()) row["rejected_by_after"] = d.after->rejected_by;
                if (!d.after->error.empty()) row["error_after"] = d.after->error;
                row["clauses_after"] = d.after->clauses;
                row["clause_values_after"] = d.after->clause_values;
            }
            if (d.changed) ++totals_.changed;
            pending_.push_back(std::move(row));
        }
        ++totals_.replayed;
        if (pending_.size() >= 1000) write_pending();
    }

    // Writes what is buffered and closes the run with its totals (or as failed, with `error`).
    void finish(const std::string& run_id, std::size_t skipped, const std::string& error = {}) {
        if (error.empty()) write_pending();
        pqxx::work t(connection_);
        t.exec_params("UPDATE " + table("replay_runs") +
                          " SET finished_at = now(), status = $2, invocations_replayed = $3, invocations_skipped = $4, "
                          "decisions_changed = $5, error_message = $6 WHERE id = $1::uuid",
                      run_id, error.empty() ? "completed" : "failed", static_cast<long>(totals_.replayed), static_cast<long>(skipped),
                      static_cast<long>(totals_.changed), error.empty() ? nullptr : error.c_str());
        t.commit();
    }

    // The report of a run: the run row, per event type detected before / after, and the changed decisions
    // (the first `max_changed`, oldest first).
    nlohmann::json report(const std::string& run_id, std::size_t max_changed = 50) {
        pqxx::work t(connection_);
        auto run = t.exec_params("SELECT row_to_json(r)::text FROM " + table("replay_runs") + " r WHERE id = $1::uuid", run_id);
        if (run.empty()) throw std::runtime_error("replay: no run " + run_id);
        auto events = t.exec_params("SELECT COALESCE(json_agg(row_to_json(r) ORDER BY r.event_name), '[]')::text FROM " +
                                        table("replay_report") + " r WHERE replay_run_id = $1::uuid",
                                    run_id);
        auto changed = t.exec_params(
            "SELECT COALESCE(json_agg(row_to_json(d) ORDER BY d.invocation_created_at, d.event_name), '[]')::text FROM ("
            "  SELECT invocation_id, invocation_created_at, source_function, correlation_id, event_name, detected_before, "
            "         detected_after, changed_clause, rejected_by_before, rejected_by_after, error_after FROM " +
                table("replay_decisions") + " WHERE replay_run_id = $1::uuid AND changed ORDER BY invocation_created_at, event_name LIMIT $2) d",
            run_id, static_cast<long>(max_changed));
        return {{"run", nlohmann::json::parse(run[0][0].as<std::string>())},
                {"events", nlohmann::json::parse(events[0][0].as<std::string>())},
                {"changed", nlohmann::json::parse(changed[0][0].as<std::string>())}};
    }

private:
    struct totals {
        std::size_t replayed = 0, changed = 0;
    };

    std::string table(const char* name) const { return schema_ + "." + name; }

    void write_pending() {
        if (pending_.empty()) return;
        pqxx::work t(connection_);
        t.exec_params("INSERT INTO " + table("replay_decisions") +
                          " (replay_run_id, invocation_id, invocation_created_at, detected_before, detected_after, changed, source_function, "
                          "correlation_id, event_name, changed_clause, rejected_by_before, rejected_by_after, error_after, clauses_before, "
                          "clauses_after, clause_values_before, clause_values_after) "
                          "SELECT $1::uuid, r.invocation_id, r.invocation_created_at, r.detected_before, r.detected_after, r.changed, "
                          "r.source_function, r.correlation_id, r.event_name, r.changed_clause, r.rejected_by_before, r.rejected_by_after, "
                          "r.error_after, r.clauses_before, r.clauses_after, r.clause_values_before, r.clause_values_after "
                          "FROM json_populate_recordset(NULL::" + table("replay_decisions") + ", $2::json) r",
                      pending_run_, nlohmann::json(pending_).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        t.commit();
        pending_.clear();
    }

    pqxx::connection connection_;
    std::string schema_;  // quoted
    std::vector<nlohmann::json> pending_;
    std::string pending_run_;
    totals totals_;
};

// The report as text for a terminal: totals, a table per event type, the changed decisions.
inline std::string format_report(const nlohmann::json& report) {
    std::string out;
    char line[512];
    const auto& run = report["run"];
    auto num = [](const nlohmann::json& v) { return v.is_number() ? v.get<long long>() : 0LL; };
    std::snprintf(line, sizeof line, "replay %s%s%s: %lld invocations replayed, %lld skipped (no stored payload), %lld decisions changed\n",
                  run.value("id", "").c_str(), run["build_label"].is_string() ? " of build " : "",
                  run["build_label"].is_string() ? run["build_label"].get<std::string>().c_str() : "", num(run["invocations_replayed"]),
                  num(run["invocations_skipped"]), num(run["decisions_changed"]));
    out += line;
    std::snprintf(line, sizeof line, "  %-28s %8s %16s %15s %8s\n", "event type", "checked", "detected before", "detected after", "changed");
    out += line;
    for (const auto& e : report["events"]) {
        std::snprintf(line, sizeof line, "  %-28s %8lld %16lld %15lld %8lld\n", e.value("event_name", "").c_str(), num(e["checked"]),
                      num(e["detected_before"]), num(e["detected_after"]), num(e["changed"]));
        out += line;
    }
    const auto& changed = report["changed"];
    if (changed.empty()) {
        out += "no decision changed\n";
        return out;
    }
    std::snprintf(line, sizeof line, "changed decisions (%zu shown of %lld):\n", changed.size(), num(run["decisions_changed"]));
    out += line;
    auto said = [](const nlohmann::json& v) {
        return v.is_boolean() ? (v.get<bool>() ? "detected" : "not detected") : "not checked";
    };
    for (const auto& d : changed) {
        std::string clause = d["changed_clause"].is_string() ? "clause \"" + d["changed_clause"].get<std::string>() + "\"" : "no clause recorded";
        std::snprintf(line, sizeof line, "  %s  %s  %-20s %s -> %s  (%s)\n", d.value("invocation_created_at", "").c_str(),
                      d.value("invocation_id", "").c_str(), d.value("event_name", "").c_str(), said(d["detected_before"]),
                      said(d["detected_after"]), clause.c_str());
        out += line;
    }
    return out;
}

}  // namespace eventscope::replay
