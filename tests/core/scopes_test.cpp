// Scopes record start, end, status and errors by themselves, aggregate their children exactly (also when
// jobs run on a thread pool), and keep their state in the scope object, not in a shared map.
#include <boost/test/unit_test.hpp>

#include <utility>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <future>
#include <set>
#include <thread>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

namespace {

[[gnu::noinline]] void charge_the_card_or_throw(int amount) {
    if (amount > 0) throw std::invalid_argument("card declined for amount " + std::to_string(amount));
}

json only(const std::vector<json>& rows, const std::string& key, const std::string& value) {
    for (auto& r : rows)
        if (r[key] == value) return r;
    BOOST_FAIL("no row with " + key + " = " + value);
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scopes)

BOOST_AUTO_TEST_CASE(nested_scopes_record_links_times_and_statuses) {
    full_observer obs(fast_config());
    std::string inv_id, ev_id, job_id;
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        inv_id = inv.id().to_string();
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev_id = ev.id().to_string();
        std::this_thread::sleep_for(15ms);  // detection phase
        if (ev.detected(true)) {
            EVENTSCOPE_JOB(ev, job, "send_email", json{{"template", "shipped"}});
            job_id = job.id().to_string();
            std::this_thread::sleep_for(120ms);  // handler phase
            job.set_result({{"sent", true}});
        }
        EVENTSCOPE_EVENT(inv, other, "orders.cancelled");
        other.detected(false);
    }
    BOOST_REQUIRE(obs.flush());
    auto& sink = obs.sink();
    auto inv = sink.final_rows("invocations").at(0);
    auto events = sink.final_rows("event_executions");
    auto job = sink.final_rows("job_executions").at(0);

    BOOST_TEST(inv["id"] == inv_id);
    BOOST_TEST(inv["status"] == "completed");
    BOOST_TEST(inv["source_function"] == "db-orders");
    BOOST_TEST(inv["source_table"] == "orders");
    BOOST_TEST(inv["source_operation"] == "UPDATE");
    BOOST_TEST(inv["source_event_id"] == "8f3c2b8e-8d5e-4d7c-9f57-2a1d4c5b6e7f");
    BOOST_TEST(inv["source_event_time"] == "2026-11-26T08:00:00.123456Z");
    BOOST_TEST(inv["source_user_role"] == "user");
    BOOST_TEST(inv["events_detected_count"] == 1);
    BOOST_TEST(inv["total_jobs_run"] == 1);
    BOOST_TEST(inv["total_jobs_succeeded"] == 1);
    BOOST_TEST(inv["total_duration_ms"].get<int>() >= 135);

    BOOST_REQUIRE_EQUAL(events.size(), 2u);
    auto shipped = only(events, "event_name", "orders.shipped");
    BOOST_TEST(shipped["id"] == ev_id);
    BOOST_TEST(shipped["invocation_id"] == inv_id);
    BOOST_TEST(shipped["detected"] == true);
    BOOST_TEST(shipped["status"] == "completed");
    // The phases are timed apart: detection excludes the (much longer) handler phase.
    BOOST_TEST(shipped["detection_duration_ms"].get<int>() >= 15);
    BOOST_TEST(shipped["detection_duration_ms"].get<int>() < shipped["handler_duration_ms"].get<int>());
    BOOST_TEST(shipped["handler_duration_ms"].get<int>() >= 120);
    BOOST_TEST(shipped["jobs_count"] == 1);
    BOOST_TEST(shipped["jobs_succeeded"] == 1);
    auto cancelled = only(events, "event_name", "orders.cancelled");
    BOOST_TEST(cancelled["status"] == "not_detected");
    BOOST_TEST(cancelled["detected"] == false);
    BOOST_TEST(cancelled["handler_duration_ms"].is_null());

    BOOST_TEST(job["id"] == job_id);
    BOOST_TEST(job["event_execution_id"] == ev_id);
    BOOST_TEST(job["invocation_id"] == inv_id);
    BOOST_TEST(job["status"] == "completed");
    BOOST_TEST(job["duration_ms"].get<int>() >= 120);
    BOOST_TEST(job["job_options"] == json({{"template", "shipped"}}));
    BOOST_TEST(job["result"] == json({{"sent", true}}));
    // Every row carries the invocation's correlation ID.
    for (auto& row : sink.rows()) BOOST_TEST(row["correlation_id"] == inv["correlation_id"]);
}

