// A detector source file as users write them: it parses nothing itself, decides from the payload, and opens an
// invocation, an event and a job with the three macros. benchmarks/compile/measure.sh compiles it against the
// headers of two trees (before / after) and reports preprocessed lines and compile CPU time.
//   ES_BEFORE: the API before issue 12, where a function taking the observer names its sink type.
#include <nlohmann/json.hpp>

#include <eventscope/eventscope.hpp>

#ifdef ES_BEFORE
#include <span>

#include <eventscope/sink.hpp>
struct any_sink {  // as the example service's dynamic_sink: the least a detector file had to see of a sink
    eventscope::write_result write(std::span<eventscope::record> batch);
};
using recorder_t = eventscope::observer<eventscope::options<any_sink>>;
#else
using recorder_t = eventscope::recorder;
#endif

bool order_shipped(const nlohmann::json& p) {
    const auto& data = p["event"]["data"];
    return p["table"]["name"] == "orders" && data["new"]["status"] == "shipped" && data["old"]["status"] != "shipped";
}

void on_orders_event(recorder_t& obs, const nlohmann::json& payload) {
    EVENTSCOPE_INVOCATION(obs, inv, payload, "db-orders");
    EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
    if (ev.detected(order_shipped(payload))) {
        EVENTSCOPE_JOB(ev, job, "send_shipping_email", {{"template", "order-shipped"}});
        job.log(eventscope::log_level::info, "email queued");
        job.set_result({{"sent", true}, {"updated_by", job.tracking_token()}});
    }
}
