// The frontend: what scopes write into. A recorder owns the bounded ring and the few settings the scopes read;
// the backend that drains the ring (observer.hpp: pipeline and sinks) is reached only through function
// pointers it installed, so a file that opens scopes never sees Asio, a sink, or the sink's type.
//
// `basic_recorder<Level>` depends on the capture level only; `eventscope::recorder` is the build's level
// (policy.hpp). Every `observer<options<Sink, Level, N>>` is a `basic_recorder<Level>`: a detector function
// takes `eventscope::recorder&` whatever the observer writes to.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "detail/entry.hpp"
#include "detail/exception_cause.hpp"
#include "detail/mpsc_ring.hpp"
#include "invocation_options.hpp"
#include "policy.hpp"
#include "stats.hpp"

namespace eventscope {

template <capture Level> class basic_invocation;

namespace detail {

// The type of JSON values the scopes accept. A dependent name, so that nlohmann::json only needs to be
// complete where a scope member taking JSON is actually used (nlohmann/json_fwd.hpp suffices elsewhere).
template <capture Level>
struct json_of {
    using type = nlohmann::json;
};
template <capture Level>
using json_t = typename json_of<Level>::type;

// The run-time settings scopes read on the hot path (copied from `config` by the observer).
struct scope_settings {
    bool capture_job_options = true;
    bool capture_error_stacks = true;
    bool capture_console = false;
    bool record_running_jobs = true;
    bool replay = false;  // config.replay: detected() records the decision and answers false
    bool await_exception_causes = false;  // config.exception_cause_wait > 0 (full capture): exception_cause.hpp
};

// Entry points into the backend, installed by the observer that owns the recorder.
struct backend_hooks {
    void* context = nullptr;
    void (*wake)(void* context) noexcept = nullptr;
    // Reads the correlation ID (and source job) of an invocation, on the thread that asks first.
    void (*resolve)(void* context, invocation_seed& seed) noexcept = nullptr;
    // On the caller's thread, from a parsed payload it still holds (a `const nlohmann::json*`): a copy bounded
    // in depth and string size (full capture), or the correlation ID and the source members (metrics).
    void (*capture_payload)(void* context, invocation_seed& seed, const void* payload) = nullptr;
    pipeline_stats (*stats)(const void* context) = nullptr;
    // `through`: wait for the ring positions below it only (0: everything pushed so far).
    flush_result (*flush)(void* context, std::chrono::milliseconds timeout, std::size_t through) = nullptr;
};

struct recorder_core {
    explicit recorder_core(std::size_t capacity) : ring(capacity) {
        auto& live = live_recorder_registry();
        std::lock_guard lock(live.mutex);
        live.cores.push_back(this);
    }
    ~recorder_core() { retire_recorder(this); }
    recorder_core(const recorder_core&) = delete;
    recorder_core& operator=(const recorder_core&) = delete;

    mpsc_ring<entry> ring;
    scope_settings settings;
    backend_hooks hooks;
    std::size_t wake_mask = 63;        // look at the ring's fill every 64 pushes
    std::size_t wake_threshold = 100;  // wake the pipeline once a batch is waiting
    alignas(cache_line) std::atomic<std::uint64_t> dropped_full{0};
    alignas(cache_line) std::atomic<bool> wake_pending{false};
    cause_queue causes;  // exceptions handed over by catch sites (exception_cause.hpp)

    // Never blocks: a full ring refuses the entry and the drop is counted.
    bool push(const entry& e) noexcept {
        auto ticket = ring.try_emplace(e);
        if (!ticket) [[unlikely]] {
            dropped_full.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        auto& mine = last_push();
        mine.core = this;
        mine.end = *ticket + 1;
        if ((*ticket & wake_mask) == 0 && ring.size() >= wake_threshold) [[unlikely]]
            wake();
        return true;
    }
    // Where this thread's last accepted entry went (recorder::flush_mine): two stores per push.
    struct thread_push {
        const recorder_core* core = nullptr;
        std::size_t end = 0;  // its ring position + 1
    };
    static thread_push& last_push() noexcept {
        thread_local thread_push p;
        return p;
    }
    void wake() noexcept {
        if (wake_pending.exchange(true, std::memory_order_acq_rel)) return;
        hooks.wake(hooks.context);
    }
};

}  // namespace detail

template <capture Level>
class basic_recorder {
public:
    static constexpr capture capture_level = Level;
    using invocation_type = basic_invocation<Level>;

