// The backend: a Boost.Asio context on its own thread drains the recorder's ring, turns entries into records
// (detail/convert.hpp) and hands them in batches to each sink. The calling threads never wait on I/O and
// never take a lock a sink holds.
//
// Each sink (one, or several with fanout.hpp) has a lane: its batch in flight, a backlog, its retries and its
// counters. The ring is drained while at least one lane has room; a lane without room misses the record and
// counts it (dropped_backlog). A plain sink's lane holds one batch, so while that sink fails the records wait
// in the ring, and the ring's overflow is counted at the push (dropped_buffer_full).
//
// Every wait has a deadline: flush(timeout) and shutdown(timeout) return what was not written.
//
// A scope left by an exception that nothing described yet (no throw capture) has its final record held in
// its lane for at most config.exception_cause_wait, until the catch site hands the exception over
// (detail/exception_cause.hpp); the records behind it wait with it, so that the sink sees them in order.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange under C++20

#include <algorithm>
#include <array>
#include <stdexcept>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "config.hpp"
#include "correlation.hpp"
#include "detail/clone.hpp"
#include "detail/convert.hpp"
#include "detail/entry.hpp"
#include "detail/exception_cause.hpp"
#include "detail/throw_state.hpp"
#include "fanout.hpp"
#include "records.hpp"
#include "recorder.hpp"
#include "sink.hpp"
#include "stats.hpp"

