// RAII scopes for invocation -> event detection -> job. A scope owns its state (never a map keyed by
// correlation ID), pushes a compact entry when it starts and when it ends, becomes `failed` when left by an
// exception, and adds itself to its parent's counts. Children may run on other threads; parents must outlive
// their children.
//
// The scope types depend on the capture level only (`basic_job<capture::full>`, or `eventscope::job` at the
// build's level), not on the sink: a function taking `eventscope::job&` works whatever the records are
// written to. `capture::off` scopes are empty types whose members do nothing.
#pragma once

#include <algorithm>
#include <atomic>
#include <cxxabi.h>
#include <exception>
#include <mutex>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>

#include "correlation_id.hpp"
#include "detail/entry.hpp"
#include "detail/exception_cause.hpp"
#include "detail/log_target.hpp"
#include "detail/throw_state.hpp"
#include "detail/tick.hpp"
#include "detail/unwinding.hpp"
#include "policy.hpp"
#include "recorder.hpp"
#include "status.hpp"
#include "uuid.hpp"

namespace eventscope {

template <capture Level> class basic_invocation;
template <capture Level> class basic_event;
template <capture Level> class basic_job;

namespace detail {

inline const char* const no_throw_capture_message =
    "exception type and message not captured: no catch block reported it (call eventscope::caught() where it is "
    "caught, or include <eventscope/throw_capture.hpp> in one source file)";

// Tells whether a scope is left by an exception and, with the opt-in throw capture, which one.
template <bool Full>
class exit_watch {
public:
    exit_watch() noexcept : uncaught_(uncaught_exceptions()) {
        if constexpr (Full)
            if (throw_capture_installed().load(std::memory_order_relaxed)) sequence_ = thread_throw_state().sequence;
    }
    bool unwinding() const noexcept { return uncaught_exceptions() > uncaught_; }

