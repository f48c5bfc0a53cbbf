// The sink's row path: hostile content round-trips byte for byte, rejected rows are dead-lettered while the
// rest lands, coalescing and the no-regression guard, source_job_id links, the missing-schema error, and the
// encoders derived from the column tables.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <set>

#include "pg_test_support.hpp"

// One namespace per file: the suite is compiled as a unity build (tests/postgres/CMakeLists.txt).
namespace rows_test {

using namespace pg_test;
using eventscope::capture;

namespace {

using pg_options = eventscope::options<eventscope::postgres_sink, capture::full, 4096>;
using pg_observer = eventscope::observer<pg_options>;

std::string now_ts(std::int64_t offset_ms = 0) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return eventscope::format_timestamp(ns + offset_ms * 1'000'000);
}
std::string new_id() { return eventscope::new_uuid().to_string(); }

json inv_row(const std::string& id, const std::string& corr, const std::string& status = "completed", json source_job = nullptr) {
    return {{"table", "invocations"}, {"id", id}, {"created_at", now_ts()}, {"updated_at", now_ts()}, {"correlation_id", corr},
            {"correlation_source", "explicit"}, {"source_function", "crafted"}, {"source_event_payload", json::object()},
            {"status", status}, {"source_job_id", std::move(source_job)},
            {"total_duration_ms", status == "running" ? json(nullptr) : json(12)}};
}
json ev_row(const std::string& id, const std::string& inv, const std::string& corr, const std::string& status = "completed") {
    return {{"table", "event_executions"}, {"id", id}, {"created_at", now_ts()}, {"updated_at", now_ts()}, {"invocation_id", inv},
            {"correlation_id", corr}, {"event_name", "crafted.event"}, {"detected", status != "detecting"}, {"status", status}};
}
json job_row(const std::string& id, const std::string& inv, const std::string& ev, const std::string& corr,
             const std::string& status = "completed") {
    return {{"table", "job_executions"}, {"id", id}, {"created_at", now_ts()}, {"updated_at", now_ts()}, {"invocation_id", inv},
            {"event_execution_id", ev}, {"correlation_id", corr}, {"job_name", "crafted_job"}, {"status", status},
            {"duration_ms", status == "running" ? json(nullptr) : json(5)}};
}
json log_row(const std::string& id, const std::string& job, const std::string& inv, const std::string& corr, const std::string& message) {
    return {{"table", "job_logs"}, {"id", id}, {"created_at", now_ts()}, {"job_execution_id", job}, {"invocation_id", inv},
            {"correlation_id", corr}, {"level", "info"}, {"message", message}, {"data", nullptr}, {"logged_at", now_ts()}};
}

std::string one(reader& db, const std::string& sql, const std::string& param) {
    auto r = db.query(sql, param);
    BOOST_TEST_REQUIRE(r.size() == 1u);
    return r[0][0].is_null() ? std::string("<NULL>") : std::string(r[0][0].c_str(), r[0][0].size());
}

// A megabyte of mixed content: multibyte characters, tabs, newlines, backslashes, COPY's \N and \. markers.
std::string megabyte() {
    const std::string unit = "ab\tc\xc3\xa7\\N\n\xf0\x9f\x98\x80\\.\r'\"";
    std::string s;
    while (s.size() < (1u << 20)) s += unit;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rows)

BOOST_AUTO_TEST_CASE(hostile_names_and_payloads_round_trip_byte_for_byte) {
    const std::string url = shared_db::instance().url();
    auto cfg = pg_config(url);
    pg_observer obs(cfg, {}, cfg, eventscope::postgres_sink_options{});
    const std::vector<std::string> hostile = {
        "it's \"quoted\"",
        "back\\slash \\N \\\\N \\x41",
        "tab\there\nnewline\r\ncrlf",
        "\\N",
        "\\.",
        "\xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87 \xe2\x80\xae rtl",
        std::string("nul\0inside", 10),
        "\xff\xfe invalid \xc3\x28 \xed\xa0\x80 surrogate \xe0\x80\xaf overlong",
        "ctl \x01\x02\x1b[31m\x1f\x7f \xc2\x80",
        "'; DROP TABLE invocations; --",
        "$1 %s {{x}} ${HOME}",
        megabyte(),
    };
    const std::string corr = "hostile 'corr'\t\\N " + new_id();
    eventscope::invocation_options opts;
    opts.correlation_id = corr;
    std::string inv_id;
    {
        auto inv = obs.invocation(json{{"event", {{"op", "INSERT"}, {"data", {{"new", {{"note", hostile[2]}, {hostile[7], hostile[6]}}}}}}}},
                                  "hostile_\t_fn", opts);
        inv_id = inv.id().to_string();
        auto ev = inv.event(hostile[5]);
        ev.detected(true);
        for (std::size_t i = 0; i < hostile.size(); ++i) {
            const auto& s = hostile[i];
            auto job = ev.job(i + 1 == hostile.size() ? std::string("megabyte") : s);
            job.set_function_name("h" + std::to_string(i));
            job.log(eventscope::log_level::info, s, json{{"v", s}, {s, static_cast<int>(i)}});
            job.set_result(json{{"echo", s}, {"list", {s, 1, nullptr}}});
            job.fail(s);
        }
    }
    BOOST_TEST_REQUIRE(obs.flush(60s));
    BOOST_TEST(obs.stats().dropped == 0u);
    reader db(url);
    auto clean = [](const std::string& s) { return eventscope::detail::sanitize_utf8(s, true); };

    BOOST_TEST(one(db, "SELECT correlation_id FROM " + db.table("invocations") + " WHERE id = $1", inv_id) == corr);
    BOOST_TEST(one(db, "SELECT source_function FROM " + db.table("invocations") + " WHERE id = $1", inv_id) == "hostile_\t_fn");
    BOOST_TEST(json::parse(one(db, "SELECT source_event_payload::text FROM " + db.table("invocations") + " WHERE id = $1", inv_id))
                   ["event"]["data"]["new"] == (json{{"note", hostile[2]}, {clean(hostile[7]), clean(hostile[6])}}));
    BOOST_TEST(one(db, "SELECT event_name FROM " + db.table("event_executions") + " WHERE invocation_id = $1", inv_id) == hostile[5]);

    for (std::size_t i = 0; i < hostile.size(); ++i) {
        const std::string expected = clean(hostile[i]);
        BOOST_TEST_CONTEXT("hostile string #" << i) {
            auto job = db.query("SELECT id::text, job_name, error_message, result::text FROM " + db.table("job_executions") +
                                " WHERE invocation_id = $1 AND job_function_name = $2", inv_id, "h" + std::to_string(i));
            BOOST_TEST_REQUIRE(job.size() == 1u);
            std::string name(job[0][1].c_str(), job[0][1].size()), error(job[0][2].c_str(), job[0][2].size());
            if (i + 1 != hostile.size()) BOOST_TEST((name == expected));
            BOOST_TEST(error.size() == expected.size());
            BOOST_TEST((error == expected));
            BOOST_TEST((json::parse(job[0][3].c_str()) == json{{"echo", expected}, {"list", {expected, 1, nullptr}}}));
            auto log = db.query("SELECT message, data::text FROM " + db.table("job_logs") + " WHERE job_execution_id = $1",
                                std::string(job[0][0].c_str()));
            BOOST_TEST_REQUIRE(log.size() == 1u);
            std::string message(log[0][0].c_str(), log[0][0].size());
            BOOST_TEST((message == expected));
            BOOST_TEST((json::parse(log[0][1].c_str()) == json{{"v", expected}, {expected, static_cast<int>(i)}}));
        }
    }
    // The sanitizing itself: invalid bytes and NUL became U+FFFD, nothing else changed.
    BOOST_TEST(clean(hostile[6]) == "nul\xef\xbf\xbdinside");
    BOOST_TEST(clean(hostile[3]) == "\\N");
}

BOOST_AUTO_TEST_CASE(rejected_rows_are_dead_lettered_and_the_rest_lands) {
    const std::string url = shared_db::instance().url();
    auto dir = temp_dir("deadletter");
    eventscope::postgres_sink_options o;
    o.dead_letter_path = dir + "/dead.jsonl";
    eventscope::postgres_sink sink(pg_config(url), o);
    const std::string corr = "dl." + new_id();
    auto inv = new_id(), ev = new_id(), job_ok = new_id(), job_bad_status = new_id(), job_bad_ref = new_id(), log_ok = new_id(),
         log_bad_time = new_id();
    auto bad_time = log_row(log_bad_time, job_ok, inv, corr, "when?");
    bad_time["logged_at"] = "yesterday-ish";
    std::vector<json> batch = {inv_row(inv, corr), ev_row(ev, inv, corr), job_row(job_ok, inv, ev, corr),
                               job_row(job_bad_status, inv, ev, corr, "exploded"),  // CHECK refuses it
                               job_row(job_bad_ref, inv, "not-a-uuid", corr),       // not a uuid
                               log_row(log_ok, job_ok, inv, corr, "fine"),
                               bad_time};
    auto result = sink.write_rows(batch);
    BOOST_TEST(result.ok);
    BOOST_TEST(result.rejected == 3u);
    BOOST_TEST(result.error.find("rejected") != std::string::npos);

    reader db(url);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("invocations") + " WHERE id = $1", inv) == 1);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("event_executions") + " WHERE id = $1", ev) == 1);
    auto jobs = db.rows("job_executions", "correlation_id", corr);
    BOOST_TEST(jobs.size() == 1u);
    BOOST_TEST(jobs.count(job_ok) == 1u);
    auto logs = db.rows("job_logs", "correlation_id", corr);
    BOOST_TEST(logs.size() == 1u);
    BOOST_TEST(logs.count(log_ok) == 1u);

    auto lines = read_lines(o.dead_letter_path);
    BOOST_TEST_REQUIRE(lines.size() == 3u);
    std::map<std::string, std::string> state_by_id;
    for (const auto& l : lines) {
        auto j = json::parse(l);
        state_by_id[j["row"]["id"].get<std::string>()] = j["sqlstate"].get<std::string>();
        BOOST_TEST(!j["error"].get<std::string>().empty());
    }
    BOOST_TEST(state_by_id[job_bad_status] == "23514");  // check_violation
    BOOST_TEST(state_by_id[job_bad_ref] == "22P02");     // invalid_text_representation
    BOOST_TEST(state_by_id[log_bad_time] == "22007");    // invalid_datetime_format
    BOOST_TEST(sink.stats().rows_rejected == 3u);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(a_rejected_record_is_counted_by_the_pipeline) {
    const std::string url = shared_db::instance().url();
    auto dir = temp_dir("deadletter");
    auto cfg = pg_config(url);
    eventscope::postgres_sink_options o;
    o.dead_letter_path = dir + "/dead.jsonl";
    pg_observer obs(cfg, {}, cfg, o);
    const std::string corr = "dl-pipeline." + new_id();
    eventscope::invocation_options opts;
    opts.correlation_id = corr;
    std::string huge;  // incompressible and beyond a B-tree entry's limit (SQLSTATE 54000 in the source_function index)
    std::mt19937 rng(42);
    for (int i = 0; i < 12000; ++i) huge += static_cast<char>(' ' + rng() % 95);
    eventscope::uuid orphan;
    {
        auto inv = obs.invocation(json::object(), "dead_letter_pipeline", opts);
        auto ev = inv.event("e");
        ev.detected(true);
        { auto job = ev.job("good"); }
        eventscope::invocation_options bad;
        bad.correlation_id = corr;
        auto big = obs.invocation(json::object(), huge, bad);
        orphan = big.id();
    }
    BOOST_TEST_REQUIRE(obs.flush(30s));
    auto s = obs.stats();
    BOOST_TEST(s.rejected >= 1u);  // its records (a running row and the final one, unless coalesced)
    BOOST_TEST(s.dropped == s.rejected);
    BOOST_TEST(s.written + s.dropped == s.recorded);
    reader db(url);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE correlation_id = $1 AND job_name = 'good'", corr) == 1);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("invocations") + " WHERE id = $1", orphan.to_string()) == 0);
    auto lines = read_lines(o.dead_letter_path);
    BOOST_TEST_REQUIRE(lines.size() >= 1u);
    for (const auto& l : lines) BOOST_TEST(json::parse(l)["row"]["id"] == orphan.to_string());
    BOOST_TEST(json::parse(lines[0])["sqlstate"] == "54000");
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(rows_of_one_id_are_coalesced_and_never_regress) {
    const std::string url = shared_db::instance().url();
    eventscope::postgres_sink sink(pg_config(url));
    const std::string corr = "coalesce." + new_id();
    auto inv = new_id(), ev = new_id(), job = new_id();
    auto before = sink.stats().rows_written;
    auto r = sink.write_rows({inv_row(inv, corr, "running"), ev_row(ev, inv, corr, "detecting"), job_row(job, inv, ev, corr, "running"),
                              ev_row(ev, inv, corr, "handling"), job_row(job, inv, ev, corr, "completed"),
                              ev_row(ev, inv, corr, "completed"), inv_row(inv, corr, "completed")});
    BOOST_TEST(r.ok);
    BOOST_TEST(sink.stats().rows_written - before == 3u);  // seven rows, three ids: one write each
    reader db(url);
    auto status = [&](const std::string& table, const std::string& id) {
        return one(db, "SELECT status FROM " + db.table(table) + " WHERE id = $1", id);
    };
    BOOST_TEST(status("invocations", inv) == "completed");
    BOOST_TEST(status("event_executions", ev) == "completed");
    BOOST_TEST(status("job_executions", job) == "completed");

    // Late running rows (e.g. replayed from a spool) never revert completed ones; handling does not revert either.
    BOOST_TEST(sink.write_rows({inv_row(inv, corr, "running"), ev_row(ev, inv, corr, "handling"), job_row(job, inv, ev, corr, "running")}).ok);
    BOOST_TEST(status("invocations", inv) == "completed");
    BOOST_TEST(status("event_executions", ev) == "completed");
    BOOST_TEST(status("job_executions", job) == "completed");
    BOOST_TEST(one(db, "SELECT duration_ms::text FROM " + db.table("job_executions") + " WHERE id = $1", job) == "5");
    BOOST_TEST(one(db, "SELECT total_duration_ms::text FROM " + db.table("invocations") + " WHERE id = $1", inv) == "12");

    // A running row is completed in place; created_at stays the first row's.
    auto job2 = new_id();
    auto first = job_row(job2, inv, ev, corr, "running");
    BOOST_TEST(sink.write_rows({first}).ok);
    auto created = one(db, "SELECT created_at::text FROM " + db.table("job_executions") + " WHERE id = $1", job2);
    auto done = job_row(job2, inv, ev, corr, "failed");
    done["created_at"] = now_ts(5000);
    done["error_message"] = "late failure";
    BOOST_TEST(sink.write_rows({done}).ok);
    BOOST_TEST(status("job_executions", job2) == "failed");
    BOOST_TEST(one(db, "SELECT error_message FROM " + db.table("job_executions") + " WHERE id = $1", job2) == "late failure");
    BOOST_TEST(one(db, "SELECT created_at::text FROM " + db.table("job_executions") + " WHERE id = $1", job2) == created);
}

// New final rows are COPYed straight into their tables; completions of rows this sink wrote as running go
// through the upsert; a final row already stored (a retry after a lost commit outcome, another sink) meets
// 23505 in the direct COPY and the transaction is redone through the upsert: never dead-lettered.
BOOST_AUTO_TEST_CASE(new_final_rows_are_copied_directly_and_duplicates_fall_back_to_the_upsert) {
    const std::string url = shared_db::instance().url();
    auto dl_dir = temp_dir("direct");
    eventscope::postgres_sink_options o;
    o.dead_letter_path = dl_dir + "/dead.jsonl";
    eventscope::postgres_sink sink(pg_config(url), o);
    reader db(url);
    const std::string corr = "direct." + new_id();
    auto inv = new_id(), ev = new_id(), job = new_id(), lg = new_id();
    auto s0 = sink.stats();
    BOOST_TEST(sink.write_rows({inv_row(inv, corr), ev_row(ev, inv, corr), job_row(job, inv, ev, corr),
                                log_row(lg, job, inv, corr, "direct line")})
                   .ok);
    auto s1 = sink.stats();
    BOOST_TEST(s1.rows_copied_direct - s0.rows_copied_direct == 4u);
    BOOST_TEST(s1.direct_retries == s0.direct_retries);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE id = $1 AND status = 'completed'", job) == 1);

    // Running, then completed in a later write: the completion goes through the upsert (no 23505 round trip).
    auto job2 = new_id();
    BOOST_TEST(sink.write_rows({job_row(job2, inv, ev, corr, "running")}).ok);
    auto s2 = sink.stats();
    auto done = job_row(job2, inv, ev, corr, "completed");
    BOOST_TEST(sink.write_rows({done}).ok);
    auto s3 = sink.stats();
    BOOST_TEST(s3.rows_copied_direct == s2.rows_copied_direct);
    BOOST_TEST(s3.direct_retries == s2.direct_retries);
    BOOST_TEST(one(db, "SELECT status FROM " + db.table("job_executions") + " WHERE id = $1", job2) == "completed");

    // The same final rows again, from a sink that never saw them (as after a lost commit outcome), one of them
    // changed, plus a new row and a log line already stored: one 23505, redone by upsert, nothing rejected. A
    // final row is never rewritten: the stored one stays (the rollups counted it once).
    eventscope::postgres_sink other(pg_config(url), o);
    auto changed = job_row(job, inv, ev, corr, "failed");
    changed["error_message"] = "second writer";
    auto job3 = new_id();
    auto r = other.write_rows({inv_row(inv, corr), changed, job_row(job3, inv, ev, corr), log_row(lg, job, inv, corr, "direct line")});
    BOOST_TEST(r.ok);
    BOOST_TEST(r.rejected == 0u);
    BOOST_TEST(other.stats().direct_retries == 1u);
    BOOST_TEST(other.stats().rows_rejected == 0u);
    BOOST_TEST(one(db, "SELECT status || coalesce(error_message, '') FROM " + db.table("job_executions") + " WHERE id = $1", job) == "completed");
    BOOST_TEST(one(db, "SELECT status FROM " + db.table("job_executions") + " WHERE id = $1", job3) == "completed");
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_logs") + " WHERE id = $1", lg) == 1);

    // A duplicate and a row the server rejects (22P02) in one direct write: the duplicate is upserted, only
    // the bad row is dead-lettered.
    auto orphan = job_row(new_id(), "not-a-uuid", ev, corr);
    auto job4 = new_id();
    auto r2 = other.write_rows({job_row(job3, inv, ev, corr), orphan, job_row(job4, inv, ev, corr)});
    BOOST_TEST(r2.ok);
    BOOST_TEST(r2.rejected == 1u);
    BOOST_TEST(read_lines(o.dead_letter_path).size() == 1u);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE id = $1", job4) == 1);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE correlation_id = $1", corr) == 4);
    std::filesystem::remove_all(dl_dir);
}