namespace eventscope {

namespace detail {

// What the pipeline asks of a sink beyond write(): optional members, used when present.
//   stats()      its own counters (postgres_sink: rows_spooled, rows_replayed, ... by name), merged into
//                stats().sinks[i] (spooled, replayed, own)
//   counters()   a range of (name, value) pairs, merged into stats().sinks[i].own
//   interrupt()  called from shutdown() when its deadline passes while a write is still running
template <class Sink>
void merge_sink_stats(const Sink& s, sink_stats& out) {
    if constexpr (requires { s.stats(); }) {
        auto st = s.stats();
#define EVENTSCOPE_SINK_COUNTER(member)                                                              \
    if constexpr (requires { st.member; }) out.own.emplace_back(#member, static_cast<std::uint64_t>(st.member));
        EVENTSCOPE_SINK_COUNTER(rows_written)
        EVENTSCOPE_SINK_COUNTER(rows_rejected)
        EVENTSCOPE_SINK_COUNTER(rows_spooled)
        EVENTSCOPE_SINK_COUNTER(rows_replayed)
        EVENTSCOPE_SINK_COUNTER(transactions)
        EVENTSCOPE_SINK_COUNTER(rows_copied_direct)
        EVENTSCOPE_SINK_COUNTER(direct_retries)
        EVENTSCOPE_SINK_COUNTER(connects)
        EVENTSCOPE_SINK_COUNTER(spool_bytes)
        EVENTSCOPE_SINK_COUNTER(pending_source_links)
#undef EVENTSCOPE_SINK_COUNTER
        if constexpr (requires { st.rows_spooled; }) out.spooled = static_cast<std::uint64_t>(st.rows_spooled);
        if constexpr (requires { st.rows_replayed; }) out.replayed = static_cast<std::uint64_t>(st.rows_replayed);
    }
    if constexpr (requires { s.counters(); })
        for (const auto& [name, value] : s.counters()) out.own.emplace_back(std::string(name), static_cast<std::uint64_t>(value));
}

// One sink's side of the pipeline. The pipeline-thread state is touched on the strand only; the counters are
// read by stats() from any thread.
struct lane {
    void* sink = nullptr;
    write_result (*write)(void* sink, std::span<record> batch) = nullptr;
    void (*merge_stats)(const void* sink, sink_stats& out) = nullptr;
    void (*interrupt)(void* sink) = nullptr;
    void (*idle)(void* sink) = nullptr;  // the sink's optional idle(): see schedule_tick
    std::string name;
    std::size_t room = 0;  // batch + backlog

    // Pipeline thread.
    std::vector<record> batch;
    std::deque<record> backlog;
    int attempt = 0;
    bool retry_scheduled = false;
    bool exhausted = false;  // failed every attempt; resumes at the next tick or flush
    bool given_up = false;   // shutting down and failed every attempt: the rest is lost
    std::unique_ptr<boost::asio::steady_timer> retry_timer;

    // Any thread.
    std::atomic<std::uint64_t> written{0}, rejected{0}, dropped_backlog{0}, lost{0}, handled{0};
    std::atomic<std::uint64_t> retried{0}, failed_batches{0}, batches{0}, last_write_ns{0};
    std::atomic<std::size_t> pending{0};
    mutable std::mutex error_mutex;
    std::string last_error;

    bool has_room() const noexcept { return !given_up && batch.size() + backlog.size() < room; }
    void set_error(const std::string& message) {
        std::lock_guard lock(error_mutex);
        last_error = message;
    }
};

inline const uuid& record_id(const record& r) noexcept {
    return std::visit([](const auto& x) -> const uuid& { return x.id; }, r);
}

// An exception as a catch site described it, its type demangled on the pipeline thread.
struct described_cause {
    std::string type;
    std::string message;
};

inline described_cause describe(exception_cause& cause) {
    return {cause.type ? demangle(cause.type->name()) : std::string("unknown exception"), std::move(cause.message)};
}

// The error a scope left by an exception recorded (its placeholder until a cause arrives).
inline error_info* exception_error_of(record& r) noexcept {
    return std::visit(
        [](auto& x) -> error_info* {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, invocation_record>) return x.error.get();
            else if constexpr (std::is_same_v<T, event_record>) return x.handler_error ? x.handler_error.get() : x.detection_error.get();
            else if constexpr (std::is_same_v<T, job_record>) return x.details ? x.details->error.get() : nullptr;
            else return nullptr;
        },
        r);
}

inline void apply_cause(record& r, const described_cause& cause) {
    if (auto* error = exception_error_of(r)) {
        error->type = cause.type;
        error->message = cause.message;
    }
}

template <class Sink>
std::string sink_name() {
    auto name = demangle(typeid(Sink).name());
    if (auto colon = name.rfind("::"); colon != std::string::npos && name.find('<') == std::string::npos) name = name.substr(colon + 2);
    return name;
}

}  // namespace detail

template <class Sink>
class pipeline {
    using members = detail::sink_members<Sink>;

public:
    pipeline(Sink& sink, detail::recorder_core& core, const config& cfg, const correlation_config& correlation, capture level)
        : core_(core),
          batch_size_(cfg.batch_size),
          max_batch_(std::max(cfg.batch_size, cfg.max_batch_size)),
          flush_interval_(cfg.flush_interval),
          retry_attempts_(cfg.retry_attempts),
          retry_delay_(cfg.retry_delay),
          shutdown_timeout_(cfg.shutdown_timeout),
          cause_wait_(cfg.exception_cause_wait),
          converter_(cfg, correlation),
          config_(cfg),
          correlation_(correlation),
          strand_(boost::asio::make_strand(io_)),
          flush_timer_(strand_),
          cause_timer_(strand_),
          work_(boost::asio::make_work_guard(io_)) {
        cfg.validate();
        tick_clock::instance();
        converter_.set_full_capture(level == capture::full);
        // A plain sink holds one batch (the ring is its backlog); the members of a fanout hold more, so that
        // one failing member does not stall the others.
        std::size_t backlog = members::size == 1 ? 0 : cfg.sink_backlog;
        make_lanes(sink, backlog, std::make_index_sequence<members::size>());
        core_.wake_mask = (std::bit_floor(cfg.batch_size) > 64 ? 64 : std::bit_floor(cfg.batch_size)) - 1;
        core_.wake_threshold = cfg.batch_size;
        core_.hooks.context = this;
        core_.hooks.wake = [](void* self) noexcept { static_cast<pipeline*>(self)->wake(); };
        core_.hooks.resolve = [](void* self, detail::invocation_seed& seed) noexcept {
            detail::resolve_seed(seed, static_cast<pipeline*>(self)->correlation_);
        };
        core_.hooks.capture_payload = [](void* self, detail::invocation_seed& seed, const void* payload) {
            auto* p = static_cast<pipeline*>(self);
            detail::capture_payload(seed, *static_cast<const nlohmann::json*>(payload), p->config_, p->correlation_);
        };
        core_.hooks.stats = [](const void* self) { return static_cast<const pipeline*>(self)->stats(); };
        core_.hooks.flush = [](void* self, std::chrono::milliseconds timeout, std::size_t through) {
            return static_cast<pipeline*>(self)->flush(timeout, through);
        };
        schedule_tick();
        thread_ = std::thread([this] { io_.run(); });
    }