    // The error of a scope left by an exception (full capture).
    std::unique_ptr<error_note> error(bool with_stack) const {
        auto note = std::make_unique<error_note>();
        if (!throw_capture_installed().load(std::memory_order_relaxed)) {
            note->type = "unknown exception";
            note->message = no_throw_capture_message;
            note->cause_unknown = true;
            return note;
        }
        auto& state = thread_throw_state();
        if (state.sequence > sequence_ && state.type) {
            note->thrown_type = state.type;
            note->message = state.message;
            if (with_stack) note->frames.assign(state.frames, state.frames + state.frame_count);
        } else {
            note->type = "unknown exception";
            note->message = "exception details not captured (rethrown from another thread or std::rethrow_exception)";
            note->cause_unknown = true;
        }
        return note;
    }

private:
    int uncaught_;
    std::uint64_t sequence_ = 0;
};

inline std::unique_ptr<error_note> explicit_error(std::string type, std::string message) {
    auto e = std::make_unique<error_note>();
    e->type = std::move(type);
    e->message = std::move(message);
    return e;
}

inline std::unique_ptr<error_note> error_of(const std::exception& caught) {
    auto e = std::make_unique<error_note>();
    e->thrown_type = &typeid(caught);
    e->message = caught.what();
    return e;
}

inline void store_pointer(uuid& bytes, const void* p) noexcept { std::memcpy(bytes.bytes.data(), &p, sizeof p); }

// A scope left by an exception nothing described: its final entry waits (on the pipeline) for the catch site.
inline void await_cause(recorder_core* core, const error_note* note, entry& e) noexcept {
    if (!note || !note->cause_unknown || !core->settings.await_exception_causes) return;
    e.flags = static_cast<std::uint8_t>(e.flags | entry_awaits_cause);
    note_unwound(core, e.id);
}

// Hands the exception being handled, named by its type and message, to the scopes it left on this thread
// (exception_cause.hpp). `live` is a recorder known to be alive (a scope's), or null when only the registry can tell.
inline void hand_over_cause(recorder_core* live, const std::type_info* type, const char* message) noexcept {
    auto& u = thread_unwound();
    if (u.count == 0) return;
    const recorder_core* target = u.core;
    std::uint32_t count = u.count;
    u.count = 0;
    try {
        exception_cause cause;
        cause.scopes.assign(u.ids, u.ids + count);
        cause.type = type;
        if (message) cause.message = message;
        if (live && live == target) {
            live->causes.add(std::move(cause));
            live->wake();  // the rows waiting for it can leave now
            return;
        }
        auto& registry = live_recorder_registry();
        std::lock_guard lock(registry.mutex);  // the recorder cannot be destroyed while this is held
        if (std::find(registry.cores.begin(), registry.cores.end(), target) != registry.cores.end()) {
            auto* core = const_cast<recorder_core*>(target);
            core->causes.add(std::move(cause));
            core->wake();
        }
    } catch (...) {
        // Out of memory describing a failure: the rows keep "not captured".
    }
}

}  // namespace detail

// In a catch block: tells the scopes that the exception being handled left on this thread (and that are
// recorded `failed`) its type and message, without the opt-in throw capture. Cheap when no scope waits;
// harmless outside a catch block or when every scope was described already.
//   try { EVENTSCOPE_JOB(ev, job, "charge"); charge(card); } catch (const std::exception& e) { eventscope::caught(e); ... }
inline void caught(const std::exception& handled) noexcept {
    if (detail::thread_unwound().count == 0) return;
    const char* what = nullptr;
    try {
        what = handled.what();
    } catch (...) {
    }
    detail::hand_over_cause(nullptr, &typeid(handled), what);
}
// The same for any exception type. Named here, on the catching thread, not on the pipeline thread: what() may
// build its text on first use (boost::system::system_error does), and the catch block may be calling it at the
// same time. The rethrow that tells a std::exception apart costs the failure path about one more throw
// (benchmarks/README.md).
inline void caught() noexcept {
    auto& unwound = detail::thread_unwound();
    if (unwound.count == 0) return;
    auto handled = std::current_exception();
    if (!handled) {  // not in a catch block: whatever left those scopes was handled without a word
        unwound.count = 0;
        return;
    }
    try {
        std::rethrow_exception(handled);
    } catch (const std::exception& e) {
        caught(e);
    } catch (...) {
        detail::hand_over_cause(nullptr, abi::__cxa_current_exception_type(), detail::not_a_std_exception);
    }
}

// ---- metrics and full ---------------------------------------------------------------------------------------

template <capture Level>
class basic_invocation {
    static_assert(Level != capture::off);
    static constexpr bool full = Level == capture::full;

public:
    // The scope of a disabled observer (config.enabled = false): records nothing.
    basic_invocation() noexcept = default;

    basic_invocation(detail::recorder_core* core, detail::invocation_seed* seed) noexcept
        : core_(core), seed_(seed), started_(now_tick()) {
        id_ = new_uuid_at(started_);
        detail::entry e;
        e.kind = detail::entry_kind::invocation_start;
        e.status = static_cast<std::uint8_t>(run_status::running);
        e.flags = 0;
        e.id = id_;
        e.t0 = started_;
        e.t1 = 0;
        e.extra = seed_;
        seed_->retain();
        if (!core_->push(e)) seed_->release();  // parents first: the row exists before any child's
    }
    basic_invocation(const basic_invocation&) = delete;
    basic_invocation& operator=(const basic_invocation&) = delete;

    ~basic_invocation() {
        if (!core_) return;
        detail::entry e;
        e.kind = detail::entry_kind::invocation_end;
        e.status = static_cast<std::uint8_t>(run_status::completed);
        e.flags = 0;
        e.id = id_;
        e.t0 = started_;
        e.t1 = now_tick();
        detail::store_in(e.parent, detail::invocation_end_data{events_detected_.load(std::memory_order_relaxed),
                                                               jobs_succeeded_.load(std::memory_order_relaxed),
                                                               jobs_failed_.load(std::memory_order_relaxed), 0});
        try {
            if (watch_.unwinding()) {
                e.status = static_cast<std::uint8_t>(run_status::failed);
                if constexpr (full) {
                    extras().error = watch_.error(core_->settings.capture_error_stacks);
                    detail::await_cause(core_, extras_->error.get(), e);
                }
            } else if (failed_) {
                e.status = static_cast<std::uint8_t>(run_status::failed);
            }
        } catch (...) {
            // Out of memory while describing the failure: the row still goes out with its status.
        }
        detail::invocation_extras* extras = extras_.release();
        detail::store_pointer(e.invocation, extras);
        e.extra = seed_;  // the scope's reference moves to the entry
        if (!core_->push(e)) {
            seed_->release();
            delete extras;
        }
    }