// Past max_tracked_open_ids a running row is not remembered: its completion is first tried as a direct COPY,
// meets the stored row (23505) and is redone through the upsert, said once in the log. Completions free their
// places, so later running rows are remembered again.
BOOST_AUTO_TEST_CASE(running_rows_past_the_tracking_bound_complete_through_the_upsert_retry) {
    const std::string url = shared_db::instance().url();
    eventscope::postgres_sink_options o;
    o.max_tracked_open_ids = 2;
    std::vector<std::string> lines;
    o.log = [&](const std::string& line) { lines.push_back(line); };
    eventscope::postgres_sink sink(pg_config(url), o);
    reader db(url);
    const std::string corr = "open-ids." + new_id();
    auto inv = new_id(), ev = new_id();
    BOOST_TEST_REQUIRE(sink.write_rows({inv_row(inv, corr), ev_row(ev, inv, corr)}).ok);
    std::vector<std::string> jobs{new_id(), new_id(), new_id()};
    std::vector<json> running, completed;
    for (const auto& j : jobs) {
        running.push_back(job_row(j, inv, ev, corr, "running"));
        completed.push_back(job_row(j, inv, ev, corr, "completed"));
    }
    BOOST_TEST_REQUIRE(sink.write_rows(running).ok);
    auto said = [&] {
        return std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("more than 2 rows are running at once") != std::string::npos; });
    };
    BOOST_TEST(said() == 1);
    auto before = sink.stats();
    BOOST_TEST_REQUIRE(sink.write_rows(completed).ok);
    BOOST_TEST(sink.stats().direct_retries - before.direct_retries == 1u);
    BOOST_TEST(sink.stats().rows_rejected == 0u);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE correlation_id = $1 AND status = 'completed'", corr) == 3);

    // Both places are free again: two more running rows are remembered and complete without a retry.
    std::vector<json> later_running, later_completed;
    for (int i = 0; i < 2; ++i) {
        auto j = new_id();
        later_running.push_back(job_row(j, inv, ev, corr, "running"));
        later_completed.push_back(job_row(j, inv, ev, corr, "completed"));
    }
    BOOST_TEST_REQUIRE(sink.write_rows(later_running).ok);
    auto again = sink.stats();
    BOOST_TEST_REQUIRE(sink.write_rows(later_completed).ok);
    BOOST_TEST(sink.stats().direct_retries == again.direct_retries);
    BOOST_TEST(sink.stats().rows_copied_direct == again.rows_copied_direct);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE correlation_id = $1 AND status = 'completed'", corr) == 5);
    BOOST_TEST(said() == 1);
}