    pipeline(const pipeline&) = delete;
    pipeline& operator=(const pipeline&) = delete;

    ~pipeline() {
        detail::retire_recorder(&core_);  // eventscope::caught() must not wake a pipeline that is going away
        shutdown(shutdown_timeout_);
        lose_ring();  // scopes that ended after the shutdown: counted, and what they own freed
        // The retry timers hold the strand: they go before the io_context does (found by ThreadSanitizer).
        for (auto& l : lanes_) l->retry_timer.reset();
    }

    // Blocks the caller (not a detector hot path) until every record recorded before the call is written by
    // every sink, or a batch has failed all its attempts, or the timeout passes.
    // `through` > 0: only the records below that ring position (recorder::flush_mine).
    flush_result flush(std::chrono::milliseconds timeout, std::size_t through = 0) {
        if (std::this_thread::get_id() == thread_.get_id() || stopped_.load()) return unwritten_since(core_.ring.pushed(), false);
        auto target = through ? std::min(through, core_.ring.pushed()) : core_.ring.pushed();
        // Already handled: answered here, since a write of later records holds the strand until it ends.
        if (through && min_handled() >= target) return {};
        auto done = std::make_shared<std::promise<bool>>();
        auto result = done->get_future();
        boost::asio::post(strand_, [this, done, target] {
            waiters_.push_back({target, losses(), done});
            resume_exhausted();
            drain();
        });
        if (result.wait_for(timeout) != std::future_status::ready) return unwritten_since(target, true);
        if (result.get()) return {};
        return unwritten_since(target, false);
    }

    // Writes what it can until `timeout`, then stops the thread. Whatever is still unwritten then is counted
    // as lost (lost_at_shutdown) and reported. A sink write already running when the deadline passes is
    // interrupted if the sink can be (an `interrupt()` member), else awaited (bounded by the sink's own timeouts).
    flush_result shutdown(std::chrono::milliseconds timeout) {
        if (stopped_.exchange(true)) return shutdown_result_;
        auto deadline = std::chrono::steady_clock::now() + timeout;
        auto target = core_.ring.pushed();
        auto done = std::make_shared<std::promise<bool>>();
        auto finished = done->get_future();
        boost::asio::post(strand_, [this, done, target, deadline] {
            stopping_ = true;
            deadline_ = deadline;
            waiters_.push_back({target, losses(), done});
            resume_exhausted();
            drain();
        });
        bool in_time = finished.wait_until(deadline) == std::future_status::ready;
        auto lost_before = lost_total();
        boost::asio::post(strand_, [this] { abort(); });
        if (!in_time) interrupt_sinks();
        thread_.join();
        // Pushes that raced with the end: nobody will write them.
        lose_ring();
        flush_result r;
        auto lost_now = lost_total();
        r.complete = in_time && finished.get() && lost_now == 0;
        r.timed_out = !in_time || deadline_passed_;
        r.unwritten = lost_now;
        r.last_error = last_error();
        (void)lost_before;
        shutdown_result_ = r;
        return r;
    }