    basic_event<Level> event(name_arg event_name) { return basic_event<Level>(this, event_name); }

    const uuid& id() const noexcept { return id_; }
    // Read from the payload on first use (here, or on the pipeline thread if it got there first).
    std::string_view correlation_id() const noexcept {
        if (!resolve()) return {};
        return seed_->correlation_id;
    }
    correlation_source correlation_from() const noexcept { return resolve() ? seed_->correlation_from : correlation_source::generated; }
    std::optional<uuid> source_job_id() const noexcept { return resolve() ? seed_->source_job_id : std::nullopt; }
    std::string_view source_function() const noexcept { return seed_ ? std::string_view(seed_->source_function) : std::string_view(); }

    // Free-form context stored in `context_data` (full capture only).
    void set_context(std::string_view key, const detail::json_t<Level>& value) {
        if constexpr (full)
            if (core_) extras().context.emplace_back(std::string(key), detail::json_box::make(value));
    }
    void set_context(std::string_view key, detail::json_t<Level>&& value) {
        if constexpr (full)
            if (core_) extras().context.emplace_back(std::string(key), detail::json_box::make(std::move(value)));
    }

    // Marks the invocation failed without an exception (or with one caught in a catch block).
    void fail(std::string message) {
        failed_ = true;
        if constexpr (full)
            if (core_) extras().error = detail::explicit_error("failure", std::move(message));
    }
    void fail(const std::exception& caught) {
        failed_ = true;
        if constexpr (full) {
            if (core_) {
                extras().error = detail::error_of(caught);
                detail::hand_over_cause(core_, &typeid(caught), caught.what());  // to the scopes it left
            }
        }
    }

private:
    friend class basic_event<Level>;
    friend class basic_job<Level>;

    bool resolve() const noexcept {
        if (!seed_) return false;
        if (!seed_->resolved()) seed_->resolve_once([this](detail::invocation_seed& s) { core_->hooks.resolve(core_->hooks.context, s); });
        return true;
    }
    detail::invocation_extras& extras() {
        if (!extras_) extras_ = std::make_unique<detail::invocation_extras>();
        return *extras_;
    }

    detail::recorder_core* core_ = nullptr;
    detail::invocation_seed* seed_ = nullptr;
    uuid id_;
    tick started_ = 0;
    detail::exit_watch<full> watch_;
    std::atomic<std::int32_t> events_detected_{0}, jobs_succeeded_{0}, jobs_failed_{0};
    bool failed_ = false;
    std::unique_ptr<detail::invocation_extras> extras_;
};

template <capture Level>
class basic_event {
    static_assert(Level != capture::off);
    static constexpr bool full = Level == capture::full;

public:
    basic_event(basic_invocation<Level>* parent, name_arg event_name)
        : parent_(parent), core_(parent->core_),
          name_(core_ ? detail::scope_name(event_name.data, event_name.size, event_name.is_static) : detail::scope_name()),
          started_(now_tick()) {
        if (!core_) return;
        id_ = new_uuid_at(started_);
        push(detail::entry_kind::event_start, event_status::detecting, name_.share());
    }
    basic_event(const basic_event&) = delete;
    basic_event& operator=(const basic_event&) = delete;

