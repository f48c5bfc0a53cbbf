// Deep copies of sink-facing records, for a composition of sinks (fanout.hpp): each sink gets records of its
// own, since a sink may move from the records it wrote and sinks retry independently.
#pragma once

#include <memory>
#include <variant>

#include "../records.hpp"

namespace eventscope::detail {

template <class T>
std::unique_ptr<T> clone_ptr(const std::unique_ptr<T>& p) {
    return p ? std::make_unique<T>(*p) : nullptr;
}

inline std::unique_ptr<job_details> clone_ptr(const std::unique_ptr<job_details>& p) {
    if (!p) return nullptr;
    auto d = std::make_unique<job_details>();
    d->job_function_name = p->job_function_name;
    d->job_options = p->job_options;
    d->result = p->result;
    d->error = clone_ptr(p->error);
    return d;
}

// A member added to a record type must be copied here too: the size checks make that a compile error.
static_assert(sizeof(invocation_record) == 112 && sizeof(event_record) == 192 && sizeof(job_record) == 152 &&
                  sizeof(job_details) == 88,
              "a record type changed: update detail::clone (eventscope/detail/clone.hpp)");

inline record clone(const record& source) {
    return std::visit(
        [](const auto& r) -> record {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, invocation_record>) {
                invocation_record c;
                c.id = r.id;
                c.info = r.info;
                c.started = r.started;
                c.ended = r.ended;
                c.status = r.status;
                c.events_detected_count = r.events_detected_count;
                c.total_jobs_run = r.total_jobs_run;
                c.total_jobs_succeeded = r.total_jobs_succeeded;
                c.total_jobs_failed = r.total_jobs_failed;
                c.error = clone_ptr(r.error);
                c.context_data = clone_ptr(r.context_data);
                c.children = r.children;  // immutable, shared
                c.stamped = r.stamped;
                return c;
            } else if constexpr (std::is_same_v<T, event_record>) {
                event_record c;
                c.id = r.id;
                c.invocation_id = r.invocation_id;
                c.info = r.info;
                c.event_name = r.event_name;
                c.started = r.started;
                c.detected_at = r.detected_at;
                c.ended = r.ended;
                c.status = r.status;
                c.detected = r.detected;
                c.jobs_count = r.jobs_count;
                c.jobs_succeeded = r.jobs_succeeded;
                c.jobs_failed = r.jobs_failed;
                c.detection_error = clone_ptr(r.detection_error);
                c.handler_error = clone_ptr(r.handler_error);
                c.event_module_path = clone_ptr(r.event_module_path);
                c.clauses = r.clauses;
                c.stamped = r.stamped;
                return c;
            } else if constexpr (std::is_same_v<T, job_record>) {
                job_record c;
                c.id = r.id;
                c.invocation_id = r.invocation_id;
                c.event_execution_id = r.event_execution_id;
                c.info = r.info;
                c.job_name = r.job_name;
                c.started = r.started;
                c.ended = r.ended;
                c.status = r.status;
                c.details = clone_ptr(r.details);
                c.stamped = r.stamped;
                return c;
            } else {
                return r;  // job_log_record is copyable
            }
        },
        source);
}

}  // namespace eventscope::detail
