// Configuration: the seed's defaults, and its environment variables.
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include <eventscope/config.hpp>

BOOST_AUTO_TEST_SUITE(configuration)

BOOST_AUTO_TEST_CASE(defaults_match_the_seed) {
    eventscope::config c;
    BOOST_TEST(c.enabled);
    BOOST_TEST(c.schema == "event_detector_observability");
    BOOST_TEST(c.capture_job_options);
    BOOST_TEST(c.capture_hasura_payload);
    BOOST_TEST(c.capture_error_stacks);
    BOOST_TEST(c.batch_size == 100u);
    BOOST_TEST(c.flush_interval.count() == 5000);
    BOOST_TEST(c.retry_attempts == 3);
    BOOST_TEST(c.retry_delay.count() == 1000);
}

BOOST_AUTO_TEST_CASE(environment_variables_apply) {
    ::setenv("OBSERVABILITY_ENABLED", "false", 1);
    ::setenv("OBSERVABILITY_DB_URL", "postgresql://u:p@127.0.0.1:5432/obs", 1);
    auto c = eventscope::config::from_env();
    BOOST_TEST(!c.enabled);
    BOOST_TEST(c.database.connection_string == "postgresql://u:p@127.0.0.1:5432/obs");
    ::setenv("OBSERVABILITY_ENABLED", "true", 1);
    BOOST_TEST(eventscope::config::from_env().enabled);
    ::setenv("OBSERVABILITY_ENABLED", "maybe", 1);
    BOOST_CHECK_EXCEPTION(eventscope::config::from_env(), std::invalid_argument, [](const std::invalid_argument& e) {
        return std::string(e.what()).find("OBSERVABILITY_ENABLED") != std::string::npos;
    });
    ::unsetenv("OBSERVABILITY_ENABLED");
    ::unsetenv("OBSERVABILITY_DB_URL");
}

BOOST_AUTO_TEST_CASE(invalid_values_are_refused_with_the_option_named) {
    eventscope::config c;
    c.batch_size = 0;
    BOOST_CHECK_EXCEPTION(c.validate(), std::invalid_argument,
                          [](const std::invalid_argument& e) { return std::string(e.what()).find("batch_size") != std::string::npos; });
    c = {};
    c.flush_interval = std::chrono::milliseconds(0);
    BOOST_CHECK_THROW(c.validate(), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
