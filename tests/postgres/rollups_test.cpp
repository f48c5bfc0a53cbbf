// Rollups (sql/migrations/002_scale.up.sql) equal the raw rows after real writes through the sink: a normal run,
// concurrent writers on the same hours and names, a batch replayed by a sink that never saw it, rows written
// running and completed later, COPYs naming partitions (a partition dropped under the sink, job partitions whose
// rows the sink counts itself, one that counts its own again), and the C++ status ranks and duration buckets equal
// the SQL ones. check_rollups() also compares each invocation's child_names with its child
// rows. (Spool replays: outage_test.cpp; retention drops and migrations: tests/sql/run.sh.)
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <thread>

#include "pg_test_support.hpp"

// One namespace per file: the suite is compiled as a unity build (tests/postgres/CMakeLists.txt).
namespace rollups_test {

using namespace pg_test;
using eventscope::capture;

namespace {

using pg_options = eventscope::options<eventscope::postgres_sink, capture::full, 16384>;
using pg_observer = eventscope::observer<pg_options>;

// `n` invocations of `function`: two events each (one detected with `jobs` jobs of varied durations, some
// failing, one not detected). Every few invocations a job sleeps across a flush, so its row is written
// `running` first and completed later.
template <class Observer>
void run_invocations(Observer& obs, const std::string& function, const std::string& corr, int n, int jobs) {
    eventscope::invocation_options opts;
    opts.correlation_id = corr;
    for (int i = 0; i < n; ++i) {
        auto inv = obs.invocation(json::object(), function, opts);
        {
            auto ev = inv.event("rollup.detected");
            ev.detected(true);
            for (int k = 0; k < jobs; ++k) {
                auto job = ev.job("rollup_job_" + std::to_string(k % 3));
                if ((i + k) % 7 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1 + (i + k) % 4));
                if (i % 5 == 0 && k % 4 == 0) std::this_thread::sleep_for(30ms);  // outlives a flush: written running
                if ((i * jobs + k) % 11 == 3) job.fail("rollup test failure");
            }
        }
        auto quiet = inv.event("rollup.quiet");
        quiet.detected(false);
    }
}

std::string rollup_totals(reader& db, const std::string& function) {
    auto r = db.query("SELECT coalesce(sum(invocations), 0)::text || '/' || coalesce(sum(completed), 0)::text || '/' || "
                      "coalesce(sum(failed), 0)::text FROM " + db.table("invocation_rollup") + " WHERE source_function = $1", function);
    return r[0][0].c_str();
}

std::string raw_totals(reader& db, const std::string& function) {
    auto r = db.query("SELECT count(*) FILTER (WHERE status <> 'running')::text || '/' || count(*) FILTER (WHERE status = 'completed')::text "
                      "|| '/' || count(*) FILTER (WHERE status = 'failed')::text FROM " + db.table("invocations") + " WHERE source_function = $1",
                      function);
    return r[0][0].c_str();
}

// One invocation of `fn` with one detected event `event_name` and `jobs` jobs, written as one batch. Every job
// starts `k` µs after the event's detection and takes (k % 9 + 1) ms, completed, unless `adjust(k, job)` says
// otherwise (name, times, status; ended = 0 for a running job); the invocation's and event's counters and status
// follow from the jobs.
template <class Adjust>
std::vector<eventscope::record> one_tree(const std::string& fn, const std::string& event_name, int jobs, Adjust adjust) {
    auto info = std::make_shared<eventscope::invocation_info>();
    info->correlation_id = "rollup." + event_name;
    info->source_function = fn;
    const std::int64_t t0 = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::vector<eventscope::job_record> job_rows;
    int succeeded = 0, failed = 0;
    eventscope::invocation_record inv;
    inv.id = eventscope::new_uuid();
    eventscope::event_record ev;
    ev.id = eventscope::new_uuid();
    for (int k = 0; k < jobs; ++k) {
        eventscope::job_record job;
        job.id = eventscope::new_uuid();
        job.invocation_id = inv.id;
        job.event_execution_id = ev.id;
        job.info = info;
        job.job_name = "job";
        job.started = t0 + 2'000'000 + k * 1000;
        job.ended = job.started + (k % 9 + 1) * 1'000'000;
        job.status = eventscope::run_status::completed;
        adjust(k, job);
        succeeded += job.status == eventscope::run_status::completed;
        failed += job.status == eventscope::run_status::failed;
        job_rows.push_back(std::move(job));
    }
    inv.info = info;
    inv.started = t0;
    inv.ended = t0 + 90'000'000;
    inv.status = eventscope::run_status::completed;
    inv.events_detected_count = 1;
    inv.total_jobs_run = jobs;
    inv.total_jobs_succeeded = succeeded;
    inv.total_jobs_failed = failed;
    ev.invocation_id = inv.id;
    ev.info = info;
    ev.event_name = event_name;
    ev.started = t0 + 1000;
    ev.detected_at = t0 + 2'000'000;
    ev.ended = t0 + 80'000'000;
    ev.detected = true;
    ev.status = failed ? eventscope::event_status::failed : eventscope::event_status::completed;
    ev.jobs_count = jobs;
    ev.jobs_succeeded = succeeded;
    ev.jobs_failed = failed;
    std::vector<eventscope::record> batch;
    batch.emplace_back(std::move(inv));
    batch.emplace_back(std::move(ev));
    for (auto& job : job_rows) batch.emplace_back(std::move(job));
    return batch;
}

void require_rollups_equal_raw(const std::string& url) {
    auto diffs = rollup_differences(url);
    BOOST_TEST(diffs.empty(), diffs.size() << " differences, first: " << (diffs.empty() ? "" : diffs[0]));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rollups)

BOOST_AUTO_TEST_CASE(rollups_equal_the_raw_rows_after_a_run_through_the_pipeline) {
    const std::string url = shared_db::instance().url();
    auto cfg = pg_config(url);
    cfg.batch_size = 50;
    pg_observer obs(cfg, {}, cfg, eventscope::postgres_sink_options{});
    const std::string fn = "rollup_normal_" + eventscope::new_uuid().to_string().substr(0, 8);
    run_invocations(obs, fn, "rollup.normal", 40, 5);
    BOOST_TEST_REQUIRE(obs.flush(60s));
    BOOST_TEST(obs.stats().dropped == 0u);
    reader db(url);
    BOOST_TEST(rollup_totals(db, fn) == "40/40/0");
    BOOST_TEST(raw_totals(db, fn) == "40/40/0");
    // Some rows went in running and were completed later (the update path of the rollup triggers).
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " j JOIN " + db.table("invocations") +
                        " i ON i.id = j.invocation_id WHERE i.source_function = $1 AND j.updated_at > j.created_at + interval '25 ms'", fn) > 0);
    BOOST_TEST(db.count("SELECT sum(jobs) FROM " + db.table("job_rollup") + " WHERE job_name LIKE 'rollup_job_%'") ==
               db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE job_name LIKE 'rollup_job_%' AND status <> 'running'"));
    // dashboard_stats (the view) reads the same rollup rows.
    BOOST_TEST(db.count("SELECT sum(total_invocations) FROM " + db.table("dashboard_stats") + " WHERE source_function = $1", fn) == 40);
    // Each final invocation row names its children (gathered by the pipeline, migration 004), sorted.
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("invocations") + " WHERE source_function = $1 AND child_names = "
                        "'{\"events\": [\"rollup.detected\", \"rollup.quiet\"], \"jobs\": [\"rollup_job_0\", \"rollup_job_1\", \"rollup_job_2\"]}'",
                        fn) == 40);
    require_rollups_equal_raw(url);
}

