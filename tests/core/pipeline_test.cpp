// The asynchronous pipeline: batching by size and by time, retries, no loss on failed writes, drops counted
// when the buffer is full, the counter identity under load, and draining on flush() and destruction.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <fstream>
#include <thread>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

namespace {

// One invocation with one job: 4 records (invocation start/end, job start/end) plus the event's 2.
constexpr int records_per_run = 6;

template <class Observer>
void run_one(Observer& obs) {
    EVENTSCOPE_INVOCATION(obs, inv, json::object(), "load");
    EVENTSCOPE_EVENT(inv, ev, "e");
    EVENTSCOPE_JOB(ev, job, "j");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pipeline)

BOOST_AUTO_TEST_CASE(a_full_batch_is_written_before_the_flush_interval) {
    auto cfg = fast_config();
    cfg.flush_interval = 60s;
    cfg.batch_size = 60;
    cfg.max_batch_size = 60;
    full_observer obs(cfg);
    for (int i = 0; i < 10 * 64 / records_per_run + 1; ++i) run_one(obs);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (obs.sink().size() < 60 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    BOOST_TEST(obs.sink().size() >= 60u);
    for (auto n : obs.sink().batch_sizes()) BOOST_TEST(n <= 60u);
}

BOOST_AUTO_TEST_CASE(a_sink_that_falls_behind_gets_larger_batches_up_to_the_cap) {
    auto cfg = fast_config();
    cfg.flush_interval = 60s;
    cfg.batch_size = 10;
    cfg.max_batch_size = 500;
    eventscope::observer<eventscope::options<eventscope::memory_sink, eventscope::capture::full, 4096>> obs(cfg);
    obs.sink().set_write_delay(100ms);  // each write takes 0.1 s: records pile up behind it
    for (int i = 0; i < 300; ++i) run_one(obs);  // 1,800 records
    BOOST_TEST_REQUIRE(obs.flush(30s));
    auto sizes = obs.sink().batch_sizes();
    BOOST_TEST(obs.sink().size() == 300u * records_per_run);
    BOOST_TEST(obs.stats().dropped == 0u);
    BOOST_TEST(*std::max_element(sizes.begin(), sizes.end()) > 10u);   // took what waited, not batch_size
    BOOST_TEST(*std::max_element(sizes.begin(), sizes.end()) <= 500u);  // never above the cap
    BOOST_TEST(sizes.size() < 1800u / 10u);                             // so fewer writes than fixed batches
}

// flush_mine waits for this thread's records only (the example service acknowledges a delivery with it): records
// other threads pushed before the call, stuck in a slow write, do not hold it; flush() waits for those too.
BOOST_AUTO_TEST_CASE(flush_mine_waits_for_this_threads_records_only) {
    full_observer obs(fast_config());
    eventscope::basic_recorder<eventscope::capture::full>& rec = obs;
    { EVENTSCOPE_INVOCATION(obs, mine, hasura_event(), "mine"); }
    auto written = [&] { return obs.sink().final_rows("invocations").size(); };
    for (int i = 0; i < 200 && written() < 1; ++i) std::this_thread::sleep_for(5ms);  // no flush: it is what is tested
    BOOST_REQUIRE_EQUAL(written(), 1u);
    obs.sink().set_write_delay(1500ms);
    std::thread other([&] { EVENTSCOPE_INVOCATION(obs, theirs, hasura_event(), "theirs"); });
    other.join();
    auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(static_cast<bool>(rec.flush_mine(1000ms)));
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST(waited < 500);
    BOOST_TEST(!rec.flush(100ms));  // the other thread's records are still being written
    bool elsewhere = false;
    std::thread nothing_here([&] { elsewhere = static_cast<bool>(rec.flush_mine(10ms)); });
    nothing_here.join();
    BOOST_TEST(elsewhere);  // a thread that recorded nothing has nothing to wait for
    obs.sink().set_write_delay(0ms);
    BOOST_TEST(static_cast<bool>(rec.flush(5s)));
    BOOST_TEST(written() == 2u);
}

BOOST_AUTO_TEST_CASE(a_partial_batch_is_written_after_the_flush_interval) {
    auto cfg = fast_config();
    cfg.flush_interval = 400ms;
    full_observer obs(cfg);
    auto started = std::chrono::steady_clock::now();
    run_one(obs);
    // Not yet (6 records < batch size), unless this thread was descheduled past the interval.
    if (std::chrono::steady_clock::now() - started < 300ms) BOOST_TEST(obs.sink().size() == 0u);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (obs.sink().size() < records_per_run && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    BOOST_TEST(obs.sink().size() == static_cast<std::size_t>(records_per_run));
}

BOOST_AUTO_TEST_CASE(failed_writes_are_retried_and_lose_nothing) {
    full_observer obs(fast_config());
    obs.sink().fail_next_writes(2);  // fewer than retry_attempts (3)
    for (int i = 0; i < 5; ++i) run_one(obs);
    BOOST_TEST(obs.flush());
    auto s = obs.stats();
    BOOST_TEST(s.retried == 2u);
    BOOST_TEST(s.written == 5u * records_per_run);
    BOOST_TEST(s.dropped == 0u);
    BOOST_TEST(s.last_error.find("failure injected") != std::string::npos);
    BOOST_TEST(obs.sink().final_rows("invocations").size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_batch_failing_every_attempt_stays_pending_until_the_sink_recovers) {
    full_observer obs(fast_config());
    obs.sink().fail_next_writes(1'000'000);  // the sink is down
    for (int i = 0; i < 3; ++i) run_one(obs);
    BOOST_TEST(!obs.flush());  // reports that not everything was written
    auto s = obs.stats();
    BOOST_TEST(s.failed_batches >= 1u);
    BOOST_TEST(s.retried >= 3u);
    BOOST_TEST(s.pending() == 3u * records_per_run);
    BOOST_TEST(s.written == 0u);
    BOOST_TEST(s.recorded == s.written + s.dropped + s.pending());
    obs.sink().fail_next_writes(0);  // the sink is back
    BOOST_TEST(obs.flush());  // the kept batch goes out
    s = obs.stats();
    BOOST_TEST(s.written == 3u * records_per_run);
    BOOST_TEST(s.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(a_full_buffer_drops_and_counts_without_losing_accepted_records) {
    using tiny = eventscope::observer<eventscope::options<eventscope::memory_sink, eventscope::capture::full, 64>>;
    auto cfg = fast_config();
    cfg.flush_interval = 10ms;
    tiny obs(cfg);
    obs.sink().set_write_delay(50ms);  // a slow sink: the ring fills up
    for (int i = 0; i < 200; ++i) run_one(obs);
    BOOST_TEST(obs.flush());
    auto s = obs.stats();
    BOOST_TEST(s.recorded == 200u * records_per_run);
    BOOST_TEST(s.dropped_buffer_full > 0u);
    BOOST_TEST(s.dropped == s.dropped_buffer_full);
    BOOST_TEST(s.written == s.recorded - s.dropped);
    BOOST_TEST(obs.sink().size() == s.written);  // every accepted record arrived
}

BOOST_AUTO_TEST_CASE(recorded_equals_written_plus_dropped_plus_pending_under_load) {
    using small = eventscope::observer<eventscope::options<eventscope::memory_sink, eventscope::capture::full, 1024>>;
    auto cfg = fast_config();
    cfg.flush_interval = 5ms;
    small obs(cfg);
    obs.sink().set_write_delay(1ms);
    std::atomic<bool> stop{false};
    std::vector<std::thread> producers;
    for (int t = 0; t < 3; ++t)
        producers.emplace_back([&] {
            while (!stop.load()) run_one(obs);
        });
    for (int sample = 0; sample < 200; ++sample) {
        auto s = obs.stats();
        // Concurrent pushes can only add to `recorded` after the other counters were read.
        BOOST_TEST(s.written + s.dropped <= s.recorded);
        std::this_thread::sleep_for(1ms);
    }
    stop = true;
    for (auto& p : producers) p.join();
    auto quiet = obs.stats();
    BOOST_TEST(quiet.recorded == quiet.written + quiet.dropped + quiet.pending());
    BOOST_TEST(obs.flush());
    auto s = obs.stats();
    BOOST_TEST(s.pending() == 0u);
    BOOST_TEST(s.recorded == s.written + s.dropped);
    BOOST_TEST(obs.sink().size() == s.written);
    BOOST_TEST_MESSAGE("recorded " << s.recorded << ", dropped " << s.dropped);
}

BOOST_AUTO_TEST_CASE(destruction_drains_into_a_file_that_outlives_the_observer) {
    auto path = std::filesystem::temp_directory_path() / ("eventscope-drain-" + eventscope::new_uuid().to_string() + ".jsonl");
    {
        auto cfg = fast_config();
        cfg.flush_interval = 60s;
        eventscope::observer<eventscope::options<eventscope::json_lines_sink>> obs(cfg, {}, path.string());
        for (int i = 0; i < 7; ++i) run_one(obs);
    }
    std::ifstream in(path);
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    BOOST_TEST(lines == 7 * records_per_run);
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(a_sink_down_at_shutdown_is_reported_as_lost_not_silent) {
    auto cfg = fast_config();
    cfg.retry_attempts = 1;
    cfg.retry_delay = 1ms;
    full_observer obs(cfg);
    obs.sink().fail_next_writes(1000);
    for (int i = 0; i < 3; ++i) {
        EVENTSCOPE_INVOCATION(obs, inv, json::object(), "load");
    }
    auto result = obs.shutdown();
    BOOST_TEST(!result);
    BOOST_TEST(result.unwritten == 6u);
    auto s = obs.stats();
    BOOST_TEST(s.recorded == 6u);
    BOOST_TEST(s.lost_at_shutdown == 6u);
    BOOST_TEST(s.dropped == 6u);
    BOOST_TEST(s.written == 0u);
    BOOST_TEST(s.last_error.find("failure injected") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(running_rows)

BOOST_AUTO_TEST_CASE(a_job_writes_a_running_row_first_unless_configured_off) {
    for (bool running_rows : {true, false}) {
        auto cfg = fast_config();
        cfg.record_running_jobs = running_rows;
        full_observer obs(cfg);
        {
            EVENTSCOPE_INVOCATION(obs, inv, json::object(), "f");
            EVENTSCOPE_EVENT(inv, ev, "e");
            ev.detected(true);
            { EVENTSCOPE_JOB(ev, quiet, "quiet_job"); }
            EVENTSCOPE_JOB(ev, chatty, "chatty_job");
            chatty.log(eventscope::log_level::info, "hello");
        }
        obs.flush();
        std::map<std::string, std::vector<std::string>> statuses;
        std::vector<std::string> order;
        for (auto& row : obs.sink().rows()) {
            if (row["table"] == "job_executions") statuses[row["job_name"]].push_back(row["status"]);
            if (row["table"] != "invocations" && row["table"] != "event_executions") order.push_back(row["table"]);
        }
        std::vector<std::string> quiet = running_rows ? std::vector<std::string>{"running", "completed"} : std::vector<std::string>{"completed"};
        BOOST_TEST(statuses["quiet_job"] == quiet, boost::test_tools::per_element());
        // With or without running rows, a job's row precedes its log lines (the log's foreign key).
        std::vector<std::string> chatty{"running", "completed"};
        BOOST_TEST(statuses["chatty_job"] == chatty, boost::test_tools::per_element());
        auto first_log = std::find(order.begin(), order.end(), "job_logs") - order.begin();
        BOOST_TEST(std::count(order.begin(), order.begin() + first_log, "job_executions") >= (running_rows ? 3 : 2));
    }
}

BOOST_AUTO_TEST_SUITE_END()
