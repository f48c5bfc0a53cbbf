// The scope macros. Each declares a named scope variable, so several scopes in one block never collide.
// A string literal given as a name is referenced, not copied (it has static storage duration); any other
// name is copied once. Define EVENTSCOPE_DISABLE to remove every scope from a build without touching the
// code: the variables become empty capture::off scopes and the arguments are not evaluated (as with assert()).
#pragma once

#include "scopes.hpp"

#ifndef EVENTSCOPE_DISABLE

// EVENTSCOPE_INVOCATION(obs, inv, hasura_event_json, "db-orders")
#define EVENTSCOPE_INVOCATION(observer, var, payload, source_function) \
    [[maybe_unused]] auto var = (observer).invocation((payload), (source_function))

// EVENTSCOPE_EVENT(inv, ev, "orders.shipped")
#define EVENTSCOPE_EVENT(invocation, var, event_name) \
    [[maybe_unused]] auto var = (invocation).event(::eventscope::name_arg::from_macro((event_name), __builtin_constant_p(event_name)))

// EVENTSCOPE_JOB(ev, job, "send_email") or EVENTSCOPE_JOB(ev, job, "send_email", options)
#define EVENTSCOPE_JOB(event, var, job_name, ...)                                                                     \
    [[maybe_unused]] auto var = (event).job(::eventscope::name_arg::from_macro((job_name), __builtin_constant_p(job_name)) \
                                                __VA_OPT__(, ) __VA_ARGS__)

#else

#define EVENTSCOPE_INVOCATION(observer, var, payload, source_function) [[maybe_unused]] ::eventscope::basic_invocation<::eventscope::capture::off> var {}
#define EVENTSCOPE_EVENT(invocation, var, event_name) [[maybe_unused]] ::eventscope::basic_event<::eventscope::capture::off> var {}
#define EVENTSCOPE_JOB(event, var, ...) [[maybe_unused]] ::eventscope::basic_job<::eventscope::capture::off> var {}

#endif