// Without the foreign key of 001, a link is written as it comes, whether or not its job row exists yet (it may
// belong to another process, or a later batch); a later row without it never clears it.
BOOST_AUTO_TEST_CASE(source_job_links_are_written_as_they_come) {
    const std::string url = shared_db::instance().url();
    eventscope::postgres_sink sink(pg_config(url));
    reader db(url);
    const std::string corr = "links." + new_id();
    auto source = [&](const std::string& id) { return one(db, "SELECT source_job_id::text FROM " + db.table("invocations") + " WHERE id = $1", id); };
    auto later_job = new_id(), waiting = new_id();
    BOOST_TEST(sink.write_rows({inv_row(waiting, corr, "completed", later_job)}).ok);
    BOOST_TEST(source(waiting) == later_job);
    auto direct = new_id();
    BOOST_TEST(sink.write_rows({inv_row(direct, corr, "running", later_job)}).ok);
    BOOST_TEST(sink.write_rows({inv_row(direct, corr, "completed")}).ok);
    BOOST_TEST(source(direct) == later_job);
    BOOST_TEST(sink.stats().pending_source_links == 0u);
    // The job row arrives later: the relationship (triggered_invocations) finds both.
    auto inv = new_id(), ev = new_id();
    BOOST_TEST(sink.write_rows({inv_row(inv, corr), ev_row(ev, inv, corr), job_row(later_job, inv, ev, corr)}).ok);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("invocations") + " WHERE source_job_id = $1", later_job) == 2);
}

