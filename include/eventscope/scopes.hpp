// RAII scopes for invocation -> event detection -> job. A scope owns its state (never a map keyed by
// correlation ID), records its start and end, becomes `failed` when left by an exception, and adds itself
// to its parent's counts. Children may run on other threads; parents must outlive their children.
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "console_capture.hpp"
#include "correlation.hpp"
#include "error_capture.hpp"
#include "policy.hpp"
#include "records.hpp"

namespace eventscope {

template <class Observer> class event_scope;
template <class Observer> class job_scope;

namespace detail {

// Registers a scope with the throw hook of its thread for as long as it lives (full capture only).
template <bool Enabled>
class throw_watch {
public:
    explicit throw_watch(bool with_stack) noexcept : uncaught_(std::uncaught_exceptions()) {
        if constexpr (Enabled) {
            auto& state = thread_throw_state();
            ++state.active_scopes;
            with_stack_ = with_stack;
            if (with_stack_) ++state.stack_scopes;
            sequence_ = state.sequence;
        }
    }
    ~throw_watch() {
        if constexpr (Enabled) {
            auto& state = thread_throw_state();
            --state.active_scopes;
            if (with_stack_) --state.stack_scopes;
        }
    }
    throw_watch(const throw_watch&) = delete;
    throw_watch& operator=(const throw_watch&) = delete;

    bool unwinding() const noexcept { return std::uncaught_exceptions() > uncaught_; }
    std::unique_ptr<error_info> error() const {
        if constexpr (Enabled) return error_from_unwinding(sequence_, with_stack_);
        else return nullptr;
    }

private:
    int uncaught_;
    std::uint64_t sequence_ = 0;
    bool with_stack_ = false;
};

inline std::unique_ptr<error_info> explicit_error(std::string type, std::string message) {
    auto e = std::make_unique<error_info>();
    e->type = std::move(type);
    e->message = std::move(message);
    return e;
}

}  // namespace detail

template <class Observer>
class invocation_scope {
    static constexpr bool full = Observer::capture_level == capture::full;

public:
    invocation_scope(Observer* observer, invocation_info_ptr info)
        : observer_(observer), info_(std::move(info)), started_(now_tick()),
          watch_(observer_ && observer_->settings().capture_error_stacks) {
        if (!observer_) return;
        id_ = new_uuid();
        invocation_record r;
        r.id = id_;
        r.info = info_;
        r.started = started_;
        observer_->push(std::move(r));  // parents first: the row exists before any child's
    }
    invocation_scope(const invocation_scope&) = delete;
    invocation_scope& operator=(const invocation_scope&) = delete;

    ~invocation_scope() {
        if (!observer_) return;
        invocation_record r;
        r.id = id_;
        r.info = std::move(info_);
        r.started = started_;
        r.ended = now_tick();
        r.events_detected_count = events_detected_.load(std::memory_order_relaxed);
        r.total_jobs_run = jobs_run_.load(std::memory_order_relaxed);
        r.total_jobs_succeeded = jobs_succeeded_.load(std::memory_order_relaxed);
        r.total_jobs_failed = jobs_failed_.load(std::memory_order_relaxed);
        r.status = run_status::completed;
        try {
            if (watch_.unwinding()) {
                r.status = run_status::failed;
                if constexpr (full) r.error = watch_.error();
            } else if (failed_) {
                r.status = run_status::failed;
                r.error = std::move(explicit_error_);
            }
            if constexpr (full) {
                if (!context_.is_null()) r.context_data = std::make_unique<nlohmann::json>(std::move(context_));
                if (!r.info->payload_errors.empty() && !r.error)
                    r.error = detail::explicit_error("payload_error", "malformed payload: " + r.info->payload_errors.front());
            }
        } catch (...) {
            // Out of memory while describing the failure: the row still goes out with its status.
        }
        observer_->push(std::move(r));
    }

    event_scope<Observer> event(name event_name) { return event_scope<Observer>(this, std::move(event_name)); }

    const uuid& id() const noexcept { return id_; }
    std::string_view correlation_id() const noexcept { return info_ ? std::string_view(info_->correlation_id) : std::string_view(); }
    const invocation_info* info() const noexcept { return info_.get(); }

    // Free-form context stored in `context_data` (full capture only).
    void set_context(std::string_view key, nlohmann::json value) {
        if constexpr (full) {
            if (!observer_) return;
            if (context_.is_null()) context_ = nlohmann::json::object();
            context_[std::string(key)] = std::move(value);
        }
    }

