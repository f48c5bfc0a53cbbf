// capture::off must cost nothing. Two noinline functions, one with the full scope chain under capture::off and
// one with the same work and no instrumentation; scripts/bench-micro.sh compares their disassembly
// (objdump -d) and fails when they differ. Running the program also checks that both compute the same value.
#include <cstdint>
#include <cstdio>
#include <string>

#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/memory_sink.hpp>

#include "common.hpp"

namespace {
using off_observer = eventscope::observer<eventscope::options<eventscope::memory_sink, eventscope::capture::off>>;
off_observer g_off;
}  // namespace

extern "C" __attribute__((noinline)) std::uint64_t esb_plain(const nlohmann::json& payload, std::uint64_t x) {
    (void)payload;
    for (int e = 0; e < 5; ++e) {
        x = esbench::work(x);
        if ((x & 1) != 0) {
            for (int j = 0; j < 2; ++j) x = esbench::work(x + static_cast<std::uint64_t>(j));
        }
    }
    return x;
}

extern "C" __attribute__((noinline)) std::uint64_t esb_off_scopes(const nlohmann::json& payload, std::uint64_t x) {
    EVENTSCOPE_INVOCATION(g_off, inv, payload, "db-orders");
    inv.set_context("k", x);
    for (int e = 0; e < 5; ++e) {
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        x = esbench::work(x);
        if (ev.detected((x & 1) != 0)) {
            for (int j = 0; j < 2; ++j) {
                EVENTSCOPE_JOB(ev, job, "send_email");
                x = esbench::work(x + static_cast<std::uint64_t>(j));
                job.set_result(x);
                job.log(eventscope::log_level::info, "sent");
            }
        }
    }
    return x;
}

// Issue 14: a detection stated as clauses under capture::off must be the bare expression.
extern "C" __attribute__((noinline)) bool esb_plain_detect(const nlohmann::json& payload, const std::string& before, const std::string& now) {
    (void)payload;
    return before != now && now == "shipped";
}

extern "C" __attribute__((noinline)) bool esb_off_detect(const nlohmann::json& payload, const std::string& before, const std::string& now) {
    EVENTSCOPE_INVOCATION(g_off, inv, payload, "db-orders");
    EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
    return EVENTSCOPE_DETECT(ev, ("status changed", before != now), ("now shipped", now == "shipped"));
}

int main() {
    nlohmann::json payload = esbench::hasura_payload();
    std::uint64_t a = 1, b = 1;
    for (int i = 0; i < 1000; ++i) {
        a = esb_plain(payload, a);
        b = esb_off_scopes(payload, b);
    }
    if (a != b) {
        std::fprintf(stderr, "offcheck: results differ (%llu vs %llu)\n", (unsigned long long)a, (unsigned long long)b);
        return 1;
    }
    const std::string statuses[] = {"paid", "shipped", "cancelled"};
    for (const auto& before : statuses)
        for (const auto& now : statuses)
            if (esb_plain_detect(payload, before, now) != esb_off_detect(payload, before, now)) {
                std::fprintf(stderr, "offcheck: detections differ for %s -> %s\n", before.c_str(), now.c_str());
                return 1;
            }
    std::printf("offcheck: both functions computed %llu\n", (unsigned long long)a);
    return 0;
}