    ~basic_event() {
        if (!core_) return;
        std::int32_t succeeded = jobs_succeeded_.load(std::memory_order_relaxed), failed = jobs_failed_.load(std::memory_order_relaxed);
        // The invocation's totals are the sum of its events': added once per event, not once per job.
        if (succeeded + failed > 0) {
            parent_->jobs_succeeded_.fetch_add(succeeded, std::memory_order_relaxed);
            parent_->jobs_failed_.fetch_add(failed, std::memory_order_relaxed);
        }
        bool in_handler = detected_at_ != 0 && detected_;
        event_status status = event_status::not_detected;
        if (watch_.unwinding()) {
            status = in_handler ? event_status::handler_failed : event_status::detection_failed;
            if constexpr (full) {
                try {
                    (in_handler ? extras().handler_error : extras().detection_error) = watch_.error(core_->settings.capture_error_stacks);
                } catch (...) {
                }
            }
        } else if (in_handler) {
            status = failed > 0 ? event_status::failed : event_status::completed;
        }
        detail::entry e = make(detail::entry_kind::event_end, status);
        if constexpr (full)
            if (extras_) detail::await_cause(core_, (in_handler ? extras_->handler_error : extras_->detection_error).get(), e);
        detail::store_in(e.invocation, detail::event_end_data{now_tick(), succeeded, failed});
        e.name = name_.data();
        e.extra = extras_.release();
        auto* name_ref = name_.share();  // taken before the push: the pipeline may release it at once
        if (!core_->push(e)) {
            delete static_cast<detail::event_extras*>(e.extra);
            detail::scope_name::undo(name_ref);
        }
    }

    // Ends the detection phase; the handler phase runs from here to the end of the scope. Returns `yes` so it
    // reads naturally: `if (ev.detected(order_was_shipped(payload))) { ... jobs ... }`.
    bool detected(bool yes) {
        if (!core_) return yes;
        if (detected_at_ == 0) {
            detected_at_ = now_tick();
            detected_ = yes;
            if (yes) {
                parent_->events_detected_.fetch_add(1, std::memory_order_relaxed);
                push(detail::entry_kind::event_detected, event_status::handling, name_.share());
            }
        }
        return core_->settings.replay ? false : yes;  // a replay records the decision and runs no job
    }

    // Where EVENTSCOPE_DETECT and eventscope::detection (detect.hpp) record clauses; null when recording is off.
    std::vector<clause_result>* clause_results() { return core_ ? &extras().clauses : nullptr; }

    basic_job<Level> job(name_arg job_name) { return basic_job<Level>(this, job_name); }
    basic_job<Level> job(name_arg job_name, std::initializer_list<field> options) { return basic_job<Level>(this, job_name, options); }
    basic_job<Level> job(name_arg job_name, const detail::json_t<Level>& options) { return basic_job<Level>(this, job_name, options); }

    void set_module_path(std::string path) {
        if constexpr (full)
            if (core_) extras().module_path = std::move(path);
    }

    const uuid& id() const noexcept { return id_; }
    std::string_view correlation_id() const noexcept { return parent_->correlation_id(); }
    basic_invocation<Level>& invocation() const noexcept { return *parent_; }

private:
    friend class basic_job<Level>;

    detail::entry make(detail::entry_kind kind, event_status status) const noexcept {
        detail::entry e;
        e.kind = kind;
        e.status = static_cast<std::uint8_t>(status);
        e.flags = static_cast<std::uint8_t>((detected_ ? detail::entry_detected : 0) | (name_.owner() ? detail::entry_name_shared : 0));
        e.level = 0;
        e.name_size = name_.size();
        e.id = id_;
        e.parent = parent_->id_;
        e.invocation = uuid{};
        e.t0 = started_;
        e.t1 = detected_at_;
        e.name = name_.data();
        e.extra = nullptr;
        return e;
    }
    void push(detail::entry_kind kind, event_status status, detail::shared_text* name_ref) noexcept {
        if (!core_->push(make(kind, status))) detail::scope_name::undo(name_ref);
    }
    void job_finished(bool failed) noexcept { (failed ? jobs_failed_ : jobs_succeeded_).fetch_add(1, std::memory_order_relaxed); }
    detail::event_extras& extras() {
        if (!extras_) extras_ = std::make_unique<detail::event_extras>();
        return *extras_;
    }

