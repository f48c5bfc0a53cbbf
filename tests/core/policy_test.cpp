// capture::off must cost nothing: the scope types are empty and trivially destructible, the observer holds
// no state, and the macros still compile (and with EVENTSCOPE_DISABLE do not even evaluate their arguments).
#include <boost/test/unit_test.hpp>

#include <type_traits>

#include "test_support.hpp"

namespace {
using off_options = eventscope::options<eventscope::memory_sink, eventscope::capture::off, 1024>;
using off_observer = eventscope::observer<off_options>;
using off_invocation = decltype(std::declval<off_observer&>().invocation(nlohmann::json{}, "f"));
using off_event = decltype(std::declval<off_invocation&>().event("e"));
using off_job = decltype(std::declval<off_event&>().job("j"));
}  // namespace

static_assert(std::is_empty_v<off_observer>);
static_assert(std::is_empty_v<off_invocation> && std::is_trivially_destructible_v<off_invocation>);
static_assert(std::is_empty_v<off_event> && std::is_trivially_destructible_v<off_event>);
static_assert(std::is_empty_v<off_job> && std::is_trivially_destructible_v<off_job>);
static_assert(test_support::full_observer::capture_level == eventscope::capture::full);

// Every level's scope types offer the same members (scope_concepts.hpp): detector code compiles at any level.
using eventscope::capture;
static_assert(eventscope::job_scope_type<eventscope::basic_job<capture::off>> && eventscope::job_scope_type<eventscope::basic_job<capture::metrics>> &&
              eventscope::job_scope_type<eventscope::basic_job<capture::full>>);
static_assert(eventscope::event_scope_type<eventscope::basic_event<capture::off>> &&
              eventscope::event_scope_type<eventscope::basic_event<capture::metrics>> &&
              eventscope::event_scope_type<eventscope::basic_event<capture::full>>);
static_assert(eventscope::invocation_scope_type<eventscope::basic_invocation<capture::off>> &&
              eventscope::invocation_scope_type<eventscope::basic_invocation<capture::metrics>> &&
              eventscope::invocation_scope_type<eventscope::basic_invocation<capture::full>>);
static_assert(eventscope::recorder_type<eventscope::basic_recorder<capture::off>> &&
              eventscope::recorder_type<eventscope::basic_recorder<capture::metrics>> &&
              eventscope::recorder_type<eventscope::basic_recorder<capture::full>>);
// The scope types do not depend on the sink: observers with different sinks hand out the same types.
static_assert(std::is_same_v<decltype(std::declval<test_support::full_observer&>().invocation(nlohmann::json{}, "f")),
                             decltype(std::declval<eventscope::observer<eventscope::options<eventscope::json_lines_sink>>&>().invocation(
                                 nlohmann::json{}, "f"))>);
static_assert(std::is_base_of_v<eventscope::recorder, test_support::full_observer>);
static_assert(std::is_same_v<eventscope::job, eventscope::basic_job<eventscope::default_capture>>);
static_assert(std::is_same_v<eventscope::null_job_scope, eventscope::basic_job<capture::off>>);

BOOST_AUTO_TEST_SUITE(policies)

BOOST_AUTO_TEST_CASE(capture_off_scopes_are_empty_types) {
    BOOST_TEST(std::is_empty_v<off_invocation>);
    BOOST_TEST(std::is_trivially_destructible_v<off_job>);
    BOOST_TEST(sizeof(off_observer) == 1u);
}

BOOST_AUTO_TEST_CASE(capture_off_macros_compile_and_record_nothing) {
    off_observer obs;
    int evaluated = 0;
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        if (ev.detected((++evaluated, true))) {
            EVENTSCOPE_JOB(ev, job, "send_email");
            job.log(eventscope::log_level::info, "ignored");
            job.set_result(nlohmann::json{{"sent", true}});
            BOOST_TEST(job.tracking_token().empty());
        }
    }
    BOOST_TEST(evaluated == 1);  // detected() still returns its argument: detector logic is unchanged
    BOOST_TEST(obs.stats().recorded == 0u);
}

namespace {
// Detector code written against the plain names, as a module would be.
bool detect_and_run(eventscope::event& ev, bool yes) {
    if (!ev.detected(yes)) return false;
    EVENTSCOPE_JOB(ev, job, "from_a_function");
    job.set_result({{"ok", true}});
    return true;
}
}  // namespace

