#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <eventscope/uuid.hpp>

#include "driver.hpp"
#include "http.hpp"

namespace demo {

namespace {

using clock_type = std::chrono::steady_clock;

struct delivery {
    std::string target;  // /events/<source_function>
    std::string body;
    std::string label;   // corpus file name, or "table OP"
};

struct delivered {
    int status = 0;
    json body;
    std::string label;
};

std::string random_hex(std::size_t bytes) {
    auto u = eventscope::new_random_uuid().to_string();
    std::string hex;
    for (char c : u)
        if (c != '-') hex += c;
    while (hex.size() < bytes * 2) hex += hex;
    return hex.substr(0, bytes * 2);
}

const char* const first_names[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
                                   "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda"};

std::string user_email(int i) {
    std::string name = first_names[i % 20];
    if (i >= 20) name += std::to_string(i / 20);
    if (i % 6 == 4) return name + "@example.org";   // their CRM sync times out
    if (i % 11 == 7) return name + "@mail.invalid";  // their welcome email bounces
    return name + "@example.com";
}

std::vector<delivery> load_corpus(const std::string& dir, std::FILE* out) {
    std::vector<delivery> corpus;
    if (dir.empty()) return corpus;
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
    if (ec) {
        std::fprintf(out, "  warning: payload corpus %s not readable: %s\n", dir.c_str(), ec.message().c_str());
        return corpus;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        // <source_function>--<description>.json: the webhook the payload is delivered to.
        auto stem = f.stem().string();
        auto sep = stem.find("--");
        std::string fn = sep == std::string::npos ? "detector-service" : stem.substr(0, sep);
        if (fn == "malformed") fn = "db-orders";
        corpus.push_back({"/events/" + fn, ss.str(), f.filename().string()});
    }
    return corpus;
}

std::string fmt_ms(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ms >= 100 ? "%.0f ms" : "%.1f ms", ms);
    return buf;
}

}  // namespace

json hasura_payload(const row_change& c, const json& session_variables) {
    return {{"id", c.event_id},
            {"created_at", c.created_at},
            {"table", {{"schema", "public"}, {"name", c.table}}},
            {"trigger", {{"name", c.table + "_events"}}},
            {"event",
             {{"op", c.op},
              {"data", {{"old", c.old_row}, {"new", c.new_row}}},
              {"session_variables", session_variables},
              {"trace_context", {{"trace_id", random_hex(16)}, {"span_id", random_hex(8)}}}}},
            {"delivery_info", {{"max_retries", 0}, {"current_retry", 0}}}};
}