BOOST_AUTO_TEST_CASE(a_missing_schema_is_one_clear_error) {
    const std::string url = shared_db::instance().url();
    auto cfg = pg_config(url);
    cfg.schema = "no_such_schema";
    std::vector<std::string> logged;
    eventscope::postgres_sink_options o;
    o.log = [&](const std::string& line) { logged.push_back(line); };
    eventscope::postgres_sink sink(cfg, o);
    for (int i = 0; i < 3; ++i) {
        auto r = sink.write_rows({inv_row(new_id(), "missing")});
        BOOST_TEST(!r.ok);
        BOOST_TEST(r.error.find("no_such_schema") != std::string::npos, r.error);
        BOOST_TEST(r.error.find("sql/schema.sql") != std::string::npos, r.error);
        BOOST_TEST(r.error.find("sql/migrate.sh") != std::string::npos, r.error);
    }
    BOOST_TEST_REQUIRE(logged.size() == 1u);  // once, not per batch
    BOOST_TEST(logged[0].find("no_such_schema") != std::string::npos);

    // A database that does not exist: named, with what to run.
    auto cfg2 = pg_config(with_database(url, "no_such_database_xyz"));
    std::vector<std::string> logged2;
    eventscope::postgres_sink_options o2;
    o2.log = [&](const std::string& line) { logged2.push_back(line); };
    eventscope::postgres_sink sink2(cfg2, o2);
    for (int i = 0; i < 2; ++i) {
        auto r = sink2.write_rows({inv_row(new_id(), "missing")});
        BOOST_TEST(!r.ok);
        BOOST_TEST(r.error.find("no_such_database_xyz") != std::string::npos, r.error);
        BOOST_TEST(r.error.find("create-database.sql") != std::string::npos, r.error);
    }
    BOOST_TEST(logged2.size() == 1u);
}

