// The names of an invocation's events and jobs on its final record (records.hpp child_names, written as the
// database-only column child_names): distinct, sorted, gathered on the pipeline thread; unknown (null) when
// there are too many to keep, so that readers fall back to the child rows.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;

namespace {

// The final invocation records the sink received, in order.
std::vector<std::shared_ptr<const eventscope::child_names>> final_invocation_names(const full_observer& obs, std::size_t* finals = nullptr) {
    std::vector<std::shared_ptr<const eventscope::child_names>> out;
    obs.sink().visit([&](const eventscope::record& r) {
        if (const auto* inv = std::get_if<eventscope::invocation_record>(&r); inv && inv->status != eventscope::run_status::running) {
            out.push_back(inv->children);
            if (finals) ++*finals;
        }
    });
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(child_names)

BOOST_AUTO_TEST_CASE(the_final_invocation_record_names_its_events_and_jobs_sorted_and_distinct) {
    full_observer obs(fast_config());
    {
        auto inv = obs.invocation(json::object(), "names");
        {
            auto b = inv.event("b.event");
            b.detected(true);
            auto z = b.job("z_job");
            auto y = b.job("y_job");
        }
        auto a = inv.event("a.event");
        a.detected(true);
        auto z_again = a.job("z_job");
    }
    BOOST_TEST_REQUIRE(obs.flush(5s));
    auto names = final_invocation_names(obs);
    BOOST_TEST_REQUIRE(names.size() == 1u);
    BOOST_TEST_REQUIRE(names[0] != nullptr);
    BOOST_TEST(names[0]->events == (std::vector<std::string>{"a.event", "b.event"}), boost::test_tools::per_element());
    BOOST_TEST(names[0]->jobs == (std::vector<std::string>{"y_job", "z_job"}), boost::test_tools::per_element());
    // The database column (row JSON with the database-only columns, as the PostgreSQL sink spools it).
    bool seen = false;
    obs.sink().visit([&](const eventscope::record& r) {
        if (const auto* inv = std::get_if<eventscope::invocation_record>(&r); inv && inv->status != eventscope::run_status::running) {
            auto row = eventscope::to_row(r, /*with_db_only=*/true);
            BOOST_TEST(row["child_names"] == (json{{"events", {"a.event", "b.event"}}, {"jobs", {"y_job", "z_job"}}}));
            BOOST_TEST(!eventscope::to_row(r).contains("child_names"));  // not part of the neutral row
            seen = true;
        }
    });
    BOOST_TEST(seen);
}

BOOST_AUTO_TEST_CASE(an_invocation_without_children_names_none_and_running_rows_carry_no_names) {
    auto cfg = fast_config();
    full_observer obs(cfg);
    { auto inv = obs.invocation(json::object(), "childless"); }
    BOOST_TEST_REQUIRE(obs.flush(5s));
    auto names = final_invocation_names(obs);
    BOOST_TEST_REQUIRE(names.size() == 1u);
    BOOST_TEST_REQUIRE(names[0] != nullptr);
    BOOST_TEST(names[0]->events.empty());
    BOOST_TEST(names[0]->jobs.empty());
    obs.sink().visit([&](const eventscope::record& r) {
        if (const auto* inv = std::get_if<eventscope::invocation_record>(&r); inv && inv->status == eventscope::run_status::running)
            BOOST_TEST(!inv->children);
    });
}

BOOST_AUTO_TEST_CASE(more_distinct_names_than_the_bound_leave_them_unknown) {
    full_observer obs(fast_config());
    auto run = [&](int distinct_jobs) {
        auto inv = obs.invocation(json::object(), "many");
        auto ev = inv.event("many.event");
        ev.detected(true);
        for (int i = 0; i < distinct_jobs; ++i) auto job = ev.job("job_" + std::to_string(i));
    };
    run(64);
    run(65);
    BOOST_TEST_REQUIRE(obs.flush(5s));
    auto names = final_invocation_names(obs);
    BOOST_TEST_REQUIRE(names.size() == 2u);
    BOOST_TEST_REQUIRE(names[0] != nullptr);
    BOOST_TEST(names[0]->jobs.size() == 64u);
    BOOST_TEST(names[0]->events == (std::vector<std::string>{"many.event"}), boost::test_tools::per_element());
    BOOST_TEST(!names[1]);  // unknown: readers look at the child rows
}

BOOST_AUTO_TEST_SUITE_END()
