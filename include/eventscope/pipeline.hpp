// The asynchronous half: a bounded ring the scopes push into, and a Boost.Asio context on its own thread that
// hands batches to the sink. The calling thread never waits on I/O and never takes a lock a sink holds.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange under C++20

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "config.hpp"
#include "detail/mpsc_ring.hpp"
#include "detail/stamp.hpp"
#include "records.hpp"
#include "sink.hpp"

namespace eventscope {

// Counters of one pipeline. At any quiescent moment recorded == written + dropped + pending.
struct pipeline_stats {
    std::uint64_t recorded = 0;        // records offered by scopes
    std::uint64_t written = 0;         // confirmed by the sink
    std::uint64_t dropped = 0;         // buffer_full + rejected + lost_at_shutdown
    std::uint64_t dropped_buffer_full = 0;
    std::uint64_t rejected = 0;        // refused by the sink for their content (dead-lettered)
    std::uint64_t lost_at_shutdown = 0;  // still unwritable when the pipeline was destroyed
    std::uint64_t retried = 0;         // write attempts repeated after a failure
    std::uint64_t failed_batches = 0;  // batches that failed every attempt (kept and retried later)
    std::uint64_t batches = 0;         // successful sink writes
    std::size_t queue_depth = 0;       // records in the ring
    std::size_t in_flight = 0;         // records taken from the ring, not yet confirmed
    std::string last_error;
    std::uint64_t pending() const noexcept { return queue_depth + in_flight; }
};

template <sink Sink>
class pipeline {
public:
    pipeline(Sink& sink, const config& cfg, std::size_t capacity)
        : sink_(sink),
          batch_size_(cfg.batch_size),
          flush_interval_(cfg.flush_interval),
          retry_attempts_(cfg.retry_attempts),
          retry_delay_(cfg.retry_delay),
          wake_mask_((std::bit_floor(cfg.batch_size) > 64 ? 64 : std::bit_floor(cfg.batch_size)) - 1),
          ring_(capacity),
          strand_(boost::asio::make_strand(io_)),
          flush_timer_(strand_),
          retry_timer_(strand_),
          work_(boost::asio::make_work_guard(io_)) {
        cfg.validate();
        tick_clock::instance();
        detail::warm_up_backtrace();
        inflight_.reserve(batch_size_);
        schedule_tick();
        thread_ = std::thread([this] { io_.run(); });
    }

    pipeline(const pipeline&) = delete;
    pipeline& operator=(const pipeline&) = delete;

    ~pipeline() { shutdown(); }