BOOST_AUTO_TEST_CASE(connection_settings_from_individual_parameters) {
    ::unsetenv("OBSERVABILITY_DB_URL");
    eventscope::config cfg;
    cfg.database.host = "db.example";
    cfg.database.port = 6543;
    cfg.database.database = "obs";
    cfg.database.user = "o'brien";
    cfg.database.password = "p ss\\word";
    cfg.database.sslmode = "require";
    eventscope::postgres_sink sink(cfg);
    auto info = sink.connection_info();
    BOOST_TEST(info.find("host='db.example'") != std::string::npos, info);
    BOOST_TEST(info.find("port=6543") != std::string::npos, info);
    BOOST_TEST(info.find("dbname='obs'") != std::string::npos, info);
    BOOST_TEST(info.find("user='o\\'brien'") != std::string::npos, info);
    BOOST_TEST(info.find("password='p ss\\\\word'") != std::string::npos, info);
    BOOST_TEST(info.find("sslmode='require'") != std::string::npos, info);
    BOOST_TEST(info.find("connect_timeout=5") != std::string::npos, info);
    cfg.database.connection_string = "postgresql://u@h:1/d?sslmode=require";
    eventscope::postgres_sink url_sink(cfg);
    BOOST_TEST(url_sink.connection_info() == "postgresql://u@h:1/d?sslmode=require&connect_timeout=5&application_name=eventscope");
}

