// A program WITHOUT the opt-in throw capture (no file includes eventscope/throw_capture.hpp): a scope left by an
// exception learns the exception's type and message from the catch block that handles it
// (eventscope::caught(), or fail(e) on any scope), within config.exception_cause_wait. Its own binary, since
// core_tests installs the throw capture for the whole process.
#define BOOST_TEST_MODULE eventscope catch site
#include <boost/test/unit_test.hpp>

#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json job_row(const test_support::full_observer& obs) { return obs.sink().final_rows("job_executions").at(0); }
json event_row(const test_support::full_observer& obs) { return obs.sink().final_rows("event_executions").at(0); }
json invocation_row(const test_support::full_observer& obs) { return obs.sink().final_rows("invocations").at(0); }

struct not_a_std_exception {
    int code;
};

// Builds its text at the first what() into a mutable member, as boost::system::system_error does (Boost.Asio
// throws it), and notes which threads call what().
struct text_built_on_first_use : std::exception {
    mutable std::string text;
    const char* what() const noexcept override {
        {
            std::lock_guard lock(readers_mutex);
            readers.push_back(std::this_thread::get_id());
        }
        if (text.empty()) text = "built on first use";
        return text.c_str();
    }
    static inline std::mutex readers_mutex;
    static inline std::vector<std::thread::id> readers;
};

// One invocation with a detected event whose job "charge" is left by what `raise` throws; `handle` runs in
// the catch block, outside the job's scope.
template <class Observer, class Raise, class Handle>
void job_left_by_exception(Observer& obs, Raise&& raise, Handle&& handle) {
    EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
    EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
    ev.detected(true);
    try {
        EVENTSCOPE_JOB(ev, job, "charge");
        raise();
    } catch (...) {
        handle();
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(catch_site)

BOOST_AUTO_TEST_CASE(this_program_has_no_throw_capture) {
    BOOST_TEST(!eventscope::detail::throw_capture_installed().load());
}

BOOST_AUTO_TEST_CASE(caught_names_the_exception_for_every_scope_it_left) {
    test_support::full_observer obs(test_support::fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        try {
            EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
            ev.detected(true);
            EVENTSCOPE_JOB(ev, job, "charge");
            throw std::out_of_range("no such card");
        } catch (...) {
            eventscope::caught();
        }
    }
    BOOST_REQUIRE(obs.flush());
    auto job = job_row(obs);
    BOOST_TEST(job["status"] == "failed");
    BOOST_TEST(job["error_type"] == "std::out_of_range");
    BOOST_TEST(job["error_message"] == "no such card");
    auto ev = event_row(obs);
    BOOST_TEST(ev["status"] == "handler_failed");
    BOOST_TEST(ev["handler_error"].get<std::string>().find("no such card") != std::string::npos);
    BOOST_TEST(invocation_row(obs)["status"] == "completed");  // it handled the exception
    auto s = obs.stats();
    BOOST_TEST(s.written == s.recorded);
}

BOOST_AUTO_TEST_CASE(caught_e_outside_every_scope_describes_the_invocation_too) {
    test_support::full_observer obs(test_support::fast_config());
    try {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "charge");
        throw std::invalid_argument("card expired");
    } catch (const std::exception& e) {
        eventscope::caught(e);
    }
    BOOST_REQUIRE(obs.flush());
    BOOST_TEST(job_row(obs)["error_type"] == "std::invalid_argument");
    auto inv = invocation_row(obs);
    BOOST_TEST(inv["status"] == "failed");
    BOOST_TEST(inv["error_type"] == "std::invalid_argument");
    BOOST_TEST(inv["error_message"] == "card expired");
}

BOOST_AUTO_TEST_CASE(an_exception_of_any_type_is_named) {
    test_support::full_observer obs(test_support::fast_config());
    job_left_by_exception(obs, [] { throw not_a_std_exception{7}; }, [] { eventscope::caught(); });
    BOOST_REQUIRE(obs.flush());
    auto job = job_row(obs);
    BOOST_TEST(job["error_type"].get<std::string>().find("not_a_std_exception") != std::string::npos);
    BOOST_TEST(job["error_message"].get<std::string>().find("not derived from std::exception") != std::string::npos);
}

// The catch block may call what() itself after caught(): were the pipeline thread to call it as well, the two
// would write the lazily built text at once. So caught() reads it on the catching thread.
BOOST_AUTO_TEST_CASE(what_is_called_on_the_catching_thread_only) {
    test_support::full_observer obs(test_support::fast_config());
    job_left_by_exception(obs, [] { throw text_built_on_first_use{}; }, [] {
        eventscope::caught();
        try {
            throw;
        } catch (const std::exception& e) {
            BOOST_TEST(std::string(e.what()) == "built on first use");
        }
    });
    BOOST_REQUIRE(obs.flush());
    auto job = job_row(obs);
    BOOST_TEST(job["error_type"].get<std::string>().find("text_built_on_first_use") != std::string::npos);
    BOOST_TEST(job["error_message"] == "built on first use");
    std::lock_guard lock(text_built_on_first_use::readers_mutex);
    BOOST_TEST(text_built_on_first_use::readers.size() >= 2u);  // caught() and the catch block
    for (auto reader : text_built_on_first_use::readers) BOOST_TEST((reader == std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(fail_e_on_the_invocation_describes_the_scopes_the_exception_left) {
    test_support::full_observer obs(test_support::fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        try {
            EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
            ev.detected(true);
            EVENTSCOPE_JOB(ev, job, "charge");
            throw std::length_error("basket too long");
        } catch (const std::exception& e) {
            inv.fail(e);
        }
    }
    BOOST_REQUIRE(obs.flush());
    BOOST_TEST(job_row(obs)["error_type"] == "std::length_error");
    BOOST_TEST(job_row(obs)["error_message"] == "basket too long");
    BOOST_TEST(invocation_row(obs)["error_type"] == "std::length_error");
}

BOOST_AUTO_TEST_CASE(without_a_report_the_row_is_written_after_the_wait_and_says_how_to_get_more) {
    auto cfg = test_support::fast_config();
    cfg.flush_interval = 10s;  // only the wait's own timer can let the row go
    test_support::full_observer obs(cfg);
    job_left_by_exception(obs, [] { throw std::runtime_error("swallowed"); }, [] {});
    auto started = std::chrono::steady_clock::now();
    BOOST_REQUIRE(obs.flush(5s));
    BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));
    auto job = job_row(obs);
    BOOST_TEST(job["status"] == "failed");
    BOOST_TEST(job["error_type"] == "unknown exception");
    BOOST_TEST(job["error_message"].get<std::string>().find("eventscope::caught()") != std::string::npos);
    BOOST_TEST(obs.stats().written == obs.stats().recorded);
}

BOOST_AUTO_TEST_CASE(a_report_outside_a_catch_block_forgets_the_scopes) {
    test_support::full_observer obs(test_support::fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        try {
            EVENTSCOPE_JOB(ev, job, "charge");
            throw std::runtime_error("first");
        } catch (...) {
        }
        eventscope::caught();  // nothing is being handled here
        BOOST_TEST(eventscope::detail::thread_unwound().count == 0u);
        try {
            throw std::runtime_error("second, with no scope left by it");
        } catch (...) {
            eventscope::caught();
        }
    }
    BOOST_REQUIRE(obs.flush());
    BOOST_TEST(job_row(obs)["error_type"] == "unknown exception");
}

BOOST_AUTO_TEST_CASE(with_the_wait_off_nothing_is_held) {
    auto cfg = test_support::fast_config();
    cfg.exception_cause_wait = 0ms;
    test_support::full_observer obs(cfg);
    job_left_by_exception(obs, [] { throw std::runtime_error("boom"); }, [] { eventscope::caught(); });
    BOOST_REQUIRE(obs.flush());
    BOOST_TEST(job_row(obs)["error_type"] == "unknown exception");
    BOOST_TEST(eventscope::detail::thread_unwound().count == 0u);  // never noted
}

BOOST_AUTO_TEST_CASE(a_waiting_row_holds_back_the_rows_behind_it_and_loses_none) {
    auto cfg = test_support::fast_config();
    cfg.exception_cause_wait = 2s;  // longer than the test: only the report can release the rows
    test_support::full_observer obs(cfg);
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        try {
            EVENTSCOPE_JOB(ev, job, "charge");
            throw std::domain_error("late report");
        } catch (const std::exception& e) {
            for (int i = 0; i < 20; ++i) {
                EVENTSCOPE_JOB(ev, other, "after");
            }
            obs.flush(200ms);  // the pipeline has taken everything; the failed job's row waits in its lane
            auto before = obs.sink().final_rows("job_executions");
            BOOST_REQUIRE_EQUAL(before.size(), 1u);  // only the failed job's `running` row, pushed before it
            BOOST_TEST(before.at(0)["status"] == "running");
            eventscope::caught(e);
        }
    }
    BOOST_REQUIRE(obs.flush(1s));
    auto jobs = obs.sink().final_rows("job_executions");
    BOOST_REQUIRE_EQUAL(jobs.size(), 21u);
    BOOST_TEST(jobs.at(0)["job_name"] == "charge");  // order kept
    BOOST_TEST(jobs.at(0)["error_type"] == "std::domain_error");
    BOOST_TEST(obs.stats().written == obs.stats().recorded);
}

BOOST_AUTO_TEST_CASE(a_report_after_the_observer_is_gone_is_harmless) {
    try {
        test_support::full_observer obs(test_support::fast_config());
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "charge");
        throw std::runtime_error("observer unwound too");
    } catch (const std::exception& e) {
        BOOST_TEST(eventscope::detail::thread_unwound().count == 3u);
        eventscope::caught(e);  // its recorder is gone: nothing to do, nothing touched (ASan checks)
    }
    BOOST_TEST(eventscope::detail::thread_unwound().count == 0u);
}

