// The example detector service: types shared by the HTTP front, the event modules and the demo driver.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <eventscope/eventscope.hpp>

#include "app_store.hpp"

namespace demo {

using json = nlohmann::json;
// The detectors see the recorder and the scopes at the build's capture level (EVENTSCOPE_CAPTURE; full by
// default), never the observer's sink: main.cpp chooses the sink, and the same modules compile at every level.
using recorder_t = eventscope::recorder;
using job_t = eventscope::job;

// A validated Hasura event-trigger delivery, as the detectors see it.
struct hasura_event {
    std::string id, created_at, schema, table, trigger, op;  // op: INSERT, UPDATE, DELETE, MANUAL
    json old_row;  // null when absent (INSERT, MANUAL)
    json new_row;  // null when absent (DELETE)
    json session_variables = json::object();

    // The row that describes the entity now (new, or old for a DELETE).
    const json& row() const { return new_row.is_object() ? new_row : old_row; }
    bool on(std::string_view t) const { return table == t; }
    // A column of the new/old row as text ("" when absent or null).
    static std::string text(const json& row, const char* column);
    // The change of one column: from old to new value, comparing their text forms.
    bool changed_to(const char* column, std::string_view value) const;
};

// Everything a job may use. Jobs run on the service's thread pool, each inside its own job scope.
struct job_context {
    const hasura_event& event;
    job_t& job;
    app_store& app;
    bool soft_failed = false;

    // A failure that is not an exception (recorded on the job with job.fail).
    void fail(std::string message, std::string type = "job_failure") {
        soft_failed = true;
        job.fail(std::move(message), std::move(type));
    }
    // Work that takes a while: a stable, per-entity duration between min and max milliseconds.
    void work(int min_ms, int max_ms) const;
};

struct job_definition {
    std::string name;
    std::string function_name;
    json options;  // stored as job_options
    std::function<json(job_context&)> run;  // the result, stored as result
};

// One event module: one business event, its detector and its jobs (examples/detector_service/modules/*.cpp).
struct event_module {
    std::string name;  // e.g. "orders.shipped"
    std::string path;  // the module's source file, stored as event_module_path
    // Decides with EVENTSCOPE_DETECT (named clauses, recorded on the event execution) and returns the decision.
    std::function<bool(eventscope::event&, const hasura_event&)> detect;
    std::vector<job_definition> jobs;
};

event_module orders_created_module();
event_module orders_shipped_module();
event_module orders_cancelled_module();
event_module payments_completed_module();
event_module users_activated_module();

inline std::vector<event_module> all_modules() {
    return {orders_created_module(), payments_completed_module(), orders_shipped_module(), orders_cancelled_module(),
            users_activated_module()};
}

// The HTTP-independent core: one delivery in, one reply out. Never throws.
struct reply {
    int status = 200;
    json body;
};

class detector_service {
public:
    detector_service(recorder_t& obs, app_store& app, std::vector<event_module> modules, std::size_t job_threads);
    ~detector_service();
    detector_service(const detector_service&) = delete;
    detector_service& operator=(const detector_service&) = delete;

    // A webhook delivery for `source_function` (the trigger's webhook, e.g. "db-orders").
    reply handle(std::string_view source_function, std::string_view body);

    const std::vector<event_module>& modules() const noexcept { return modules_; }
    // Every invocation opened from now on carries key=value in context_data from its first row (which process
    // wrote it: service_instance.hpp). Before serving.
    void tag_invocations(std::string key, std::string value) { invocation_options_.context.emplace_back(std::move(key), std::move(value)); }

private:
    struct impl;
    recorder_t& obs_;
    app_store& app_;
    std::vector<event_module> modules_;
    eventscope::invocation_options invocation_options_;
    std::unique_ptr<impl> impl_;
};

// Validates a parsed body as a Hasura event-trigger payload; returns the problem, or "" and fills `out`.
std::string read_hasura_event(const json& body, hasura_event& out);

}  // namespace demo
