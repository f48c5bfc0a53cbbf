// What the scopes become with capture::off: empty, trivially destructible types whose every member is a
// constexpr no-op, so the optimizer removes them entirely.
#pragma once

#include <string_view>

#include "records.hpp"
#include "uuid.hpp"

namespace eventscope {

struct null_job_scope {
    constexpr const uuid& id() const noexcept { return nil_; }
    constexpr std::string_view correlation_id() const noexcept { return {}; }
    constexpr std::string_view tracking_token() const noexcept { return {}; }
    template <class... A> constexpr void set_result(A&&...) const noexcept {}
    template <class... A> constexpr void set_options(A&&...) const noexcept {}
    template <class... A> constexpr void set_function_name(A&&...) const noexcept {}
    template <class... A> constexpr void log(A&&...) const noexcept {}
    template <class... A> constexpr void fail(A&&...) const noexcept {}
    static constexpr uuid nil_{};
};

struct null_event_scope {
    constexpr bool detected(bool yes) const noexcept { return yes; }
    template <class... A> constexpr null_job_scope job(A&&...) const noexcept { return {}; }
    template <class... A> constexpr void set_module_path(A&&...) const noexcept {}
    constexpr const uuid& id() const noexcept { return null_job_scope::nil_; }
};

struct null_invocation_scope {
    template <class... A> constexpr null_event_scope event(A&&...) const noexcept { return {}; }
    template <class... A> constexpr void set_context(A&&...) const noexcept {}
    template <class... A> constexpr void fail(A&&...) const noexcept {}
    constexpr const uuid& id() const noexcept { return null_job_scope::nil_; }
    constexpr std::string_view correlation_id() const noexcept { return {}; }
};

}  // namespace eventscope
