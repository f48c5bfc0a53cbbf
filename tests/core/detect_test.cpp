// Detection clauses (detect.hpp): outcomes and values recorded exactly at each capture level, the short-circuit
// order, the clause that stopped a detection, hostile operand values bounded and made safe, and the replay mode
// in which a detection is recorded but answered "not detected".
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

namespace {

using off_observer = eventscope::observer<eventscope::options<eventscope::memory_sink, eventscope::capture::off>>;

json event_row(const eventscope::memory_sink& sink, const std::string& name) {
    for (auto& r : sink.final_rows("event_executions"))
        if (r["event_name"] == name) return r;
    BOOST_FAIL("no event row " + name);
    return {};
}

bool plus_one_is(int a, int b) { return a + 1 == b; }

struct order_status {
    std::string text;
};
// A user type described through the ADL hook.
void eventscope_describe(std::string& out, const order_status& s) { out = "status:" + s.text; }
bool operator==(const order_status& s, const char* t) { return s.text == t; }

template <class Observer>
json run_shipped(Observer& obs, const std::string& old_status, const std::string& new_status, bool& result) {
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        result = EVENTSCOPE_DETECT(ev, ("status changed", old_status != new_status), ("now shipped", new_status == "shipped"),
                                   ("not a test order", new_status.size() < 100));
    }
    BOOST_REQUIRE(obs.flush());
    return event_row(obs.sink(), "orders.shipped");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(detect)

BOOST_AUTO_TEST_CASE(full_capture_records_outcomes_values_and_the_stopping_clause) {
    full_observer obs(fast_config());
    bool result = true;
    auto row = run_shipped(obs, "pending", "cancelled", result);
    BOOST_TEST(result == false);
    BOOST_TEST(row["detected"] == false);
    BOOST_TEST(row["status"] == "not_detected");
    BOOST_TEST(row["detection_rejected_by"] == "now shipped");
    BOOST_TEST(row["detection_clauses"] == json::parse(R"([{"name":"status changed","outcome":"passed"},
        {"name":"now shipped","outcome":"failed"},{"name":"not a test order","outcome":"skipped"}])"));
    BOOST_TEST(row["detection_clause_values"] == json::parse(R"([
        {"expression":"old_status != new_status","lhs":"\"pending\"","op":"!=","rhs":"\"cancelled\""},
        {"expression":"new_status == \"shipped\"","lhs":"\"cancelled\"","op":"==","rhs":"\"shipped\""},
        {"expression":"new_status.size() < 100"}])"));
}

BOOST_AUTO_TEST_CASE(all_clauses_holding_detect_and_jobs_run) {
    full_observer obs(fast_config());
    bool result = false;
    auto row = run_shipped(obs, "pending", "shipped", result);
    BOOST_TEST(result == true);
    BOOST_TEST(row["detected"] == true);
    BOOST_TEST(row["detection_rejected_by"].is_null());
    for (auto& c : row["detection_clauses"]) BOOST_TEST(c["outcome"] == "passed");
    BOOST_TEST(row["detection_clause_values"][2]["lhs"] == "7");
    BOOST_TEST(row["detection_clause_values"][2]["rhs"] == "100");
}

BOOST_AUTO_TEST_CASE(metrics_capture_records_names_and_outcomes_only) {
    metrics_observer obs(fast_config());
    bool result = true;
    auto row = run_shipped(obs, "shipped", "shipped", result);
    BOOST_TEST(result == false);
    BOOST_TEST(row["detection_rejected_by"] == "status changed");
    BOOST_TEST(row["detection_clauses"] == json::parse(R"([{"name":"status changed","outcome":"failed"},
        {"name":"now shipped","outcome":"skipped"},{"name":"not a test order","outcome":"skipped"}])"));
    BOOST_TEST(row["detection_clause_values"].is_null());
}

BOOST_AUTO_TEST_CASE(off_is_the_bare_expression) {
    off_observer obs;
    static_assert(std::is_empty_v<off_observer::event_type>);
    int evaluated = 0;
    auto count = [&](bool v) {
        ++evaluated;
        return v;
    };
    EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
    EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
    BOOST_TEST(EVENTSCOPE_DETECT(ev, ("a", count(true)), ("b", count(false)), ("c", count(true))) == false);
    BOOST_TEST(evaluated == 2);  // && short-circuits
    BOOST_TEST(EVENTSCOPE_DETECT(ev, ("a", count(true)), ("b", count(true))) == true);
    eventscope::basic_detection d(ev);
    BOOST_TEST(d.detected(d("x", eventscope::that(3) == 3) && d("y", true)) == true);
}

BOOST_AUTO_TEST_CASE(short_circuit_evaluates_in_order_and_stops_at_the_first_failure) {
    for (bool full : {true, false}) {
        std::vector<std::string> order;
        auto step = [&](const char* name, bool v) {
            order.push_back(name);
            return v;
        };
        auto body = [&](auto& obs) {
            {
                EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
                EVENTSCOPE_EVENT(inv, ev, "e");
                BOOST_TEST(EVENTSCOPE_DETECT(ev, ("one", step("one", true)), ("two", step("two", true)), ("three", step("three", false)),
                                             ("four", step("four", true))) == false);
            }
            BOOST_REQUIRE(obs.flush());
            return event_row(obs.sink(), "e");
        };
        json row;
        if (full) {
            full_observer obs(fast_config());
            row = body(obs);
        } else {
            metrics_observer obs(fast_config());
            row = body(obs);
        }
        BOOST_TEST((order == std::vector<std::string>{"one", "two", "three"}));
        std::vector<std::string> outcomes;
        for (auto& c : row["detection_clauses"]) outcomes.push_back(c["outcome"]);
        BOOST_TEST((outcomes == std::vector<std::string>{"passed", "passed", "failed", "skipped"}));
        BOOST_TEST(row["detection_rejected_by"] == "three");
    }
}

BOOST_AUTO_TEST_CASE(a_clause_that_throws_is_recorded_and_the_exception_goes_on) {
    full_observer obs(fast_config());
    auto explode = []() -> bool { throw std::runtime_error("lookup failed"); };
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        try {
            EVENTSCOPE_EVENT(inv, ev, "e");
            EVENTSCOPE_DETECT(ev, ("first", true), ("lookup", explode()), ("never", true));
            BOOST_FAIL("the exception must propagate");
        } catch (const std::runtime_error&) {
        }
    }
    BOOST_REQUIRE(obs.flush());
    auto row = event_row(obs.sink(), "e");
    BOOST_TEST(row["status"] == "detection_failed");
    BOOST_TEST(row["detection_rejected_by"] == "lookup");
    BOOST_TEST(row["detection_clauses"][1]["outcome"] == "threw");
    BOOST_TEST(row["detection_clauses"][2]["outcome"] == "skipped");
}

