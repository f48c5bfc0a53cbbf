// Hot-path timestamps as raw CPU ticks; converted to wall-clock nanoseconds off the hot path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define EVENTSCOPE_HAS_TSC 1
#endif

namespace eventscope {

using tick = std::int64_t;

// ~10 ns with the TSC against ~24 ns for std::chrono::steady_clock (see stack-facts).
inline tick now_tick() noexcept {
#ifdef EVENTSCOPE_HAS_TSC
    return static_cast<tick>(__rdtsc());
#else
    return std::chrono::steady_clock::now().time_since_epoch().count();
#endif
}

// Maps ticks to Unix nanoseconds, off the hot path (only pipeline threads call it). The mapping is piecewise
// linear: each segment starts at a tick with a fixed Unix time and rate, and `refine()` (called by the pipeline
// before stamping a batch, acting at most every few seconds) opens a new segment at the current tick, continuous
// with the previous one, with the rate re-estimated against the steady clock over the whole run. A tick is
// always converted by the segment it falls in, so the same tick gives the same time in every batch: a scope's
// start stamped with its `running` row and again with its final row is the same microsecond.
class tick_clock {
public:
    static tick_clock& instance() {
        static tick_clock clock;
        return clock;
    }

    std::int64_t to_unix_ns(tick t) const {
        std::lock_guard lock(mutex_);
        // Segments are few and the newest is almost always the one: search from the back.
        for (auto it = segments_.rbegin(); it != segments_.rend(); ++it)
            if (t >= it->start_tick || std::next(it) == segments_.rend()) return it->convert(t);
        return segments_.back().convert(t);
    }

    double ns_per_tick() const {
        std::lock_guard lock(mutex_);
        return segments_.back().ns_per_tick;
    }

    void refine() {
#ifdef EVENTSCOPE_HAS_TSC
        auto steady = steady_ns();
        std::lock_guard lock(mutex_);
        if (steady - last_refine_steady_ns_ < refine_every_ns) return;
        last_refine_steady_ns_ = steady;
        auto t = now_tick();
        if (t <= anchor_tick_) return;
        segment next{t, segments_.back().convert(t),
                     static_cast<double>(steady - anchor_steady_ns_) / static_cast<double>(t - anchor_tick_)};
        segments_.push_back(next);
        if (segments_.size() > max_segments) segments_.erase(segments_.begin());
#endif
    }

private:
    struct segment {
        tick start_tick;
        std::int64_t start_unix_ns;
        double ns_per_tick;
        std::int64_t convert(tick t) const noexcept {
            return start_unix_ns + static_cast<std::int64_t>(static_cast<double>(t - start_tick) * ns_per_tick);
        }
    };
    static constexpr std::int64_t refine_every_ns = 5'000'000'000;
    static constexpr std::size_t max_segments = 4096;  // hours of history; older ticks use the oldest segment

    tick_clock() {
        anchor_tick_ = now_tick();
        anchor_steady_ns_ = steady_ns();
        auto anchor_unix = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
        double rate = 1.0;
#ifdef EVENTSCOPE_HAS_TSC
        // A first estimate over ~5 ms (relative error ~1e-5) so that the earliest records convert sensibly.
        std::int64_t steady = 0;
        while ((steady = steady_ns()) - anchor_steady_ns_ < 5'000'000) {
        }
        rate = static_cast<double>(steady - anchor_steady_ns_) / static_cast<double>(now_tick() - anchor_tick_);
#endif
        segments_.push_back({anchor_tick_, anchor_unix, rate});
        last_refine_steady_ns_ = anchor_steady_ns_;
    }

    static std::int64_t steady_ns() noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    mutable std::mutex mutex_;  // pipeline threads of several observers; never taken on the hot path
    tick anchor_tick_{};
    std::int64_t anchor_steady_ns_{};
    std::int64_t last_refine_steady_ns_{};
    std::vector<segment> segments_;
};

}  // namespace eventscope
