// What every scope type offers, whatever the capture level (off, metrics, full) and with EVENTSCOPE_DISABLE:
// detector code written against one level compiles against every other. Checked for every level in
// tests/core/policy_test.cpp and by compiling the example service's modules at each level.
#pragma once

#include <concepts>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "scopes.hpp"

namespace eventscope {

template <class J>
concept job_scope_type = requires(J& job, const J& cjob, const detail::json_t<capture::full>& json, const std::exception& error) {
    { cjob.id() } -> std::convertible_to<const uuid&>;
    { cjob.correlation_id() } -> std::convertible_to<std::string_view>;
    { cjob.tracking_token() } -> std::same_as<std::string>;
    job.set_result(json);
    job.set_result({field{"key", 1}});
    job.set_options(json);
    job.set_function_name(std::string());
    job.fail(std::string());
    job.fail(std::string(), std::string());
    job.fail(error);
    job.log(log_level::info, std::string());
    job.log(log_level::info, std::string(), json);
};

template <class E>
concept event_scope_type = requires(E& ev, const E& cev, const detail::json_t<capture::full>& json) {
    { ev.detected(true) } -> std::same_as<bool>;
    { ev.job("name") } -> job_scope_type;
    { ev.job(std::string("name"), json) } -> job_scope_type;
    { ev.job("name", {field{"key", 1}}) } -> job_scope_type;
    ev.set_module_path(std::string());
    { cev.id() } -> std::convertible_to<const uuid&>;
    { cev.correlation_id() } -> std::convertible_to<std::string_view>;
    cev.invocation();
};

template <class I>
concept invocation_scope_type = requires(I& inv, const I& cinv, const detail::json_t<capture::full>& json, const std::exception& error) {
    { inv.event("name") } -> event_scope_type;
    { inv.event(std::string("name")) } -> event_scope_type;
    inv.set_context(std::string_view("key"), json);
    inv.fail(std::string());
    inv.fail(error);
    { cinv.id() } -> std::convertible_to<const uuid&>;
    { cinv.correlation_id() } -> std::convertible_to<std::string_view>;
    { cinv.correlation_from() } -> std::same_as<correlation_source>;
    { cinv.source_job_id() } -> std::same_as<std::optional<uuid>>;
    { cinv.source_function() } -> std::convertible_to<std::string_view>;
};

template <class R>
concept recorder_type = requires(R& rec, const detail::json_t<capture::full>& json, const invocation_options& opts) {
    { rec.invocation(json, "source") } -> invocation_scope_type;
    { rec.invocation(json, "source", opts) } -> invocation_scope_type;
    { rec.invocation_from_body(std::string_view("{}"), "source") } -> invocation_scope_type;
    { rec.invocation_from_body(std::string_view("{}"), "source", opts) } -> invocation_scope_type;
    { rec.flush() } -> std::convertible_to<bool>;
    rec.stats();
    { rec.enabled() } -> std::convertible_to<bool>;
};

}  // namespace eventscope