    pipeline_stats stats() const {
        pipeline_stats s;
        s.capacity = core_.ring.capacity();
        s.sinks.resize(lanes_.size());
        // The pipeline thread moves records between the ring, the lanes and the written counts inside an odd
        // `accounting_` window: retry until a read saw none, so that the counters agree with each other.
        for (;;) {
            auto before = accounting_.load(std::memory_order_seq_cst);
            if (before & 1) {
                std::this_thread::yield();
                continue;
            }
            // The sinks' side first, so that a concurrent push can only make `recorded` larger, never smaller.
            for (std::size_t i = 0; i < lanes_.size(); ++i) {
                const auto& l = *lanes_[i];
                auto& o = s.sinks[i];
                o.written = l.written.load(std::memory_order_seq_cst);
                o.rejected = l.rejected.load(std::memory_order_seq_cst);
                o.dropped_backlog = l.dropped_backlog.load(std::memory_order_seq_cst);
                o.lost_at_shutdown = l.lost.load(std::memory_order_seq_cst);
                o.pending = l.pending.load(std::memory_order_seq_cst);
            }
            s.queue_depth = core_.ring.size();
            s.dropped_buffer_full = core_.dropped_full.load(std::memory_order_seq_cst);
            s.recorded = core_.ring.pushed() + s.dropped_buffer_full;
            if (accounting_.load(std::memory_order_seq_cst) == before) break;
        }
        for (std::size_t i = 0; i < lanes_.size(); ++i) {
            const auto& l = *lanes_[i];
            auto& o = s.sinks[i];
            o.name = l.name;
            o.retried = l.retried.load(std::memory_order_relaxed);
            o.failed_batches = l.failed_batches.load(std::memory_order_relaxed);
            o.batches = l.batches.load(std::memory_order_relaxed);
            o.last_write_ns = l.last_write_ns.load(std::memory_order_relaxed);
            {
                std::lock_guard lock(l.error_mutex);
                o.last_error = l.last_error;
            }
            if (l.merge_stats) l.merge_stats(l.sink, o);
        }
        const auto& first = s.sinks.front();
        s.written = first.written;
        s.rejected = first.rejected;
        s.lost_at_shutdown = first.lost_at_shutdown;
        s.dropped_backlog = first.dropped_backlog;
        s.dropped = s.dropped_buffer_full + first.dropped();
        s.in_flight = first.pending;
        s.retried = first.retried;
        s.failed_batches = first.failed_batches;
        s.batches = first.batches;
        s.spooled = first.spooled;
        s.replayed = first.replayed;
        s.last_write_ns = first.last_write_ns;
        s.last_error = first.last_error;
        for (const auto& o : s.sinks)
            if (s.last_error.empty()) s.last_error = o.last_error;
        s.correlation = converter_.counts();
        return s;
    }

    std::size_t capacity() const noexcept { return core_.ring.capacity(); }

private:
    struct flush_waiter {
        std::size_t target;
        std::uint64_t losses_at_start;
        std::shared_ptr<std::promise<bool>> done;
    };

    template <std::size_t... I>
    void make_lanes(Sink& sink, std::size_t backlog, std::index_sequence<I...>) {
        (add_lane(members::template get<I>(sink), backlog), ...);
    }
    template <class Member>
    void add_lane(Member& member, std::size_t backlog) {
        if (lanes_.size() == 64) throw std::invalid_argument("eventscope: a fanout holds at most 64 sinks");
        static_assert(eventscope::sink<Member>, "every sink must satisfy the sink concept (sink.hpp)");
        auto l = std::make_unique<detail::lane>();
        l->sink = &member;
        l->write = [](void* s, std::span<record> batch) { return static_cast<Member*>(s)->write(batch); };
        l->merge_stats = [](const void* s, sink_stats& out) { detail::merge_sink_stats(*static_cast<const Member*>(s), out); };
        if constexpr (requires(Member& m) { m.interrupt(); }) l->interrupt = [](void* s) { static_cast<Member*>(s)->interrupt(); };
        if constexpr (requires(Member& m) { m.idle(); }) l->idle = [](void* s) { static_cast<Member*>(s)->idle(); };
        l->name = detail::sink_name<Member>();
        // A plain sink may take up to max_batch_ records at once; a fanout member lags at most batch + backlog
        // behind the others (its batches grow within that).
        l->room = backlog == 0 ? max_batch_ : batch_size_ + backlog;
        l->batch.reserve(batch_size_);
        l->retry_timer = std::make_unique<boost::asio::steady_timer>(strand_);
        lanes_.push_back(std::move(l));
    }

    void wake() noexcept {
        try {
            boost::asio::post(strand_, [this] {
                core_.wake_pending.store(false, std::memory_order_release);
                drain();
            });
        } catch (...) {
            core_.wake_pending.store(false);  // the next timer tick drains instead
        }
    }

    void schedule_tick() {
        flush_timer_.expires_after(flush_interval_);
        flush_timer_.async_wait(boost::asio::bind_executor(strand_, [this](const boost::system::error_code& ec) {
            if (ec || aborted_) return;
            resume_exhausted();
            drain();
            // A sink with work of its own (the postgres sink's spool after an outage) does it when it has nothing
            // to write, instead of waiting for the next record.
            for (auto& l : lanes_)
                if (l->idle && l->batch.empty() && l->backlog.empty() && !l->retry_scheduled && !l->given_up && !stopping_) try {
                        l->idle(l->sink);
                    } catch (...) {
                        // Its next write, or the next tick, tries again.
                    }
            schedule_tick();
        }));
    }

