// The observer: one type, configured at compile time by an options struct (capture level, sink, buffer
// capacity) and at run time by `config`. It owns the sink and the asynchronous pipeline.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "correlation.hpp"
#include "null_scopes.hpp"
#include "payload.hpp"
#include "pipeline.hpp"
#include "policy.hpp"
#include "scopes.hpp"

namespace eventscope {

template <class Options>
class observer {
public:
    using sink_type = typename Options::sink_type;
    static constexpr capture capture_level = Options::capture_level;
    static constexpr std::size_t buffer_capacity = Options::buffer_capacity;
    using invocation_type = invocation_scope<observer>;

    template <class... SinkArgs>
    explicit observer(config cfg = config::from_env(), correlation_config correlation = {}, SinkArgs&&... sink_args)
        : config_(std::move(cfg)), correlation_(std::move(correlation)), sink_(std::forward<SinkArgs>(sink_args)...) {
        config_.validate();
        if (config_.enabled) pipeline_.emplace(sink_, config_, buffer_capacity);
    }

    ~observer() {
        if (!pipeline_) return;
        pipeline_->shutdown();
        auto s = pipeline_->stats();
        if (s.dropped > 0)  // never silent: a record that did not reach the sink is reported once, here
            std::fprintf(stderr,
                         "eventscope: %llu of %llu records were not written (buffer full: %llu, rejected: %llu, lost at shutdown: %llu); last error: %s\n",
                         static_cast<unsigned long long>(s.dropped), static_cast<unsigned long long>(s.recorded),
                         static_cast<unsigned long long>(s.dropped_buffer_full), static_cast<unsigned long long>(s.rejected),
                         static_cast<unsigned long long>(s.lost_at_shutdown), s.last_error.c_str());
    }

    observer(const observer&) = delete;
    observer& operator=(const observer&) = delete;

    // Opens the scope of one trigger delivery. Never throws on a malformed payload: what could not be read is
    // recorded with the invocation.
    invocation_type invocation(const nlohmann::json& payload, std::string_view source_function, const invocation_options& opts = {}) {
        if (!pipeline_) return invocation_type(nullptr, nullptr);
        return invocation_type(this, make_info(payload, source_function, opts));
    }

    // The same from a raw request body: invalid JSON is recorded as such.
    invocation_type invocation_from_body(std::string_view body, std::string_view source_function, const invocation_options& opts = {}) {
        if (!pipeline_) return invocation_type(nullptr, nullptr);
        auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
        if (!parsed.is_discarded()) return invocation(parsed, source_function, opts);
        auto info = std::make_shared<invocation_info>(
            read_invocation_payload(nlohmann::json(), source_function, opts, correlation_, config_, false));
        info->payload_errors.assign(1, "request body is not valid JSON");
        if (capture_level == capture::full && config_.capture_hasura_payload) {
            std::string raw(body.substr(0, config_.max_string_bytes));
            info->source_event_payload = nlohmann::json{{"_eventscope_unparsed_body", std::move(raw)}};
        }
        return invocation_type(this, std::move(info));
    }

    template <class Record>
    bool push(Record&& r) noexcept {
        return pipeline_ ? pipeline_->push(std::forward<Record>(r)) : false;
    }

    // Waits until everything recorded so far is written (see pipeline::flush).
    bool flush(std::chrono::milliseconds timeout = std::chrono::hours(24)) { return pipeline_ ? pipeline_->flush(timeout) : true; }

    pipeline_stats stats() const { return pipeline_ ? pipeline_->stats() : pipeline_stats{}; }
    const config& settings() const noexcept { return config_; }
    const correlation_config& correlation() const noexcept { return correlation_; }
    sink_type& sink() noexcept { return sink_; }
    bool enabled() const noexcept { return pipeline_.has_value(); }

private:
    invocation_info_ptr make_info(const nlohmann::json& payload, std::string_view source_function, const invocation_options& opts) {
        bool keep_payload = capture_level == capture::full && config_.capture_hasura_payload;
        return std::make_shared<const invocation_info>(
            read_invocation_payload(payload, source_function, opts, correlation_, config_, keep_payload));
    }

    config config_;
    correlation_config correlation_;
    sink_type sink_;
    std::optional<pipeline<sink_type>> pipeline_;  // declared after the sink: destroyed (drained) before it
};

// capture::off: nothing is kept, nothing runs, every scope is an empty type.
template <class Sink, std::size_t BufferCapacity>
class observer<options<Sink, capture::off, BufferCapacity>> {
public:
    using sink_type = Sink;
    static constexpr capture capture_level = capture::off;
    using invocation_type = null_invocation_scope;

    template <class... A>
    constexpr explicit observer(A&&...) noexcept {}

    template <class... A>
    constexpr null_invocation_scope invocation(A&&...) const noexcept { return {}; }
    template <class... A>
    constexpr null_invocation_scope invocation_from_body(A&&...) const noexcept { return {}; }
    constexpr bool flush(...) const noexcept { return true; }
    pipeline_stats stats() const { return {}; }
    constexpr bool enabled() const noexcept { return false; }
};

}  // namespace eventscope
