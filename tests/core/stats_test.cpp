// What stats() reports (stats.hpp): the pipeline's counters, a sink's own counters merged in, correlation
// extraction by source, queue depth and the last write's duration.
#include <boost/test/unit_test.hpp>

#include <thread>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

namespace {

// A sink that reports counters of its own, the two ways the pipeline understands (pipeline.hpp).
struct reporting_sink {
    struct own_stats {
        std::uint64_t rows_spooled = 0, rows_replayed = 0, transactions = 0;
    };
    std::atomic<std::uint64_t> writes{0};
    eventscope::write_result write(std::span<eventscope::record> batch) {
        writes.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return eventscope::write_result::success(0, batch.size() > 1000 ? "never" : "");
    }
    own_stats stats() const { return {7, 5, writes.load()}; }
    std::vector<std::pair<std::string, std::uint64_t>> counters() const { return {{"files_rotated", 3}}; }
};

std::uint64_t own(const eventscope::sink_stats& s, const std::string& name) {
    for (const auto& [n, v] : s.own)
        if (n == name) return v;
    BOOST_FAIL("no counter " + name);
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(self_metrics)

BOOST_AUTO_TEST_CASE(a_sinks_own_counters_are_merged) {
    eventscope::observer<eventscope::options<reporting_sink, eventscope::capture::full, 1024>> obs(fast_config());
    {
        EVENTSCOPE_INVOCATION(obs, inv, json::object(), "f");
    }
    BOOST_REQUIRE(obs.flush());
    auto s = obs.stats();
    BOOST_REQUIRE_EQUAL(s.sinks.size(), 1u);
    BOOST_TEST(s.sinks[0].name == "reporting_sink");
    BOOST_TEST(s.spooled == 7u);
    BOOST_TEST(s.replayed == 5u);
    BOOST_TEST(own(s.sinks[0], "transactions") >= 1u);
    BOOST_TEST(own(s.sinks[0], "files_rotated") == 3u);
    BOOST_TEST(s.last_write_ns >= 2'000'000u);  // the write sleeps 2 ms
    BOOST_TEST(s.last_write_ns < 2'000'000'000u);
    BOOST_TEST(s.capacity == 1024u);
}

BOOST_AUTO_TEST_CASE(correlation_extraction_is_counted_by_source) {
    full_observer obs(fast_config());
    eventscope::invocation_options explicit_id;
    explicit_id.correlation_id = "known.0b6a1f6e-3c1f-4c55-9a57-3f0d2d7f7e01";
    {
        auto a = obs.invocation(hasura_event("UPDATE", {{"id", 1}, {"updated_by", "ann@example.com"}}), "f");
        auto b = obs.invocation(hasura_event("UPDATE", {{"id", 2}}, nullptr, {{"x-correlation-id", "bob@example.com"}}), "f");
        auto c = obs.invocation(hasura_event(), "f");  // nothing to find: generated
        auto d = obs.invocation_from_body("not json", "f");
        auto e = obs.invocation(json::object(), "f", explicit_id);
    }
    BOOST_REQUIRE(obs.flush());
    auto counts = obs.stats().correlation;
    using eventscope::correlation_source;
    BOOST_TEST(counts[correlation_source::updated_by] == 1u);
    BOOST_TEST(counts[correlation_source::session_variable] == 1u);
    BOOST_TEST(counts[correlation_source::generated] == 2u);
    BOOST_TEST(counts[correlation_source::explicit_id] == 1u);
    BOOST_TEST(counts.total() == 5u);
    BOOST_TEST(counts.payload_errors == 2u);  // the body that is not JSON, and the object without `event`
}

BOOST_AUTO_TEST_CASE(queue_depth_shows_what_waits_in_the_ring) {
    auto cfg = fast_config();
    cfg.flush_interval = 60s;
    cfg.batch_size = 10'000;  // nothing wakes the pipeline
    full_observer obs(cfg);
    for (int i = 0; i < 20; ++i) {
        EVENTSCOPE_INVOCATION(obs, inv, json::object(), "f");
    }
    auto s = obs.stats();
    BOOST_TEST(s.queue_depth == 40u);
    BOOST_TEST(s.recorded == 40u);
    BOOST_TEST(s.pending() == 40u);
    BOOST_TEST(obs.flush());
    BOOST_TEST(obs.stats().queue_depth == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
