// The database stopped mid-run (pg-cluster.sh kill = immediate shutdown) and restarted on the same port:
// with a spool every record arrives exactly once; without one, what is missing equals the pipeline's drops.
#include <boost/test/unit_test.hpp>

#include <set>
#include <thread>

#include "pg_test_support.hpp"

// One namespace per file: the suite is compiled as a unity build (tests/postgres/CMakeLists.txt).
namespace outage_test {

using namespace pg_test;
using eventscope::capture;

namespace {

template <class Observer>
bool flush_until_written(Observer& obs, std::chrono::seconds limit = 60s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline)
        if (obs.flush(5s)) return true;
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outage)

BOOST_AUTO_TEST_CASE(with_a_spool_every_record_arrives_exactly_once) {
    cluster server(/*crash_safe=*/true);
    database db_owner(server.url(), "spool");
    auto cfg = pg_config(db_owner.url());
    cfg.retry_attempts = 1;
    cfg.batch_size = 100;
    auto spool = temp_dir("spool");
    const std::string spool_copy = spool + ".copy";
    eventscope::postgres_sink_options o;
    o.spool_directory = spool;
    o.connect_timeout = std::chrono::seconds(2);
    std::vector<std::string> logged;
    std::mutex log_mutex;
    o.log = [&](const std::string& line) {
        std::lock_guard lock(log_mutex);
        logged.push_back(line);
    };
    using tee_observer = eventscope::observer<eventscope::options<tee_sink, capture::full, 8192>>;
    tee_observer obs(cfg, {}, cfg, o);
    const std::string corr = "outage.spool." + eventscope::new_uuid().to_string();
    eventscope::invocation_options opts;
    opts.correlation_id = corr;
    auto run_jobs = [](auto& ev, int n, const std::string& tag) {
        for (int i = 0; i < n; ++i) {
            auto job = ev.job(tag);
            job.log(eventscope::log_level::info, tag + " " + std::to_string(i));
            if (i % 25 == 0) std::this_thread::sleep_for(2ms);
        }
    };
    {
        auto inv = obs.invocation(json::object(), "outage_spool", opts);
        auto ev = inv.event("outage.event");
        ev.detected(true);
        run_jobs(ev, 50, "before");
        BOOST_TEST_REQUIRE(obs.flush(30s));
        server.kill();
        run_jobs(ev, 300, "during");
        BOOST_TEST(obs.flush(30s));  // spooled: accepted
        auto spooled = obs.sink().pg().stats();
        BOOST_TEST(spooled.rows_spooled > 0u);
        BOOST_TEST(spooled.spool_bytes > 0u);
        BOOST_TEST(!std::filesystem::is_empty(spool));
        // A copy of the spool as it is now, replayed a second time below (as after a crash right after a replay).
        std::filesystem::copy(spool, spool_copy);
        server.restart();
        run_jobs(ev, 50, "after");
    }
    BOOST_TEST_REQUIRE(flush_until_written(obs));
    auto s = obs.stats();
    BOOST_TEST(s.dropped == 0u);
    BOOST_TEST(s.written == s.recorded);
    auto pg = obs.sink().pg().stats();
    BOOST_TEST(pg.spool_bytes == 0u);
    BOOST_TEST(pg.rows_replayed > 0u);
    BOOST_TEST(std::filesystem::is_empty(spool));

    reader db(db_owner.url());
    std::size_t rows = 0;
    for (std::string table : {"invocations", "event_executions", "job_executions", "job_logs"}) {
        auto expected = obs.sink().final_rows(table);
        auto actual = db.rows(table, "correlation_id", corr);
        std::set<std::string> e_ids, a_ids;
        for (auto& [id, r] : expected) e_ids.insert(id);
        for (auto& [id, r] : actual) a_ids.insert(id);
        BOOST_TEST((e_ids == a_ids), table << ": " << a_ids.size() << " ids in the database, " << e_ids.size() << " recorded");
        for (const auto& [id, row] : expected)
            if (actual.count(id))
                for (const auto& d : compare_row(expected_row(row), actual.at(id))) BOOST_ERROR(d);
        rows += actual.size();
    }
    BOOST_TEST(rows == 1u + 1u + 400u + 400u);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE correlation_id = $1 AND status = 'completed'", corr) == 400);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("invocations") + " WHERE correlation_id = $1 AND status = 'completed' "
                        "AND total_jobs_run = 400", corr) == 1);
    // Rollups: every row once, although part of them came from the spool; and replaying the same spool again
    // (a second sink over the copy) changes nothing.
    auto totals = [&] {
        return db.count("SELECT coalesce(sum(jobs), 0) FROM " + db.table("job_rollup") + " WHERE job_name IN ('before', 'during', 'after')");
    };
    BOOST_TEST(totals() == 400);
    BOOST_TEST(rollup_differences(db_owner.url()).empty());
    {
        eventscope::postgres_sink_options again;
        again.spool_directory = spool_copy;
        again.log = [](const std::string&) {};
        eventscope::postgres_sink replayer(cfg, again);
        BOOST_TEST(replayer.write_rows({}).ok);
        BOOST_TEST(replayer.stats().rows_replayed > 0u);
        BOOST_TEST(std::filesystem::is_empty(spool_copy));
    }
    BOOST_TEST(totals() == 400);
    auto diffs = rollup_differences(db_owner.url());
    BOOST_TEST(diffs.empty(), (diffs.empty() ? "" : diffs[0]));
    std::filesystem::remove_all(spool_copy);
    // The outage was logged once, not per batch.
    std::size_t outage_lines = 0;
    for (const auto& l : logged) outage_lines += l.find("unreachable") != std::string::npos || l.find("connection lost") != std::string::npos;
    BOOST_TEST(outage_lines >= 1u);
    BOOST_TEST(outage_lines <= 3u);
    std::filesystem::remove_all(spool);
}