BOOST_AUTO_TEST_CASE(expressions_with_commas_types_and_the_api) {
    full_observer obs(fast_config());
    std::map<std::string, int> counts{{"a", 1}};
    std::optional<int> maybe;
    order_status st{"shipped"};
    enum class color { red = 2 };
    json payload = {{"status", "shipped"}, {"n", 3}};
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "e");
        BOOST_TEST(EVENTSCOPE_DETECT(ev, ("call with two arguments", plus_one_is(1, 2)), ("template", std::pair<int, int>(1, 2).second == 2),
                                     ("map lookup", counts.at("a") >= 1), ("optional", maybe == std::nullopt), ("user type", st == "shipped"),
                                     ("enum", color::red == color::red), ("json", payload["status"] == "shipped"), ("double", 0.5 < 1.25)));
        EVENTSCOPE_EVENT(inv, ev2, "api");
        eventscope::detection d(ev2);
        bool ok = d("bare", true) && d("values", eventscope::that(std::string("x")) == std::string("y")) && d("never", true);
        BOOST_TEST(d.detected(ok) == false);
    }
    BOOST_REQUIRE(obs.flush());
    auto row = event_row(obs.sink(), "e");
    auto v = row["detection_clause_values"];
    BOOST_TEST(v[0]["expression"] == "plus_one_is(1, 2)");
    BOOST_TEST(v[0]["lhs"] == "true");
    BOOST_TEST(v[1]["lhs"] == "2");
    BOOST_TEST(v[3]["lhs"] == "nullopt");
    BOOST_TEST(v[4]["lhs"] == "\"status:shipped\"");
    BOOST_TEST(v[5]["lhs"] == "2");
    BOOST_TEST(v[6]["lhs"] == "\"shipped\"");
    BOOST_TEST(v[7]["lhs"] == "0.5");
    BOOST_TEST(v[7]["rhs"] == "1.25");
    auto api = event_row(obs.sink(), "api");
    BOOST_TEST(api["detection_clauses"] == json::parse(R"([{"name":"bare","outcome":"passed"},{"name":"values","outcome":"failed"}])"));
    BOOST_TEST(api["detection_clause_values"][1]["lhs"] == "\"x\"");
    BOOST_TEST(api["detection_clause_values"][1]["rhs"] == "\"y\"");
    BOOST_TEST(api["detection_rejected_by"] == "values");
}

