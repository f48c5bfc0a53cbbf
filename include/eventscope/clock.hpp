// Converting hot-path ticks (detail/tick.hpp) to wall-clock nanoseconds, off the hot path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>
#include <memory>
#include <mutex>

#include "detail/tick.hpp"

namespace eventscope {

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

    // Lock-free: segments are written once, before the count that publishes them.
    std::int64_t to_unix_ns(tick t) const noexcept {
        std::size_t n = count_.load(std::memory_order_acquire);
        for (std::size_t i = n; i-- > 0;)
            if (t >= segments_[i].start_tick || i == 0) return segments_[i].convert(t);
        return segments_[0].convert(t);
    }

    double ns_per_tick() const noexcept { return segments_[count_.load(std::memory_order_acquire) - 1].ns_per_tick; }

    void refine() {
#ifdef EVENTSCOPE_HAS_TSC
        if (steady_ns() - last_refine_steady_ns_.load(std::memory_order_relaxed) < refine_every_ns) return;
        std::lock_guard lock(refine_mutex_);  // pipeline threads of several observers
        auto [t, steady] = paired_read();
        if (steady - last_refine_steady_ns_.load(std::memory_order_relaxed) < refine_every_ns) return;
        last_refine_steady_ns_.store(steady, std::memory_order_relaxed);
        std::size_t n = count_.load(std::memory_order_relaxed);
        if (n == max_segments) return;  // hours into the run: the rate estimate no longer improves measurably
        if (t <= anchor_tick_) return;
        segments_[n] = segment{t, segments_[n - 1].convert(t),
                               static_cast<double>(steady - anchor_steady_ns_) / static_cast<double>(t - anchor_tick_)};
        count_.store(n + 1, std::memory_order_release);
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
    static constexpr std::size_t max_segments = 4096;  // 5.7 hours of refinement

    tick_clock() : segments_(std::make_unique<segment[]>(max_segments)) {
        std::tie(anchor_tick_, anchor_steady_ns_) = paired_read();
        auto anchor_unix = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
        double rate = 1.0;
#ifdef EVENTSCOPE_HAS_TSC
        // A first estimate over ~5 ms (relative error ~1e-5) so that the earliest records convert sensibly.
        while (steady_ns() - anchor_steady_ns_ < 5'000'000) {
        }
        auto [t, steady] = paired_read();
        rate = static_cast<double>(steady - anchor_steady_ns_) / static_cast<double>(t - anchor_tick_);
#endif
        segments_[0] = segment{anchor_tick_, anchor_unix, rate};
        count_.store(1, std::memory_order_release);
        last_refine_steady_ns_.store(anchor_steady_ns_);
    }

    // A tick and a steady-clock reading taken at (nearly) the same instant: the tick is the midpoint of two
    // reads around the clock call, from the tightest of a few tries, so that a preemption between the two
    // reads (common on a loaded machine) cannot skew the rate.
    static std::pair<tick, std::int64_t> paired_read() noexcept {
        std::pair<tick, std::int64_t> best{};
        tick best_gap = std::numeric_limits<tick>::max();
        for (int attempt = 0; attempt < 8; ++attempt) {
            tick before = now_tick();
            std::int64_t steady = steady_ns();
            tick after = now_tick();
            if (after - before < best_gap) {
                best_gap = after - before;
                best = {before + (after - before) / 2, steady};
            }
        }
        return best;
    }

    static std::int64_t steady_ns() noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    tick anchor_tick_{};
    std::int64_t anchor_steady_ns_{};
    std::atomic<std::int64_t> last_refine_steady_ns_{0};
    std::unique_ptr<segment[]> segments_;
    std::atomic<std::size_t> count_{0};
    std::mutex refine_mutex_;
};

}  // namespace eventscope
