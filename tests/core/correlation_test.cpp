// Correlation IDs: every extraction strategy, the configurable order, the generated fallback (marked as
// generated so coverage is honest), and the tracking token that links a job to the invocation it causes.
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace test_support;
using eventscope::correlation_source;
using eventscope::correlation_strategy;
using nlohmann::json;

namespace {
eventscope::correlation_result extract(const json& payload, eventscope::correlation_config cfg = {}) {
    return eventscope::extract_correlation(payload, cfg, "db-orders");
}
}  // namespace

BOOST_AUTO_TEST_SUITE(correlation)

BOOST_AUTO_TEST_CASE(updated_by_with_a_user_email) {
    auto r = extract(hasura_event("UPDATE", {{"updated_by", "ann@example.com"}}));
    BOOST_TEST(r.id == "ann@example.com");
    BOOST_TEST((r.source == correlation_source::updated_by));
    BOOST_TEST(r.user_email == "ann@example.com");
    BOOST_TEST(!r.parent_job_id.has_value());
}

BOOST_AUTO_TEST_CASE(updated_by_with_a_system_id) {
    auto r = extract(hasura_event("UPDATE", {{"updated_by", "billing.4b6f0c1e-3a55-4c1b-9e0e-2f3b3c4d5e6f"}}));
    BOOST_TEST(r.id == "billing.4b6f0c1e-3a55-4c1b-9e0e-2f3b3c4d5e6f");
    BOOST_TEST((r.source == correlation_source::updated_by));
    BOOST_TEST(r.user_email.empty());
}

BOOST_AUTO_TEST_CASE(updated_by_of_the_old_row_when_deleted) {
    auto r = extract(hasura_event("DELETE", nullptr, {{"updated_by", "bob@example.com"}}));
    BOOST_TEST(r.id == "bob@example.com");
}

BOOST_AUTO_TEST_CASE(updated_by_with_a_tracking_token_links_the_parent_job) {
    auto job = eventscope::new_uuid();
    auto token = eventscope::make_tracking_token("db-orders", "ann@example.com", job);
    BOOST_TEST(token == "db-orders|ann@example.com|" + job.to_string());
    auto r = extract(hasura_event("UPDATE", {{"updated_by", token}}));
    BOOST_TEST(r.id == "ann@example.com");
    BOOST_TEST((r.source == correlation_source::tracking_token));
    BOOST_REQUIRE(r.parent_job_id.has_value());
    BOOST_TEST((*r.parent_job_id == job));
}

BOOST_AUTO_TEST_CASE(unrecognised_updated_by_values_fall_through) {
    for (const char* value : {"admin", "", "a|b", "x|y|not-a-uuid", "billing.not-a-uuid"}) {
        auto r = extract(hasura_event("UPDATE", {{"updated_by", value}}));
        BOOST_TEST((r.source == correlation_source::generated), value);
    }
}

BOOST_AUTO_TEST_CASE(session_variable) {
    auto r = extract(hasura_event("INSERT", {{"id", 1}}, nullptr, {{"x-correlation-id", "checkout.11111111-2222-4333-8444-555555555555"}}));
    BOOST_TEST(r.id == "checkout.11111111-2222-4333-8444-555555555555");
    BOOST_TEST((r.source == correlation_source::session_variable));
}

BOOST_AUTO_TEST_CASE(event_metadata_field) {
    auto payload = hasura_event("INSERT", {{"id", 1}});
    payload["event"]["trace_context"] = {{"correlation_id", "import.aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}};
    auto r = extract(payload);
    BOOST_TEST(r.id == "import.aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    BOOST_TEST((r.source == correlation_source::metadata));
}

BOOST_AUTO_TEST_CASE(custom_field_by_json_pointer) {
    eventscope::correlation_config cfg;
    cfg.order = {correlation_strategy::custom("/event/data/new/request_id")};
    auto r = extract(hasura_event("INSERT", {{"request_id", "api.12345678-1234-4234-8234-123456789abc"}}), cfg);
    BOOST_TEST(r.id == "api.12345678-1234-4234-8234-123456789abc");
    BOOST_TEST((r.source == correlation_source::custom));
}

BOOST_AUTO_TEST_CASE(the_configured_order_decides) {
    auto payload = hasura_event("UPDATE", {{"updated_by", "ann@example.com"}}, nullptr, {{"x-correlation-id", "sess@example.com"}});
    BOOST_TEST(extract(payload).id == "ann@example.com");  // default: updated_by first
    eventscope::correlation_config cfg;
    cfg.order = {correlation_strategy::session_variable(), correlation_strategy::updated_by()};
    BOOST_TEST(extract(payload, cfg).id == "sess@example.com");
}

BOOST_AUTO_TEST_CASE(fallback_is_generated_from_the_source_function_and_marked) {
    auto r = extract(hasura_event("INSERT", {{"id", 1}}));
    BOOST_TEST((r.source == correlation_source::generated));
    BOOST_TEST(r.id.rfind("db-orders.", 0) == 0u);
    BOOST_TEST(eventscope::uuid::parse(r.id.substr(10)).has_value());
    BOOST_TEST(extract(hasura_event("INSERT", {{"id", 1}})).id != r.id);  // a new one each time
}

BOOST_AUTO_TEST_CASE(malformed_payloads_still_get_an_id) {
    for (const json& bad : {json(42), json::array(), json{{"event", "nope"}}, json{{"event", {{"data", 5}}}},
                            json{{"event", {{"data", {{"new", {{"updated_by", 12}}}}}}}}}) {
        auto r = extract(bad);
        BOOST_TEST((r.source == correlation_source::generated));
        BOOST_TEST(!r.id.empty());
    }
}

BOOST_AUTO_TEST_CASE(a_job_write_continues_the_chain_in_the_next_invocation) {
    full_observer obs(fast_config());
    std::string first_job_id, token;
    {
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event("INSERT", {{"id", 1}, {"updated_by", "ann@example.com"}}), "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.created");
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "reserve_stock");
        first_job_id = job.id().to_string();
        token = job.tracking_token();  // what the job writes into updated_by
    }
    {
        // Hasura delivers the job's write as the next event.
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event("UPDATE", {{"id", 1}, {"updated_by", token}}), "db-stock");
        BOOST_TEST(inv.correlation_id() == "ann@example.com");
    }
    obs.flush();
    auto invs = obs.sink().final_rows("invocations");
    BOOST_REQUIRE_EQUAL(invs.size(), 2u);
    BOOST_TEST(invs[1]["source_job_id"] == first_job_id);
    BOOST_TEST(invs[1]["correlation_id"] == "ann@example.com");
    BOOST_TEST(invs[1]["correlation_source"] == "tracking_token");
    BOOST_TEST(invs[1]["source_user_email"] == "ann@example.com");
    BOOST_TEST(invs[0]["source_job_id"].is_null());
}

BOOST_AUTO_TEST_CASE(an_explicit_id_wins) {
    full_observer obs(fast_config());
    eventscope::invocation_options opts;
    opts.correlation_id = eventscope::make_system_correlation_id("nightly-import");
    {
        auto inv = obs.invocation(hasura_event("INSERT", {{"updated_by", "ann@example.com"}}), "db-orders", opts);
        BOOST_TEST(inv.correlation_id() == opts.correlation_id);
    }
    obs.flush();
    BOOST_TEST(obs.sink().final_rows("invocations").at(0)["correlation_source"] == "explicit");
}

BOOST_AUTO_TEST_SUITE_END()
