// The core and the pipeline under load from several threads at once: producers on every level of the scope
// tree, readers of stats(), flushes, a failing member of a fanout, and a shutdown while producers still run.
// Meant for the ThreadSanitizer build (scripts/test.sh core-tsan) as much as for its own assertions.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

namespace {

// One invocation whose events run their jobs on other threads, with results, logs, a failure, a copied name.
template <class Observer>
void busy_invocation(Observer& obs, int seed) {
    EVENTSCOPE_INVOCATION(obs, inv, hasura_event("UPDATE", {{"id", seed}, {"updated_by", "load@example.com"}}), "load");
    inv.set_context("seed", seed);
    for (int e = 0; e < 3; ++e) {
        EVENTSCOPE_EVENT(inv, ev, "event." + std::to_string(e));
        if (!ev.detected(e != 1)) continue;
        std::thread a([&] {
            EVENTSCOPE_JOB(ev, job, "a", {{"n", seed}});
            job.log(eventscope::log_level::info, "from a");
            job.set_result({{"ok", true}});
        });
        std::thread b([&] {
            EVENTSCOPE_JOB(ev, job, std::string("b.") + std::to_string(seed % 3));
            if (seed % 5 == 0) job.fail("every fifth");
            (void)job.tracking_token();
        });
        (void)inv.correlation_id();  // resolved here while the pipeline may be resolving it too
        a.join();
        b.join();
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(producers_readers_and_flushes_at_once_keep_the_counts_exact) {
    auto cfg = fast_config();
    cfg.flush_interval = 5ms;
    cfg.batch_size = 50;
    eventscope::observer<eventscope::options<eventscope::memory_sink, eventscope::capture::full, 1 << 16>> obs(cfg);
    std::atomic<bool> stop{false};
    std::atomic<int> invocations{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; !stop.load() && i < 60; ++i) {
                busy_invocation(obs, t * 1000 + i);
                invocations.fetch_add(1);
            }
        });
    threads.emplace_back([&] {
        while (!stop.load()) {
            auto s = obs.stats();
            BOOST_CHECK(s.written + s.dropped <= s.recorded);
            std::this_thread::sleep_for(1ms);
        }
    });
    threads.emplace_back([&] {
        while (!stop.load()) {
            (void)obs.flush(50ms);
            std::this_thread::sleep_for(3ms);
        }
    });
    for (int t = 0; t < 3; ++t) threads[t].join();
    stop = true;
    for (std::size_t t = 3; t < threads.size(); ++t) threads[t].join();
    BOOST_REQUIRE(obs.flush(30s));
    auto s = obs.stats();
    BOOST_TEST(s.dropped == 0u);
    BOOST_TEST(s.written == s.recorded);
    auto rows = obs.sink().final_rows("invocations");
    BOOST_TEST(rows.size() == static_cast<std::size_t>(invocations.load()));
    for (const auto& inv : rows) {
        BOOST_TEST(inv["status"] == "completed");
        BOOST_TEST(inv["total_jobs_run"] == 4);
        BOOST_TEST(inv["correlation_id"] == "load@example.com");
    }
    BOOST_TEST(obs.sink().final_rows("job_logs").size() == static_cast<std::size_t>(2 * invocations.load()));
}

BOOST_AUTO_TEST_CASE(a_fanout_with_a_failing_member_under_load) {
    auto cfg = fast_config();
    cfg.flush_interval = 5ms;
    cfg.retry_attempts = 1;
    cfg.retry_delay = 2ms;
    using two = eventscope::fanout<eventscope::memory_sink, eventscope::memory_sink>;
    eventscope::observer<eventscope::options<two, eventscope::capture::full, 4096>> obs(cfg);
    obs.sink().get<1>().fail_next_writes(40);
    std::vector<std::thread> producers;
    for (int t = 0; t < 2; ++t)
        producers.emplace_back([&, t] {
            for (int i = 0; i < 40; ++i) busy_invocation(obs, t * 100 + i);
        });
    for (auto& p : producers) p.join();
    // A flush that meets a batch failing all its attempts says so; the failures run out after 40 writes.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    bool flushed = false;
    while (!flushed && std::chrono::steady_clock::now() < deadline) flushed = obs.flush(5s);
    BOOST_REQUIRE(flushed);
    auto s = obs.stats();
    for (const auto& sink : s.sinks) BOOST_TEST(s.recorded == s.dropped_buffer_full + sink.written + sink.dropped() + sink.pending + s.queue_depth);
    BOOST_TEST(s.sinks[0].written == obs.sink().get<0>().size());
    BOOST_TEST(s.sinks[1].written == obs.sink().get<1>().size());
}

BOOST_AUTO_TEST_CASE(shutdown_while_producers_still_run_counts_every_record) {
    auto cfg = fast_config();
    cfg.flush_interval = 5ms;
    eventscope::observer<eventscope::options<eventscope::memory_sink, eventscope::capture::full, 2048>> obs(cfg);
    std::atomic<bool> stop{false};
    std::vector<std::thread> producers;
    for (int t = 0; t < 2; ++t)
        producers.emplace_back([&] {
            while (!stop.load()) {
                EVENTSCOPE_INVOCATION(obs, inv, json::object(), "late");
                EVENTSCOPE_EVENT(inv, ev, "e");
                EVENTSCOPE_JOB(ev, job, "j");
            }
        });
    std::this_thread::sleep_for(30ms);
    (void)obs.shutdown(1s);
    std::this_thread::sleep_for(10ms);  // scopes keep ending after the shutdown
    stop = true;
    for (auto& p : producers) p.join();
    auto s = obs.stats();
    BOOST_TEST(s.recorded == s.written + s.dropped + s.pending());
    BOOST_TEST(obs.sink().size() == s.written);
}

BOOST_AUTO_TEST_SUITE_END()
