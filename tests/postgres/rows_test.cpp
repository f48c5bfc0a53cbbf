// The sink's row path: hostile content round-trips byte for byte, rejected rows are dead-lettered while the
// rest lands, coalescing and the no-regression guard, source_job_id links, and the missing-schema error.
#include <boost/test/unit_test.hpp>

#include <set>

#include "pg_test_support.hpp"

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
    auto inv = new_id(), ev = new_id(), job_ok = new_id(), job_bad_status = new_id(), job_orphan = new_id(), log_ok = new_id(),
         log_of_bad = new_id();
    std::vector<json> batch = {inv_row(inv, corr), ev_row(ev, inv, corr), job_row(job_ok, inv, ev, corr),
                               job_row(job_bad_status, inv, ev, corr, "exploded"),  // CHECK refuses it
                               job_row(job_orphan, inv, new_id(), corr),            // its event does not exist
                               log_row(log_ok, job_ok, inv, corr, "fine"),
                               log_row(log_of_bad, job_bad_status, inv, corr, "my job was rejected")};
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
    BOOST_TEST(state_by_id[job_orphan] == "23503");      // foreign_key_violation
    BOOST_TEST(state_by_id[log_of_bad] == "23503");
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
    eventscope::uuid orphan = eventscope::new_uuid();
    {
        auto inv = obs.invocation(json::object(), "dead_letter_pipeline", opts);
        auto ev = inv.event("e");
        ev.detected(true);
        { auto job = ev.job("good"); }
        eventscope::job_record r;  // a job whose event does not exist
        r.id = orphan;
        r.invocation_id = inv.id();
        r.event_execution_id = eventscope::new_uuid();
        r.job_name = "orphan";
        r.started = eventscope::now_tick();
        r.ended = eventscope::now_tick();
        r.status = eventscope::run_status::completed;
        BOOST_TEST(obs.push(std::move(r)));
    }
    BOOST_TEST_REQUIRE(obs.flush(30s));
    auto s = obs.stats();
    BOOST_TEST(s.rejected == 1u);
    BOOST_TEST(s.dropped == 1u);
    BOOST_TEST(s.written + s.dropped == s.recorded);
    reader db(url);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE correlation_id = $1 AND job_name = 'good'", corr) == 1);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE id = $1", orphan.to_string()) == 0);
    auto lines = read_lines(o.dead_letter_path);
    BOOST_TEST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(json::parse(lines[0])["row"]["id"] == orphan.to_string());
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

BOOST_AUTO_TEST_CASE(source_job_links_wait_for_their_job_row) {
    const std::string url = shared_db::instance().url();
    eventscope::postgres_sink sink(pg_config(url));
    reader db(url);
    const std::string corr = "links." + new_id();
    auto source = [&](const std::string& id) { return one(db, "SELECT source_job_id::text FROM " + db.table("invocations") + " WHERE id = $1", id); };

    // The source job is not written yet (another process, a later batch): NULL now, linked later.
    auto later_job = new_id(), waiting = new_id();
    BOOST_TEST(sink.write_rows({inv_row(waiting, corr, "completed", later_job)}).ok);
    BOOST_TEST(source(waiting) == "<NULL>");
    BOOST_TEST(sink.stats().pending_source_links == 1u);
    auto inv = new_id(), ev = new_id();
    BOOST_TEST(sink.write_rows({inv_row(inv, corr), ev_row(ev, inv, corr), job_row(later_job, inv, ev, corr)}).ok);
    BOOST_TEST(source(waiting) == later_job);
    BOOST_TEST(sink.stats().pending_source_links == 0u);

    // The source job in the same batch, after the invocation that points at it.
    auto same_job = new_id(), linked = new_id(), inv2 = new_id(), ev2 = new_id();
    BOOST_TEST(sink.write_rows({inv_row(linked, corr, "running", same_job), inv_row(inv2, corr), ev_row(ev2, inv2, corr),
                                job_row(same_job, inv2, ev2, corr)})
                   .ok);
    BOOST_TEST(source(linked) == same_job);
    // An existing job: linked at once; a later row without it never clears the link.
    auto direct = new_id();
    BOOST_TEST(sink.write_rows({inv_row(direct, corr, "running", later_job)}).ok);
    BOOST_TEST(source(direct) == later_job);
    BOOST_TEST(sink.write_rows({inv_row(direct, corr, "completed")}).ok);
    BOOST_TEST(source(direct) == later_job);
    BOOST_TEST(sink.stats().pending_source_links == 0u);
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

BOOST_AUTO_TEST_SUITE_END()