    // A lane that failed all its attempts tries again at the next tick or flush (a new round of attempts).
    void resume_exhausted() {
        for (auto& l : lanes_)
            if (l->exhausted) {
                l->exhausted = false;
                l->retry_scheduled = false;
                l->retry_timer->cancel();
            }
    }

    bool any_room() const noexcept {
        for (const auto& l : lanes_)
            if (l->has_room()) return true;
        return false;
    }

    // Runs on the strand only. Under sustained load there is always more to drain: after a few rounds it lets
    // the other handlers run (a shutdown's abort, timers) and continues behind them.
    void drain() {
        if (aborted_) return;
        tick_clock::instance().refine();
        take_causes();
        for (int round = 0; round < 8; ++round) {
            bool progressed = fill();
            for (auto& l : lanes_) progressed = write_ready(*l) || progressed;
            complete_waiters();
            if (!progressed) {
                // Records whose slots were claimed but not yet published: look again shortly.
                if (!waiters_.empty() && any_room() && core_.ring.popped() < waiters_.front().target)
                    boost::asio::post(strand_, [this] { drain(); });
                return;
            }
        }
        boost::asio::post(strand_, [this] { drain(); });
    }

    // Moves entries from the ring into the lanes with room, as records. Entries leave the ring in chunks, each
    // inside one accounting window (a few atomic operations per chunk, not per record); a lane takes the first
    // records of a chunk up to its room and misses (counts) the rest.
    bool fill() {
        bool moved = false;
        for (std::size_t taken_now = 0; taken_now < std::max(4 * batch_size_, max_batch_);) {
            std::size_t limit = 0;
            for (const auto& l : lanes_)
                if (!l->given_up) limit = std::max(limit, l->room - std::min(l->room, l->batch.size() + l->backlog.size()));
            limit = std::min(limit, chunk_.size());
            if (limit == 0) break;
            std::size_t n = 0;
            accounting_.fetch_add(1, std::memory_order_seq_cst);
            while (n < limit && core_.ring.try_pop(chunk_[n])) ++n;
            for (std::size_t i = 0; i < lanes_.size() && n > 0; ++i) {
                auto& l = *lanes_[i];
                std::size_t room = l.given_up ? 0 : l.room - std::min(l.room, l.batch.size() + l.backlog.size());
                takes_[i] = std::min(n, room);
                if (takes_[i] > 0) l.pending.fetch_add(takes_[i], std::memory_order_seq_cst);
                if (n > takes_[i]) {
                    (l.given_up ? l.lost : l.dropped_backlog).fetch_add(n - takes_[i], std::memory_order_seq_cst);
                    l.handled.fetch_add(n - takes_[i], std::memory_order_seq_cst);
                }
            }
            accounting_.fetch_add(1, std::memory_order_seq_cst);
            if (n == 0) break;
            moved = true;
            taken_now += n;
            for (std::size_t j = 0; j < n; ++j) {
                std::uint64_t receivers = 0;  // bit i: lane i takes record j
                for (std::size_t i = 0; i < lanes_.size(); ++i)
                    if (j < takes_[i]) receivers |= std::uint64_t{1} << i;
                record r;  // converted even if no lane takes it: the invocation index must see every invocation
                bool awaits_cause = (chunk_[j].flags & detail::entry_awaits_cause) != 0 && cause_wait_.count() > 0;
                try {
                    converter_.convert(chunk_[j], r);
                    if (awaits_cause) awaits_cause = !take_early_cause(r);
                } catch (...) {
                    // Out of memory turning it into a record: it cannot be written; counted as refused.
                    reject_for(receivers);
                    continue;
                }
                if (awaits_cause && receivers != 0 && !stopping_) hold(detail::record_id(r));
                distribute(std::move(r), receivers);
            }
            if (n < limit) break;  // the ring is empty
        }
        return moved;
    }