BOOST_AUTO_TEST_CASE(parents_are_recorded_before_their_children) {
    full_observer obs(fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "send_email");
        job.log(eventscope::log_level::info, "sending");
    }
    obs.flush();
    std::vector<std::string> first_seen;
    for (auto& row : obs.sink().rows())
        if (std::find(first_seen.begin(), first_seen.end(), row["table"]) == first_seen.end()) first_seen.push_back(row["table"]);
    std::vector<std::string> expected{"invocations", "event_executions", "job_executions", "job_logs"};
    BOOST_TEST(first_seen == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(exception_marks_scopes_failed_with_type_message_and_stack) {
    full_observer obs(fast_config());
    try {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-payments");
        EVENTSCOPE_EVENT(inv, ev, "payments.completed");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "charge_card");
        charge_the_card_or_throw(42);
    } catch (const std::invalid_argument&) {
    }
    obs.flush();
    auto job = obs.sink().final_rows("job_executions").at(0);
    BOOST_TEST(job["status"] == "failed");
    BOOST_TEST(job["error_type"] == "std::invalid_argument");
    BOOST_TEST(job["error_message"] == "card declined for amount 42");
    auto stack = job["error_stack"].get<std::string>();
    BOOST_TEST_MESSAGE(stack);
    BOOST_TEST(stack.find("charge_the_card_or_throw") != std::string::npos);
    BOOST_TEST(stack.find("scopes_test.cpp") != std::string::npos);

    auto ev = obs.sink().final_rows("event_executions").at(0);
    BOOST_TEST(ev["status"] == "handler_failed");
    BOOST_TEST(ev["handler_error"] == "std::invalid_argument: card declined for amount 42");
    BOOST_TEST(ev["jobs_failed"] == 1);
    auto inv = obs.sink().final_rows("invocations").at(0);
    BOOST_TEST(inv["status"] == "failed");
    BOOST_TEST(inv["error_type"] == "std::invalid_argument");
    BOOST_TEST(inv["total_jobs_failed"] == 1);
}

BOOST_AUTO_TEST_CASE(exception_during_detection_is_a_detection_failure) {
    full_observer obs(fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        try {
            EVENTSCOPE_EVENT(inv, ev, "orders.created");
            [[maybe_unused]] auto parsed = json::parse("{not json");  // a detector that chokes on its input
        } catch (const json::exception&) {
        }
    }
    obs.flush();
    auto ev = obs.sink().final_rows("event_executions").at(0);
    BOOST_TEST(ev["status"] == "detection_failed");
    BOOST_TEST(ev["detection_error"].get<std::string>().find("nlohmann") != std::string::npos);
    BOOST_TEST(obs.sink().final_rows("invocations").at(0)["status"] == "completed");  // caught inside
}

BOOST_AUTO_TEST_CASE(an_exception_caught_inside_a_job_does_not_fail_it) {
    full_observer obs(fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "retrying_job");
        try {
            throw std::runtime_error("transient");
        } catch (const std::runtime_error&) {
        }
    }
    obs.flush();
    BOOST_TEST(obs.sink().final_rows("job_executions").at(0)["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(explicit_failure_without_exception) {
    full_observer obs(fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "send_email");
        job.fail("mailbox full", "smtp_error");
    }
    obs.flush();
    auto job = obs.sink().final_rows("job_executions").at(0);
    BOOST_TEST(job["status"] == "failed");
    BOOST_TEST(job["error_type"] == "smtp_error");
    BOOST_TEST(job["error_message"] == "mailbox full");
    BOOST_TEST(obs.sink().final_rows("event_executions").at(0)["status"] == "failed");
}

BOOST_AUTO_TEST_CASE(jobs_on_a_thread_pool_aggregate_exactly) {
    full_observer obs(fast_config());
    constexpr int invocations = 20, events_per = 4, jobs_per = 10;
    boost::asio::thread_pool pool(4);
    std::atomic<int> expected_failures{0};
    for (int i = 0; i < invocations; ++i) {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        for (int e = 0; e < events_per; ++e) {
            EVENTSCOPE_EVENT(inv, ev, "event." + std::to_string(e));
            if (!ev.detected(e % 2 == 0)) continue;
            std::vector<std::future<void>> done;
            for (int j = 0; j < jobs_per; ++j) {
                auto finished = std::make_shared<std::promise<void>>();
                done.push_back(finished->get_future());
                boost::asio::post(pool, [&ev, &expected_failures, finished, j, i] {
                    try {
                        EVENTSCOPE_JOB(ev, job, "job." + std::to_string(j));
                        if ((i + j) % 3 == 0) {
                            expected_failures.fetch_add(1);
                            throw std::runtime_error("job failed");
                        }
                    } catch (const std::runtime_error&) {
                    }
                    finished->set_value();
                });
            }
            for (auto& f : done) f.get();  // the event scope outlives its jobs
        }
    }
    pool.join();
    BOOST_REQUIRE(obs.flush());
    auto invs = obs.sink().final_rows("invocations");
    BOOST_REQUIRE_EQUAL(invs.size(), static_cast<std::size_t>(invocations));
    int run = 0, ok = 0, failed = 0, detected = 0;
    for (auto& inv : invs) {
        run += inv["total_jobs_run"].get<int>();
        ok += inv["total_jobs_succeeded"].get<int>();
        failed += inv["total_jobs_failed"].get<int>();
        detected += inv["events_detected_count"].get<int>();
        BOOST_TEST(inv["total_jobs_run"].get<int>() == (events_per / 2) * jobs_per);
    }
    BOOST_TEST(detected == invocations * events_per / 2);
    BOOST_TEST(run == invocations * (events_per / 2) * jobs_per);
    BOOST_TEST(failed == expected_failures.load());
    BOOST_TEST(ok == run - failed);
    auto jobs = obs.sink().final_rows("job_executions");
    BOOST_TEST(jobs.size() == static_cast<std::size_t>(run));
    int failed_rows = 0;
    for (auto& j : jobs) failed_rows += j["status"] == "failed";
    BOOST_TEST(failed_rows == failed);
    for (auto& ev : obs.sink().final_rows("event_executions"))
        if (ev["detected"] == true) BOOST_TEST(ev["jobs_count"] == jobs_per);
}

