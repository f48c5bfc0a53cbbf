// Every wait has a deadline: flush(timeout) and shutdown(timeout) return in time and say what was not
// written; an observer whose sink is dead or stuck never hangs the program's exit.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

namespace {

using clock_type = std::chrono::steady_clock;

// A sink whose write blocks until interrupted (a database that stopped answering mid-statement).
struct stuck_sink {
    std::mutex mutex;
    std::condition_variable cv;
    bool interrupted = false;
    std::atomic<int> interrupts{0};
    eventscope::write_result write(std::span<eventscope::record>) {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return interrupted; });
        return eventscope::write_result::failure("stuck_sink: interrupted");
    }
    void interrupt() {
        interrupts.fetch_add(1);
        std::lock_guard lock(mutex);
        interrupted = true;
        cv.notify_all();
    }
};

template <class Observer>
void run_jobs(Observer& obs, int n) {
    EVENTSCOPE_INVOCATION(obs, inv, json::object(), "deadline");
    EVENTSCOPE_EVENT(inv, ev, "e");
    ev.detected(true);
    for (int i = 0; i < n; ++i) {
        EVENTSCOPE_JOB(ev, job, "j");
    }
}

double seconds_since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(deadlines)

BOOST_AUTO_TEST_CASE(defaults_are_a_few_seconds) {
    eventscope::config cfg;
    BOOST_TEST(cfg.shutdown_timeout.count() == 5000);
    full_observer obs(fast_config());
    run_jobs(obs, 1);
    BOOST_TEST(obs.flush());  // the default timeout (5 s) is plenty for a healthy sink
}

BOOST_AUTO_TEST_CASE(flush_returns_at_its_deadline_and_says_how_much_is_unwritten) {
    auto cfg = fast_config();
    full_observer obs(cfg);
    obs.sink().set_write_delay(2s);  // a slow sink: each batch takes 2 s
    run_jobs(obs, 400);              // 805 records: several batches
    auto t0 = clock_type::now();
    auto r = obs.flush(100ms);
    // Back at its deadline, not when the batch (2 s) or the rest is written; the margin is for loaded CI
    // machines under the sanitizers.
    BOOST_TEST(seconds_since(t0) < 1.5);
    BOOST_TEST(!r);
    BOOST_TEST(r.timed_out);
    BOOST_TEST(r.unwritten > 0u);
    BOOST_TEST(r.unwritten <= 805u);
    BOOST_TEST_MESSAGE(r.unwritten << " unwritten after the deadline");
    obs.sink().set_write_delay(0ms);
    BOOST_TEST(obs.flush(10s));
}

BOOST_AUTO_TEST_CASE(shutdown_on_a_dead_sink_returns_at_its_deadline_and_counts_the_rest_as_lost) {
    auto cfg = fast_config();
    cfg.retry_attempts = 1000;  // it would retry for a long time
    cfg.retry_delay = 50ms;
    full_observer obs(cfg);
    obs.sink().fail_next_writes(1'000'000);
    run_jobs(obs, 100);
    auto t0 = clock_type::now();
    auto r = obs.shutdown(300ms);
    double took = seconds_since(t0);
    BOOST_TEST(took >= 0.25);
    BOOST_TEST(took < 5.0);  // retrying as configured would take 50 s
    BOOST_TEST(!r);
    BOOST_TEST(r.timed_out);
    BOOST_TEST(r.unwritten == 205u);
    auto s = obs.stats();
    BOOST_TEST(s.lost_at_shutdown == 205u);
    BOOST_TEST(s.written == 0u);
    BOOST_TEST(s.recorded == s.written + s.dropped + s.pending());
    // Scopes that end after the shutdown are counted too, never silently lost.
    run_jobs(obs, 1);
    auto later = obs.stats();
    BOOST_TEST(later.recorded == 212u);
    BOOST_TEST(later.pending() == 7u);
}

BOOST_AUTO_TEST_CASE(the_destructor_never_hangs_on_a_dead_sink) {
    auto cfg = fast_config();
    cfg.retry_attempts = 1000;
    cfg.retry_delay = 1s;
    cfg.shutdown_timeout = 200ms;
    auto t0 = clock_type::now();
    {
        full_observer obs(cfg);
        obs.sink().fail_next_writes(1'000'000);
        run_jobs(obs, 10);
        std::this_thread::sleep_for(50ms);  // the first attempt has failed; the next one is a second away
    }
    BOOST_TEST(seconds_since(t0) < 5.0);  // retrying as configured would take 1,000 s
}

BOOST_AUTO_TEST_CASE(a_write_stuck_past_the_deadline_is_interrupted) {
    auto cfg = fast_config();
    cfg.shutdown_timeout = 200ms;
    using stuck_observer = eventscope::observer<eventscope::options<stuck_sink, eventscope::capture::full, 1024>>;
    auto t0 = clock_type::now();
    int interrupts = 0;
    {
        stuck_observer obs(cfg);
        run_jobs(obs, 10);
        BOOST_TEST(!obs.flush(50ms));  // the write is stuck
        auto r = obs.shutdown();
        BOOST_TEST(r.timed_out);
        BOOST_TEST(r.unwritten == 25u);
        interrupts = obs.sink().interrupts.load();
    }
    BOOST_TEST(interrupts == 1);
    BOOST_TEST(seconds_since(t0) < 5.0);  // the stuck write never returns by itself
}

BOOST_AUTO_TEST_CASE(shutdown_writes_everything_when_the_sink_keeps_up) {
    auto cfg = fast_config();
    cfg.flush_interval = 60s;  // nothing goes out by itself before the shutdown
    full_observer obs(cfg);
    run_jobs(obs, 50);
    auto r = obs.shutdown(5s);
    BOOST_TEST(r);
    BOOST_TEST(r.unwritten == 0u);
    BOOST_TEST(obs.sink().size() == 105u);
    BOOST_TEST(obs.shutdown(5s));  // idempotent
}

BOOST_AUTO_TEST_SUITE_END()