    void distribute(record&& r, std::uint64_t receivers) {
        std::size_t last = lanes_.size();
        for (std::size_t i = lanes_.size(); i-- > 0;)
            if (receivers & (std::uint64_t{1} << i)) {
                last = i;
                break;
            }
        for (std::size_t i = 0; i < lanes_.size(); ++i) {
            if (!(receivers & (std::uint64_t{1} << i))) continue;
            if (i == last) lanes_[i]->backlog.push_back(std::move(r));
            else lanes_[i]->backlog.push_back(detail::clone(r));
        }
    }

    void reject_for(std::uint64_t receivers) {
        accounting_.fetch_add(1, std::memory_order_seq_cst);
        for (std::size_t i = 0; i < lanes_.size(); ++i)
            if (receivers & (std::uint64_t{1} << i)) {
                lanes_[i]->pending.fetch_sub(1, std::memory_order_seq_cst);
                lanes_[i]->rejected.fetch_add(1, std::memory_order_seq_cst);
                lanes_[i]->handled.fetch_add(1, std::memory_order_seq_cst);
            }
        accounting_.fetch_add(1, std::memory_order_seq_cst);
    }

    // Writes the lane's batch if it may write now; true when a batch left.
    bool write_ready(detail::lane& l) {
        if (l.retry_scheduled || l.given_up) return false;
        if (l.batch.empty()) {
            // Whatever waits, up to max_batch_: more than batch_size_ only when the sink has fallen behind.
            while (!l.backlog.empty() && l.batch.size() < max_batch_) {
                if (!held_.empty() && front_is_held(l)) break;
                l.batch.push_back(std::move(l.backlog.front()));
                l.backlog.pop_front();
            }
        }
        if (l.batch.empty()) return false;
        return write(l);
    }