// Several writers (separate observers and sinks, as separate detector processes would be) add to the same
// rollup rows (same hour, same function, event and job names) at once.
BOOST_AUTO_TEST_CASE(concurrent_writers_keep_the_rollups_exact) {
    const std::string url = shared_db::instance().url();
    const std::string fn = "rollup_concurrent_" + eventscope::new_uuid().to_string().substr(0, 8);
    constexpr int writers = 4, per_writer = 30;
    std::atomic<std::uint64_t> dropped{0}, transient{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
        threads.emplace_back([&, w] {
            auto cfg = pg_config(url);
            cfg.batch_size = 20 + 7 * w;
            pg_observer obs(cfg, {}, cfg, eventscope::postgres_sink_options{});
            run_invocations(obs, fn, "rollup.concurrent." + std::to_string(w), per_writer, 4);
            if (!obs.flush(60s)) dropped += 1000000;
            dropped += obs.stats().dropped;
            transient += obs.sink().stats().transient_retries;
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(dropped.load() == 0u);
    BOOST_TEST_MESSAGE("transactions redone after a deadlock: " << transient.load());
    reader db(url);
    BOOST_TEST(rollup_totals(db, fn) == std::to_string(writers * per_writer) + "/" + std::to_string(writers * per_writer) + "/0");
    require_rollups_equal_raw(url);
}

// The same batch written again by a sink that never saw it (as after a commit whose outcome was lost, or a
// second process replaying it), as rows twice more, and a running copy after the final one: nothing counts twice.
BOOST_AUTO_TEST_CASE(a_replayed_batch_is_not_counted_twice) {
    const std::string url = shared_db::instance().url();
    const std::string fn = "rollup_replay_" + eventscope::new_uuid().to_string().substr(0, 8);
    const std::string job_name = "replayed_job_" + eventscope::new_uuid().to_string().substr(0, 8);
    auto batch = one_tree(fn, "replay.event", 3, [&](int k, eventscope::job_record& job) {
        job.job_name = job_name;
        job.started -= k * 1000;  // all three start together
        job.ended = job.started + (k + 1) * 7'000'000;
        if (k == 2) job.status = eventscope::run_status::failed;
    });
    std::vector<json> rows;
    for (const auto& r : batch) rows.push_back(eventscope::to_row(r, true));

    reader db(url);
    auto jobs_counted = [&] {
        return db.count("SELECT coalesce(sum(jobs), 0) FROM " + db.table("job_rollup") + " WHERE job_name = $1", job_name);
    };
    eventscope::postgres_sink first(pg_config(url));
    BOOST_TEST_REQUIRE(first.write(std::span<eventscope::record>(batch)).ok);
    BOOST_TEST(first.stats().rows_copied_direct == 5u);
    BOOST_TEST(jobs_counted() == 3);
    BOOST_TEST(rollup_totals(db, fn) == "1/1/0");

    eventscope::postgres_sink second(pg_config(url));
    BOOST_TEST_REQUIRE(second.write(std::span<eventscope::record>(batch)).ok);
    BOOST_TEST(second.stats().direct_retries == 1u);  // 23505 in the direct COPY, redone by upsert
    BOOST_TEST(second.write_rows(rows).ok);
    BOOST_TEST(first.write_rows(rows).ok);
    auto late = rows;
    for (auto& r : late)
        if (r.contains("status")) r["status"] = r["table"] == "event_executions" ? "handling" : "running";
    BOOST_TEST(second.write_rows(late).ok);
    BOOST_TEST(jobs_counted() == 3);
    BOOST_TEST(rollup_totals(db, fn) == "1/1/0");
    BOOST_TEST(db.count("SELECT sum(failed) FROM " + db.table("job_rollup") + " WHERE job_name = $1", job_name) == 1);
    BOOST_TEST(db.count("SELECT sum(checked) FROM " + db.table("event_rollup") + " WHERE source_function = $1", fn) == 1);
    require_rollups_equal_raw(url);
}

// A batch large enough for two connections (postgres_sink_options::parallel_min_rows): half of the job rows are
// COPYed by the helper connection at the same time, the running job goes in a third transaction; the same batch
// written again by a sink that never saw it makes the helper fail (23505), and its half is redone on the first
// connection. Rows and rollups are exact both times.
BOOST_AUTO_TEST_CASE(a_large_batch_written_on_two_connections_is_counted_once) {
    const std::string url = shared_db::instance().url();
    const std::string fn = "rollup_parallel_" + eventscope::new_uuid().to_string().substr(0, 8);
    const std::string job_prefix = "parallel_job_" + eventscope::new_uuid().to_string().substr(0, 8);
    constexpr int jobs = 3000;
    auto batch = one_tree(fn, "parallel.event", jobs, [&](int k, eventscope::job_record& job) {
        job.job_name = job_prefix + "_" + std::to_string(k % 3);  // several rollup keys, locked in key order
        job.ended = k == 7 ? 0 : job.started + (k % 50 + 1) * 1'000'000;
        if (k == 7) job.status = eventscope::run_status::running;
        else if (k % 13 == 0) job.status = eventscope::run_status::failed;
    });
    reader db(url);
    auto stored = [&] {
        return db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE job_name LIKE $1", job_prefix + "%");
    };
    auto counted = [&] {  // final rows (`jobs` counts running ones too)
        return db.count("SELECT coalesce(sum(completed + failed), 0) FROM " + db.table("job_rollup") + " WHERE job_name LIKE $1", job_prefix + "%");
    };

    eventscope::postgres_sink first(pg_config(url));
    BOOST_TEST_REQUIRE(first.write(std::span<eventscope::record>(batch)).ok);
    BOOST_TEST(first.stats().parallel_halves == 1u);
    BOOST_TEST(first.stats().parallel_redone == 0u);
    BOOST_TEST(first.stats().transactions == 3u);  // the first connection's, the helper's, the running job's
    BOOST_TEST(first.stats().rows_written == static_cast<std::uint64_t>(jobs + 2));
    BOOST_TEST(first.stats().rows_copied_direct == static_cast<std::uint64_t>(jobs + 1));  // all but the running job
    BOOST_TEST(first.stats().rows_copied_into_partitions == first.stats().rows_copied_direct);  // the helper's half too
    BOOST_TEST(stored() == jobs);
    BOOST_TEST(counted() == jobs - 1);  // the running job is not final yet
    require_rollups_equal_raw(url);

    eventscope::postgres_sink second(pg_config(url));
    BOOST_TEST_REQUIRE(second.write(std::span<eventscope::record>(batch)).ok);
    BOOST_TEST(second.stats().parallel_redone == 1u);  // the helper's COPY met 23505: redone by the upsert path
    BOOST_TEST(second.stats().rows_rejected == 0u);
    BOOST_TEST(stored() == jobs);
    BOOST_TEST(counted() == jobs - 1);
    BOOST_TEST(rollup_totals(db, fn) == "1/1/0");
    require_rollups_equal_raw(url);
}

// Direct COPYs name the partition of their rows (migration 013; PostgreSQL then inserts them in batches), whose
// own triggers count them once, except job rows, whose sums the sink adds itself first (014: add_job_rollups();
// their partitions refuse rows nobody counted). A partition dropped by hand under a sink that remembers it makes
// that write fail (42P01): the transaction is redone naming the table, nothing is lost or dead-lettered, and later
// writes look the partition up again (none now: the rows go to the default partition through the table). A
// database before 014 (no sink_copy_partition(): copy_partition() names no job partition) gets job COPYs naming
// the table; one before 013 (no copy_partition() either) gets COPYs naming the tables.
BOOST_AUTO_TEST_CASE(direct_copies_name_the_partition_and_survive_its_drop) {
    database own(shared_db::instance().url(), "partition");
    reader db(own.url());
    auto counted = [&](const std::string& job_name) {
        return db.count("SELECT coalesce(sum(completed), 0) FROM " + db.table("job_rollup") + " WHERE job_name = $1", job_name);
    };
    auto stored_in = [&](const std::string& job_name) {
        auto r = db.query("SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM " + db.table("job_executions") +
                          " WHERE job_name = $1", job_name);
        return std::string(r[0][0].c_str());
    };
    auto named = [](std::string name) { return [name](int, eventscope::job_record& job) { job.job_name = name; }; };
    eventscope::postgres_sink sink(pg_config(own.url()));

    auto first = one_tree("partition_fn", "partition.event", 40, named("partition_job_1"));
    BOOST_TEST_REQUIRE(sink.write(std::span<eventscope::record>(first)).ok);
    BOOST_TEST(sink.stats().rows_copied_direct == 42u);
    BOOST_TEST(sink.stats().rows_copied_into_partitions == 42u);
    BOOST_TEST(counted("partition_job_1") == 40);
    auto partition = stored_in("partition_job_1");
    BOOST_TEST(partition.find("job_executions_p") != std::string::npos, partition);
    BOOST_TEST(rollup_differences(own.url()).empty());

    db.query("DROP TABLE " + partition);
    auto second = one_tree("partition_fn", "partition.event", 30, named("partition_job_2"));
    BOOST_TEST_REQUIRE(sink.write(std::span<eventscope::record>(second)).ok);
    BOOST_TEST(sink.stats().partition_retries == 1u);
    BOOST_TEST(sink.stats().rows_rejected == 0u);
    BOOST_TEST(sink.stats().rows_copied_into_partitions == 42u);  // the redo named the tables
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE job_name = 'partition_job_2'") == 30);
    BOOST_TEST(stored_in("partition_job_2").find("job_executions_default") != std::string::npos);
    BOOST_TEST(counted("partition_job_2") == 30);

    auto third = one_tree("partition_fn", "partition.event", 20, named("partition_job_3"));
    BOOST_TEST_REQUIRE(sink.write(std::span<eventscope::record>(third)).ok);
    BOOST_TEST(sink.stats().partition_retries == 1u);
    BOOST_TEST(sink.stats().rows_copied_into_partitions == 44u);  // the invocation and the event, not the jobs
    BOOST_TEST(counted("partition_job_3") == 20);
    BOOST_TEST(db.count("SELECT count(*) FROM " + db.table("job_executions") + " WHERE job_name = 'partition_job_3'") == 20);
    // The first batch's jobs went with their partition (dropping one fires nothing); rebuilt, the rollups agree.
    db.query("SELECT " + db.connection().quote_name(schema_name) + ".rebuild_rollups()");
    BOOST_TEST(rollup_differences(own.url()).empty());

    // The partition is back (create_partitions() at connect): a new sink counts its job rows into it again.
    eventscope::postgres_sink fresh(pg_config(own.url()));
    auto fourth = one_tree("partition_fn", "partition.event", 10, named("partition_job_4"));
    BOOST_TEST_REQUIRE(fresh.write(std::span<eventscope::record>(fourth)).ok);
    BOOST_TEST(fresh.stats().rows_copied_into_partitions == 12u);
    BOOST_TEST(stored_in("partition_job_4").find("job_executions_p") != std::string::npos);
    BOOST_TEST(counted("partition_job_4") == 10);
    BOOST_TEST(rollup_differences(own.url()).empty());

    // A database without sink_copy_partition() (before 014): the job rows go through the table.
    const auto schema = db.connection().quote_name(schema_name);
    db.query("DROP FUNCTION " + schema + ".sink_copy_partition(text, uuid, uuid)");
    eventscope::postgres_sink at_013(pg_config(own.url()));
    auto fifth = one_tree("partition_fn", "partition.event", 10, named("partition_job_5"));
    BOOST_TEST_REQUIRE(at_013.write(std::span<eventscope::record>(fifth)).ok);
    BOOST_TEST(at_013.stats().rows_copied_direct == 12u);
    BOOST_TEST(at_013.stats().rows_copied_into_partitions == 2u);  // the invocation and the event
    BOOST_TEST(counted("partition_job_5") == 10);
    BOOST_TEST(rollup_differences(own.url()).empty());

    // Without copy_partition() either (before 013): a new sink names the tables.
    db.query("DROP FUNCTION " + schema + ".copy_partition(text, uuid, uuid)");
    eventscope::postgres_sink older(pg_config(own.url()));
    auto sixth = one_tree("partition_fn", "partition.event", 10, named("partition_job_6"));
    BOOST_TEST_REQUIRE(older.write(std::span<eventscope::record>(sixth)).ok);
    BOOST_TEST(older.stats().rows_copied_direct == 12u);
    BOOST_TEST(older.stats().rows_copied_into_partitions == 0u);
    BOOST_TEST(counted("partition_job_6") == 10);
    BOOST_TEST(rollup_differences(own.url()).empty());
}

// A job partition that starts counting its own rows again under a sink that remembers it as writer-counted (014's
// down migration while the sink runs): begin_counted_inserts() refuses (55000), the transaction is redone naming
// the table, whose trigger counts the rows, nothing is dead-lettered, and the next write looks the partition up
// again and lets its own trigger count.
BOOST_AUTO_TEST_CASE(a_job_partition_that_counts_again_is_handled) {
    database own(shared_db::instance().url(), "recount");
    reader db(own.url());
    const auto schema = db.connection().quote_name(schema_name);
    auto counted = [&](const std::string& job_name) {
        return db.count("SELECT coalesce(sum(completed), 0) FROM " + db.table("job_rollup") + " WHERE job_name = $1", job_name);
    };
    auto named = [](std::string name) { return [name](int, eventscope::job_record& job) { job.job_name = name; }; };
    eventscope::postgres_sink sink(pg_config(own.url()));
    auto first = one_tree("recount_fn", "recount.event", 20, named("recount_job_1"));
    BOOST_TEST_REQUIRE(sink.write(std::span<eventscope::record>(first)).ok);
    BOOST_TEST(sink.stats().rows_copied_into_partitions == 22u);
    auto r = db.query("SELECT DISTINCT tableoid::regclass::text FROM " + db.table("job_executions") + " WHERE job_name = 'recount_job_1'");
    const std::string partition = r[0][0].c_str();
    db.query("DROP TRIGGER job_executions_rollup_insert ON " + partition);
    db.query("CREATE TRIGGER job_executions_rollup_insert AFTER INSERT ON " + partition + " REFERENCING NEW TABLE AS new_rows " +
             "FOR EACH STATEMENT EXECUTE FUNCTION " + schema + ".rollup_job_executions_insert()");

    // Job rows only (a chunk of a busy sink): the refused statement is the transaction's first naming a partition.
    auto second = one_tree("recount_fn", "recount.event", 30, named("recount_job_2"));
    std::erase_if(second, [](const eventscope::record& rec) { return !std::holds_alternative<eventscope::job_record>(rec); });
    BOOST_TEST_REQUIRE(sink.write(std::span<eventscope::record>(second)).ok);
    BOOST_TEST(sink.stats().partition_retries == 1u);
    BOOST_TEST(sink.stats().rows_rejected == 0u);
    BOOST_TEST(sink.stats().rows_copied_into_partitions == 22u);  // the redo named the table
    BOOST_TEST(counted("recount_job_2") == 30);

    auto third = one_tree("recount_fn", "recount.event", 10, named("recount_job_3"));
    BOOST_TEST_REQUIRE(sink.write(std::span<eventscope::record>(third)).ok);
    BOOST_TEST(sink.stats().partition_retries == 1u);
    BOOST_TEST(sink.stats().rows_copied_into_partitions == 34u);  // into the partition again, its trigger counting
    BOOST_TEST(counted("recount_job_1") == 20);
    BOOST_TEST(counted("recount_job_3") == 10);
    BOOST_TEST(rollup_differences(own.url()).empty());
}

// The status ranks of the sink's upsert guard and coalescing (C++) and of the rollup triggers (SQL) agree.
BOOST_AUTO_TEST_CASE(cpp_and_sql_status_ranks_agree) {
    const std::string url = shared_db::instance().url();
    reader db(url);
    for (const auto& e : eventscope::columns::status_ranks) {
        auto r = db.query("SELECT " + db.connection().quote_name(schema_name) + ".status_rank($1)", std::string(e.status));
        BOOST_TEST(r[0][0].as<int>() == e.rank, e.status);
    }
    auto r = db.query("SELECT " + db.connection().quote_name(schema_name) + ".status_rank('some_future_status')");
    BOOST_TEST(r[0][0].as<int>() == eventscope::columns::status_rank("some_future_status"));
}

// The sink's job sums (job_rollup_deltas.hpp, migration 014) put each duration in the bucket duration_bucket()
// gives it: every value up to 5,000 ms and both sides of every bucket edge up to int4's largest value.
BOOST_AUTO_TEST_CASE(cpp_and_sql_duration_buckets_agree) {
    reader db(shared_db::instance().url());
    std::vector<std::int64_t> values{-5, 0, std::numeric_limits<std::int32_t>::max()};
    for (std::int64_t v = 1; v <= 5000; ++v) values.push_back(v);
    for (int b = 0; b < 128; ++b)
        for (int d = -2; d <= 2; ++d) {
            auto v = static_cast<std::int64_t>(std::floor(std::pow(2.0, b / 4.0))) + d;
            if (v > 0 && v <= std::numeric_limits<std::int32_t>::max()) values.push_back(v);
        }
    std::string list = "{";
    for (auto v : values) list += (list.size() > 1 ? "," : "") + std::to_string(v);
    list += "}";
    auto r = db.query("SELECT v, " + db.connection().quote_name(schema_name) + ".duration_bucket(v) FROM unnest($1::integer[]) v", list);
    BOOST_TEST_REQUIRE(r.size() == values.size());
    std::size_t differing = 0;
    for (const auto& row : r)
        if (eventscope::pg::duration_bucket(row[0].as<std::int64_t>()) != row[1].as<int>()) {
            ++differing;
            BOOST_TEST_MESSAGE("duration " << row[0].c_str() << ": SQL bucket " << row[1].c_str() << ", C++ "
                                            << eventscope::pg::duration_bucket(row[0].as<std::int64_t>()));
        }
    BOOST_TEST(differing == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace rollups_test