    // Never blocks: a full ring drops the record and counts it. Takes a record or one of its alternatives,
    // which is then built in its ring slot directly.
    template <class Record>
    bool push(Record&& r) noexcept {
        std::optional<std::size_t> ticket;
        if constexpr (std::is_same_v<std::decay_t<Record>, record>) ticket = ring_.try_emplace(std::forward<Record>(r));
        else ticket = ring_.try_emplace(std::in_place_type<std::decay_t<Record>>, std::forward<Record>(r));
        if (!ticket) {
            dropped_full_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        if ((*ticket & wake_mask_) == 0 && ring_.size() >= batch_size_) wake();
        return true;
    }

    // Blocks the caller (not a detector hot path) until every record pushed before the call is written, or a
    // batch has failed all its attempts, or the timeout passes. Returns whether everything was written.
    bool flush(std::chrono::milliseconds timeout = std::chrono::hours(24)) {
        if (std::this_thread::get_id() == thread_.get_id() || stopped_.load()) return false;
        auto done = std::make_shared<std::promise<bool>>();
        auto result = done->get_future();
        auto target = ring_.pushed();
        boost::asio::post(strand_, [this, done, target] {
            waiters_.push_back({target, done});
            drain();
        });
        if (result.wait_for(timeout) != std::future_status::ready) return false;
        return result.get();
    }

    // Drains what can be written, then stops the thread. Whatever could not be written is counted as lost.
    void shutdown() {
        if (stopped_.exchange(true)) return;
        auto done = std::make_shared<std::promise<bool>>();
        auto finished = done->get_future();
        boost::asio::post(strand_, [this, done] {
            stopping_ = true;
            waiters_.push_back({ring_.pushed(), done});
            drain();
        });
        finished.wait();
        boost::asio::post(strand_, [this] {
            flush_timer_.cancel();
            retry_timer_.cancel();
            work_.reset();
        });
        thread_.join();
        // Pushes that raced with shutdown: nobody will write them.
        record leftover;
        while (ring_.try_pop(leftover)) lost_at_shutdown_.fetch_add(1, std::memory_order_relaxed);
        lost_at_shutdown_.fetch_add(inflight_.size(), std::memory_order_relaxed);
        inflight_.clear();
        inflight_size_.store(0);
    }

    pipeline_stats stats() const {
        pipeline_stats s;
        // The pipeline thread moves records between the ring, the in-flight batch and the written count inside
        // an odd `accounting_` window: retry until a read saw none, so the counters agree with each other.
        for (;;) {
            auto before = accounting_.load(std::memory_order_seq_cst);
            if (before & 1) {
                std::this_thread::yield();
                continue;
            }
            // The sink's side first, so that a concurrent push can only make `recorded` larger, never smaller.
            s.written = written_.load(std::memory_order_seq_cst);
            s.rejected = rejected_.load(std::memory_order_seq_cst);
            s.lost_at_shutdown = lost_at_shutdown_.load(std::memory_order_seq_cst);
            s.in_flight = inflight_size_.load(std::memory_order_seq_cst);
            s.queue_depth = ring_.size();
            s.dropped_buffer_full = dropped_full_.load(std::memory_order_seq_cst);
            s.recorded = ring_.pushed() + s.dropped_buffer_full;
            if (accounting_.load(std::memory_order_seq_cst) == before) break;
        }
        s.dropped = s.dropped_buffer_full + s.rejected + s.lost_at_shutdown;
        s.retried = retried_.load(std::memory_order_relaxed);
        s.failed_batches = failed_batches_.load(std::memory_order_relaxed);
        s.batches = batches_.load(std::memory_order_relaxed);
        std::lock_guard lock(error_mutex_);
        s.last_error = last_error_;
        return s;
    }

    std::size_t capacity() const noexcept { return ring_.capacity(); }

private:
    struct flush_waiter {
        std::size_t target;
        std::shared_ptr<std::promise<bool>> done;
    };

    void wake() noexcept {
        if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
        try {
            boost::asio::post(strand_, [this] {
                wake_pending_.store(false, std::memory_order_release);
                drain();
            });
        } catch (...) {
            wake_pending_.store(false);  // the next timer tick drains instead
        }
    }

    void schedule_tick() {
        flush_timer_.expires_after(flush_interval_);
        flush_timer_.async_wait(boost::asio::bind_executor(strand_, [this](const boost::system::error_code& ec) {
            if (ec || stopping_) return;
            drain();
            schedule_tick();
        }));
    }

    // Runs on the strand only.
    void drain() {
        if (retry_scheduled_) return;  // the retry timer resumes the drain
        tick_clock::instance().refine();
        for (;;) {
            if (inflight_.empty()) {
                record r;
                for (;;) {
                    accounting_.fetch_add(1, std::memory_order_seq_cst);
                    bool taken = inflight_.size() < batch_size_ && ring_.try_pop(r);
                    if (taken) inflight_size_.store(inflight_.size() + 1, std::memory_order_seq_cst);
                    accounting_.fetch_add(1, std::memory_order_seq_cst);
                    if (!taken) break;
                    detail::stamp(r, tick_clock::instance(), invocations_);
                    inflight_.push_back(std::move(r));
                }
                if (inflight_.empty()) break;
            }
            if (!write_inflight()) return;
        }
        // Records whose slots were claimed but not yet published: look again shortly.
        if (!waiters_.empty() && ring_.popped() < waiters_.front().target) {
            boost::asio::post(strand_, [this] { drain(); });
            return;
        }
        complete_waiters(true);
    }

    // Returns true when the batch left (written or rejected); false when it failed and is kept or given up.
    bool write_inflight() {
        write_result result;
        try {
            result = sink_.write(std::span<record>(inflight_));
        } catch (const std::exception& e) {
            result = write_result::failure(std::string("sink threw: ") + e.what());
        } catch (...) {
            result = write_result::failure("sink threw a non-standard exception");
        }
        if (result.ok) {
            auto n = inflight_.size();
            accounting_.fetch_add(1, std::memory_order_seq_cst);
            rejected_.fetch_add(result.rejected, std::memory_order_seq_cst);
            written_.fetch_add(n - result.rejected, std::memory_order_seq_cst);
            inflight_size_.store(0, std::memory_order_seq_cst);
            accounting_.fetch_add(1, std::memory_order_seq_cst);
            batches_.fetch_add(1, std::memory_order_relaxed);
            inflight_.clear();
            attempt_ = 0;
            if (!result.error.empty()) set_error(result.error);
            return true;
        }
        set_error(result.error);
        if (attempt_ < retry_attempts_) {
            ++attempt_;
            retried_.fetch_add(1, std::memory_order_relaxed);
            retry_scheduled_ = true;
            retry_timer_.expires_after(retry_delay_);
            retry_timer_.async_wait(boost::asio::bind_executor(strand_, [this](const boost::system::error_code&) {
                retry_scheduled_ = false;
                drain();
            }));
            return false;
        }
        failed_batches_.fetch_add(1, std::memory_order_relaxed);
        attempt_ = 0;
        if (stopping_) {
            // The sink stays unavailable through shutdown: count everything that is left as lost, loudly.
            record r;
            std::size_t lost = 0;
            accounting_.fetch_add(1, std::memory_order_seq_cst);
            while (ring_.try_pop(r)) ++lost;
            lost += inflight_.size();
            lost_at_shutdown_.fetch_add(lost, std::memory_order_seq_cst);
            inflight_size_.store(0, std::memory_order_seq_cst);
            accounting_.fetch_add(1, std::memory_order_seq_cst);
            inflight_.clear();
            std::fprintf(stderr, "eventscope: %zu records lost at shutdown, the sink kept failing: %s\n", lost, result.error.c_str());
        }
        complete_waiters(false);
        return false;
    }

    void complete_waiters(bool drained) {
        for (auto& w : waiters_) w.done->set_value(drained);
        waiters_.clear();
    }

    void set_error(const std::string& message) {
        std::lock_guard lock(error_mutex_);
        last_error_ = message;
    }

    Sink& sink_;
    const std::size_t batch_size_;
    const std::chrono::milliseconds flush_interval_;
    const int retry_attempts_;
    const std::chrono::milliseconds retry_delay_;
    const std::size_t wake_mask_;
    detail::mpsc_ring<record> ring_;

    alignas(detail::cache_line) std::atomic<std::uint64_t> dropped_full_{0};
    alignas(detail::cache_line) std::atomic<bool> wake_pending_{false};
    alignas(detail::cache_line) std::atomic<std::uint64_t> written_{0};
    std::atomic<std::uint64_t> rejected_{0}, lost_at_shutdown_{0}, retried_{0}, failed_batches_{0}, batches_{0};
    std::atomic<std::size_t> inflight_size_{0};
    std::atomic<std::uint64_t> accounting_{0};  // odd while the pipeline thread moves records between counters
    std::atomic<bool> stopped_{false};

    // Pipeline-thread state.
    std::vector<record> inflight_;
    detail::invocation_index invocations_;
    std::vector<flush_waiter> waiters_;
    int attempt_ = 0;
    bool retry_scheduled_ = false;
    bool stopping_ = false;

    mutable std::mutex error_mutex_;  // only between the pipeline thread and stats() readers
    std::string last_error_;

    boost::asio::io_context io_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::steady_timer flush_timer_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

}  // namespace eventscope