    basic_invocation<Level>* parent_;
    detail::recorder_core* core_;
    detail::scope_name name_;
    uuid id_;
    tick started_;
    tick detected_at_ = 0;
    bool detected_ = false;
    detail::exit_watch<full> watch_;
    std::atomic<std::int32_t> jobs_succeeded_{0}, jobs_failed_{0};
    std::unique_ptr<detail::event_extras> extras_;
};

template <capture Level>
class basic_job {
    static_assert(Level != capture::off);
    static constexpr bool full = Level == capture::full;

public:
    basic_job(basic_event<Level>* parent, name_arg job_name)
        : parent_(parent), core_(parent->core_),
          name_(core_ ? detail::scope_name(job_name.data, job_name.size, job_name.is_static) : detail::scope_name()),
          started_(now_tick()) {
        if (!core_) return;
        id_ = new_uuid_at(started_);
        start();
    }
    basic_job(basic_event<Level>* parent, name_arg job_name, std::initializer_list<field> options)
        : parent_(parent), core_(parent->core_),
          name_(core_ ? detail::scope_name(job_name.data, job_name.size, job_name.is_static) : detail::scope_name()),
          started_(now_tick()) {
        if (!core_) return;
        id_ = new_uuid_at(started_);
        if constexpr (full)
            if (options.size() > 0 && core_->settings.capture_job_options) extras().options.set(options);
        start();
    }
    basic_job(basic_event<Level>* parent, name_arg job_name, const detail::json_t<Level>& options)
        : parent_(parent), core_(parent->core_),
          name_(core_ ? detail::scope_name(job_name.data, job_name.size, job_name.is_static) : detail::scope_name()),
          started_(now_tick()) {
        if (!core_) return;
        id_ = new_uuid_at(started_);
        if constexpr (full)
            if (!options.is_null() && core_->settings.capture_job_options) extras().options.set(options);
        start();
    }
    basic_job(const basic_job&) = delete;
    basic_job& operator=(const basic_job&) = delete;

    ~basic_job() {
        if (!core_) return;
        if constexpr (full) {
            if (console_) {
                for (std::size_t i = 0; i < console_->partial.size(); ++i)
                    if (!console_->partial[i].empty()) log(i == 1 ? log_level::error : log_level::info, std::move(console_->partial[i]));
                detail::current_log_target() = previous_console_;
            }
        }
        run_status status = run_status::completed;
        if (watch_.unwinding()) {
            status = run_status::failed;
            if constexpr (full) {
                try {
                    extras().error = watch_.error(core_->settings.capture_error_stacks);
                } catch (...) {
                }
            }
        } else if (failed_) {
            status = run_status::failed;
        }
        detail::entry e = make(detail::entry_kind::job_end, status);
        if constexpr (full)
            if (extras_) detail::await_cause(core_, extras_->error.get(), e);
        e.t1 = now_tick();
        e.extra = extras_.release();
        parent_->job_finished(status == run_status::failed);
        auto* name_ref = name_.share();  // taken before the push: the pipeline may release it at once
        if (!core_->push(e)) {
            delete static_cast<detail::job_extras*>(e.extra);
            detail::scope_name::undo(name_ref);
        }
    }

    const uuid& id() const noexcept { return id_; }
    std::string_view correlation_id() const noexcept { return parent_->parent_->correlation_id(); }

    // What this job writes into `updated_by` so that the invocation its write causes links back to it.
    std::string tracking_token() const {
        if (!core_) return std::string(correlation_id());
        return make_tracking_token(parent_->parent_->source_function(), correlation_id(), id_);
    }

    // The job's result (full capture): a flat `{{"key", value}, ...}` is kept without building a JSON object on
    // this thread; any other JSON is copied or moved as is.
    void set_result(std::initializer_list<field> result) {
        if constexpr (full)
            if (core_) extras().result.set(result);
    }
    void set_result(const detail::json_t<Level>& result) {
        if constexpr (full)
            if (core_) extras().result.set(result);
    }
    void set_result(detail::json_t<Level>&& result) {
        if constexpr (full)
            if (core_) extras().result.set(std::move(result));
    }
    void set_options(std::initializer_list<field> options) {
        if constexpr (full)
            if (core_ && core_->settings.capture_job_options) extras().options.set(options);
    }
    void set_options(const detail::json_t<Level>& options) {
        if constexpr (full)
            if (core_ && core_->settings.capture_job_options) extras().options.set(options);
    }
    void set_function_name(std::string function_name) {
        if constexpr (full)
            if (core_) extras().function_name = std::move(function_name);
    }