// The binary COPY is raw libpq under a pqxx::work: it must be part of that transaction (an abort leaves nothing,
// a commit its rows), report a server error as pqxx::sql_error with the SQLSTATE, and leave the session usable.
BOOST_AUTO_TEST_CASE(binary_copy_runs_inside_the_transaction) {
    namespace pg = eventscope::pg;
    eventscope::pg::connection c(shared_db::instance().url());
    {
        pqxx::nontransaction n(c);
        n.exec("SET TIME ZONE 'UTC'");
        n.exec("CREATE TEMP TABLE binary_copy_probe (id uuid NOT NULL, n integer NOT NULL, at timestamptz)");
    }
    const std::vector<std::string> cols{"id", "n", "at"};
    auto rows = [](int count, bool null_n) {
        std::string data;
        pg::append_copy_binary_header(data);
        for (int i = 0; i < count; ++i) {
            pg::put_be16(data, 3);
            pg::copy_binary_writer w{data};
            w.uuid(eventscope::new_uuid());
            if (null_n && i == count - 1) w.null();
            else w.integer(std::int32_t{i});
            w.timestamp(std::int64_t{1'764'150'000'123'456'789});
        }
        pg::append_copy_binary_trailer(data);
        return data;
    };
    auto count = [&] {
        pqxx::nontransaction n(c);
        return n.exec("SELECT count(*), max(at)::text FROM binary_copy_probe")[0];
    };
    {
        pqxx::work tx(c);
        pg::binary_copy_in copy(c, "binary_copy_probe", cols);
        copy.write(rows(5, false));
        copy.complete();
        tx.abort();
    }
    BOOST_TEST(count()[0].as<int>() == 0);
    {
        pqxx::work tx(c);
        pg::binary_copy_in copy(c, "binary_copy_probe", cols);
        copy.write(rows(5, false));
        copy.complete();
        tx.commit();
    }
    BOOST_TEST(count()[0].as<int>() == 5);
    BOOST_TEST(count()[1].as<std::string>() == "2025-11-26 09:40:00.123456+00");
    std::string state;
    try {
        pqxx::work tx(c);
        pg::binary_copy_in copy(c, "binary_copy_probe", cols);
        copy.write(rows(3, true));
        copy.complete();
        tx.commit();
    } catch (const pqxx::sql_error& e) {
        state = e.sqlstate();
    }
    BOOST_TEST(state == "23502");  // not_null_violation, from the server
    {
        pqxx::work tx(c);  // abandoned mid-COPY: the destructor ends it, the transaction aborts
        pg::binary_copy_in copy(c, "binary_copy_probe", cols);
        auto half = rows(2, false);
        copy.write(std::string_view(half).substr(0, 30));
    }
    BOOST_TEST(count()[0].as<int>() == 5);  // and the session still answers
}

BOOST_AUTO_TEST_SUITE_END()

// write() encodes COPY binary straight from the records (COPY text with binary_copy = false); write_rows() (and
// the spool) COPY text from row JSON. The same records through all three paths must leave identical rows, hostile
// content included (NUL, invalid UTF-8, COPY escapes, in text and inside jsonb, keys too), running and final rows,
// errors, absent details, a timestamp before 1970 and one before 2000 (the binary format's epoch).
BOOST_AUTO_TEST_SUITE(record_and_row_paths)

