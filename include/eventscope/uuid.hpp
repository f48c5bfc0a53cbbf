// Time-ordered UUIDs (RFC 9562 version 7), generated without a syscall or a lock on the hot path.
// Once an observer exists, ids carry their scope's start to 1/4096 ms (RFC 9562 section 6.2, method 3: the 12
// bits after the version hold the fraction of the millisecond) and one thread's ids always increase, so rows
// reach their tables' primary keys nearly in key order: B-tree pages fill instead of splitting in halves
// (benchmarks/README.md, "Primary keys in time order").
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include <sys/random.h>
#include <time.h>

#include "detail/tick.hpp"
#include "detail/tick_map.hpp"

namespace eventscope {

struct uuid {
    std::array<std::uint8_t, 16> bytes{};

    constexpr bool is_nil() const noexcept {
        for (auto b : bytes)
            if (b != 0) return false;
        return true;
    }

    // Lower-case canonical form, 36 characters, written into `out` (no allocation).
    void write_to(char* out) const noexcept {
        constexpr char hex[] = "0123456789abcdef";
        int pos = 0;
        for (int i = 0; i < 16; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
            out[pos++] = hex[bytes[i] >> 4];
            out[pos++] = hex[bytes[i] & 0xF];
        }
    }

    std::string to_string() const {
        std::string s(36, '\0');
        write_to(s.data());
        return s;
    }

    // Accepts the canonical 36-character form (either case); anything else is nullopt.
    static std::optional<uuid> parse(std::string_view text) noexcept {
        if (text.size() != 36) return std::nullopt;
        uuid u;
        int byte = 0;
        for (std::size_t i = 0; i < 36;) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (text[i] != '-') return std::nullopt;
                ++i;
                continue;
            }
            int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
            if (hi < 0 || lo < 0) return std::nullopt;
            u.bytes[byte++] = static_cast<std::uint8_t>(hi << 4 | lo);
            i += 2;
        }
        return u;
    }

    // Milliseconds since the Unix epoch encoded in a v7 UUID.
    constexpr std::uint64_t unix_ms() const noexcept {
        std::uint64_t ms = 0;
        for (int i = 0; i < 6; ++i) ms = ms << 8 | bytes[i];
        return ms;
    }
    constexpr int version() const noexcept { return bytes[6] >> 4; }

    friend constexpr bool operator==(const uuid&, const uuid&) = default;
    friend constexpr auto operator<=>(const uuid&, const uuid&) = default;

private:
    static constexpr int hex_value(char c) noexcept {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
};

namespace detail {

// splitmix64: tiny, fast, statistically good enough for the random bits of an identifier.
struct uuid_random {
    std::uint64_t state;
    // The last coarse clock reading and the tick it was taken at (new_uuid_at, before the clock is calibrated).
    std::uint64_t cached_ms = 0;
    std::int64_t cached_at = 0;
    // The last id's 60 time bits and its random field: the next id of the same 1/4096 ms counts up from it.
    std::uint64_t last_time = 0;
    std::uint64_t last_random = 0;
    std::uint64_t next() noexcept {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

inline std::uint64_t thread_seed() noexcept {
    std::uint64_t seed = 0;
    if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof seed)) {
        // No entropy yet (early boot): the clock and this thread's stack address still separate threads.
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = static_cast<std::uint64_t>(ts.tv_nsec) * 0x9E3779B97F4A7C15ull ^ reinterpret_cast<std::uintptr_t>(&ts);
    }
    return seed;
}

// Per-thread state of the hot path. Constant-initialized (no guard on access) and initial-exec (a fixed offset
// from the thread pointer, no __tls_get_addr call), seeded on first use.
inline uuid_random& thread_uuid_random() noexcept {
    [[gnu::tls_model("initial-exec")]] thread_local uuid_random rng{0, 0, 0, 0, 0};
    if (rng.state == 0) [[unlikely]]
        rng.state = thread_seed() | 1;  // one getrandom call per thread; every later id is syscall-free
    return rng;
}

inline std::uint64_t coarse_unix_ms() noexcept {
    // CLOCK_REALTIME_COARSE is served by the vDSO: no syscall, no lock, a few ns.
    timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000000u;
}

}  // namespace detail