    // Marks the job failed without an exception, or with one caught in a catch block (type and message kept).
    void fail(std::string message, std::string type = "job_failure") {
        failed_ = true;
        if constexpr (full)
            if (core_) extras().error = detail::explicit_error(std::move(type), std::move(message));
    }
    void fail(const std::exception& caught) {
        failed_ = true;
        if constexpr (full) {
            if (core_) {
                extras().error = detail::error_of(caught);
                detail::hand_over_cause(core_, &typeid(caught), caught.what());  // to the scopes it left
            }
        }
    }

    // One log line of this job, written to job_logs (full capture only).
    void log(log_level level, std::string message) {
        if constexpr (full)
            if (core_) push_log(level, std::move(message), detail::json_box());
    }
    void log(log_level level, std::string message, const detail::json_t<Level>& data) {
        if constexpr (full)
            if (core_) push_log(level, std::move(message), data.is_null() ? detail::json_box() : detail::json_box::make(data));
    }

private:
    void start() {
        if constexpr (full) {
            if (core_->settings.capture_console) {
                console_ = std::make_unique<detail::log_target>();
                console_->context = this;
                console_->emit = [](void* self, log_level level, std::string_view line) {
                    static_cast<basic_job*>(self)->log(level, std::string(line));
                };
                previous_console_ = detail::current_log_target();
                detail::current_log_target() = console_.get();
            }
        }
        if (core_->settings.record_running_jobs) push_start();
    }

    // The job's `running` row, so that a long job shows while it runs.
    void push_start() noexcept {
        start_pushed_ = true;
        auto* name_ref = name_.share();
        if (!core_->push(make(detail::entry_kind::job_start, run_status::running))) detail::scope_name::undo(name_ref);
    }

    void push_log(log_level level, std::string message, detail::json_box data) {
        if (!start_pushed_) push_start();  // a log line's row needs its job's row first
        auto* extra = new detail::log_extras{std::move(message), std::move(data)};
        detail::entry e;
        e.kind = detail::entry_kind::job_log;
        e.status = 0;
        e.flags = 0;
        e.level = static_cast<std::uint8_t>(level);
        e.name_size = 0;
        e.t0 = now_tick();
        e.id = new_uuid_at(e.t0);
        e.parent = id_;
        e.invocation = parent_->parent_->id_;
        e.t1 = 0;
        e.name = nullptr;
        e.extra = extra;
        if (!core_->push(e)) delete extra;
    }

    detail::entry make(detail::entry_kind kind, run_status status) const noexcept {
        detail::entry e;
        e.kind = kind;
        e.status = static_cast<std::uint8_t>(status);
        e.flags = name_.owner() ? detail::entry_name_shared : 0;
        e.level = 0;
        e.name_size = name_.size();
        e.id = id_;
        e.parent = parent_->id_;
        e.invocation = parent_->parent_->id_;
        e.t0 = started_;
        e.t1 = 0;
        e.name = name_.data();
        e.extra = nullptr;
        return e;
    }

    detail::job_extras& extras() {
        if (!extras_) extras_.reset(new detail::job_extras);  // default-initialized: no zeroing of its in-place buffers
        return *extras_;
    }

