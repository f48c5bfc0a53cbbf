// The smallest instrumented detector: one invocation, one event, one job, records as JSON lines on stdout.
//   ./minimal | jq -c '{table, status, event_name, job_name}'
#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/json_lines_sink.hpp>
#include <nlohmann/json.hpp>

using observer = eventscope::observer<eventscope::options<eventscope::json_lines_sink, eventscope::capture::full>>;

// Your detector: was this Hasura event an order being shipped?
bool order_shipped(const nlohmann::json& p) {
    const auto& data = p["event"]["data"];
    return p["table"]["name"] == "orders" && data["new"]["status"] == "shipped" && data["old"]["status"] != "shipped";
}

int main() {
    observer obs;  // config from the environment (OBSERVABILITY_ENABLED), records to stdout
    auto payload = nlohmann::json::parse(R"({"id":"0b6a1f6e-3c1f-4c55-9a57-3f0d2d7f7e01","created_at":"2026-11-26T09:00:00.000000",
        "table":{"schema":"public","name":"orders"},"trigger":{"name":"orders_events"},
        "event":{"op":"UPDATE","session_variables":{"x-hasura-role":"admin","x-correlation-id":"alice@example.com"},
                 "data":{"old":{"id":"o-1","status":"paid"},"new":{"id":"o-1","status":"shipped","updated_by":null}}},
        "delivery_info":{"max_retries":0,"current_retry":0}})");

    EVENTSCOPE_INVOCATION(obs, inv, payload, "db-orders");
    EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
    if (ev.detected(order_shipped(payload))) {
        EVENTSCOPE_JOB(ev, job, "send_shipping_email", {{"template", "order-shipped"}});
        job.log(eventscope::log_level::info, "email queued");
        job.set_result({{"sent", true}, {"updated_by", job.tracking_token()}});  // write the token into your row
    }
}  // scopes end here; the observer writes everything before it is destroyed
