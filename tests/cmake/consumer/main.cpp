#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/json_lines_sink.hpp>
#include <nlohmann/json.hpp>

int main() {
    eventscope::observer<eventscope::options<eventscope::json_lines_sink>> obs;
    EVENTSCOPE_INVOCATION(obs, inv, nlohmann::json::parse(R"({"event":{"op":"INSERT","data":{"new":{"updated_by":"ann@example.com"}}}})"), "consumer");
    EVENTSCOPE_EVENT(inv, ev, "orders.created");
    if (ev.detected(true)) {
        EVENTSCOPE_JOB(ev, job, "say_hello");
        job.set_result({{"hello", "world"}});
    }
    return 0;
}
