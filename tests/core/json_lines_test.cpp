// The JSON-lines sink: one object per line, keys equal to the SQL column names, parsed back field by field;
// valid JSON whatever bytes the strings hold.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "test_support.hpp"

using namespace test_support;
using nlohmann::json;
using jsonl_observer = eventscope::observer<eventscope::options<eventscope::json_lines_sink>>;

namespace {

struct temp_file {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("eventscope-" + eventscope::new_uuid().to_string() + ".jsonl");
    ~temp_file() { std::filesystem::remove(path); }
    std::vector<json> lines() const {
        std::vector<json> out;
        std::ifstream in(path);
        for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));  // throws if invalid
        return out;
    }
};

std::map<std::string, json> last_per_id(const std::vector<json>& lines, const std::string& table) {
    std::map<std::string, json> out;
    for (auto& l : lines)
        if (l["table"] == table) out[l["id"]] = l;
    return out;
}

const std::set<std::string> invocation_columns{
    "table", "id", "created_at", "updated_at", "correlation_id", "correlation_source", "source_function", "source_table",
    "source_operation", "source_system", "source_job_id", "source_event_id", "source_event_payload", "source_event_time",
    "source_user_email", "source_user_role", "total_duration_ms", "events_detected_count", "total_jobs_run",
    "total_jobs_succeeded", "total_jobs_failed", "auto_load_modules", "event_modules_directory", "status",
    "error_message", "error_stack", "error_type", "context_data"};
const std::set<std::string> event_columns{
    "table", "id", "created_at", "updated_at", "invocation_id", "correlation_id", "event_name", "event_module_path",
    "detected", "detection_duration_ms", "handler_duration_ms", "detection_error", "detection_error_stack",
    "handler_error", "handler_error_stack", "jobs_count", "jobs_succeeded", "jobs_failed", "status",
    // issue 14: detection clauses (null without EVENTSCOPE_DETECT)
    "detection_clauses", "detection_clause_values", "detection_rejected_by"};
const std::set<std::string> job_columns{
    "table", "id", "created_at", "updated_at", "invocation_id", "event_execution_id", "correlation_id", "job_name",
    "job_function_name", "job_options", "duration_ms", "status", "result", "error_message", "error_stack", "error_type"};
const std::set<std::string> log_columns{"table", "id", "created_at", "job_execution_id", "invocation_id", "correlation_id",
                                        "level", "message", "data", "logged_at"};

std::set<std::string> keys(const json& j) {
    std::set<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_lines)

BOOST_AUTO_TEST_CASE(rows_parse_back_field_by_field) {
    temp_file file;
    std::string inv_id, ev_id, job_id;
    {
        jsonl_observer obs(fast_config(), {}, file.path.string());
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event("UPDATE", {{"id", 5}, {"updated_by", "ann@example.com"}}), "db-orders");
        inv_id = inv.id().to_string();
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev_id = ev.id().to_string();
        ev.detected(true);
        EVENTSCOPE_JOB(ev, job, "send_email", json{{"to", "ann@example.com"}});
        job_id = job.id().to_string();
        job.set_function_name("send_email_v2");
        job.set_result({{"message_id", "m-1"}});
        job.log(eventscope::log_level::info, "queued", {{"queue", "mail"}});
    }
    auto lines = file.lines();
    auto inv = last_per_id(lines, "invocations").at(inv_id);
    auto ev = last_per_id(lines, "event_executions").at(ev_id);
    auto job = last_per_id(lines, "job_executions").at(job_id);
    auto log = last_per_id(lines, "job_logs").begin()->second;

    BOOST_TEST((keys(inv) == invocation_columns));
    BOOST_TEST((keys(ev) == event_columns));
    BOOST_TEST((keys(job) == job_columns));
    BOOST_TEST((keys(log) == log_columns));

    BOOST_TEST(inv["status"] == "completed");
    BOOST_TEST(inv["correlation_id"] == "ann@example.com");
    BOOST_TEST(inv["correlation_source"] == "updated_by");
    BOOST_TEST(inv["source_user_email"] == "ann@example.com");
    BOOST_TEST(inv["source_event_payload"]["event"]["data"]["new"]["id"] == 5);
    BOOST_TEST(inv["total_jobs_succeeded"] == 1);
    BOOST_TEST(ev["invocation_id"] == inv_id);
    BOOST_TEST(ev["status"] == "completed");
    BOOST_TEST(job["event_execution_id"] == ev_id);
    BOOST_TEST(job["job_function_name"] == "send_email_v2");
    BOOST_TEST(job["job_options"] == json({{"to", "ann@example.com"}}));
    BOOST_TEST(job["result"] == json({{"message_id", "m-1"}}));
    BOOST_TEST(job["status"] == "completed");
    BOOST_TEST(log["job_execution_id"] == job_id);
    BOOST_TEST(log["data"] == json({{"queue", "mail"}}));
    // Timestamps are ISO 8601 UTC and ordered as the scopes ran.
    BOOST_TEST(inv["created_at"].get<std::string>().size() == 27u);
    BOOST_TEST(inv["created_at"].get<std::string>() <= ev["created_at"].get<std::string>());
    BOOST_TEST(ev["created_at"].get<std::string>() <= job["created_at"].get<std::string>());
}

BOOST_AUTO_TEST_CASE(output_stays_valid_json_for_any_bytes) {
    temp_file file;
    std::string hostile = std::string("quote\" backslash\\ tab\t newline\n nul") + '\0' + "x invalid \xC3\x28 \xFF\xFE end";
    {
        jsonl_observer obs(fast_config(), {}, file.path.string());
        EVENTSCOPE_INVOCATION(obs, inv, hasura_event("INSERT", {{"note", hostile}}), hostile);
        EVENTSCOPE_EVENT(inv, ev, hostile);
        ev.detected(true);
        try {
            EVENTSCOPE_JOB(ev, job, hostile);
            job.log(eventscope::log_level::error, hostile);
            throw std::runtime_error(hostile);
        } catch (const std::exception&) {
        }
    }
    auto lines = file.lines();  // every line parses
    BOOST_TEST(lines.size() >= 8u);
    auto job = last_per_id(lines, "job_executions").begin()->second;
    // what() is a C string: the message ends at the NUL.
    BOOST_TEST(job["error_message"] == "quote\" backslash\\ tab\t newline\n nul");
    auto log = last_per_id(lines, "job_logs").begin()->second["message"].get<std::string>();
    BOOST_TEST(log.find(std::string("quote\" backslash\\ tab\t newline\n nul") + '\0' + "x invalid ") == 0u);
    BOOST_TEST(log.find("\xEF\xBF\xBD(") != std::string::npos);  // invalid bytes became U+FFFD
    BOOST_TEST(log.find("\xFF") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unwritable_path_is_a_clear_error) {
    BOOST_CHECK_EXCEPTION(eventscope::json_lines_sink("/nonexistent-dir/x.jsonl"), std::runtime_error, [](const std::runtime_error& e) {
        return std::string(e.what()).find("/nonexistent-dir/x.jsonl") != std::string::npos;
    });
}

BOOST_AUTO_TEST_SUITE_END()
