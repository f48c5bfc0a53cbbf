// The scope macros. Each declares a named scope variable, so several scopes in one block never collide.
// Define EVENTSCOPE_DISABLE to remove every scope from a build without touching the code (arguments are then
// not evaluated, as with assert()).
#pragma once

#include "null_scopes.hpp"

#ifndef EVENTSCOPE_DISABLE

// EVENTSCOPE_INVOCATION(obs, inv, hasura_event_json, "db-orders")
#define EVENTSCOPE_INVOCATION(observer, var, payload, source_function) \
    [[maybe_unused]] auto var = (observer).invocation((payload), (source_function))

// EVENTSCOPE_EVENT(inv, ev, "orders.shipped")
#define EVENTSCOPE_EVENT(invocation, var, event_name) [[maybe_unused]] auto var = (invocation).event((event_name))

// EVENTSCOPE_JOB(ev, job, "send_email") or EVENTSCOPE_JOB(ev, job, "send_email", options_json)
#define EVENTSCOPE_JOB(event, var, ...) [[maybe_unused]] auto var = (event).job(__VA_ARGS__)

#else

#define EVENTSCOPE_INVOCATION(observer, var, payload, source_function) \
    [[maybe_unused]] constexpr ::eventscope::null_invocation_scope var {}
#define EVENTSCOPE_EVENT(invocation, var, event_name) [[maybe_unused]] constexpr ::eventscope::null_event_scope var {}
#define EVENTSCOPE_JOB(event, var, ...) [[maybe_unused]] constexpr ::eventscope::null_job_scope var {}

#endif
