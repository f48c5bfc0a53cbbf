// Calibrating the conversion of hot-path ticks (detail/tick.hpp) to wall-clock nanoseconds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>
#include <mutex>

#include "detail/tick.hpp"
#include "detail/tick_map.hpp"

namespace eventscope {

// Maps ticks to Unix nanoseconds: pipeline threads stamp records with it, and scopes read its published mapping
// (detail/tick_map.hpp) for their ids, so an id's time is its row's created_at. The mapping is piecewise
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

    std::int64_t to_unix_ns(tick t) const noexcept { return map_.to_unix_ns(t); }

    double ns_per_tick() const noexcept { return map_.last().ns_per_tick; }

    void refine() {
#ifdef EVENTSCOPE_HAS_TSC
        if (steady_ns() - last_refine_steady_ns_.load(std::memory_order_relaxed) < refine_every_ns) return;
        std::lock_guard lock(refine_mutex_);  // pipeline threads of several observers
        auto [t, steady] = paired_read();
        if (steady - last_refine_steady_ns_.load(std::memory_order_relaxed) < refine_every_ns) return;
        last_refine_steady_ns_.store(steady, std::memory_order_relaxed);
        if (t <= anchor_tick_) return;
        // Full after 5.7 hours of refinement: by then the rate estimate no longer improves measurably.
        map_.append({t, map_.last().convert(t),
                     static_cast<double>(steady - anchor_steady_ns_) / static_cast<double>(t - anchor_tick_)});
#endif
    }

private:
    static constexpr std::int64_t refine_every_ns = 5'000'000'000;

    tick_clock() {
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
        map_.append({anchor_tick_, anchor_unix, rate});
        last_refine_steady_ns_.store(anchor_steady_ns_);
        detail::published_tick_map.store(&map_, std::memory_order_release);
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
    detail::tick_map map_;
    std::mutex refine_mutex_;
};

}  // namespace eventscope
