// Several sinks at once (fanout.hpp): every sink gets every record, with its own confirmations and counters,
// and a sink that fails holds back nobody else.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

namespace {

using two_memory = eventscope::fanout<eventscope::memory_sink, eventscope::memory_sink>;
using two_observer = eventscope::observer<eventscope::options<two_memory, eventscope::capture::full, 4096>>;

// One invocation (2 records), one detected event (3), one job (2): 7 records.
template <class Observer>
void run_one(Observer& obs, const std::string& job_name = "j") {
    EVENTSCOPE_INVOCATION(obs, inv, json::object(), "fanout");
    EVENTSCOPE_EVENT(inv, ev, "e");
    ev.detected(true);
    EVENTSCOPE_JOB(ev, job, job_name);
    job.set_result({{"ok", true}});
}

std::set<std::string> ids_of(const eventscope::memory_sink& sink) {
    std::set<std::string> ids;
    for (auto& row : sink.rows()) ids.insert(row["table"].get<std::string>() + ":" + row["id"].get<std::string>() + ":" + row["status"].get<std::string>());
    return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fanout)

BOOST_AUTO_TEST_CASE(every_sink_receives_every_record_with_its_own_counters) {
    two_observer obs(fast_config());
    for (int i = 0; i < 10; ++i) run_one(obs);
    BOOST_REQUIRE(obs.flush());
    auto& a = obs.sink().get<0>();
    auto& b = obs.sink().get<1>();
    BOOST_TEST(a.size() == 70u);
    BOOST_TEST(b.size() == 70u);
    BOOST_TEST((ids_of(a) == ids_of(b)));
    // Each sink got records of its own: the JSON result is there in both (not moved away by the other).
    for (auto* sink : {&a, &b})
        for (auto& job : sink->final_rows("job_executions")) BOOST_TEST(job["result"] == json({{"ok", true}}));
    auto s = obs.stats();
    BOOST_REQUIRE_EQUAL(s.sinks.size(), 2u);
    for (const auto& sink : s.sinks) {
        BOOST_TEST(sink.name == "memory_sink");
        BOOST_TEST(sink.written == 70u);
        BOOST_TEST(sink.pending == 0u);
        BOOST_TEST(sink.batches >= 1u);
        BOOST_TEST(sink.last_write_ns > 0u);
    }
}

BOOST_AUTO_TEST_CASE(a_failing_sink_loses_nothing_for_the_others_and_catches_up) {
    auto cfg = fast_config();
    cfg.retry_attempts = 1;
    two_observer obs(cfg);
    auto& healthy = obs.sink().get<0>();
    auto& down = obs.sink().get<1>();
    down.fail_next_writes(1'000'000);
    for (int i = 0; i < 50; ++i) run_one(obs);
    // The healthy sink has everything although the other one keeps failing.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (healthy.size() < 350 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    BOOST_TEST(healthy.size() == 350u);
    BOOST_TEST(down.size() == 0u);
    auto flushed = obs.flush(2s);
    BOOST_TEST(!flushed);  // the failing sink has not written them: reported
    BOOST_TEST(flushed.unwritten > 0u);
    auto s = obs.stats();
    BOOST_TEST(s.sinks[0].written == 350u);
    BOOST_TEST(s.sinks[1].written == 0u);
    BOOST_TEST(s.sinks[1].pending == 350u);  // kept in its backlog, not lost
    BOOST_TEST(s.sinks[1].failed_batches >= 1u);
    BOOST_TEST(s.sinks[1].last_error.find("failure injected") != std::string::npos);
    for (const auto& sink : s.sinks) BOOST_TEST(s.recorded == s.dropped_buffer_full + sink.written + sink.dropped() + s.queue_depth + sink.pending);
    down.fail_next_writes(0);  // back
    BOOST_TEST(obs.flush(10s));
    BOOST_TEST((ids_of(down) == ids_of(healthy)));
    s = obs.stats();
    BOOST_TEST(s.sinks[1].written == 350u);
    BOOST_TEST(s.sinks[1].dropped() == 0u);
}

BOOST_AUTO_TEST_CASE(a_sink_that_falls_too_far_behind_misses_records_counted_for_it_alone) {
    auto cfg = fast_config();
    cfg.retry_attempts = 0;
    cfg.sink_backlog = 120;
    two_observer obs(cfg);
    auto& healthy = obs.sink().get<0>();
    auto& down = obs.sink().get<1>();
    down.fail_next_writes(1'000'000);
    for (int i = 0; i < 100; ++i) {
        run_one(obs);
        if (i % 10 == 9) std::this_thread::sleep_for(2ms);
    }
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (healthy.size() < 700 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    auto s = obs.stats();
    BOOST_TEST(s.dropped_buffer_full == 0u);
    BOOST_TEST(s.sinks[0].written == 700u);
    BOOST_TEST(s.sinks[0].dropped() == 0u);
    BOOST_TEST(s.sinks[1].dropped_backlog > 0u);
    BOOST_TEST(s.sinks[1].pending <= 220u);  // one batch + the backlog
    BOOST_TEST(s.sinks[1].written + s.sinks[1].dropped_backlog + s.sinks[1].pending == 700u);
    BOOST_TEST(s.dropped_any() >= s.sinks[1].dropped_backlog);
    down.fail_next_writes(0);
    BOOST_TEST(obs.flush(10s));  // what was still waiting for the sink is written; the earlier misses are in stats()
    s = obs.stats();
    BOOST_TEST(s.sinks[1].written + s.sinks[1].dropped_backlog == 700u);
    BOOST_TEST(down.size() == s.sinks[1].written);
}

BOOST_AUTO_TEST_CASE(sinks_of_different_types_and_constructor_arguments) {
    auto path = std::filesystem::temp_directory_path() / ("eventscope-fanout-" + eventscope::new_uuid().to_string() + ".jsonl");
    {
        using mixed = eventscope::fanout<eventscope::memory_sink, eventscope::json_lines_sink>;
        eventscope::observer<eventscope::options<mixed, eventscope::capture::full, 1024>> obs(fast_config(), {}, std::tuple<>(),
                                                                                              std::forward_as_tuple(path.string()));
        for (int i = 0; i < 3; ++i) run_one(obs);
        BOOST_TEST(obs.flush());
        BOOST_TEST(obs.sink().get<eventscope::memory_sink>().size() == 21u);
        auto s = obs.stats();
        BOOST_TEST(s.sinks[1].name == "json_lines_sink");
        BOOST_TEST(s.sinks[1].written == 21u);
    }
    std::ifstream in(path);
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    BOOST_TEST(lines == 21);
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()
