#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>
#include <vector>

#include <eventscope/uuid.hpp>

using eventscope::uuid;

BOOST_AUTO_TEST_SUITE(uuid_v7)

BOOST_AUTO_TEST_CASE(has_version_7_and_the_rfc_variant) {
    auto id = eventscope::new_uuid();
    BOOST_TEST(id.version() == 7);
    BOOST_TEST((id.bytes[8] & 0xC0) == 0x80);
}

BOOST_AUTO_TEST_CASE(encodes_the_current_unix_milliseconds) {
    auto before = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto id = eventscope::new_uuid();
    auto after = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    // The coarse clock may lag by one tick (a few ms).
    BOOST_TEST(static_cast<long long>(id.unix_ms()) >= before - 20);
    BOOST_TEST(static_cast<long long>(id.unix_ms()) <= after);
}

BOOST_AUTO_TEST_CASE(ids_from_later_milliseconds_sort_later) {
    auto a = eventscope::make_uuid_v7(1'700'000'000'000);
    auto b = eventscope::make_uuid_v7(1'700'000'000'001);
    BOOST_TEST((a < b));
    BOOST_TEST(a.to_string() < b.to_string());
}

BOOST_AUTO_TEST_CASE(text_form_round_trips) {
    auto id = eventscope::new_uuid();
    auto text = id.to_string();
    BOOST_TEST(text.size() == 36u);
    BOOST_TEST(text[8] == '-');
    auto parsed = uuid::parse(text);
    BOOST_REQUIRE(parsed.has_value());
    BOOST_TEST((*parsed == id));
    BOOST_TEST(!uuid::parse("not-a-uuid").has_value());
    BOOST_TEST(!uuid::parse("8f3c2b8e-8d5e-4d7c-9f57-2a1d4c5b6e7g").has_value());
    BOOST_TEST(uuid::parse("8F3C2B8E-8D5E-4D7C-9F57-2A1D4C5B6E7F").has_value());
}

BOOST_AUTO_TEST_CASE(unique_across_threads) {
    constexpr int per_thread = 20000;
    std::vector<std::vector<uuid>> made(4);
    std::vector<std::thread> threads;
    for (auto& bucket : made)
        threads.emplace_back([&bucket] {
            for (int i = 0; i < per_thread; ++i) bucket.push_back(eventscope::new_uuid());
        });
    for (auto& t : threads) t.join();
    std::set<uuid> all;
    for (auto& bucket : made) all.insert(bucket.begin(), bucket.end());
    BOOST_TEST(all.size() == 4u * per_thread);
}

BOOST_AUTO_TEST_SUITE_END()

#include <eventscope/clock.hpp>

BOOST_AUTO_TEST_SUITE(tick_clock)

BOOST_AUTO_TEST_CASE(ticks_convert_to_wall_time_and_stay_put_after_refinement) {
    auto& clock = eventscope::tick_clock::instance();
    auto t = eventscope::now_tick();
    auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto first = clock.to_unix_ns(t);
    BOOST_TEST(std::llabs(first - wall) < 50'000'000);  // within 50 ms of the wall clock
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    clock.refine();
    BOOST_TEST(clock.to_unix_ns(t) == first);  // the same tick, the same time, in every batch
    auto later = eventscope::now_tick();
    BOOST_TEST(clock.to_unix_ns(later) - first >= 20'000'000);
}

BOOST_AUTO_TEST_SUITE_END()