// After an outage the spool is replayed at the flush ticks (postgres_sink::idle), not only at the next write:
// a service that receives nothing more still catches up.
BOOST_AUTO_TEST_CASE(the_spool_is_replayed_without_new_records) {
    cluster server(/*crash_safe=*/true);
    database db_owner(server.url(), "idle_replay");
    auto cfg = pg_config(db_owner.url());
    cfg.retry_attempts = 1;
    auto spool = temp_dir("idle-spool");
    eventscope::postgres_sink_options o;
    o.spool_directory = spool;
    o.connect_timeout = std::chrono::seconds(2);
    o.log = [](const std::string&) {};
    eventscope::observer<eventscope::options<eventscope::postgres_sink, capture::full>> obs(cfg, {}, cfg, o);
    const std::string corr = "outage.idle." + eventscope::new_uuid().to_string();
    eventscope::invocation_options opts;
    opts.correlation_id = corr;
    server.kill();
    {
        auto inv = obs.invocation(json::object(), "idle_replay", opts);
        auto ev = inv.event("idle.event");
        ev.detected(true);
        for (int i = 0; i < 20; ++i) {
            auto job = ev.job("idle_job");
        }
    }
    BOOST_TEST_REQUIRE(obs.flush(30s));  // spooled
    BOOST_TEST_REQUIRE(obs.sink().stats().spool_bytes > 0u);
    // While the server is down the idle tries fail (and back off); the rows stay in the spool.
    std::this_thread::sleep_for(2s);
    BOOST_TEST(obs.sink().stats().spool_bytes > 0u);
    server.restart();
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (obs.sink().stats().spool_bytes > 0u && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
    BOOST_TEST(obs.sink().stats().spool_bytes == 0u);
    BOOST_TEST(obs.sink().stats().rows_replayed >= 22u);
    BOOST_TEST(std::filesystem::is_empty(spool));
    BOOST_TEST(obs.stats().recorded == obs.stats().written);
    reader db(db_owner.url());
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE correlation_id = $1 AND status = 'completed'", corr) == 20);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("invocations") + " WHERE correlation_id = $1 AND status = 'completed'", corr) == 1);
    std::filesystem::remove_all(spool);
}

BOOST_AUTO_TEST_CASE(without_a_spool_the_drop_counter_equals_what_is_missing) {
    cluster server(/*crash_safe=*/true);
    database db_owner(server.url(), "nospool");
    auto cfg = pg_config(db_owner.url());
    cfg.retry_attempts = 1;
    cfg.batch_size = 64;
    cfg.max_batch_size = 64;  // the pipeline holds one batch of 64 beside the ring of 256: the ring must overflow
    eventscope::postgres_sink_options o;
    o.connect_timeout = std::chrono::seconds(2);
    o.log = [](const std::string&) {};
    using small_observer = eventscope::observer<eventscope::options<eventscope::postgres_sink, capture::full, 256>>;
    small_observer obs(cfg, {}, cfg, o);
    const std::string corr = "outage.nospool." + eventscope::new_uuid().to_string();
    eventscope::invocation_options opts;
    opts.correlation_id = corr;
    constexpr int lines = 3000;
    std::string job_id;
    {
        auto inv = obs.invocation(json::object(), "outage_nospool", opts);
        auto ev = inv.event("outage.event");
        ev.detected(true);
        auto job = ev.job("chatty");
        job_id = job.id().to_string();
        BOOST_TEST_REQUIRE(obs.flush(30s));
        server.kill();
        for (int i = 0; i < lines; ++i) {
            job.log(eventscope::log_level::info, "line " + std::to_string(i));
            if (i % 100 == 0) std::this_thread::sleep_for(1ms);
        }
        BOOST_TEST(!obs.flush(200ms));  // nothing can be written now
        server.restart();
        BOOST_TEST_REQUIRE(flush_until_written(obs));  // the kept batch and the ring drain before the scopes end
    }
    BOOST_TEST_REQUIRE(flush_until_written(obs));
    auto s = obs.stats();
    reader db(db_owner.url());
    auto stored = db.count("SELECT count(*) FROM " + db.table("job_logs") + " WHERE job_execution_id = $1", job_id);
    BOOST_TEST(s.dropped_buffer_full > 0u);  // the ring (256) overflowed during the outage
    BOOST_TEST(s.rejected == 0u);
    BOOST_TEST(static_cast<std::uint64_t>(lines - stored) == s.dropped);
    BOOST_TEST(s.written + s.dropped == s.recorded);
    BOOST_TEST(s.failed_batches > 0u);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE id = $1 AND status = 'completed'", job_id) == 1);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("invocations") + " WHERE correlation_id = $1 AND status = 'completed'", corr) == 1);
}

// The server answers nothing (here: a lock held by another session, as a frozen host would look) while a batch
// is being written: shutdown's deadline holds anyway, because the sink's interrupt() cuts the statement short
// (statement_timeout is 60 s here, so only the interrupt can explain a quick return).
BOOST_AUTO_TEST_CASE(a_write_stuck_on_the_server_is_cut_short_at_the_shutdown_deadline) {
    cluster server(/*crash_safe=*/false);
    database db_owner(server.url(), "interrupt");
    auto cfg = pg_config(db_owner.url());
    cfg.retry_attempts = 1;
    eventscope::postgres_sink_options o;
    o.statement_timeout = std::chrono::seconds(60);
    std::vector<std::string> logged;
    std::mutex log_mutex;
    o.log = [&](const std::string& line) {
        std::lock_guard lock(log_mutex);
        logged.push_back(line);
    };
    using pg_observer = eventscope::observer<eventscope::options<eventscope::postgres_sink, capture::full, 1024>>;
    auto obs = std::make_unique<pg_observer>(cfg, eventscope::correlation_config{}, cfg, o);
    {
        auto inv = obs->invocation(json::object(), "interrupt_connect");
    }
    BOOST_TEST_REQUIRE(obs->flush(30s));  // connected, nothing pending

    pqxx::connection locker(db_owner.url());
    pqxx::work hold(locker);
    hold.exec("LOCK TABLE " + locker.quote_name(schema_name) + ".job_executions IN ACCESS EXCLUSIVE MODE");
    {
        auto inv = obs->invocation(json::object(), "interrupt_stuck");
        auto ev = inv.event("interrupt.event");
        ev.detected(true);
        for (int i = 0; i < 20; ++i) {
            auto job = ev.job("stuck");
        }
    }
    BOOST_TEST(!obs->flush(300ms));  // the write is waiting for the lock
    auto started = std::chrono::steady_clock::now();
    auto result = obs->shutdown(500ms);
    auto took = std::chrono::steady_clock::now() - started;
    BOOST_TEST(!result.complete);
    BOOST_TEST(result.timed_out);
    BOOST_TEST(result.unwritten > 0u);
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() < 10000);  // 60 s without it
    hold.abort();
    obs.reset();
    reader db(db_owner.url());
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions")) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace outage_test
