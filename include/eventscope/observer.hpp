// The observer: the one object that owns the recorder (what scopes write into), the sink (or a fanout of
// sinks) and the asynchronous pipeline between them. Configured at compile time by an options struct
// (capture level, sink, buffer capacity) and at run time by `config`. Define it in one source file; the
// detector code elsewhere sees it as an `eventscope::recorder&` (eventscope.hpp) and never this header.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>

#include "config.hpp"
#include "console_capture.hpp"
#include "correlation.hpp"
#include "fanout.hpp"
#include "pipeline.hpp"
#include "policy.hpp"
#include "recorder.hpp"
#include "scopes.hpp"
#include "stats.hpp"

namespace eventscope {

template <class Options, capture Level = Options::capture_level>
class observer : public basic_recorder<Level> {

public:
    using sink_type = typename Options::sink_type;
    static constexpr capture capture_level = Options::capture_level;
    static constexpr std::size_t buffer_capacity = Options::buffer_capacity;
    using invocation_type = basic_invocation<capture_level>;
    using event_type = basic_event<capture_level>;
    using job_type = basic_job<capture_level>;

    // `sink_args` construct the sink (for a fanout: one tuple of arguments per sink).
    template <class... SinkArgs>
    explicit observer(config cfg = config::from_env(), correlation_config correlation = {}, SinkArgs&&... sink_args)
        : config_(std::move(cfg)), correlation_(std::move(correlation)), sink_(std::forward<SinkArgs>(sink_args)...) {
        config_.validate();
        if (!config_.enabled) return;
        this->core_ = new detail::recorder_core(buffer_capacity);
        auto& settings = this->core_->settings;
        settings.capture_job_options = config_.capture_job_options;
        settings.capture_error_stacks = config_.capture_error_stacks;
        settings.capture_console = config_.capture_console;
        settings.record_running_jobs = config_.record_running_jobs;
        settings.replay = config_.replay;
        settings.await_exception_causes = Level == capture::full && config_.exception_cause_wait.count() > 0;
        this->keep_payloads_ = config_.capture_hasura_payload;
        wants_stacks_ = capture_level == capture::full && config_.capture_error_stacks;
        if (wants_stacks_) detail::throw_stacks_wanted().fetch_add(1);
        pipeline_.emplace(sink_, *this->core_, config_, correlation_, capture_level);
    }

    // Writes what it can within config.shutdown_timeout; what could not be written is reported on stderr.
    ~observer() {
        if (!pipeline_) return;
        shutdown();
        if (wants_stacks_) detail::throw_stacks_wanted().fetch_sub(1);
    }

    observer(const observer&) = delete;
    observer& operator=(const observer&) = delete;

    // Waits until everything recorded so far is written by every sink, or a batch has failed all its attempts,
    // or `timeout` passes. Converts to bool; says how much was not written.
    flush_result flush(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        return pipeline_ ? pipeline_->flush(timeout) : flush_result{};
    }

    // Stops the pipeline: writes for at most `timeout`, then counts what is left as lost. Scopes that end
    // afterwards are counted as lost too. Reported on stderr when anything was not written. Idempotent.
    flush_result shutdown() { return shutdown(config_.shutdown_timeout); }
    flush_result shutdown(std::chrono::milliseconds timeout) {
        if (!pipeline_) return {};
        auto r = pipeline_->shutdown(timeout);
        if (!reported_) {
            reported_ = true;
            auto s = pipeline_->stats();
            if (s.dropped_any() > 0 || !r.complete) report_losses(s, r);
        }
        return r;
    }

    // Hands a sink-facing record (records.hpp) to the pipeline as a scope would; times in ticks (now_tick())
    // unless `stamped`. Never blocks; false when the ring is full (counted as dropped) or the observer disabled.
    template <class Record>
    bool push(Record&& r) {
        if (!this->core_) return false;
        auto* owned = new record(std::forward<Record>(r));
        detail::entry e{};
        e.kind = detail::entry_kind::record;
        e.extra = owned;
        if (this->core_->push(e)) return true;
        delete owned;
        return false;
    }

    pipeline_stats stats() const { return pipeline_ ? pipeline_->stats() : pipeline_stats{}; }
    const config& settings() const noexcept { return config_; }
    const correlation_config& correlation() const noexcept { return correlation_; }
    sink_type& sink() noexcept { return sink_; }
    const sink_type& sink() const noexcept { return sink_; }
    bool enabled() const noexcept { return pipeline_.has_value(); }

private:
    // Never silent: a record that did not reach a sink is reported once, here.
    static void report_losses(const pipeline_stats& s, const flush_result& r) {
        for (const auto& sink : s.sinks) {
            auto lost = s.dropped_buffer_full + sink.dropped();
            if (lost == 0) continue;
            std::fprintf(stderr,
                         "eventscope: %s: %llu of %llu records were not written (buffer full: %llu, rejected: %llu, sink backlog full: %llu, "
                         "lost at shutdown: %llu)%s; last error: %s\n",
                         sink.name.c_str(), static_cast<unsigned long long>(lost), static_cast<unsigned long long>(s.recorded),
                         static_cast<unsigned long long>(s.dropped_buffer_full), static_cast<unsigned long long>(sink.rejected),
                         static_cast<unsigned long long>(sink.dropped_backlog), static_cast<unsigned long long>(sink.lost_at_shutdown),
                         r.timed_out ? " after the shutdown deadline" : "", sink.last_error.c_str());
        }
    }

    config config_;
    correlation_config correlation_;
    sink_type sink_;
    std::optional<pipeline<sink_type>> pipeline_;  // declared after the sink: destroyed (drained) before it
    bool wants_stacks_ = false;
    bool reported_ = false;
};

// capture::off: nothing is kept, nothing runs, every scope is an empty type.
template <class Options>
class observer<Options, capture::off> : public basic_recorder<capture::off> {
public:
    using sink_type = typename Options::sink_type;
    static constexpr capture capture_level = capture::off;
    static constexpr std::size_t buffer_capacity = Options::buffer_capacity;
    using invocation_type = basic_invocation<capture::off>;
    using event_type = basic_event<capture::off>;
    using job_type = basic_job<capture::off>;

    template <class... A>
    constexpr explicit observer(A&&...) noexcept {}

    constexpr flush_result shutdown() const noexcept { return {}; }
    template <class Duration>
    constexpr flush_result shutdown(Duration) const noexcept {
        return {};
    }
};

}  // namespace eventscope