    // Marks the invocation failed without an exception.
    void fail(std::string message) {
        failed_ = true;
        if constexpr (full) explicit_error_ = detail::explicit_error("failure", std::move(message));
    }

private:
    friend class event_scope<Observer>;
    friend class job_scope<Observer>;

    Observer* observer_;
    invocation_info_ptr info_;
    uuid id_;
    tick started_;
    detail::throw_watch<full> watch_;
    std::atomic<std::int32_t> events_detected_{0}, jobs_run_{0}, jobs_succeeded_{0}, jobs_failed_{0};
    bool failed_ = false;
    std::unique_ptr<error_info> explicit_error_;
    nlohmann::json context_;
};

template <class Observer>
class event_scope {
    static constexpr bool full = Observer::capture_level == capture::full;

public:
    event_scope(invocation_scope<Observer>* parent, name event_name)
        : parent_(parent), observer_(parent->observer_), name_(std::move(event_name)), started_(now_tick()),
          watch_(observer_ && observer_->settings().capture_error_stacks) {
        if (!observer_) return;
        id_ = new_uuid();
        observer_->push(make_record(event_status::detecting));
    }
    event_scope(const event_scope&) = delete;
    event_scope& operator=(const event_scope&) = delete;

    ~event_scope() {
        if (!observer_) return;
        event_record r = make_record(event_status::not_detected);
        r.ended = now_tick();
        r.detected_at = detected_at_;
        r.detected = detected_;
        r.jobs_succeeded = jobs_succeeded_.load(std::memory_order_relaxed);
        r.jobs_failed = jobs_failed_.load(std::memory_order_relaxed);
        r.jobs_count = r.jobs_succeeded + r.jobs_failed;
        // The invocation's totals are the sum of its events': added once per event, not once per job.
        if (r.jobs_count > 0) {
            parent_->jobs_run_.fetch_add(r.jobs_count, std::memory_order_relaxed);
            parent_->jobs_succeeded_.fetch_add(r.jobs_succeeded, std::memory_order_relaxed);
            parent_->jobs_failed_.fetch_add(r.jobs_failed, std::memory_order_relaxed);
        }
        bool in_handler = detected_at_ != 0 && detected_;
        if (watch_.unwinding()) {
            r.status = in_handler ? event_status::handler_failed : event_status::detection_failed;
            if constexpr (full) {
                try {
                    (in_handler ? r.handler_error : r.detection_error) = watch_.error();
                } catch (...) {
                }
            }
        } else if (in_handler) {
            r.status = r.jobs_failed > 0 ? event_status::failed : event_status::completed;
        }
        if constexpr (full) r.event_module_path = std::move(module_path_);
        observer_->push(std::move(r));
    }

    // Ends the detection phase; the handler phase runs from here to the end of the scope. Returns `yes` so it
    // reads naturally: `if (ev.detected(order_was_shipped(payload))) { ... jobs ... }`.
    bool detected(bool yes) {
        if (!observer_ || detected_at_ != 0) return yes;
        detected_at_ = now_tick();
        detected_ = yes;
        if (yes) {
            parent_->events_detected_.fetch_add(1, std::memory_order_relaxed);
            observer_->push(make_record(event_status::handling));
        }
        return yes;
    }

    job_scope<Observer> job(name job_name, nlohmann::json options = nullptr) {
        return job_scope<Observer>(this, std::move(job_name), std::move(options));
    }

    void set_module_path(std::string path) {
        if constexpr (full)
            if (observer_) module_path_ = std::make_unique<std::string>(std::move(path));
    }

    const uuid& id() const noexcept { return id_; }
    invocation_scope<Observer>& invocation() const noexcept { return *parent_; }

private:
    friend class job_scope<Observer>;

    event_record make_record(event_status status) const {
        event_record r;
        r.id = id_;
        r.invocation_id = parent_->id_;
        r.event_name = name_;
        r.started = started_;
        r.detected_at = detected_at_;
        r.detected = detected_;
        r.status = status;
        return r;
    }

    void job_finished(bool failed) noexcept { (failed ? jobs_failed_ : jobs_succeeded_).fetch_add(1, std::memory_order_relaxed); }