namespace detail {

// 48-bit milliseconds, version 7, 12 bits | variant 10, 62 bits; stored big-endian.
inline uuid assemble_uuid_v7(std::uint64_t time60, std::uint64_t random62) noexcept {
    std::uint64_t high = ((time60 >> 12) << 16) | 0x7000u | (time60 & 0x0FFFu);
    std::uint64_t low = (random62 & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
    high = __builtin_bswap64(high);
    low = __builtin_bswap64(low);
    uuid u;
    std::memcpy(u.bytes.data(), &high, 8);
    std::memcpy(u.bytes.data() + 8, &low, 8);
    return u;
}

}  // namespace detail

// Milliseconds and 12 random bits (no sub-millisecond order): for callers that only have a millisecond.
inline uuid make_uuid_v7(std::uint64_t unix_ms, detail::uuid_random& rng) noexcept {
    return detail::assemble_uuid_v7(unix_ms << 12 | (rng.next() & 0x0FFFu), rng.next());
}

inline uuid make_uuid_v7(std::uint64_t unix_ms) noexcept { return make_uuid_v7(unix_ms, detail::thread_uuid_random()); }

// Method 3 of RFC 9562 section 6.2: the millisecond and its fraction in 1/4096 steps (244 ns), then 62 random
// bits. Within one step the random field of the thread's previous id counts up by a random amount, and a clock
// that reads earlier than the previous id (another core's tick, a new calibration segment) reuses its time: one
// thread's ids strictly increase. A fresh random field leaves its top bit clear, room for 2^37 ids per step.
inline uuid make_uuid_v7_ns(std::int64_t unix_ns, detail::uuid_random& rng) noexcept {
    auto ns = static_cast<std::uint64_t>(unix_ns);
    std::uint64_t time60 = (ns / 1'000'000u) << 12 | (ns % 1'000'000u) * 4096u / 1'000'000u;
    std::uint64_t random62;
    if (time60 > rng.last_time) [[likely]] {
        random62 = rng.next() >> 3;
    } else {
        time60 = rng.last_time;
        random62 = rng.last_random + 1 + (rng.next() >> 40);
    }
    rng.last_time = time60;
    rng.last_random = random62;
    return detail::assemble_uuid_v7(time60, random62);
}

// The same, on the hot path: the scope has just read the tick counter. Before any observer has calibrated the
// clock, the coarse clock (itself only as fine as the kernel's tick) is read again only when 2^20 ticks (under a
// millisecond at >= 1 GHz) have passed since this thread last read it.
inline uuid new_uuid_at(std::int64_t tick) noexcept {
    auto& rng = detail::thread_uuid_random();
    if (const auto* map = detail::published_tick_map.load(std::memory_order_acquire)) [[likely]]
        return make_uuid_v7_ns(map->to_unix_ns(tick), rng);
    if (static_cast<std::uint64_t>(tick - rng.cached_at) >= (std::uint64_t{1} << 20)) {
        rng.cached_ms = detail::coarse_unix_ms();
        rng.cached_at = tick;
    }
    return make_uuid_v7(rng.cached_ms, rng);
}

inline uuid new_uuid() noexcept { return new_uuid_at(now_tick()); }

// A random (v4) UUID, for generated correlation IDs where time order does not matter.
inline uuid new_random_uuid() noexcept {
    auto& rng = detail::thread_uuid_random();
    std::uint64_t a = rng.next(), b = rng.next();
    uuid u;
    for (int i = 0; i < 8; ++i) u.bytes[i] = static_cast<std::uint8_t>(a >> (8 * i));
    for (int i = 0; i < 8; ++i) u.bytes[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
    u.bytes[6] = static_cast<std::uint8_t>(0x40 | (u.bytes[6] & 0x0F));
    u.bytes[8] = static_cast<std::uint8_t>(0x80 | (u.bytes[8] & 0x3F));
    return u;
}

}  // namespace eventscope
