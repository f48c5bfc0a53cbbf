#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <algorithm>
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

BOOST_AUTO_TEST_CASE(the_fraction_of_the_millisecond_orders_ids_made_in_the_same_millisecond) {
    eventscope::detail::uuid_random rng{12345};
    const std::int64_t ms = 1'700'000'000'123;
    // 1/4096 ms is 244.14 ns: 0 ns, 250 ns and 999,999 ns fall in steps 0, 1 and 4095.
    auto a = eventscope::make_uuid_v7_ns(ms * 1'000'000, rng);
    auto b = eventscope::make_uuid_v7_ns(ms * 1'000'000 + 250, rng);
    auto c = eventscope::make_uuid_v7_ns(ms * 1'000'000 + 999'999, rng);
    for (auto* id : {&a, &b, &c}) {
        BOOST_TEST(id->version() == 7);
        BOOST_TEST((id->bytes[8] & 0xC0) == 0x80);
        BOOST_TEST(id->unix_ms() == static_cast<std::uint64_t>(ms));
    }
    auto fraction = [](const uuid& id) { return (id.bytes[6] & 0x0F) << 8 | id.bytes[7]; };
    BOOST_TEST(fraction(a) == 0);
    BOOST_TEST(fraction(b) == 1);
    BOOST_TEST(fraction(c) == 4095);
    BOOST_TEST((a < b));
    BOOST_TEST((b < c));
}

BOOST_AUTO_TEST_CASE(one_threads_ids_increase_within_a_step_and_when_the_clock_reads_earlier) {
    eventscope::detail::uuid_random rng{777};
    const std::int64_t t = 1'700'000'000'000'000'000;
    std::vector<uuid> made;
    for (int i = 0; i < 1000; ++i) made.push_back(eventscope::make_uuid_v7_ns(t, rng));  // one 244 ns step
    made.push_back(eventscope::make_uuid_v7_ns(t - 5'000'000, rng));                     // a clock 5 ms behind
    made.push_back(eventscope::make_uuid_v7_ns(t + 1'000'000, rng));                     // the next millisecond
    for (std::size_t i = 1; i < made.size(); ++i) BOOST_TEST((made[i - 1] < made[i]), "id " << i);
    BOOST_TEST(made[1000].unix_ms() == made[0].unix_ms());  // held at the latest time, not moved back
    BOOST_TEST(made[1001].unix_ms() == made[0].unix_ms() + 1);
    std::set<uuid> distinct(made.begin(), made.end());
    BOOST_TEST(distinct.size() == made.size());
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

// Once the clock exists, a scope's id carries the same instant as the created_at its row gets from the tick
// (detail/convert.hpp), to 1/4096 ms: the millisecond is the same, so id ranges and time ranges agree.
BOOST_AUTO_TEST_CASE(ids_made_from_a_tick_carry_that_ticks_time) {
    auto& clock = eventscope::tick_clock::instance();
    for (int i = 0; i < 1000; ++i) {
        auto t = eventscope::now_tick();
        auto id = eventscope::new_uuid_at(t);
        auto ns = clock.to_unix_ns(t);
        BOOST_TEST(id.unix_ms() == static_cast<std::uint64_t>(ns / 1'000'000));
        auto fraction = (id.bytes[6] & 0x0F) << 8 | id.bytes[7];
        BOOST_TEST(fraction == (ns % 1'000'000) * 4096 / 1'000'000);
    }
}

BOOST_AUTO_TEST_CASE(ids_of_several_threads_follow_the_clock) {
    eventscope::tick_clock::instance();
    constexpr int per_thread = 20000;
    std::vector<std::vector<std::pair<eventscope::tick, uuid>>> made(4);
    std::vector<std::thread> threads;
    for (auto& bucket : made)
        threads.emplace_back([&bucket] {
            for (int i = 0; i < per_thread; ++i) {
                auto t = eventscope::now_tick();
                bucket.emplace_back(t, eventscope::new_uuid_at(t));
            }
        });
    for (auto& th : threads) th.join();
    std::vector<std::pair<eventscope::tick, uuid>> all;
    for (auto& bucket : made) {
        for (std::size_t i = 1; i < bucket.size(); ++i) BOOST_TEST((bucket[i - 1].second < bucket[i].second));
        all.insert(all.end(), bucket.begin(), bucket.end());
    }
    // In tick order, every id is above any id made over 1/4096 ms (here: 10 us) earlier on another thread.
    std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    const double ticks_per_10us = 10'000 / eventscope::tick_clock::instance().ns_per_tick();
    std::size_t out_of_order = 0;
    uuid max_before{};
    std::size_t lag = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        while (static_cast<double>(all[i].first - all[lag].first) > ticks_per_10us) {
            if (max_before < all[lag].second) max_before = all[lag].second;
            ++lag;
        }
        if (all[i].second < max_before) ++out_of_order;
    }
    BOOST_TEST(out_of_order == 0u);
    std::set<uuid> distinct;
    for (auto& [t, id] : all) distinct.insert(id);
    BOOST_TEST(distinct.size() == all.size());
}

BOOST_AUTO_TEST_SUITE_END()
