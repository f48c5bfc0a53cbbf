// Dry-run replay (eventscope/replay.hpp + sinks/postgres/replay_store.hpp) against a real database: production
// invocations recorded through the Postgres sink by one detector version, replayed through a changed version.
// The replay writes no production row and runs no job body; its run and decisions land in replay_runs /
// replay_decisions; the report names the decisions that changed and the clause that changed them; the
// selection (source function, correlation ID, time range) is honoured; payload-less invocations are skipped.
// Also: detection clauses written through the sink (values under full, names only under metrics), the clause
// rollup equal to the raw rows, and changed_columns of UPDATE payloads.
#include <boost/test/unit_test.hpp>

#include <atomic>

#include <eventscope/replay.hpp>
#include <eventscope/sinks/postgres/replay_store.hpp>

#include "pg_test_support.hpp"

// One namespace per file: the suite is compiled as a unity build (tests/postgres/CMakeLists.txt).
namespace replay_test {

using namespace pg_test;
using eventscope::capture;

namespace {

std::atomic<int> g_job_bodies{0};

json order_update(const std::string& before, const std::string& now, const std::string& carrier, int id) {
    return {{"id", "evt-" + std::to_string(id)},
            {"created_at", "2026-11-30T08:00:00Z"},
            {"table", {{"schema", "public"}, {"name", "orders"}}},
            {"trigger", {{"name", "orders_changed"}}},
            {"event",
             {{"op", "UPDATE"},
              {"data",
               {{"old", {{"id", id}, {"status", before}, {"carrier", carrier}}}, {"new", {{"id", id}, {"status", now}, {"carrier", carrier}}}}}}}};
}

// Version 1 (in production): shipped = status changed to shipped; cancelled likewise. Each detected event runs
// one job body.
// Version 2 (replayed): shipped also needs a carrier that can pick up.
template <int Version, capture Level>
void detector(eventscope::basic_recorder<Level>& rec, const std::string& body, const std::string& fn, const std::string& corr = {}) {
    eventscope::invocation_options opts;
    opts.correlation_id = corr;
    auto inv = rec.invocation_from_body(body, fn, opts);
    auto p = json::parse(body, nullptr, false);
    const auto& data = p["event"]["data"];
    const std::string before = data["old"].value("status", ""), now = data["new"].value("status", ""), carrier = data["new"].value("carrier", "");
    {
        auto ev = inv.event("orders.shipped");
        bool yes;
        if constexpr (Version == 1) yes = EVENTSCOPE_DETECT(ev, ("status changed", before != now), ("now shipped", now == "shipped"));
        else
            yes = EVENTSCOPE_DETECT(ev, ("status changed", before != now), ("now shipped", now == "shipped"),
                                    ("carrier can pick up", carrier == "dhl" || carrier == "ups"));
        if (yes) {
            auto job = ev.job("notify_carrier");
            ++g_job_bodies;
        }
    }
    auto ev = inv.event("orders.cancelled");
    if (EVENTSCOPE_DETECT(ev, ("status changed", before != now), ("now cancelled", now == "cancelled"))) {
        auto job = ev.job("refund");
        ++g_job_bodies;
    }
}

using pg_full = eventscope::observer<eventscope::options<eventscope::postgres_sink, capture::full, 16384>>;
using pg_metrics = eventscope::observer<eventscope::options<eventscope::postgres_sink, capture::metrics, 16384>>;

std::string production_counts(reader& db) {
    auto r = db.query("SELECT (SELECT count(*) FROM " + db.table("invocations") + ")::text || '/' || (SELECT count(*) FROM " +
                      db.table("event_executions") + ")::text || '/' || (SELECT count(*) FROM " + db.table("job_executions") + ")::text");
    return r[0][0].c_str();
}

struct replay_result {
    std::string run;
    json report;
};

replay_result replay_v2(const std::string& url, const eventscope::replay::selection& sel) {
    eventscope::replay::postgres_store store(url, schema_name);
    eventscope::replay::replay_session<capture::full> session;
    auto run = store.begin_run(sel);
    std::size_t skipped = 0;
    store.for_each(sel, [&](const eventscope::replay::stored_invocation& s) {
        store.add(run, s, session.run(s, [&](auto& rec) { detector<2>(rec, s.body, s.source_function); }));
    }, skipped);
    store.finish(run, skipped);
    BOOST_TEST(session.job_rows() == 0u);
    return {run, store.report(run)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replay)

BOOST_AUTO_TEST_CASE(replay_runs_no_job_writes_no_production_row_and_reports_the_changed_clause) {
    const auto& url = shared_db::instance().url();
    reader db(url);
    // Production: 4 shipments with a real carrier, 3 with "pigeon", 3 cancellations, 2 updates that change no
    // status; correlation IDs corr-0..2; 2 deliveries of another source function; 1 recorded without payload.
    {
        pg_full obs(pg_config(url), {}, pg_config(url));
        int id = 0;
        auto deliver = [&](const json& payload, const std::string& fn) {
            ++id;
            detector<1>(obs, payload.dump(), fn, "corr-" + std::to_string(id % 3));
        };
        for (int i = 0; i < 4; ++i) deliver(order_update("paid", "shipped", "dhl", 0), "replay-orders");
        for (int i = 0; i < 3; ++i) deliver(order_update("paid", "shipped", "pigeon", 0), "replay-orders");
        for (int i = 0; i < 3; ++i) deliver(order_update("paid", "cancelled", "ups", 0), "replay-orders");
        for (int i = 0; i < 2; ++i) deliver(order_update("paid", "paid", "ups", 0), "replay-orders");
        for (int i = 0; i < 2; ++i) deliver(order_update("paid", "shipped", "pigeon", 0), "replay-other");
        BOOST_REQUIRE(obs.flush(10s));
    }
    {
        pg_metrics obs(pg_config(url), {}, pg_config(url));
        detector<1>(obs, order_update("paid", "shipped", "pigeon", 99).dump(), "replay-orders");
        BOOST_REQUIRE(obs.flush(10s));
    }
    const int jobs_before = g_job_bodies.load();
    BOOST_TEST(jobs_before == 4 + 3 + 3 + 2 + 1);
    const auto before = production_counts(db);

    eventscope::replay::selection sel;
    sel.source_function = "replay-orders";
    sel.build_label = "v2 (carrier check)";
    auto r = replay_v2(url, sel);

    BOOST_TEST(g_job_bodies.load() == jobs_before);  // no job body ran
    BOOST_TEST(production_counts(db) == before);     // not one production row written
    const auto& run = r.report["run"];
    BOOST_TEST(run["status"] == "completed");
    BOOST_TEST(run["invocations_replayed"] == 12);
    BOOST_TEST(run["invocations_skipped"] == 1);  // the metrics-captured one: no stored payload
    BOOST_TEST(run["decisions_changed"] == 3);
    BOOST_TEST(run["build_label"] == "v2 (carrier check)");
    json shipped, cancelled;
    for (const auto& e : r.report["events"]) (e["event_name"] == "orders.shipped" ? shipped : cancelled) = e;
    BOOST_TEST(shipped["checked"] == 12);
    BOOST_TEST(shipped["detected_before"] == 7);
    BOOST_TEST(shipped["detected_after"] == 4);
    BOOST_TEST(shipped["no_longer_detected"] == 3);
    BOOST_TEST(cancelled["detected_before"] == 3);
    BOOST_TEST(cancelled["detected_after"] == 3);
    BOOST_TEST(cancelled["changed"] == 0);
    BOOST_REQUIRE_EQUAL(r.report["changed"].size(), 3u);
    for (const auto& d : r.report["changed"]) {
        BOOST_TEST(d["event_name"] == "orders.shipped");
        BOOST_TEST(d["detected_before"] == true);
        BOOST_TEST(d["detected_after"] == false);
        BOOST_TEST(d["changed_clause"] == "carrier can pick up");
        BOOST_TEST(d["rejected_by_after"] == "carrier can pick up");
    }
    // The replayed clause values are kept with the decision (full capture).
    auto values = db.query("SELECT clause_values_after::text FROM " + db.table("replay_decisions") +
                           " WHERE replay_run_id = $1::uuid AND changed LIMIT 1", r.run);
    // `a == b || c == d` is not one comparison (like Catch2, only a single comparison is decomposed): the clause
    // keeps its source text and its value.
    const std::string after_values = values[0][0].c_str();
    BOOST_TEST(after_values.find(R"(carrier == \"dhl\" || carrier == \"ups\")") != std::string::npos, after_values);
    BOOST_TEST(after_values.find(R"("lhs": "false")") != std::string::npos, after_values);
    BOOST_TEST(after_values.find(R"("lhs": "\"pigeon\"")") == std::string::npos, after_values);
    auto text = eventscope::replay::format_report(r.report);
    BOOST_TEST(text.find("12 invocations replayed, 1 skipped") != std::string::npos);
    BOOST_TEST(text.find("clause \"carrier can pick up\"") != std::string::npos);

    // Selections: one correlation ID; a time range with nothing in it.
    eventscope::replay::selection by_corr;
    by_corr.source_function = "replay-orders";
    by_corr.correlation_id = "corr-1";
    auto rc = replay_v2(url, by_corr);
    BOOST_TEST(rc.report["run"]["invocations_replayed"].get<long long>() ==
               db.count("SELECT count(*) FROM " + db.table("invocations") +
                        " WHERE source_function = 'replay-orders' AND correlation_id = 'corr-1' AND source_event_payload <> '{}'"));
    eventscope::replay::selection empty;
    empty.from = "2099-01-01 00:00Z";
    auto re = replay_v2(url, empty);
    BOOST_TEST(re.report["run"]["invocations_replayed"] == 0);
    BOOST_TEST(production_counts(db) == before);
}

BOOST_AUTO_TEST_CASE(clauses_reach_the_database_and_the_clause_rollup_equals_the_raw_rows) {
    const auto& url = shared_db::instance().url();
    reader db(url);
    {
        pg_full obs(pg_config(url), {}, pg_config(url));
        detector<2>(obs, order_update("paid", "shipped", "pigeon", 7).dump(), "clause-fn");
        BOOST_REQUIRE(obs.flush(10s));
    }
    {
        pg_metrics obs(pg_config(url), {}, pg_config(url));
        detector<2>(obs, order_update("paid", "shipped", "dhl", 8).dump(), "clause-fn-metrics");
        BOOST_REQUIRE(obs.flush(10s));
    }
    auto row = db.query("SELECT e.detection_clauses::text, e.detection_clause_values::text, e.detection_rejected_by, i.changed_columns::text FROM " +
                        db.table("event_executions") + " e JOIN " + db.table("invocations") +
                        " i ON i.id = e.invocation_id WHERE i.source_function = 'clause-fn' AND e.event_name = 'orders.shipped'");
    BOOST_REQUIRE_EQUAL(row.size(), 1u);
    BOOST_TEST(json::parse(row[0][0].c_str()) == json::parse(R"([{"name":"status changed","outcome":"passed"},
        {"name":"now shipped","outcome":"passed"},{"name":"carrier can pick up","outcome":"failed"}])"));
    auto values = json::parse(row[0][1].c_str());
    BOOST_TEST(values[2]["expression"] == "carrier == \"dhl\" || carrier == \"ups\"");
    BOOST_TEST(values[0]["lhs"] == "\"paid\"");
    BOOST_TEST(values[0]["rhs"] == "\"shipped\"");
    BOOST_TEST(std::string(row[0][2].c_str()) == "carrier can pick up");
    BOOST_TEST(json::parse(row[0][3].c_str()) == json::parse(R"(["status"])"));
    // metrics: names and outcomes, no values; no payload kept, so no changed columns
    auto m = db.query("SELECT e.detection_clauses IS NOT NULL, e.detection_clause_values IS NULL, i.changed_columns IS NULL FROM " +
                      db.table("event_executions") + " e JOIN " + db.table("invocations") +
                      " i ON i.id = e.invocation_id WHERE i.source_function = 'clause-fn-metrics' AND e.event_name = 'orders.shipped'");
    BOOST_TEST(std::string(m[0][0].c_str()) == "t");
    BOOST_TEST(std::string(m[0][1].c_str()) == "t");
    BOOST_TEST(std::string(m[0][2].c_str()) == "t");
    // The funnel's rollup equals SQL over the raw rows, and the C++ changed columns equal the SQL function's.
    auto diffs = rollup_differences(url);
    BOOST_TEST(diffs.empty(), diffs.size() << " differences, first: " << (diffs.empty() ? "" : diffs[0]));
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("invocations") +
                        " WHERE changed_columns IS DISTINCT FROM " + db.connection().quote_name(schema_name) +
                        ".payload_changed_columns(source_event_payload) AND source_event_payload <> '{}'") == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace replay_test
