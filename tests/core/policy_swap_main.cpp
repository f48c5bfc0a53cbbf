// One detector source at every capture level. This program is built four times from the example service's own
// files (examples/detector_service/service.cpp, modules/*.cpp): with EVENTSCOPE_CAPTURE=off, =metrics, =full and
// with EVENTSCOPE_DISABLE (tests/CMakeLists.txt). It delivers the payload corpus (examples/payloads), checks the
// replies and what this level records, and prints a digest of the replies, which must be the same at every
// level (scripts/test.sh, suite policy-swap, compares them).
//   policy_swap_<level> DIGEST_FILE
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/memory_sink.hpp>

#include "../../examples/detector_service/service.hpp"

#ifndef EVENTSCOPE_SWAP_LEVEL
#error "EVENTSCOPE_SWAP_LEVEL names the level this program is built at"
#endif

// The scopes the modules see satisfy the same concepts at every level.
static_assert(eventscope::job_scope_type<demo::job_t>);
static_assert(eventscope::event_scope_type<eventscope::event>);
static_assert(eventscope::invocation_scope_type<eventscope::invocation>);
static_assert(eventscope::recorder_type<demo::recorder_t>);

namespace {

int failures = 0;
void check(bool ok, const std::string& what) {
    if (ok) return;
    ++failures;
    std::fprintf(stderr, "policy_swap[%s]: FAILED: %s\n", EVENTSCOPE_SWAP_LEVEL, what.c_str());
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// What this level records (a template, so that the off observer, which has no sink, skips it at compile time).
template <class Observer>
void check_records(Observer& obs, const eventscope::pipeline_stats& s, std::size_t deliveries, std::size_t valid) {
    constexpr auto level = Observer::capture_level;
    if constexpr (level == eventscope::capture::off) {
        check(s.recorded == 0 && !obs.enabled(), "capture::off records nothing");
    } else {
        auto& sink = obs.sink();
        check(s.dropped == 0 && s.written == s.recorded && s.recorded > 0, "every record written");
        auto invocations = sink.final_rows("invocations");
        check(invocations.size() == deliveries, "one invocation per delivery");
        std::size_t with_payload = 0, with_result = 0, with_logs = sink.final_rows("job_logs").size(), failed_jobs = 0, named = 0;
        for (const auto& inv : invocations) with_payload += inv["source_event_payload"] != nlohmann::json::object();
        for (const auto& job : sink.final_rows("job_executions")) {
            with_result += !job["result"].is_null();
            if (job["status"] == "failed") {
                ++failed_jobs;
                // No throw capture in this program: the service's catch blocks name each exception
                // (eventscope::caught), so every failed job left by one carries its type and message.
                named += job["error_type"] != "unknown exception" && !job["error_type"].is_null() && !job["error_message"].is_null();
            }
        }
        if constexpr (level == eventscope::capture::full) {
            check(with_payload >= valid, "full capture keeps the payloads");
            check(with_result > 0 && with_logs > 0, "full capture keeps results and log lines");
            check(failed_jobs > 0 && named == failed_jobs, "failed jobs name their exception without throw capture");
        } else {
            check(with_payload == 0 && with_result == 0 && with_logs == 0, "metrics keeps no payloads, results or logs");
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    using observer_t = eventscope::observer<eventscope::options<eventscope::memory_sink>>;
    constexpr auto level = observer_t::capture_level;
    static_assert(level == eventscope::default_capture);
    eventscope::config cfg;
    cfg.flush_interval = std::chrono::milliseconds(20);
    observer_t obs(cfg);
    auto app = demo::make_memory_store();
    std::size_t deliveries = 0, valid = 0;
    std::string digest;
    {
        demo::detector_service service(obs, *app, demo::all_modules(), 4);
        std::vector<std::filesystem::path> files;
        for (const auto& f : std::filesystem::directory_iterator(EVENTSCOPE_EXAMPLE_PAYLOAD_DIR))
            if (f.path().extension() == ".json") files.push_back(f.path());
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            auto name = file.stem().string();
            auto fn = name.substr(0, name.find("--"));
            auto reply = service.handle(fn, read_file(file));
            ++deliveries;
            bool malformed = name.rfind("malformed--", 0) == 0;
            check(reply.status == (malformed ? 400 : 200), name + ": status " + std::to_string(reply.status));
            if (!malformed) ++valid;
            digest += name + " " + std::to_string(reply.status);
            if (reply.status == 200) {
                digest += " detected=" + reply.body["events_detected"].dump() + " jobs_ok=" + reply.body["jobs_ok"].dump() +
                          " jobs_failed=" + reply.body["jobs_failed"].dump();
                // The reply names its correlation ID only where scopes record one.
                check((level == eventscope::capture::off) == reply.body["correlation_id"].get<std::string>().empty(), name + ": correlation_id");
            }
            digest += "\n";
        }
    }
    check(obs.flush(std::chrono::seconds(30)), "flush");
    auto s = obs.stats();
    check_records(obs, s, deliveries, valid);
    // The digest goes to the file named by the argument (the jobs' own console output goes to stdout).
    if (argc > 1) {
        std::ofstream out(argv[1]);
        out << digest;
        check(static_cast<bool>(out), std::string("cannot write ") + argv[1]);
    }
    std::fprintf(stderr, "policy_swap[%s]: %zu deliveries, %llu records, %d failures\n", EVENTSCOPE_SWAP_LEVEL, deliveries,
                 static_cast<unsigned long long>(s.recorded), failures);
    return failures == 0 ? 0 : 1;
}