json run_demo(recorder_t& obs, app_store& app, unsigned short port, const demo_options& opt) {
    std::FILE* out = opt.out;
    auto started = clock_type::now();

    // 1. The application's own writes: sign-ups and orders (each captured as a Hasura event).
    std::map<std::string, std::string> user_of_email;
    for (int i = 0; i < opt.users; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "u-%03d", i + 1);
        auto email = user_email(i);
        app.insert("users", {{"id", id}, {"email", email}, {"name", first_names[i % 20]}, {"status", "pending"},
                             {"updated_by", email}});
        user_of_email[email] = id;
    }
    const char* carriers[] = {"dhl", "ups", "fedex", "dhl", "ups", "fedex", "dhl", "pigeon-post"};
    for (int i = 0; i < opt.orders; ++i) {
        int u = opt.users ? i % opt.users : 0;
        char id[16], user[16];
        std::snprintf(id, sizeof id, "o-%04d", 1001 + i);
        std::snprintf(user, sizeof user, "u-%03d", u + 1);
        double total = 19.90 + (i * 37 % 230) * 1.5;
        if (i % 10 == 6) total = 1250.00 + i;  // above the fraud-review limit: held and cancelled
        // Most orders are placed by a user (correlation ID = email); some by the checkout API (a system ID).
        std::string by = i % 4 == 3 ? eventscope::make_system_correlation_id("checkout-api") : user_email(u);
        app.insert("orders", {{"id", id}, {"user_id", user}, {"status", "pending"}, {"total", total}, {"currency", "EUR"},
                              {"carrier", carriers[i % 8]}, {"updated_by", by}});
    }

    // 2. Deliver in waves: wave 1 = corpus + the seeds' changes; each later wave = what the jobs wrote.
    std::vector<delivered> results;
    std::mutex results_mutex;
    std::atomic<int> sent{0}, ok200{0}, bad400{0}, other{0}, jobs_ok{0}, jobs_failed{0};
    auto corpus = load_corpus(opt.payload_dir, out);
    int wave = 0;
    auto progress = [&](bool final_line) {
        if (!opt.progress_tty && !final_line) return;
        std::fprintf(out, "%s  wave %d  %d deliveries (200: %d, 400: %d%s)  jobs ok %d, failed %d   %s",
                     opt.progress_tty ? "\r" : "", wave, sent.load(), ok200.load(), bad400.load(),
                     other.load() ? (", other: " + std::to_string(other.load())).c_str() : "", jobs_ok.load(), jobs_failed.load(),
                     final_line ? "\n" : "");
        std::fflush(out);
    };
    while (wave < opt.max_waves) {
        std::vector<delivery> batch;
        if (wave == 0) batch = corpus;
        for (const auto& c : app.take_changes()) {
            const auto& row = c.new_row.is_object() ? c.new_row : c.old_row;
            auto by = row.is_object() && row.contains("updated_by") && row["updated_by"].is_string() ? row["updated_by"].get<std::string>()
                                                                                                   : std::string();
            json session = {{"x-hasura-role", "admin"}};
            if (by.find('|') == std::string::npos) {  // an application user's own write, not a job's
                auto user_id = c.table == "users" ? hasura_event::text(row, "id") : hasura_event::text(row, "user_id");
                session = {{"x-hasura-role", "user"}, {"x-hasura-user-id", user_id}};
            }
            batch.push_back({"/events/db-" + c.table, hasura_payload(c, session).dump(), c.table + " " + c.op});
        }
        if (batch.empty()) break;
        ++wave;
        const int target = sent.load() + static_cast<int>(batch.size());
        std::atomic<std::size_t> next{0};
        std::vector<std::thread> clients;
        std::atomic<bool> failed_network{false};
        std::string network_error;
        for (std::size_t k = 0; k < std::max<std::size_t>(1, opt.clients); ++k) {
            clients.emplace_back([&] {
                http_client client("127.0.0.1", port);
                for (std::size_t i; (i = next.fetch_add(1)) < batch.size();) {
                    delivered d;
                    d.label = batch[i].label;
                    try {
                        auto r = client.post(batch[i].target, batch[i].body);
                        d.status = r.status;
                        d.body = json::parse(r.body, nullptr, false);
                    } catch (const std::exception& e) {
                        d.status = 0;
                        std::lock_guard lock(results_mutex);
                        if (!failed_network.exchange(true)) network_error = e.what();
                    }
                    ++sent;
                    (d.status == 200 ? ok200 : d.status == 400 ? bad400 : other)++;
                    if (d.body.is_object()) {
                        jobs_ok += d.body.value("jobs_ok", 0);
                        jobs_failed += d.body.value("jobs_failed", 0);
                    }
                    std::lock_guard lock(results_mutex);
                    results.push_back(std::move(d));
                }
            });
        }
        while (sent.load() < target) {
            progress(false);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        for (auto& t : clients) t.join();
        progress(false);
        if (failed_network) std::fprintf(out, "\n  warning: delivery failed: %s\n", network_error.c_str());
    }
    progress(true);
    double seconds = std::chrono::duration<double>(clock_type::now() - started).count();

    // 3. Everything recorded must reach the sink before the counts are read.
    bool flushed = obs.flush(std::chrono::seconds(60));
    auto stats = obs.stats();

    // 4. The report, from the service's replies.
    int invocations = 0, events_checked = 0, events_detected = 0, detection_errors = 0;
    std::map<std::string, int> failed_by_job, sources, detected_by_event;
    std::vector<json> all_jobs;
    std::map<std::string, std::string> invocation_of_job, parent_of;  // job id -> invocation; invocation -> parent invocation
    std::map<std::string, json> by_invocation;
    std::set<std::string> correlation_ids;
    for (const auto& d : results) {
        if (!d.body.is_object() || !d.body.contains("invocation_id")) continue;
        ++invocations;
        auto inv = d.body["invocation_id"].get<std::string>();
        by_invocation[inv] = d.body;
        correlation_ids.insert(d.body.value("correlation_id", ""));
        if (d.status != 200) continue;
        sources[d.body.value("correlation_source", "")]++;
        events_checked += d.body.value("events_checked", 0);
        events_detected += static_cast<int>(d.body["events_detected"].size());
        for (const auto& e : d.body["events_detected"]) detected_by_event[e.get<std::string>()]++;
        detection_errors += static_cast<int>(d.body["detection_errors"].size());
        for (const auto& j : d.body["jobs"]) {
            invocation_of_job[j.value("job_id", "")] = inv;
            if (j["status"] != "completed") failed_by_job[j.value("event", "") + "/" + j.value("job", "")]++;
            all_jobs.push_back(j);
        }
    }
    for (const auto& [inv, body] : by_invocation)
        if (body.contains("source_job_id") && body["source_job_id"].is_string()) {
            auto it = invocation_of_job.find(body["source_job_id"].get<std::string>());
            if (it != invocation_of_job.end()) parent_of[inv] = it->second;
        }
    // Chains: trees of invocations linked through source_job_id (the job whose write caused the next one).
    std::map<std::string, std::vector<std::string>> children;
    for (const auto& [child, parent] : parent_of) children[parent].push_back(child);
    auto label = [&](const std::string& inv) {
        const auto& b = by_invocation[inv];
        if (b.contains("events_detected") && !b["events_detected"].empty()) return b["events_detected"][0].get<std::string>();
        return std::string("(no event)");
    };
    // The path below `inv` through the most detected events.
    std::function<std::vector<std::string>(const std::string&)> deepest = [&](const std::string& inv) {
        auto named = [&](const std::vector<std::string>& p) {
            return std::count_if(p.begin(), p.end(), [&](const std::string& x) { return label(x) != "(no event)"; });
        };
        std::vector<std::string> best;
        for (const auto& c : children[inv]) {
            auto sub = deepest(c);
            if (named(sub) > named(best)) best = std::move(sub);
        }
        best.insert(best.begin(), inv);
        return best;
    };
    int chains = 0, longest_steps = 0;
    std::vector<std::string> longest_path;
    for (const auto& [inv, body] : by_invocation) {
        if (parent_of.count(inv) || !children.count(inv)) continue;
        ++chains;
        auto path = deepest(inv);
        std::vector<std::string> named;
        for (const auto& p : path)
            if (label(p) != "(no event)") named.push_back(p);
        if (static_cast<int>(named.size()) > longest_steps) {
            longest_steps = static_cast<int>(named.size());
            longest_path = named;
        }
    }
    std::sort(all_jobs.begin(), all_jobs.end(), [](const json& a, const json& b) { return a.value("duration_ms", 0.0) > b.value("duration_ms", 0.0); });

    json report;
    report["sink"] = opt.sink_description;
    report["app_store"] = app.describe();
    report["seconds"] = std::round(seconds * 100) / 100;
    report["waves"] = wave;
    report["deliveries"] = sent.load();
    report["http"] = {{"200", ok200.load()}, {"400", bad400.load()}, {"other", other.load()}};
    report["invocations"] = invocations;
    report["invocations_failed"] = bad400.load();
    report["events_checked"] = events_checked;
    report["events_detected"] = events_detected;
    report["events_detected_by_name"] = detected_by_event;
    report["detection_errors"] = detection_errors;
    report["jobs"] = {{"total", jobs_ok.load() + jobs_failed.load()}, {"ok", jobs_ok.load()}, {"failed", jobs_failed.load()},
                      {"failed_by_job", failed_by_job}};
    json slowest = json::array();
    for (std::size_t i = 0; i < all_jobs.size() && i < 5; ++i) slowest.push_back(all_jobs[i]);
    report["slowest_jobs"] = slowest;
    json path = json::array();
    for (const auto& p : longest_path) path.push_back(label(p));
    report["chains"] = {{"count", chains},
                        {"linked_invocations", parent_of.size()},
                        {"longest_steps", longest_steps},
                        {"longest_path", path},
                        {"longest_correlation_id", longest_path.empty() ? json(nullptr) : by_invocation[longest_path.front()]["correlation_id"]}};
    report["correlation_ids"] = correlation_ids.size();
    report["correlation_sources"] = sources;
    report["records"] = {{"recorded", stats.recorded}, {"written", stats.written}, {"dropped", stats.dropped},
                         {"retried", stats.retried}, {"failed_batches", stats.failed_batches}, {"flushed", flushed},
                         {"last_error", stats.last_error}};

    // 5. Printed.
    std::fprintf(out, "\n  %-16s %d deliveries in %.1f s over %d waves (HTTP 200: %d, 400: %d%s)\n", "service", sent.load(), seconds, wave,
                 ok200.load(), bad400.load(), other.load() ? (", other: " + std::to_string(other.load())).c_str() : "");
    std::fprintf(out, "  %-16s %d (%d failed: malformed payloads, answered 400 and recorded)\n", "invocations", invocations, bad400.load());
    std::string by_name;
    for (const auto& [n, c] : detected_by_event) by_name += (by_name.empty() ? "" : ", ") + n + " " + std::to_string(c);
    std::fprintf(out, "  %-16s %d of %d checks (%s)%s\n", "events detected", events_detected, events_checked, by_name.c_str(),
                 detection_errors ? (", " + std::to_string(detection_errors) + " detection errors").c_str() : "");
    std::string failures;
    for (const auto& [n, c] : failed_by_job) failures += (failures.empty() ? "" : ", ") + n + " x" + std::to_string(c);
    std::fprintf(out, "  %-16s %d ok, %d failed%s%s%s\n", "jobs", jobs_ok.load(), jobs_failed.load(), failures.empty() ? "" : " (",
                 failures.c_str(), failures.empty() ? "" : ")");
    std::string slow;  // the slowest run of each job, slowest first
    std::set<std::string> shown;
    for (const auto& j : all_jobs) {
        if (shown.size() >= 5) break;
        auto n = j.value("job", std::string());
        if (!shown.insert(n).second) continue;
        slow += (slow.empty() ? "" : ", ") + n + " " + fmt_ms(j.value("duration_ms", 0.0));
    }
    std::fprintf(out, "  %-16s %s\n", "slowest jobs", slow.c_str());
    std::string chain_text;
    for (const auto& p : path) chain_text += (chain_text.empty() ? "" : " -> ") + p.get<std::string>();
    std::fprintf(out, "  %-16s %d chains linking %zu follow-up invocations; longest %d steps: %s\n", "chains", chains, parent_of.size(),
                 longest_steps, chain_text.c_str());
    if (!longest_path.empty())
        std::fprintf(out, "  %-16s %s\n", "", ("correlation ID " + by_invocation[longest_path.front()].value("correlation_id", "")).c_str());
    std::string src;
    for (const auto& [n, c] : sources) src += (src.empty() ? "" : ", ") + n + " " + std::to_string(c);
    std::fprintf(out, "  %-16s %zu distinct; found by %s\n", "correlation IDs", correlation_ids.size(), src.c_str());
    std::fprintf(out, "  %-16s %llu recorded, %llu written, %llu dropped%s -> %s\n", "records",
                 static_cast<unsigned long long>(stats.recorded), static_cast<unsigned long long>(stats.written),
                 static_cast<unsigned long long>(stats.dropped), flushed ? "" : " (flush timed out)", opt.sink_description.c_str());
    if (!stats.last_error.empty()) std::fprintf(out, "  %-16s %s\n", "sink error", stats.last_error.c_str());
    std::fflush(out);
    return report;
}

}  // namespace demo