    bool write(detail::lane& l) {
        write_result result;
        auto t0 = std::chrono::steady_clock::now();
        try {
            result = l.write(l.sink, std::span<record>(l.batch));
        } catch (const std::exception& e) {
            result = write_result::failure(std::string("sink threw: ") + e.what());
        } catch (...) {
            result = write_result::failure("sink threw a non-standard exception");
        }
        l.last_write_ns.store(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()),
                              std::memory_order_relaxed);
        if (result.ok) {
            auto n = l.batch.size();
            auto rejected = std::min(result.rejected, n);
            accounting_.fetch_add(1, std::memory_order_seq_cst);
            l.rejected.fetch_add(rejected, std::memory_order_seq_cst);
            l.written.fetch_add(n - rejected, std::memory_order_seq_cst);
            l.pending.fetch_sub(n, std::memory_order_seq_cst);
            l.handled.fetch_add(n, std::memory_order_seq_cst);
            accounting_.fetch_add(1, std::memory_order_seq_cst);
            l.batches.fetch_add(1, std::memory_order_relaxed);
            l.batch.clear();
            l.attempt = 0;
            if (!result.error.empty()) l.set_error(result.error);
            return true;
        }
        l.set_error(result.error);
        auto now = std::chrono::steady_clock::now();
        bool before_deadline = !stopping_ || now < deadline_;
        if (!before_deadline) deadline_passed_ = true;
        if (l.attempt < retry_attempts_ && before_deadline) {
            ++l.attempt;
            l.retried.fetch_add(1, std::memory_order_relaxed);
            l.retry_scheduled = true;
            auto delay = std::chrono::duration_cast<std::chrono::steady_clock::duration>(retry_delay_);
            if (stopping_) delay = std::min(delay, std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline_ - now));
            l.retry_timer->expires_after(delay);
            l.retry_timer->async_wait(boost::asio::bind_executor(strand_, [this, &l](const boost::system::error_code& ec) {
                if (ec || aborted_) return;
                l.retry_scheduled = false;
                drain();
            }));
            return false;
        }
        l.failed_batches.fetch_add(1, std::memory_order_relaxed);
        l.attempt = 0;
        if (stopping_) {
            // The sink stays unavailable through shutdown: everything it has left is lost, loudly.
            auto lost = give_up(l);
            std::fprintf(stderr, "eventscope: %s: %zu records lost at shutdown, the sink kept failing: %s\n", l.name.c_str(), lost,
                         result.error.c_str());
        } else {
            l.exhausted = true;
            l.retry_scheduled = true;  // until the next tick or flush
        }
        fail_waiters();
        return false;
    }

    // ---- exceptions described by their catch site (detail/exception_cause.hpp) ----

    void hold(const uuid& id) {
        held_.push_back({id, std::chrono::steady_clock::now() + cause_wait_});
        arm_cause_timer();
    }

    // Is the lane's next record one that waits for its cause? Not any more once the wait is over, at shutdown,
    // or when the lane fills up behind it (waiting must never cost a record).
    bool front_is_held(detail::lane& l) {
        auto& front = l.backlog.front();
        auto it = find_held(detail::record_id(front));
        // Not held, or the held scope's start record (only its final record carries the error).
        if (it == held_.end() || !detail::exception_error_of(front)) return false;
        if (stopping_ || std::chrono::steady_clock::now() >= it->until || 2 * (l.batch.size() + l.backlog.size()) >= l.room) {
            held_.erase(it);
            return false;
        }
        return true;
    }

    // A cause that came before its record (the record was still in the ring).
    bool take_early_cause(record& r) {
        if (early_causes_.empty()) return false;
        const uuid& id = detail::record_id(r);
        auto it = std::find_if(early_causes_.begin(), early_causes_.end(), [&](const early_cause& c) { return c.id == id; });
        if (it == early_causes_.end()) return false;
        detail::apply_cause(r, *it->cause);
        early_causes_.erase(it);
        return true;
    }

    void take_causes() {
        if (!core_.causes.waiting()) return;
        auto now = std::chrono::steady_clock::now();
        std::erase_if(early_causes_, [&](const early_cause& c) { return c.until <= now; });
        for (auto& cause : core_.causes.take()) {
            auto described = std::make_shared<const detail::described_cause>(detail::describe(cause));
            for (const auto& id : cause.scopes) {
                if (auto it = find_held(id); it != held_.end()) {
                    held_.erase(it);
                    for (auto& l : lanes_)
                        for (auto& r : l->backlog)
                            if (detail::record_id(r) == id && detail::exception_error_of(r)) {
                                detail::apply_cause(r, *described);
                                break;
                            }
                } else if (early_causes_.size() < max_early_causes) {
                    early_causes_.push_back({id, described, now + cause_wait_});
                }
            }
        }
    }

    auto find_held(const uuid& id) {
        return std::find_if(held_.begin(), held_.end(), [&](const held_record& h) { return h.id == id; });
    }

    // Wakes the pipeline when the first held record's wait is over, so that it leaves without new traffic.
    // held_ is appended in time order with one fixed wait and erased from without reordering: its front is
    // the earliest.
    void arm_cause_timer() {
        if (cause_timer_armed_ || held_.empty() || aborted_) return;
        cause_timer_armed_ = true;
        cause_timer_.expires_at(held_.front().until);
        cause_timer_.async_wait(boost::asio::bind_executor(strand_, [this](const boost::system::error_code& ec) {
            cause_timer_armed_ = false;
            if (ec || aborted_) return;
            auto now = std::chrono::steady_clock::now();
            std::erase_if(held_, [&](const held_record& h) { return h.until <= now; });
            drain();
            arm_cause_timer();
        }));
    }

    std::size_t give_up(detail::lane& l) {
        std::size_t lost = l.batch.size() + l.backlog.size();
        accounting_.fetch_add(1, std::memory_order_seq_cst);
        l.lost.fetch_add(lost, std::memory_order_seq_cst);
        l.pending.fetch_sub(lost, std::memory_order_seq_cst);
        l.handled.fetch_add(lost, std::memory_order_seq_cst);
        accounting_.fetch_add(1, std::memory_order_seq_cst);
        l.batch.clear();
        l.backlog.clear();
        l.given_up = true;
        return lost;
    }

    std::uint64_t min_handled() const noexcept {
        std::uint64_t m = ~std::uint64_t{0};
        for (const auto& l : lanes_) m = std::min(m, l->handled.load(std::memory_order_acquire));
        return m;
    }
    std::uint64_t losses() const noexcept {
        std::uint64_t n = core_.dropped_full.load(std::memory_order_relaxed);
        for (const auto& l : lanes_) n += l->dropped_backlog.load(std::memory_order_relaxed) + l->lost.load(std::memory_order_relaxed);
        return n;
    }
    std::uint64_t lost_total() const noexcept {
        std::uint64_t n = 0;
        for (const auto& l : lanes_) n += l->lost.load(std::memory_order_relaxed);
        return n;
    }

    void complete_waiters() {
        auto handled = min_handled();
        auto now_losses = losses();
        std::erase_if(waiters_, [&](const flush_waiter& w) {
            if (handled < w.target) return false;
            w.done->set_value(now_losses == w.losses_at_start);
            return true;
        });
    }
    void fail_waiters() {
        for (auto& w : waiters_) w.done->set_value(false);
        waiters_.clear();
    }

    flush_result unwritten_since(std::size_t target, bool timed_out) const {
        flush_result r;
        r.complete = false;
        r.timed_out = timed_out;
        auto handled = min_handled();
        r.unwritten = target > handled ? target - handled : 0;
        r.last_error = last_error();
        return r;
    }
    std::string last_error() const {
        for (const auto& l : lanes_) {
            std::lock_guard lock(l->error_mutex);
            if (!l->last_error.empty()) return l->last_error;
        }
        return {};
    }

    // The deadline passed (or everything was written): stop, and count what is left as lost.
    void abort() {
        aborted_ = true;
        flush_timer_.cancel();
        cause_timer_.cancel();
        for (auto& l : lanes_) {
            l->retry_timer->cancel();
            if (!l->given_up) {
                auto lost = give_up(*l);
                if (lost > 0)
                    std::fprintf(stderr, "eventscope: %s: %zu records not written before the shutdown deadline: %s\n", l->name.c_str(), lost,
                                 l->last_error.c_str());
            }
        }
        fail_waiters();
        work_.reset();
    }
    void interrupt_sinks() {
        for (auto& l : lanes_)
            if (l->interrupt) l->interrupt(l->sink);
    }
    void lose_ring() {
        detail::entry e;
        std::size_t n = 0;
        while (core_.ring.try_pop(e)) {
            detail::entry_converter::discard(e);
            ++n;
        }
        if (n == 0) return;
        accounting_.fetch_add(1, std::memory_order_seq_cst);
        for (auto& l : lanes_) {
            l->lost.fetch_add(n, std::memory_order_seq_cst);
            l->handled.fetch_add(n, std::memory_order_seq_cst);
        }
        accounting_.fetch_add(1, std::memory_order_seq_cst);
    }

    detail::recorder_core& core_;
    const std::size_t batch_size_;
    const std::size_t max_batch_;
    const std::chrono::milliseconds flush_interval_;
    const int retry_attempts_;
    const std::chrono::milliseconds retry_delay_;
    const std::chrono::milliseconds shutdown_timeout_;
    const std::chrono::milliseconds cause_wait_;
    detail::entry_converter converter_;
    const config& config_;
    const correlation_config& correlation_;

    std::vector<std::unique_ptr<detail::lane>> lanes_;
    std::array<detail::entry, 64> chunk_;  // pipeline thread: entries taken from the ring, not yet converted
    std::array<std::size_t, 64> takes_{};  // per lane: how many of the chunk's records it takes
    alignas(detail::cache_line) std::atomic<std::uint64_t> accounting_{0};  // odd while records move between counters
    std::atomic<bool> stopped_{false};
    flush_result shutdown_result_;

    // Pipeline-thread state.
    std::vector<flush_waiter> waiters_;
    bool stopping_ = false;
    bool aborted_ = false;
    bool deadline_passed_ = false;  // a sink gave up because shutdown's deadline passed (read after join)
    std::chrono::steady_clock::time_point deadline_{};
    struct held_record {
        uuid id;
        std::chrono::steady_clock::time_point until;
    };
    struct early_cause {
        uuid id;
        std::shared_ptr<const detail::described_cause> cause;
        std::chrono::steady_clock::time_point until;
    };
    static constexpr std::size_t max_early_causes = 4096;
    std::vector<held_record> held_;          // final records waiting in their lanes for their cause
    std::vector<early_cause> early_causes_;  // causes waiting for their record
    bool cause_timer_armed_ = false;

    boost::asio::io_context io_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::steady_timer flush_timer_;
    boost::asio::steady_timer cause_timer_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

}  // namespace eventscope