BOOST_AUTO_TEST_CASE(hostile_values_are_bounded_and_valid_utf8) {
    full_observer obs(fast_config());
    const std::string huge(4u << 20, 'x');
    const std::string bad_utf8 = std::string("ok\xC3\x28\xFF") + '\0' + "\"\\\n";
    json deep = json::array();
    json* at = &deep;
    for (int i = 0; i < 2000; ++i) {
        at->push_back(json::array());
        at = &(*at)[0];
    }
    json wide = json::array();
    for (int i = 0; i < 200000; ++i) wide.push_back(i);
    json nested = {{"a", {{"b", {{"c", {{"d", {{"e", {{"f", 1}}}}}}}}}}}};
    const std::string bad_name = std::string("name\xFF") + '\0';
    auto t0 = std::chrono::steady_clock::now();
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "hostile");
        eventscope::detection d(ev);
        bool ok = d("huge", eventscope::that(huge) == huge) && d("bad utf8", eventscope::that(bad_utf8) == bad_utf8) &&
                  d("deep", eventscope::that(deep) == deep) && d("wide", eventscope::that(wide) == wide) &&
                  d("nested", eventscope::that(nested) == nested) && d(bad_name, false);
        d.detected(ok);
    }
    auto caller = std::chrono::steady_clock::now() - t0;
    BOOST_REQUIRE(obs.flush());
    auto row = event_row(obs.sink(), "hostile");
    auto v = row["detection_clause_values"];
    for (auto& c : v)
        for (const char* side : {"lhs", "rhs"})
            if (c.contains(side)) BOOST_TEST(c[side].get<std::string>().size() <= eventscope::detail::clause_value_limit + 64);
    BOOST_TEST(v[0]["lhs"].get<std::string>().find("(+4194048 bytes)") != std::string::npos);
    // Invalid bytes became U+FFFD, control characters and quotes are escaped: the row is strict UTF-8 JSON.
    BOOST_TEST(v[1]["lhs"] == "\"ok\xEF\xBF\xBD(\xEF\xBF\xBD\\u0000\\\"\\\\\\n\"");
    BOOST_CHECK_NO_THROW(row.dump());
    BOOST_TEST(v[2]["lhs"].get<std::string>().find("[[[[[\xE2\x80\xA6]]]]]") == 0);
    BOOST_TEST(v[4]["lhs"] == "{\"a\":{\"b\":{\"c\":{\"d\":{\xE2\x80\xA6}}}}}");
    BOOST_TEST(row["detection_rejected_by"] == "name\xEF\xBF\xBD\xEF\xBF\xBD");
    // Describing a 200,000-element array reads only what fits the limit (a whole dump takes far longer).
    BOOST_TEST(std::chrono::duration<double>(caller).count() < 0.5);
}

BOOST_AUTO_TEST_CASE(replay_records_the_decision_and_answers_not_detected) {
    auto cfg = fast_config();
    cfg.replay = true;
    full_observer obs(cfg);
    int jobs_run = 0;
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "macro");
        if (EVENTSCOPE_DETECT(ev, ("yes", 1 == 1))) {
            EVENTSCOPE_JOB(ev, job, "never");
            ++jobs_run;
        }
        EVENTSCOPE_EVENT(inv, ev2, "plain");
        if (ev2.detected(true)) ++jobs_run;
        BOOST_TEST(ev2.detected(true) == false);  // asked again: still no
    }
    BOOST_REQUIRE(obs.flush());
    BOOST_TEST(jobs_run == 0);
    BOOST_TEST(obs.sink().final_rows("job_executions").empty());
    auto macro = event_row(obs.sink(), "macro");
    BOOST_TEST(macro["detected"] == true);
    BOOST_TEST(macro["detection_clauses"][0]["outcome"] == "passed");
    BOOST_TEST(event_row(obs.sink(), "plain")["detected"] == true);
}

BOOST_AUTO_TEST_CASE(a_disabled_observer_still_decides) {
    auto cfg = fast_config();
    cfg.enabled = false;
    full_observer obs(cfg);
    EVENTSCOPE_INVOCATION(obs, inv, hasura_event(), "db-orders");
    EVENTSCOPE_EVENT(inv, ev, "e");
    BOOST_TEST(EVENTSCOPE_DETECT(ev, ("a", true), ("b", 2 > 1)) == true);
    BOOST_TEST(EVENTSCOPE_DETECT(ev, ("a", true), ("b", 2 < 1)) == false);
}

BOOST_AUTO_TEST_SUITE_END()
