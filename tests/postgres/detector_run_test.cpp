// A detector run through the real pipeline into PostgreSQL: row for row, the seed's three queries, and a
// long-running job seen as running, then completed.
#include <boost/test/unit_test.hpp>

#include <utility>  // before Asio (Boost 1.74 under C++20)

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <future>
#include <set>
#include <stdexcept>
#include <thread>

#include "pg_test_support.hpp"

// One namespace per file: the suite is compiled as a unity build (tests/postgres/CMakeLists.txt).
namespace detector_run_test {

using namespace pg_test;
using eventscope::capture;

namespace {

using tee_options = eventscope::options<tee_sink, capture::full, 4096>;
using tee_observer = eventscope::observer<tee_options>;
using pg_options = eventscope::options<eventscope::postgres_sink, capture::full, 4096>;
using pg_observer = eventscope::observer<pg_options>;

json hasura_payload(const std::string& op = "UPDATE") {
    return {
        {"id", "8f3c2b8e-8d5e-4d7c-9f57-2a1d4c5b6e7f"},
        {"created_at", "2026-11-26T08:00:00.123456"},
        {"table", {{"schema", "public"}, {"name", "orders"}}},
        {"trigger", {{"name", "orders_changed"}}},
        {"event", {{"op", op}, {"data", {{"old", nullptr}, {"new", {{"id", 42}, {"status", "shipped"}}}}},
                   {"session_variables", {{"x-hasura-role", "user"}, {"x-hasura-user-email", "alice@example.com"}}}}},
    };
}

[[noreturn]] void detector_that_throws() { throw std::logic_error("cannot read order"); }
[[noreturn]] void job_that_throws() { throw std::runtime_error("warehouse API down"); }

// One invocation: three events (not detected / detected with four jobs on a thread pool, two of them failing /
// detection throws), logs from the jobs.
template <class Observer>
eventscope::uuid run_detector(Observer& obs, const std::string& correlation_id, const std::string& function = "orders_detector") {
    eventscope::invocation_options opts;
    opts.correlation_id = correlation_id;
    auto inv = obs.invocation(hasura_payload(), function, opts);
    inv.set_context("region", "eu-west-1");
    {
        auto ev = inv.event("orders.created");
        ev.detected(false);
    }
    {
        auto ev = inv.event("orders.shipped");
        ev.set_module_path("events/orders/shipped.cpp");
        if (ev.detected(true)) {
            boost::asio::thread_pool pool(3);
            boost::asio::post(pool, [&] {
                auto job = ev.job("send_email", json{{"template", "shipped"}});
                job.set_function_name("send_shipping_email");
                job.log(eventscope::log_level::info, "sending", json{{"to", "alice@example.com"}});
                std::this_thread::sleep_for(30ms);
                job.log(eventscope::log_level::warn, "slow SMTP");
                job.set_result(json{{"message_id", "m-1"}});
            });
            boost::asio::post(pool, [&] {
                auto job = ev.job("update_stock");
                std::this_thread::sleep_for(20ms);
                job.set_result(json{{"remaining", 7}});
            });
            boost::asio::post(pool, [&] {
                try {
                    auto job = ev.job("notify_warehouse");
                    job.log(eventscope::log_level::error, "calling warehouse");
                    job_that_throws();
                } catch (const std::exception&) {
                }
            });
            boost::asio::post(pool, [&] {
                auto job = ev.job("charge_card");
                job.fail("card declined", "payment_error");
            });
            pool.join();
        }
    }
    try {
        auto ev = inv.event("orders.flaky");
        detector_that_throws();
    } catch (const std::exception&) {
    }
    return inv.id();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(detector_run)

BOOST_AUTO_TEST_CASE(a_detector_run_lands_row_for_row) {
    const std::string url = shared_db::instance().url();
    auto cfg = pg_config(url);
    tee_observer obs(cfg, {}, cfg, eventscope::postgres_sink_options{});
    const std::string corr = "orders.row-for-row-" + eventscope::new_uuid().to_string();
    auto inv_id = run_detector(obs, corr).to_string();
    BOOST_TEST_REQUIRE(obs.flush(30s));
    auto s = obs.stats();
    BOOST_TEST(s.dropped == 0u);
    BOOST_TEST(s.written == s.recorded);

    reader db(url);
    // Row for row: every column of every table equals the last row the sink was given.
    std::size_t compared = 0;
    for (std::string table : {"invocations", "event_executions", "job_executions", "job_logs"}) {
        auto expected = obs.sink().final_rows(table);
        auto actual = db.rows(table, "correlation_id", corr);
        BOOST_TEST(actual.size() == expected.size(), table << ": " << actual.size() << " rows, expected " << expected.size());
        for (const auto& [id, row] : expected) {
            auto it = actual.find(id);
            BOOST_TEST_REQUIRE((it != actual.end()), table << " row " << id << " missing");
            for (const auto& d : compare_row(expected_row(row), it->second)) BOOST_ERROR(d);
            ++compared;
        }
    }
    BOOST_TEST(compared == 1u + 3u + 4u + 3u);

    // Real values, independently of the tee.
    auto inv = db.rows("invocations", "id", inv_id).at(inv_id);
    BOOST_TEST(inv["status"] == "completed");
    BOOST_TEST(inv["correlation_id"] == corr);
    BOOST_TEST(inv["correlation_source"] == "explicit");
    BOOST_TEST(inv["source_function"] == "orders_detector");
    BOOST_TEST(inv["source_table"] == "orders");
    BOOST_TEST(inv["source_operation"] == "UPDATE");
    BOOST_TEST(inv["events_detected_count"] == 1);
    BOOST_TEST(inv["total_jobs_run"] == 4);
    BOOST_TEST(inv["total_jobs_succeeded"] == 2);
    BOOST_TEST(inv["total_jobs_failed"] == 2);
    BOOST_TEST(inv["total_duration_ms"].get<int>() >= 30);
    BOOST_TEST(inv["source_event_payload"]["event"]["data"]["new"]["status"] == "shipped");
    BOOST_TEST(inv["context_data"]["region"] == "eu-west-1");
    BOOST_TEST(inv["source_job_id"].is_null());

    std::map<std::string, json> events;
    for (auto& [id, e] : db.rows("event_executions", "invocation_id", inv_id)) events[e["event_name"].get<std::string>()] = e;
    BOOST_TEST_REQUIRE(events.size() == 3u);
    BOOST_TEST(events["orders.created"]["status"] == "not_detected");
    BOOST_TEST(events["orders.created"]["detected"] == false);
    BOOST_TEST(events["orders.created"]["handler_duration_ms"].is_null());
    BOOST_TEST(events["orders.shipped"]["status"] == "failed");  // handler finished, two jobs failed
    BOOST_TEST(events["orders.shipped"]["detected"] == true);
    BOOST_TEST(events["orders.shipped"]["jobs_count"] == 4);
    BOOST_TEST(events["orders.shipped"]["jobs_succeeded"] == 2);
    BOOST_TEST(events["orders.shipped"]["jobs_failed"] == 2);
    BOOST_TEST(events["orders.shipped"]["handler_duration_ms"].get<int>() >= 30);
    BOOST_TEST(events["orders.shipped"]["event_module_path"] == "events/orders/shipped.cpp");
    BOOST_TEST(events["orders.flaky"]["status"] == "detection_failed");
    BOOST_TEST(events["orders.flaky"]["detection_error"].get<std::string>().find("cannot read order") != std::string::npos);
    BOOST_TEST(!events["orders.flaky"]["detection_error_stack"].get<std::string>().empty());
    for (auto& [name, e] : events) {
        BOOST_TEST(e["invocation_id"] == inv_id);
        BOOST_TEST(e["correlation_id"] == corr);
    }

    std::map<std::string, json> jobs;
    for (auto& [id, j] : db.rows("job_executions", "invocation_id", inv_id)) jobs[j["job_name"].get<std::string>()] = j;
    BOOST_TEST_REQUIRE(jobs.size() == 4u);
    const auto shipped_id = events["orders.shipped"]["id"];
    for (auto& [name, j] : jobs) {
        BOOST_TEST(j["event_execution_id"] == shipped_id);
        BOOST_TEST(j["correlation_id"] == corr);
        BOOST_TEST(!j["duration_ms"].is_null());
    }
    BOOST_TEST(jobs["send_email"]["status"] == "completed");
    BOOST_TEST(jobs["send_email"]["duration_ms"].get<int>() >= 30);
    BOOST_TEST(jobs["send_email"]["job_function_name"] == "send_shipping_email");
    BOOST_TEST(jobs["send_email"]["job_options"]["template"] == "shipped");
    BOOST_TEST(jobs["send_email"]["result"]["message_id"] == "m-1");
    BOOST_TEST(jobs["update_stock"]["status"] == "completed");
    BOOST_TEST(jobs["update_stock"]["duration_ms"].get<int>() >= 20);
    BOOST_TEST(jobs["update_stock"]["result"]["remaining"] == 7);
    BOOST_TEST(jobs["notify_warehouse"]["status"] == "failed");
    BOOST_TEST(jobs["notify_warehouse"]["error_message"] == "warehouse API down");
    BOOST_TEST(jobs["notify_warehouse"]["error_type"].get<std::string>().find("runtime_error") != std::string::npos);
    BOOST_TEST(jobs["notify_warehouse"]["error_stack"].get<std::string>().find("job_that_throws") != std::string::npos);
    BOOST_TEST(jobs["charge_card"]["status"] == "failed");
    BOOST_TEST(jobs["charge_card"]["error_message"] == "card declined");
    BOOST_TEST(jobs["charge_card"]["error_type"] == "payment_error");

    auto logs = db.query("SELECT j.job_name, l.level, l.message, l.data::text, l.job_execution_id::text, l.invocation_id::text, "
                         "l.correlation_id FROM " + db.table("job_logs") + " l JOIN " + db.table("job_executions") +
                         " j ON j.id = l.job_execution_id WHERE l.invocation_id = $1 ORDER BY l.logged_at", inv_id);
    BOOST_TEST_REQUIRE(logs.size() == 3u);
    std::multiset<std::string> seen;
    for (const auto& r : logs) {
        seen.insert(std::string(r[0].c_str()) + "|" + r[1].c_str() + "|" + r[2].c_str());
        BOOST_TEST(r[4].c_str() == jobs[r[0].c_str()]["id"].get<std::string>());
        BOOST_TEST(r[5].c_str() == inv_id);
        BOOST_TEST(r[6].c_str() == corr);
    }
    BOOST_TEST((seen == std::multiset<std::string>{"send_email|info|sending", "send_email|warn|slow SMTP",
                                                   "notify_warehouse|error|calling warehouse"}));
    // Short jobs are written once: every job id was in the batch twice (start, end), coalesced.
    BOOST_TEST(obs.sink().pg().stats().rows_written <= s.written);

    // Every id carries its row's created_at: the same millisecond, and a 1/4096 ms step (the 12 bits after the
    // version) that overlaps created_at's microsecond (uuid.hpp, RFC 9562 method 3).
    for (std::string table : {"invocations", "event_executions", "job_executions", "job_logs"}) {
        auto rows = db.query("SELECT id::text, created_at::text, "
                             "(" + db.table("uuid7_time") + "(id) = date_trunc('milliseconds', created_at)) AS same_ms, "
                             "('x' || substr(replace(id::text, '-', ''), 14, 3))::bit(12)::int AS step, "
                             "(floor(extract(epoch FROM created_at) * 1e6)::bigint % 1000) AS micros "
                             "FROM " + db.table(table) + " WHERE correlation_id = $1", corr);
        BOOST_TEST(!rows.empty(), table);
        for (const auto& r : rows) {
            BOOST_TEST(r[2].as<bool>(), table << " id " << r[0].c_str() << " created_at " << r[1].c_str());
            double step_from_ns = r[3].as<int>() * 1e6 / 4096, step_to_ns = (r[3].as<int>() + 1) * 1e6 / 4096;
            double micro_from_ns = r[4].as<int>() * 1e3, micro_to_ns = micro_from_ns + 1e3;
            BOOST_TEST((step_from_ns < micro_to_ns && step_to_ns > micro_from_ns),
                       table << " id " << r[0].c_str() << ": step " << r[3].as<int>() << ", created_at " << r[1].c_str());
        }
    }
}

// The seed's three GraphQL examples, as the SQL Hasura runs for them.
BOOST_AUTO_TEST_CASE(the_seed_queries_return_what_was_recorded) {
    const std::string url = shared_db::instance().url();
    auto cfg = pg_config(url);
    pg_observer obs(cfg, {}, cfg, eventscope::postgres_sink_options{});
    const std::string function = "seed_queries_" + eventscope::new_uuid().to_string().substr(0, 8);
    const std::string corr = "seed.trace-" + eventscope::new_uuid().to_string();
    auto traced = run_detector(obs, corr, function).to_string();
    // Four more invocations of the same function: two completed, two failed; then 12 quick ones for "recent".
    for (int i = 0; i < 4; ++i) {
        eventscope::invocation_options opts;
        opts.correlation_id = "seed.other-" + std::to_string(i);
        auto inv = obs.invocation(hasura_payload(), function, opts);
        std::this_thread::sleep_for(std::chrono::milliseconds(5 * (i + 1)));
        if (i % 2) inv.fail("downstream error");
    }
    std::vector<std::string> recent;
    for (int i = 0; i < 12; ++i) {
        auto inv = obs.invocation(hasura_payload("INSERT"), function + "_recent");
        recent.push_back(inv.id().to_string());
        std::this_thread::sleep_for(2ms);
    }
    BOOST_TEST_REQUIRE(obs.flush(30s));
    reader db(url);

    // TraceCorrelationId
    auto trace = db.query("SELECT i.id::text, i.source_function, i.correlation_id, i.total_duration_ms, e.event_name, e.detected, "
                          "e.correlation_id, j.job_name, j.status, j.duration_ms, j.correlation_id FROM " + db.table("invocations") +
                          " i LEFT JOIN " + db.table("event_executions") + " e ON e.invocation_id = i.id LEFT JOIN " +
                          db.table("job_executions") + " j ON j.event_execution_id = e.id WHERE i.correlation_id = $1 "
                          "ORDER BY e.created_at, j.job_name", corr);
    BOOST_TEST_REQUIRE(trace.size() == 2u + 4u);  // two events without jobs, one with four
    std::multiset<std::string> job_lines;
    for (const auto& r : trace) {
        BOOST_TEST(r[0].c_str() == traced);
        BOOST_TEST(r[1].c_str() == function);
        BOOST_TEST(r[2].c_str() == corr);
        BOOST_TEST(r[6].c_str() == corr);
        if (!r[7].is_null()) {
            job_lines.insert(std::string(r[7].c_str()) + "|" + r[8].c_str() + "|" + (r[5].as<bool>() ? "detected" : "-"));
            BOOST_TEST(r[10].c_str() == corr);
            BOOST_TEST(!r[9].is_null());
        }
    }
    BOOST_TEST((job_lines == std::multiset<std::string>{"charge_card|failed|detected", "notify_warehouse|failed|detected",
                                                        "send_email|completed|detected", "update_stock|completed|detected"}));

    // RecentInvocations: the newest ten, newest first.
    auto newest = db.query("SELECT id::text, events_detected_count FROM " + db.table("invocations") +
                           " ORDER BY created_at DESC LIMIT 10");
    BOOST_TEST_REQUIRE(newest.size() == 10u);
    for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(newest[static_cast<int>(i)][0].c_str() == recent[11 - i]);

    // PerformanceAnalytics: dashboard_stats after refresh_dashboard_stats(), over a time range.
    db.query("SELECT " + db.connection().quote_name(schema_name) + ".refresh_dashboard_stats()");
    auto expected = db.query("SELECT count(*), count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'failed'), "
                             "min(total_duration_ms), max(total_duration_ms), sum(events_detected_count) FROM " +
                             db.table("invocations") + " WHERE source_function = $1", function);
    auto stats = db.query("SELECT sum(total_invocations), sum(successful_invocations), sum(failed_invocations), min(min_duration_ms), "
                          "max(max_duration_ms), sum(total_events_detected), sum(total_jobs_run) FROM " +
                          db.table("dashboard_stats") + " WHERE hour_bucket >= now() - interval '2 hours' AND source_function = $1",
                          function);
    BOOST_TEST(stats[0][0].as<long long>() == 5);
    BOOST_TEST(stats[0][1].as<long long>() == 3);  // the traced run and two of the four
    BOOST_TEST(stats[0][2].as<long long>() == 2);
    BOOST_TEST(stats[0][3].as<long long>() == expected[0][3].as<long long>());
    BOOST_TEST(stats[0][4].as<long long>() == expected[0][4].as<long long>());
    BOOST_TEST(stats[0][4].as<long long>() >= 30);
    BOOST_TEST(stats[0][5].as<long long>() == 1);
    BOOST_TEST(stats[0][6].as<long long>() == 4);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("dashboard_stats") + " WHERE hour_bucket >= now() + interval '1 hour'") == 0);
}

BOOST_AUTO_TEST_CASE(a_long_running_job_is_visible_as_running_then_completed) {
    const std::string url = shared_db::instance().url();
    auto cfg = pg_config(url);
    pg_observer obs(cfg, {}, cfg, eventscope::postgres_sink_options{});
    std::promise<void> release;
    std::promise<std::pair<std::string, std::string>> ids;
    std::thread detector([&] {
        auto inv = obs.invocation(hasura_payload(), "long_running");
        auto ev = inv.event("report.requested");
        ev.detected(true);
        auto job = ev.job("build_report");
        ids.set_value({inv.id().to_string(), job.id().to_string()});
        release.get_future().wait();
    });
    auto [inv_id, job_id] = ids.get_future().get();
    struct join_on_exit {  // a failed REQUIRE must not leave a joinable thread behind
        std::thread& t;
        std::promise<void>& p;
        bool released = false;
        ~join_on_exit() {
            if (!released) p.set_value();
            if (t.joinable()) t.join();
        }
    } guard{detector, release};
    BOOST_TEST_REQUIRE(obs.flush(30s));
    reader db(url);
    auto job = db.rows("job_executions", "id", job_id);
    BOOST_TEST_REQUIRE(job.size() == 1u);
    BOOST_TEST(job[job_id]["status"] == "running");
    BOOST_TEST(job[job_id]["duration_ms"].is_null());
    BOOST_TEST(db.rows("invocations", "id", inv_id)[inv_id]["status"] == "running");
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("event_executions") + " WHERE invocation_id = $1 AND status = 'handling'",
                        inv_id) == 1);
    auto created = job[job_id]["created_at"];

    std::this_thread::sleep_for(50ms);
    guard.released = true;
    release.set_value();
    detector.join();
    BOOST_TEST_REQUIRE(obs.flush(30s));
    job = db.rows("job_executions", "id", job_id);
    BOOST_TEST(job[job_id]["status"] == "completed");
    BOOST_TEST(job[job_id]["duration_ms"].get<int>() >= 50);
    BOOST_TEST(job[job_id]["created_at"] == created);  // completed in place
    BOOST_TEST(db.rows("invocations", "id", inv_id)[inv_id]["status"] == "completed");
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("event_executions") + " WHERE invocation_id = $1 AND status = 'completed'",
                        inv_id) == 1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace detector_run_test
