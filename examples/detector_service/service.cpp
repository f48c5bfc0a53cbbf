// The detector core: one Hasura delivery -> one invocation scope; every module's detector in an event scope;
// the jobs of a detected event in parallel on a thread pool, each in a job scope.
#include <utility>  // before Asio (Asio 1.74 + C++20)

#include <chrono>
#include <cmath>
#include <functional>
#include <latch>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "delivery_body.hpp"
#include "service.hpp"

namespace demo {

std::string hasura_event::text(const json& row, const char* column) {
    if (!row.is_object()) return {};
    auto it = row.find(column);
    if (it == row.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : it->dump();
}

bool hasura_event::changed_to(const char* column, std::string_view value) const {
    return text(new_row, column) == value && text(old_row, column) != value;
}

void job_context::work(int min_ms, int max_ms) const {
    auto key = hasura_event::text(event.row(), "id") + event.op + std::to_string(min_ms) + ":" + std::to_string(max_ms);
    auto h = std::hash<std::string>{}(key);
    int span = max_ms > min_ms ? max_ms - min_ms : 0;
    int ms = min_ms + (span ? static_cast<int>(h % static_cast<std::size_t>(span + 1)) : 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::string read_hasura_event(const json& body, hasura_event& out) {
    if (!body.is_object()) return std::string("payload is not a JSON object but ") + body.type_name();
    auto str = [&](const json& obj, const char* key, std::string& into, const char* where, bool required) -> std::string {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return required ? std::string(where) + "." + key + " is missing" : std::string();
        if (!it->is_string()) return std::string(where) + "." + key + " must be a string, got " + it->type_name();
        into = it->get<std::string>();
        return {};
    };
    std::string problem;
    if (!(problem = str(body, "id", out.id, "payload", true)).empty()) return problem;
    if (!(problem = str(body, "created_at", out.created_at, "payload", false)).empty()) return problem;
    auto table = body.find("table");
    if (table == body.end() || !table->is_object()) return "payload.table is missing or not an object";
    if (!(problem = str(*table, "name", out.table, "payload.table", true)).empty()) return problem;
    if (!(problem = str(*table, "schema", out.schema, "payload.table", false)).empty()) return problem;
    if (auto trigger = body.find("trigger"); trigger != body.end() && trigger->is_object())
        if (!(problem = str(*trigger, "name", out.trigger, "payload.trigger", false)).empty()) return problem;
    auto event = body.find("event");
    if (event == body.end()) return "payload has no 'event'";
    if (!event->is_object()) return std::string("payload.event must be an object, got ") + event->type_name();
    if (!(problem = str(*event, "op", out.op, "payload.event", true)).empty()) return problem;
    if (out.op != "INSERT" && out.op != "UPDATE" && out.op != "DELETE" && out.op != "MANUAL")
        return "payload.event.op must be INSERT, UPDATE, DELETE or MANUAL, got '" + out.op + "'";
    auto data = event->find("data");
    if (data == event->end() || !data->is_object()) return "payload.event.data is missing or not an object";
    for (const char* side : {"old", "new"}) {
        auto it = data->find(side);
        if (it == data->end() || it->is_null()) continue;
        if (!it->is_object()) return std::string("payload.event.data.") + side + " must be an object or null, got " + it->type_name();
        (std::string_view(side) == "old" ? out.old_row : out.new_row) = *it;
    }
    if (out.op == "INSERT" && !out.new_row.is_object()) return "payload.event.data.new is required for an INSERT";
    if (out.op == "UPDATE" && (!out.new_row.is_object() || !out.old_row.is_object()))
        return "payload.event.data.old and .new are required for an UPDATE";
    if (out.op == "DELETE" && !out.old_row.is_object()) return "payload.event.data.old is required for a DELETE";
    if (auto sv = event->find("session_variables"); sv != event->end() && !sv->is_null()) {
        if (!sv->is_object()) return "payload.event.session_variables must be an object";
        out.session_variables = *sv;
    }
    return {};
}

struct detector_service::impl {
    explicit impl(std::size_t threads) : pool(threads) {}
    boost::asio::thread_pool pool;
};

detector_service::detector_service(recorder_t& obs, app_store& app, std::vector<event_module> modules, std::size_t job_threads)
    : obs_(obs), app_(app), modules_(std::move(modules)), impl_(std::make_unique<impl>(job_threads ? job_threads : 1)) {}

detector_service::~detector_service() { impl_->pool.join(); }

namespace {

struct job_outcome {
    std::string job, job_id, error;
    bool ok = false;
    double ms = 0;
};

}  // namespace

reply detector_service::handle(std::string_view source_function, std::string_view body) {
    reply out;
    try {
        json jobs = json::array(), detected = json::array(), detection_errors = json::array();
        int jobs_ok = 0, jobs_failed = 0;
        std::string invocation_id, correlation_id, correlation_source, source_job_id;
        {
            // The invocation scope ends before the reply is sent: its final row is queued by then.
            auto inv = obs_.invocation_from_body(body, source_function, invocation_options_);
            invocation_id = inv.id().to_string();
            correlation_id = std::string(inv.correlation_id());
            correlation_source = std::string(eventscope::to_string(inv.correlation_from()));
            if (auto parent = inv.source_job_id()) source_job_id = parent->to_string();
            hasura_event event;
            auto delivery = parse_delivery_body(body);
            const auto& parsed = delivery.json;
            if (delivery.duplicates)  // the last value of each was used; the sender should know
                inv.set_context("payload_duplicate_keys", json{{"count", delivery.duplicates}, {"paths", delivery.duplicate_keys}});
            std::string problem = parsed.is_discarded() ? "request body is not valid JSON" : read_hasura_event(parsed, event);
            if (!problem.empty()) {
                // invocation_from_body keeps what it could read (and notes what it could not); the delivery
                // itself is refused, so the invocation is marked failed with the reason.
                inv.fail("malformed payload: " + problem);
                out.status = 400;
                out.body = {{"error", "malformed Hasura event payload: " + problem},
                            {"invocation_id", invocation_id},
                            {"correlation_id", correlation_id}};
                return out;
            }
            inv.set_context("trigger", event.trigger);
            for (const auto& module : modules_) {
                try {
                    EVENTSCOPE_EVENT(inv, ev, module.name);
                    ev.set_module_path(module.path);
                    if (!module.detect(ev, event)) continue;
                    detected.push_back(module.name);
                    // The jobs run in parallel; the event scope (their parent) waits for all of them.
                    std::vector<job_outcome> outcomes(module.jobs.size());
                    std::latch done(static_cast<std::ptrdiff_t>(module.jobs.size()));
                    for (std::size_t i = 0; i < module.jobs.size(); ++i) {
                        boost::asio::post(impl_->pool, [&, i] {
                            const auto& def = module.jobs[i];
                            auto& result = outcomes[i];
                            result.job = def.name;
                            auto t0 = std::chrono::steady_clock::now();
                            try {
                                EVENTSCOPE_JOB(ev, job, def.name, def.options);
                                job.set_function_name(def.function_name);
                                result.job_id = job.id().to_string();
                                job_context ctx{event, job, app_};
                                job.set_result(def.run(ctx));
                                result.ok = !ctx.soft_failed;
                                if (ctx.soft_failed) result.error = "marked failed by the job";
                            } catch (const std::exception& e) {
                                eventscope::caught(e);  // names it on the job's row, with or without throw capture
                                result.error = e.what();
                            } catch (...) {
                                eventscope::caught();
                                result.error = "unknown exception";
                            }
                            result.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                            done.count_down();
                        });
                    }
                    done.wait();
                    for (const auto& r : outcomes) {
                        (r.ok ? jobs_ok : jobs_failed)++;
                        json j = {{"event", module.name}, {"job", r.job}, {"job_id", r.job_id},
                                  {"status", r.ok ? "completed" : "failed"}, {"duration_ms", std::round(r.ms * 10) / 10}};
                        if (!r.ok) j["error"] = r.error;
                        jobs.push_back(std::move(j));
                    }
                } catch (const std::exception& e) {
                    // The event scope has recorded detection_failed / handler_failed; the other modules still run.
                    eventscope::caught(e);
                    detection_errors.push_back({{"event", module.name}, {"error", e.what()}});
                }
            }
        }
        out.body = {{"invocation_id", invocation_id},
                    {"correlation_id", correlation_id},
                    {"correlation_source", correlation_source},
                    {"source_job_id", source_job_id.empty() ? json(nullptr) : json(source_job_id)},
                    {"events_checked", modules_.size()},
                    {"events_detected", detected},
                    {"detection_errors", detection_errors},
                    {"jobs_ok", jobs_ok},
                    {"jobs_failed", jobs_failed},
                    {"jobs", jobs}};
    } catch (const std::exception& e) {
        out.status = 500;
        out.body = {{"error", std::string("internal error: ") + e.what()}};
    }
    return out;
}

}  // namespace demo