    invocation_scope<Observer>* parent_;
    Observer* observer_;
    uuid id_;
    name name_;
    tick started_;
    tick detected_at_ = 0;
    bool detected_ = false;
    detail::throw_watch<full> watch_;
    std::atomic<std::int32_t> jobs_succeeded_{0}, jobs_failed_{0};
    std::unique_ptr<std::string> module_path_;
};

template <class Observer>
class job_scope {
    static constexpr bool full = Observer::capture_level == capture::full;

public:
    job_scope(event_scope<Observer>* parent, name job_name, nlohmann::json options)
        : parent_(parent), observer_(parent->observer_), name_(std::move(job_name)), started_(now_tick()),
          watch_(observer_ && observer_->settings().capture_error_stacks) {
        if (!observer_) return;
        id_ = new_uuid();
        if constexpr (full) {
            if (!options.is_null() && observer_->settings().capture_job_options) details().job_options = std::move(options);
            if (observer_->settings().capture_console) {
                console_ = std::make_unique<detail::log_target>();
                console_->context = this;
                console_->emit = [](void* self, log_level level, std::string_view line) {
                    static_cast<job_scope*>(self)->log(level, std::string(line));
                };
                previous_console_ = detail::current_log_target();
                detail::current_log_target() = console_.get();
            }
        }
        if (observer_->settings().record_running_jobs) push_start();
    }
    job_scope(const job_scope&) = delete;
    job_scope& operator=(const job_scope&) = delete;

    ~job_scope() {
        if (!observer_) return;
        if constexpr (full) {
            if (console_) {
                for (std::size_t i = 0; i < console_->partial.size(); ++i)
                    if (!console_->partial[i].empty()) log(i == 1 ? log_level::error : log_level::info, std::move(console_->partial[i]));
                detail::current_log_target() = previous_console_;
            }
        }
        job_record r;
        r.id = id_;
        r.invocation_id = parent_->parent_->id_;
        r.event_execution_id = parent_->id_;
        r.job_name = std::move(name_);
        r.started = started_;
        r.ended = now_tick();
        r.status = run_status::completed;
        if (watch_.unwinding()) {
            r.status = run_status::failed;
            if constexpr (full) {
                try {
                    details().error = watch_.error();
                } catch (...) {
                }
            }
        } else if (failed_) {
            r.status = run_status::failed;
        }
        r.details = std::move(details_);
        parent_->job_finished(r.status == run_status::failed);
        observer_->push(std::move(r));
    }

    const uuid& id() const noexcept { return id_; }
    std::string_view correlation_id() const noexcept { return parent_->parent_->correlation_id(); }

    // What this job writes into `updated_by` so that the invocation its write causes links back to it.
    std::string tracking_token() const {
        if (!observer_) return std::string(correlation_id());
        return make_tracking_token(parent_->parent_->info_->source_function, correlation_id(), id_);
    }

    void set_result(nlohmann::json result) {
        if constexpr (full)
            if (observer_) details().result = std::move(result);
    }
    void set_options(nlohmann::json options) {
        if constexpr (full)
            if (observer_ && observer_->settings().capture_job_options) details().job_options = std::move(options);
    }
    void set_function_name(std::string function_name) {
        if constexpr (full)
            if (observer_) details().job_function_name = std::move(function_name);
    }

    // Marks the job failed without an exception.
    void fail(std::string message, std::string type = "job_failure") {
        failed_ = true;
        if constexpr (full)
            if (observer_) details().error = detail::explicit_error(std::move(type), std::move(message));
    }

    // One log line of this job, written to job_logs (full capture only).
    void log(log_level level, std::string message, nlohmann::json data = nullptr) {
        if constexpr (full) {
            if (!observer_) return;
            if (!start_pushed_) push_start();  // a log line's row needs its job's row first
            job_log_record r;
            r.id = new_uuid();
            r.job_execution_id = id_;
            r.invocation_id = parent_->parent_->id_;
                r.level = level;
            r.message = std::move(message);
            if (!data.is_null()) r.data = std::move(data);
            r.logged_at = now_tick();
            observer_->push(std::move(r));
        }
    }

private:
    // The job's `running` row, so that a long job shows while it runs.
    void push_start() {
        start_pushed_ = true;
        job_record r;
        r.id = id_;
        r.invocation_id = parent_->parent_->id_;
        r.event_execution_id = parent_->id_;
        r.job_name = name_;
        r.started = started_;
        observer_->push(std::move(r));
    }

    job_details& details() {
        if (!details_) details_ = std::make_unique<job_details>();
        return *details_;
    }

    event_scope<Observer>* parent_;
    Observer* observer_;
    uuid id_;
    name name_;
    tick started_;
    detail::throw_watch<full> watch_;
    bool failed_ = false;
    bool start_pushed_ = false;
    std::unique_ptr<job_details> details_;
    std::unique_ptr<detail::log_target> console_;  // only when console capture is on
    detail::log_target* previous_console_ = nullptr;
};

}  // namespace eventscope
