// Per-job log lines: the log API, and the opt-in capture of std::cout/cerr/clog while a job is current on
// the writing thread (the text still reaches the original stream).
#include <boost/test/unit_test.hpp>

#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

BOOST_AUTO_TEST_SUITE(logs)

BOOST_AUTO_TEST_CASE(job_log_lines_are_recorded_with_level_message_and_data) {
    full_observer obs(fast_config());
    std::string job_id;
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "send_email");
        job_id = job.id().to_string();
        job.log(eventscope::log_level::info, "rendering template", {{"template", "shipped"}});
        job.log(eventscope::log_level::warn, "slow smtp");
    }
    obs.flush();
    auto logs = obs.sink().final_rows("job_logs");
    BOOST_REQUIRE_EQUAL(logs.size(), 2u);
    BOOST_TEST(logs[0]["job_execution_id"] == job_id);
    BOOST_TEST(logs[0]["level"] == "info");
    BOOST_TEST(logs[0]["message"] == "rendering template");
    BOOST_TEST(logs[0]["data"] == json({{"template", "shipped"}}));
    BOOST_TEST(logs[1]["level"] == "warn");
    BOOST_TEST(logs[1]["data"].is_null());
    BOOST_TEST(logs[0]["logged_at"].get<std::string>() <= logs[1]["logged_at"].get<std::string>());
}

BOOST_AUTO_TEST_CASE(console_output_of_a_job_is_captured_per_job_and_still_printed) {
    std::ostringstream original_out, original_err;
    auto* saved_out = std::cout.rdbuf(original_out.rdbuf());
    auto* saved_err = std::cerr.rdbuf(original_err.rdbuf());
    auto cfg = fast_config();
    cfg.capture_console = true;
    {
        full_observer obs(cfg);
        {
            eventscope::console_capture capture;
            std::cout << "outside any job\n";
            EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
            EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
            ev.detected(true);
            {
                EVENTSCOPE_JOB(ev, job, "send_email");
                // While this job is current here, a job on another thread writes: its line is its own.
                // (Joined before we write: the test's ostringstream, unlike std::cout's stdio buffer, is not
                // safe for concurrent writers.)
                std::thread other([&] {
                    EVENTSCOPE_JOB(ev, other_job, "other_thread_job");
                    std::cout << "from the other job" << std::endl;
                });
                other.join();
                std::cout << "sending to " << 3 << " recipients\n";
                std::cerr << "smtp warning";  // no newline: flushed when the job ends
                std::clog << "clog line\n";
            }
        }
        obs.flush();
        std::map<std::string, std::string> job_names;
        for (auto& j : obs.sink().final_rows("job_executions")) job_names[j["id"]] = j["job_name"];
        std::multiset<std::string> got;
        for (auto& l : obs.sink().final_rows("job_logs"))
            got.insert(job_names[l["job_execution_id"]] + "|" + l["level"].get<std::string>() + "|" + l["message"].get<std::string>());
        std::multiset<std::string> expected{"send_email|info|sending to 3 recipients", "send_email|error|smtp warning",
                                            "send_email|info|clog line", "other_thread_job|info|from the other job"};
        BOOST_TEST((got == expected));
    }
    std::cout.rdbuf(saved_out);
    std::cerr.rdbuf(saved_err);
    BOOST_TEST(original_out.str().find("outside any job\n") != std::string::npos);
    BOOST_TEST(original_out.str().find("sending to 3 recipients\n") != std::string::npos);
    BOOST_TEST(original_out.str().find("from the other job\n") != std::string::npos);
    BOOST_TEST(original_err.str() == "smtp warning");
}

BOOST_AUTO_TEST_CASE(console_capture_is_opt_in) {
    std::ostringstream sink_stream;
    auto* saved = std::cout.rdbuf(sink_stream.rdbuf());
    full_observer obs(fast_config());  // capture_console defaults to false
    {
        eventscope::console_capture capture;
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "send_email");
        std::cout << "not captured\n";
    }
    std::cout.rdbuf(saved);
    obs.flush();
    BOOST_TEST(obs.sink().final_rows("job_logs").empty());
    BOOST_TEST(sink_stream.str() == "not captured\n");
}

BOOST_AUTO_TEST_SUITE_END()