    basic_recorder(const basic_recorder&) = delete;
    basic_recorder& operator=(const basic_recorder&) = delete;

    // Opens the scope of one trigger delivery from its parsed payload. The payload is copied; it is read
    // (correlation ID, source fields) on the pipeline thread, or here when correlation_id() is asked first.
    // Never throws on a malformed payload: what could not be read is recorded with the invocation.
    invocation_type invocation(const detail::json_t<Level>& payload, std::string_view source_function) {
        return invocation(payload, source_function, invocation_options{});
    }
    invocation_type invocation(const detail::json_t<Level>& payload, std::string_view source_function, const invocation_options& opts) {
        if (!core_) return invocation_type();
        auto* seed = make_seed(source_function, opts);
        try {
            core_->hooks.capture_payload(core_->hooks.context, *seed, &payload);
        } catch (...) {
            seed->release();
            throw;
        }
        return invocation_type(core_, seed);
    }

    // The same from the raw request body: the caller only copies the bytes; invalid JSON is recorded as such.
    // The cheapest way in (see benchmarks/README.md, "Issue 12").
    invocation_type invocation_from_body(std::string_view body, std::string_view source_function) {
        return invocation_from_body(body, source_function, invocation_options{});
    }
    invocation_type invocation_from_body(std::string_view body, std::string_view source_function, const invocation_options& opts) {
        if (!core_) return invocation_type();
        auto* seed = make_seed(source_function, opts);
        seed->body.assign(body.data(), body.size());
        return invocation_type(core_, seed);
    }

    // Waits until everything recorded before the call is written by every sink, a batch has failed all its
    // attempts, or `timeout` passes; says what was not written.
    flush_result flush(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        return core_ ? core_->hooks.flush(core_->hooks.context, timeout, 0) : flush_result{};
    }
    // Waits only for what this thread recorded up to its last record, not for what other threads recorded since:
    // a server acknowledging one delivery once its records are stored. A scope ends after its children (on any
    // thread), so an invocation's end record, the last one its thread pushes, covers the whole delivery.
    flush_result flush_mine(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        if (!core_) return {};
        const auto& mine = detail::recorder_core::last_push();
        if (mine.core != core_) return {};  // nothing recorded here on this thread
        return core_->hooks.flush(core_->hooks.context, timeout, mine.end);
    }
    pipeline_stats stats() const { return core_ ? core_->hooks.stats(core_->hooks.context) : pipeline_stats{}; }
    bool enabled() const noexcept { return core_ != nullptr; }

protected:
    basic_recorder() noexcept = default;
    ~basic_recorder() { delete core_; }

    detail::recorder_core* core_ = nullptr;
    bool keep_payloads_ = true;  // full capture and config.capture_hasura_payload

private:
    detail::invocation_seed* make_seed(std::string_view source_function, const invocation_options& opts) {
        auto* seed = new detail::invocation_seed;
        seed->keep_payload = Level == capture::full && keep_payloads_;
        seed->source_function.assign(source_function.data(), source_function.size());
        seed->source_system = opts.source_system;
        seed->auto_load_modules = opts.auto_load_modules;
        seed->event_modules_directory = opts.event_modules_directory;
        seed->explicit_correlation_id = opts.correlation_id;
        seed->explicit_source_job_id = opts.source_job_id;
        seed->start_context = opts.context;
        return seed;
    }
};

// capture::off: nothing is kept, nothing runs; every member is an empty inline function.
template <>
class basic_recorder<capture::off> {
public:
    static constexpr capture capture_level = capture::off;
    using invocation_type = basic_invocation<capture::off>;

    basic_recorder(const basic_recorder&) = delete;
    basic_recorder& operator=(const basic_recorder&) = delete;

    template <class... A>
    constexpr invocation_type invocation(A&&...) const noexcept;
    template <class... A>
    constexpr invocation_type invocation_from_body(A&&...) const noexcept;
    constexpr flush_result flush() const noexcept { return {}; }
    template <class Duration>
    constexpr flush_result flush(Duration) const noexcept {
        return {};
    }
    template <class... Duration>
    constexpr flush_result flush_mine(Duration...) const noexcept {
        return {};
    }
    pipeline_stats stats() const { return {}; }
    constexpr bool enabled() const noexcept { return false; }

protected:
    constexpr basic_recorder() noexcept = default;
};

using recorder = basic_recorder<default_capture>;

}  // namespace eventscope
