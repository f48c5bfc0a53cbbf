// Bad input never throws into the detector: the invocation is still recorded with what could be read and a
// clear error; huge strings and deep nesting are bounded; timestamps are parsed strictly.
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

namespace {

json recorded_invocation(full_observer& obs) {
    BOOST_REQUIRE(obs.flush());
    auto invs = obs.sink().final_rows("invocations");
    BOOST_REQUIRE_EQUAL(invs.size(), 1u);
    return invs[0];
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bad_input)

BOOST_AUTO_TEST_CASE(payloads_of_the_wrong_shape_are_recorded_with_a_clear_error) {
    struct bad_case {
        json payload;
        std::string expected_error;
    };
    std::vector<bad_case> cases{
        {json(42), "payload is not a JSON object but number"},
        {json::array({1, 2}), "payload is not a JSON object but array"},
        {json{{"id", "x"}}, "payload has no 'event'"},
        {json{{"event", "text"}}, "payload.event is not an object"},
        {json{{"event", {{"op", 5}}}}, "payload.event.op is not a string"},
        {json{{"event", json::object()}, {"id", "not-a-uuid"}}, "payload.id is not a UUID"},
        {json{{"event", json::object()}, {"created_at", "yesterday"}}, "payload.created_at is not an ISO 8601 time"},
        {json{{"event", {{"session_variables", 3}}}}, "payload.event.session_variables is not an object"},
    };
    for (auto& c : cases) {
        full_observer obs(fast_config());
        BOOST_CHECK_NO_THROW({
            EVENTSCOPE_INVOCATION(obs, inv, c.payload, "db-orders");
            EVENTSCOPE_EVENT(inv, ev, "orders.created");
            ev.detected(false);
        });
        auto inv = recorded_invocation(obs);
        BOOST_TEST(inv["status"] == "completed");
        BOOST_TEST(inv["error_message"] == "malformed payload: " + c.expected_error, c.payload.dump());
        BOOST_TEST(inv["context_data"]["payload_errors"][0] == c.expected_error);
        BOOST_TEST(inv["correlation_source"] == "generated");
    }
}

BOOST_AUTO_TEST_CASE(an_invalid_request_body_is_recorded_as_such) {
    full_observer obs(fast_config());
    {
        auto inv = obs.invocation_from_body("{\"event\": {\"op\": \"INS", "db-orders");
        BOOST_TEST(!inv.correlation_id().empty());
    }
    auto inv = recorded_invocation(obs);
    BOOST_TEST(inv["error_message"] == "malformed payload: request body is not valid JSON");
    BOOST_TEST(inv["source_event_payload"]["_eventscope_unparsed_body"] == "{\"event\": {\"op\": \"INS");
}

BOOST_AUTO_TEST_CASE(huge_strings_are_truncated_and_marked) {
    auto cfg = fast_config();
    cfg.max_string_bytes = 1000;
    full_observer obs(cfg);
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event("INSERT", {{"blob", std::string(5000, 'x')}}), "db-orders");
    }
    auto inv = recorded_invocation(obs);
    auto blob = inv["source_event_payload"]["event"]["data"]["new"]["blob"].get<std::string>();
    BOOST_TEST(blob.size() < 1100u);
    BOOST_TEST(blob.find("[truncated 4000 bytes]") != std::string::npos);
    BOOST_TEST(inv["context_data"]["payload_errors"][0] == "payload truncated to the configured limits");
    // Read in full and stored cut down: said as truncated, not as malformed.
    BOOST_TEST(inv["error_message"] == "truncated payload: payload truncated to the configured limits");
    BOOST_TEST(inv["error_type"] == "payload_truncated");
}

BOOST_AUTO_TEST_CASE(deeply_nested_payloads_are_bounded) {
    // 100,000 levels: recursion over this would overflow the stack.
    std::string text = std::string(100000, '[') + std::string(100000, ']');
    auto deep = json::parse(text);
    json payload = hasura_event();
    payload["event"]["data"]["new"]["deep"] = std::move(deep);
    full_observer obs(fast_config());
    BOOST_CHECK_NO_THROW({ EVENTSCOPE_INVOCATION(obs, inv, payload, "db-orders"); });
    auto inv = recorded_invocation(obs);
    BOOST_TEST(inv["context_data"]["payload_errors"][0].get<std::string>().find("nesting deeper than 256") != std::string::npos);
    BOOST_TEST(inv["source_event_payload"]["event"]["op"] == "UPDATE");  // the readable part is kept
    BOOST_TEST(inv["error_message"].get<std::string>().rfind("truncated payload: payload nesting deeper than 256", 0) == 0u);
    BOOST_TEST(inv["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(iso8601_timestamps) {
    using eventscope::parse_iso8601;
    BOOST_TEST(parse_iso8601("1970-01-01T00:00:00").value() == 0);
    BOOST_TEST(parse_iso8601("2026-11-26T08:00:00.123456").value() == 1795680000123456000LL);
    BOOST_TEST(parse_iso8601("2026-11-26T09:00:00+01:00").value() == 1795680000000000000LL);
    BOOST_TEST(parse_iso8601("2026-11-26T08:00:00Z").value() == 1795680000000000000LL);
    BOOST_TEST(!parse_iso8601("2026-13-26T08:00:00").has_value());
    BOOST_TEST(!parse_iso8601("2026-11-26T08:00:00junk").has_value());
    BOOST_TEST(!parse_iso8601("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