BOOST_AUTO_TEST_CASE(two_concurrent_invocations_with_one_correlation_id_stay_separate) {
    full_observer obs(fast_config());
    auto payload = hasura_event("UPDATE", {{"id", 7}, {"updated_by", "same@example.com"}});
    std::promise<void> both_open;
    auto both_open_future = both_open.get_future().share();
    std::atomic<int> opened{0};
    auto run = [&](int jobs, bool fail) {
        EVENTSCOPE_INVOCATION(obs, inv, payload, "db-orders");
        if (++opened == 2) both_open.set_value();
        both_open_future.wait();  // the two invocations overlap in time
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        for (int j = 0; j < jobs; ++j) {
            EVENTSCOPE_JOB(ev, job, "job");
            if (fail) job.fail("no");
        }
    };
    std::thread a(run, 3, false), b(run, 5, true);
    a.join();
    b.join();
    obs.flush();
    auto invs = obs.sink().final_rows("invocations");
    BOOST_REQUIRE_EQUAL(invs.size(), 2u);
    BOOST_TEST(invs[0]["correlation_id"] == "same@example.com");
    BOOST_TEST(invs[1]["correlation_id"] == "same@example.com");
    BOOST_TEST(invs[0]["id"] != invs[1]["id"]);
    std::multiset<std::pair<int, int>> got{{invs[0]["total_jobs_run"], invs[0]["total_jobs_failed"]},
                                           {invs[1]["total_jobs_run"], invs[1]["total_jobs_failed"]}};
    std::multiset<std::pair<int, int>> expected{{3, 0}, {5, 5}};
    BOOST_TEST((got == expected));
}

BOOST_AUTO_TEST_CASE(context_data_and_module_path_are_kept) {
    full_observer obs(fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        inv.set_context("region", "eu-west-1");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.set_module_path("events/orders/shipped.cpp");
        ev.detected(false);
    }
    obs.flush();
    BOOST_TEST(obs.sink().final_rows("invocations").at(0)["context_data"] == json({{"region", "eu-west-1"}}));
    BOOST_TEST(obs.sink().final_rows("event_executions").at(0)["event_module_path"] == "events/orders/shipped.cpp");
}

// The service tags each invocation with the process that wrote it (examples/detector_service/service_instance.hpp):
// the running row must already carry the tag (a kill -9 leaves only that row), the final row keeps it, and the
// scope's own context is added to it; at the metrics level too.
template <class Observer>
void start_context_on_both_rows() {
    Observer obs(fast_config());
    eventscope::invocation_options opts;
    opts.context = {{"service_instance", "instance-1"}, {"region", "from-options"}};
    std::string id;
    {
        auto inv = obs.invocation(hasura_event(), "db-orders", opts);
        id = inv.id().to_string();
        inv.set_context("region", "eu-west-1");
        obs.flush();
        auto rows = obs.sink().rows();
        BOOST_REQUIRE_EQUAL(rows.size(), 1u);
        BOOST_TEST(rows[0]["status"] == "running");
        BOOST_TEST(rows[0]["context_data"] == json({{"service_instance", "instance-1"}, {"region", "from-options"}}));
    }
    obs.flush();
    auto final_row = obs.sink().final_rows("invocations").at(0);
    BOOST_TEST(final_row["id"] == id);
    json expected = {{"service_instance", "instance-1"}, {"region", Observer::capture_level == eventscope::capture::full ? "eu-west-1" : "from-options"}};
    BOOST_TEST(final_row["context_data"] == expected);
    // Without options nothing is added.
    { EVENTSCOPE_INVOCATION(obs, plain, hasura_event(), "db-orders"); }
    obs.flush();
    BOOST_TEST(obs.sink().final_rows("invocations").at(1)["context_data"].is_null());
}

BOOST_AUTO_TEST_CASE(start_context_is_on_the_running_and_the_final_row) {
    start_context_on_both_rows<full_observer>();
    start_context_on_both_rows<metrics_observer>();
}

BOOST_AUTO_TEST_SUITE_END()