BOOST_AUTO_TEST_CASE(every_sink_of_a_fanout_gets_the_cause) {
    using two = eventscope::observer<eventscope::options<eventscope::fanout<eventscope::memory_sink, eventscope::memory_sink>, eventscope::capture::full, 4096>>;
    two obs(test_support::fast_config());
    job_left_by_exception(obs, [] { throw std::overflow_error("too much"); }, [] { eventscope::caught(); });
    BOOST_REQUIRE(obs.flush());
    for (auto* sink : {&obs.sink().get<0>(), &obs.sink().get<1>()})
        BOOST_TEST(sink->final_rows("job_executions").at(0)["error_type"] == "std::overflow_error");
}

BOOST_AUTO_TEST_CASE(jobs_on_pool_threads_each_get_their_own_exception) {
    test_support::full_observer obs(test_support::fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&ev, t] {
                for (int i = 0; i < 50; ++i) {
                    try {
                        EVENTSCOPE_JOB(ev, job, "job-" + std::to_string(t));
                        throw std::runtime_error("thread " + std::to_string(t));
                    } catch (...) {
                        eventscope::caught();
                    }
                }
            });
        for (auto& th : threads) th.join();
    }
    BOOST_REQUIRE(obs.flush());
    auto jobs = obs.sink().final_rows("job_executions");
    BOOST_REQUIRE_EQUAL(jobs.size(), 200u);
    for (auto& job : jobs) BOOST_TEST(job["error_message"] == "thread " + job["job_name"].get<std::string>().substr(4));
}

BOOST_AUTO_TEST_SUITE_END()