BOOST_AUTO_TEST_CASE(functions_take_the_plain_scope_names_whatever_the_sink) {
    test_support::full_observer memory(test_support::fast_config());
    eventscope::recorder& rec = memory;
    {
        EVENTSCOPE_INVOCATION(rec, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        BOOST_TEST(detect_and_run(ev, true));
    }
    BOOST_TEST(rec.flush());
    BOOST_TEST(rec.stats().written == 7u);
    BOOST_TEST(memory.sink().final_rows("job_executions").at(0)["result"] == nlohmann::json({{"ok", true}}));
}

BOOST_AUTO_TEST_CASE(without_throw_capture_fail_e_keeps_type_and_message) {
    test_support::full_observer obs(test_support::fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "charge");
        try {
            throw std::out_of_range("no such card");
        } catch (const std::exception& e) {
            job.fail(e);
        }
    }
    BOOST_REQUIRE(obs.flush());
    auto job = obs.sink().final_rows("job_executions").at(0);
    BOOST_TEST(job["status"] == "failed");
    BOOST_TEST(job["error_type"] == "std::out_of_range");
    BOOST_TEST(job["error_message"] == "no such card");
}

BOOST_AUTO_TEST_CASE(buffer_capacity_comes_from_the_policy) {
    using tiny = eventscope::observer<eventscope::options<eventscope::memory_sink, eventscope::capture::full, 100>>;
    static_assert(tiny::buffer_capacity == 100);
    tiny obs(test_support::fast_config());
    BOOST_TEST(obs.enabled());
}

BOOST_AUTO_TEST_CASE(runtime_disabled_observer_records_nothing_and_runs_no_thread) {
    auto cfg = test_support::fast_config();
    cfg.enabled = false;
    test_support::full_observer obs(cfg);
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        BOOST_TEST(ev.detected(true));
        EVENTSCOPE_JOB(ev, job, "send_email");
    }
    BOOST_TEST(!obs.enabled());
    BOOST_TEST(obs.stats().recorded == 0u);
    BOOST_TEST(obs.sink().size() == 0u);
}

BOOST_AUTO_TEST_CASE(metrics_capture_keeps_timings_and_ids_but_no_payloads_or_error_text) {
    test_support::metrics_observer obs(test_support::fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event("UPDATE", {{"id", 1}, {"updated_by", "ann@example.com"}}), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        try {
            EVENTSCOPE_JOB(ev, job, "send_email", nlohmann::json{{"to", "ann@example.com"}});
            job.log(eventscope::log_level::info, "not kept");
            job.set_result(nlohmann::json{{"sent", true}});
            throw std::runtime_error("smtp down");
        } catch (const std::exception&) {
        }
    }
    obs.flush();
    auto invocations = obs.sink().final_rows("invocations");
    auto jobs = obs.sink().final_rows("job_executions");
    BOOST_REQUIRE_EQUAL(invocations.size(), 1u);
    BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
    BOOST_TEST(invocations[0]["source_event_payload"] == nlohmann::json::object());
    BOOST_TEST(invocations[0]["correlation_id"] == "ann@example.com");  // ids are metrics
    BOOST_TEST(jobs[0]["status"] == "failed");
    BOOST_TEST(jobs[0]["job_options"].is_null());
    BOOST_TEST(jobs[0]["result"].is_null());
    BOOST_TEST(jobs[0]["error_message"].is_null());
    BOOST_TEST(obs.sink().final_rows("job_logs").empty());
}

BOOST_AUTO_TEST_CASE(runtime_flags_narrow_full_capture) {
    auto cfg = test_support::fast_config();
    cfg.capture_hasura_payload = false;
    cfg.capture_job_options = false;
    cfg.capture_error_stacks = false;
    test_support::full_observer obs(cfg);
    {
        EVENTSCOPE_INVOCATION(obs, inv, test_support::hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        try {
            EVENTSCOPE_JOB(ev, job, "send_email", nlohmann::json{{"to", "x@example.com"}});
            throw std::runtime_error("smtp down");
        } catch (const std::exception&) {
        }
    }
    obs.flush();
    auto inv = obs.sink().final_rows("invocations").at(0);
    auto job = obs.sink().final_rows("job_executions").at(0);
    BOOST_TEST(inv["source_event_payload"] == nlohmann::json::object());
    BOOST_TEST(job["job_options"].is_null());
    BOOST_TEST(job["error_message"] == "smtp down");  // message kept,
    BOOST_TEST(job["error_stack"].is_null());          // stack not
}

BOOST_AUTO_TEST_SUITE_END()
