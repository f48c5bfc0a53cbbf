// The tick -> Unix-nanosecond mapping itself, readable on the hot path without <chrono>: clock.hpp calibrates
// and extends it, uuid.hpp reads it so that an id's time is the same instant as its row's created_at.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tick.hpp"

namespace eventscope::detail {

// Piecewise linear: each segment starts at a tick with a fixed Unix time and rate. Segments are written once,
// before the count that publishes them, so readers need no lock.
class tick_map {
public:
    struct segment {
        tick start_tick;
        std::int64_t start_unix_ns;
        double ns_per_tick;
        std::int64_t convert(tick t) const noexcept {
            return start_unix_ns + static_cast<std::int64_t>(static_cast<double>(t - start_tick) * ns_per_tick);
        }
    };
    static constexpr std::size_t max_segments = 4096;

    // A tick is converted by the segment it falls in, so the same tick gives the same time before and after a
    // segment is added.
    std::int64_t to_unix_ns(tick t) const noexcept {
        std::size_t n = count_.load(std::memory_order_acquire);
        for (std::size_t i = n; i-- > 0;)
            if (t >= segments_[i].start_tick || i == 0) return segments_[i].convert(t);
        return segments_[0].convert(t);
    }

    const segment& last() const noexcept { return segments_[count_.load(std::memory_order_acquire) - 1]; }

    // One writer at a time (clock.hpp holds a mutex). Once full, the last segment stays in use.
    void append(const segment& s) noexcept {
        std::size_t n = count_.load(std::memory_order_relaxed);
        if (n == max_segments) return;
        segments_[n] = s;
        count_.store(n + 1, std::memory_order_release);
    }

private:
    segment segments_[max_segments]{};
    std::atomic<std::size_t> count_{0};
};

// Set once, by the clock's construction (the first observer); until then ids fall back to the coarse clock.
inline constinit std::atomic<const tick_map*> published_tick_map{nullptr};

}  // namespace eventscope::detail