    basic_event<Level>* parent_;
    detail::recorder_core* core_;
    detail::scope_name name_;
    uuid id_;
    tick started_;
    detail::exit_watch<full> watch_;
    bool failed_ = false;
    bool start_pushed_ = false;
    std::unique_ptr<detail::job_extras> extras_;
    std::unique_ptr<detail::log_target> console_;  // only when console capture is on
    detail::log_target* previous_console_ = nullptr;
};

// ---- capture::off: empty types, every member an inline no-op ---------------------------------------------------

template <>
class basic_job<capture::off> {
public:
    constexpr const uuid& id() const noexcept { return nil_; }
    constexpr std::string_view correlation_id() const noexcept { return {}; }
    std::string tracking_token() const { return {}; }
    template <class T> constexpr void set_result(T&&) const noexcept {}
    constexpr void set_result(std::initializer_list<field>) const noexcept {}
    constexpr void set_result(const detail::json_t<capture::off>&) const noexcept {}
    template <class T> constexpr void set_options(T&&) const noexcept {}
    constexpr void set_options(std::initializer_list<field>) const noexcept {}
    constexpr void set_options(const detail::json_t<capture::off>&) const noexcept {}
    template <class T> constexpr void set_function_name(T&&) const noexcept {}
    template <class... A> constexpr void fail(A&&...) const noexcept {}
    template <class M> constexpr void log(log_level, M&&) const noexcept {}
    template <class M, class D> constexpr void log(log_level, M&&, D&&) const noexcept {}
    template <class M> constexpr void log(log_level, M&&, const detail::json_t<capture::off>&) const noexcept {}
    static constexpr uuid nil_{};
};

template <>
class basic_event<capture::off> {
public:
    constexpr bool detected(bool yes) const noexcept { return yes; }
    template <class... A> constexpr basic_job<capture::off> job(A&&...) const noexcept { return {}; }
    template <class N> constexpr basic_job<capture::off> job(N&&, std::initializer_list<field>) const noexcept { return {}; }
    template <class N> constexpr basic_job<capture::off> job(N&&, const detail::json_t<capture::off>&) const noexcept { return {}; }
    template <class P> constexpr void set_module_path(P&&) const noexcept {}
    constexpr const uuid& id() const noexcept { return basic_job<capture::off>::nil_; }
    constexpr std::string_view correlation_id() const noexcept { return {}; }
    basic_invocation<capture::off>& invocation() const noexcept;
};

template <>
class basic_invocation<capture::off> {
public:
    template <class N> constexpr basic_event<capture::off> event(N&&) const noexcept { return {}; }
    template <class K, class V> constexpr void set_context(K&&, V&&) const noexcept {}
    template <class K> constexpr void set_context(K&&, const detail::json_t<capture::off>&) const noexcept {}
    template <class... A> constexpr void fail(A&&...) const noexcept {}
    constexpr const uuid& id() const noexcept { return basic_job<capture::off>::nil_; }
    constexpr std::string_view correlation_id() const noexcept { return {}; }
    constexpr correlation_source correlation_from() const noexcept { return correlation_source::generated; }
    constexpr std::optional<uuid> source_job_id() const noexcept { return std::nullopt; }
    constexpr std::string_view source_function() const noexcept { return {}; }
};

inline basic_invocation<capture::off>& basic_event<capture::off>::invocation() const noexcept {
    static basic_invocation<capture::off> none;
    return none;
}

template <class... A>
constexpr basic_invocation<capture::off> basic_recorder<capture::off>::invocation(A&&...) const noexcept {
    return {};
}
template <class... A>
constexpr basic_invocation<capture::off> basic_recorder<capture::off>::invocation_from_body(A&&...) const noexcept {
    return {};
}

// The scope types at the build's capture level (policy.hpp): what detector code names.
using invocation = basic_invocation<default_capture>;
using event = basic_event<default_capture>;
using job = basic_job<default_capture>;

// What capture::off used to call its scopes.
using null_invocation_scope = basic_invocation<capture::off>;
using null_event_scope = basic_event<capture::off>;
using null_job_scope = basic_job<capture::off>;

// The scope types of an observer type (the names of earlier versions: job_scope<observer_t>).
template <class Observer>
using invocation_scope = basic_invocation<Observer::capture_level>;
template <class Observer>
using event_scope = basic_event<Observer::capture_level>;
template <class Observer>
using job_scope = basic_job<Observer::capture_level>;

}  // namespace eventscope