namespace {

std::vector<eventscope::record> sample_records(const std::string& corr) {
    namespace es = eventscope;
    const std::string nasty = std::string("t\tn\nr\r b\\ \\N \\. nul\0x bad\xff\xc3\x28 ok \xc3\xa7 \xf0\x9f\x98\x80", 40);
    auto info = std::make_shared<es::invocation_info>();
    info->correlation_id = corr;
    info->correlation_from = es::correlation_source::tracking_token;
    info->source_function = "fn " + nasty;
    info->source_table = "orders";
    info->source_operation = "";
    info->source_user_email = nasty;
    info->source_event_time_ns = 1'764'000'000'123'456'789;
    info->source_event_payload = {{"new", {{"name", nasty}, {"n", 3}, {"f", 1.5}, {"b", true}, {"z", nullptr}}},
                                  {std::string("key\xff\0k", 6), {nasty, 1, "x"}}};
    info->auto_load_modules = false;
    info->payload_errors = {"bad " + nasty};
    auto plain = std::make_shared<es::invocation_info>();
    plain->correlation_id = corr;
    plain->source_event_payload = nullptr;  // capture off: stored as {}

    const std::int64_t t0 = 1'764'150'000'000'000'000;
    std::vector<es::record> out;
    es::invocation_record inv;
    inv.id = es::new_uuid();
    inv.info = info;
    inv.started = t0;
    inv.ended = t0 + 12'345'678;
    inv.status = es::run_status::failed;
    inv.events_detected_count = 2;
    inv.total_jobs_run = 3;
    inv.total_jobs_succeeded = 1;
    inv.total_jobs_failed = 2;
    inv.error = std::make_unique<es::error_info>(es::error_info{"std::runtime_error", nasty, "#0 " + nasty, nullptr, {}});
    inv.context_data = std::make_unique<nlohmann::json>(nlohmann::json{{"ctx", nasty}});
    auto inv_id = inv.id;
    out.emplace_back(std::move(inv));

    es::invocation_record inv2;  // running, no info at all
    inv2.id = es::new_uuid();
    inv2.started = -1'500;  // 1969-12-31 23:59:59.999999 (truncated toward zero, as COPY text writes it)
    out.emplace_back(std::move(inv2));
    es::invocation_record inv3;  // info without payload, empty error message
    inv3.id = es::new_uuid();
    inv3.info = plain;
    inv3.started = 946'684'799'999'999'999;  // the last nanosecond before 2000-01-01
    inv3.ended = inv3.started + 1;
    inv3.status = es::run_status::failed;
    inv3.error = std::make_unique<es::error_info>(es::error_info{"", "", "", nullptr, {}});
    out.emplace_back(std::move(inv3));

    es::event_record ev;
    ev.id = es::new_uuid();
    ev.invocation_id = inv_id;
    ev.info = info;
    ev.event_name = "orders." + nasty.substr(0, 20);
    ev.started = t0 + 10;
    ev.detected_at = t0 + 2'000'000;
    ev.ended = t0 + 9'000'000;
    ev.detected = true;
    ev.status = es::event_status::handler_failed;
    ev.jobs_count = 3;
    ev.jobs_failed = 2;
    ev.event_module_path = std::make_unique<std::string>("/mod/" + nasty);
    ev.detection_error = std::make_unique<es::error_info>(es::error_info{"T", "", "", nullptr, {}});
    ev.handler_error = std::make_unique<es::error_info>(es::error_info{"E", nasty, nasty, nullptr, {}});
    auto ev_id = ev.id;
    out.emplace_back(std::move(ev));
    es::event_record ev2;  // detecting, undecided
    ev2.id = es::new_uuid();
    ev2.invocation_id = inv_id;
    ev2.info = info;
    ev2.event_name = "undecided";
    ev2.started = t0 + 20;
    out.emplace_back(std::move(ev2));

    for (int k = 0; k < 4; ++k) {
        es::job_record job;
        job.id = es::new_uuid();
        job.invocation_id = inv_id;
        job.event_execution_id = ev_id;
        job.info = k == 3 ? plain : info;
        job.job_name = k == 0 ? std::string("job ") + nasty : "plain_job";
        job.started = t0 + 100 + k;
        job.ended = k == 2 ? 0 : t0 + 100 + k + 1'499'999;
        job.status = k == 2 ? es::run_status::running : k == 1 ? es::run_status::failed : es::run_status::completed;
        if (k < 2) {
            job.details = std::make_unique<es::job_details>();
            job.details->job_function_name = k == 0 ? nasty : "";
            job.details->job_options = nlohmann::json{{"retries", 3}, {"tag", nasty}};
            if (k == 0) job.details->result = nlohmann::json::array({nasty, 1, nullptr});
            else job.details->result = nlohmann::json(nullptr);
            if (k == 1) job.details->error = std::make_unique<es::error_info>(es::error_info{"Boom", "", nasty, nullptr, {}});
        }
        auto job_id = job.id;
        out.emplace_back(std::move(job));
        es::job_log_record lg;
        lg.id = es::new_uuid();
        lg.job_execution_id = job_id;
        lg.invocation_id = inv_id;
        lg.info = info;
        lg.level = k == 1 ? es::log_level::error : es::log_level::info;
        lg.message = "line " + nasty;
        if (k == 0) lg.data = nlohmann::json{{std::string("k\0", 2), nasty}};
        if (k == 1) lg.data = nlohmann::json("just a string");
        lg.logged_at = t0 + 200 + k;
        out.emplace_back(std::move(lg));
    }
    return out;
}

std::map<std::string, json> read_all(reader& db, const std::string& corr, const std::vector<std::string>& inv_ids) {
    std::map<std::string, json> all;
    for (const char* t : {"invocations", "event_executions", "job_executions", "job_logs"}) {
        auto rows = db.rows(t, "correlation_id", corr);
        for (auto& [id, row] : rows) all[std::string(t) + ":" + id] = std::move(row);
    }
    for (const auto& id : inv_ids) {  // invocations without info have an empty correlation id
        auto rows = db.rows("invocations", "id", id);
        for (auto& [rid, row] : rows) all["invocations:" + rid] = std::move(row);
    }
    return all;
}

}  // namespace

BOOST_AUTO_TEST_CASE(record_encoding_equals_row_json_encoding) {
    const std::string url = shared_db::instance().url();
    reader db(url);
    const std::string corr = "paths." + new_id();
    auto records = sample_records(corr);
    std::vector<std::string> inv_ids;
    for (const auto& r : records)
        if (const auto* inv = std::get_if<eventscope::invocation_record>(&r)) inv_ids.push_back(inv->id.to_string());
    std::vector<json> rows;
    for (const auto& r : records) rows.push_back(eventscope::to_row(r, /*with_db_only=*/true));

    auto delete_all = [&] {
        for (const auto& id : inv_ids) db.query("DELETE FROM " + db.table("invocations") + " WHERE id = $1", id);
        BOOST_TEST_REQUIRE(read_all(db, corr, inv_ids).empty());
    };
    std::map<std::string, json> via_records, via_text_records, via_rows;
    {
        eventscope::postgres_sink sink(pg_config(url));
        auto r = sink.write(std::span<eventscope::record>(records));
        BOOST_TEST_REQUIRE(r.ok);
        BOOST_TEST(r.rejected == 0u);
        BOOST_TEST(sink.stats().rows_copied_direct > 0u);  // both the direct COPY and the staging path are used
        BOOST_TEST(sink.stats().rows_copied_direct < records.size());
        BOOST_TEST(sink.stats().rows_copied_binary == records.size());
        via_records = read_all(db, corr, inv_ids);
    }
    BOOST_TEST_REQUIRE(via_records.size() == records.size());
    delete_all();
    {
        eventscope::postgres_sink_options text_only;
        text_only.binary_copy = false;
        eventscope::postgres_sink sink(pg_config(url), text_only);
        auto r = sink.write(std::span<eventscope::record>(records));
        BOOST_TEST_REQUIRE(r.ok);
        BOOST_TEST(sink.stats().rows_copied_binary == 0u);
        via_text_records = read_all(db, corr, inv_ids);
    }
    delete_all();
    {
        eventscope::postgres_sink sink(pg_config(url));
        auto r = sink.write_rows(rows);
        BOOST_TEST_REQUIRE(r.ok);
        BOOST_TEST(r.rejected == 0u);
        BOOST_TEST(sink.stats().rows_copied_binary == 0u);  // row JSON is COPY text
        via_rows = read_all(db, corr, inv_ids);
    }
    for (const auto* other : {&via_text_records, &via_rows}) {
        BOOST_TEST_REQUIRE(other->size() == via_records.size());
        for (const auto& [key, row] : via_records) {
            auto it = other->find(key);
            BOOST_TEST_REQUIRE((it != other->end()), key);
            json x = row, y = it->second;
            if (key.rfind("job_logs:", 0) == 0) x.erase("updated_at"), y.erase("updated_at");  // the column default: now()
            BOOST_TEST(x.dump() == y.dump(), key);
        }
    }
    BOOST_TEST(via_records["invocations:" + inv_ids[1]]["created_at"].get<std::string>().rfind("1969-12-31T23:59:59.999999", 0) == 0u);
    BOOST_TEST(via_records["invocations:" + inv_ids[2]]["created_at"].get<std::string>().rfind("1999-12-31T23:59:59.999999", 0) == 0u);
    // And the rows are what to_row says (sanitized), column by column.
    for (const auto& row : rows) {
        auto key = row["table"].get<std::string>() + ":" + row["id"].get<std::string>();
        auto diffs = compare_row(expected_row(row), via_records[key]);
        BOOST_TEST(diffs.empty(), key << ": " << (diffs.empty() ? "" : diffs[0]));
    }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace rows_test
