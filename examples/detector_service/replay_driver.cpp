// --replay and the silence check of the example service (replay_driver.hpp). The replay runs the stored
// payloads through the same detector_service::handle() that serves webhooks, with the replay session's recorder
// in place of the production observer: every module decides as it would now, no job runs, nothing is written to
// the production tables.
#include "replay_driver.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <eventscope/replay.hpp>
#include <eventscope/sinks/postgres/conninfo.hpp>
#include <eventscope/sinks/postgres/replay_store.hpp>

#include "service.hpp"

namespace demo {

int run_replay(const replay_options& options) {
    if constexpr (eventscope::default_capture == eventscope::capture::off) {
        std::fprintf(options.out, "detector_service: --replay needs a build that records (EVENTSCOPE_CAPTURE metrics or full)\n");
        return 1;
    } else {
        namespace replay = eventscope::replay;
        replay::postgres_store store(options.conninfo, options.schema);
        replay::replay_session<eventscope::default_capture> session;
        // Jobs never run in a replay; the app store is there because the service wants one.
        auto app = make_memory_store({.capture_changes = false, .max_rows_per_table = 1});
        detector_service service(session.recorder(), *app, all_modules(), 1);

        replay::selection sel;
        sel.from = options.from;
        sel.to = options.to;
        sel.source_function = options.source_function;
        sel.correlation_id = options.correlation_id;
        sel.limit = options.limit;
        sel.build_label = options.build_label.empty() ? "detector_service (this build)" : options.build_label;

        const auto run = store.begin_run(sel);
        const bool tty = isatty(fileno(options.out));
        std::size_t skipped = 0, done = 0;
        auto t0 = std::chrono::steady_clock::now();
        try {
            store.for_each(sel, [&](const replay::stored_invocation& s) {
                store.add(run, s, session.run(s, [&](eventscope::recorder&) { service.handle(s.source_function, s.body); }));
                if (++done % 100 == 0) {
                    if (tty) std::fprintf(options.out, "\rreplayed %zu invocations", done);
                    else std::fprintf(options.out, "replayed %zu invocations\n", done);
                    std::fflush(options.out);
                }
            }, skipped);
            store.finish(run, skipped);
        } catch (const std::exception& e) {
            store.finish(run, skipped, e.what());
            std::fprintf(options.out, "%sdetector_service: replay %s failed after %zu invocations: %s\n", tty && done >= 100 ? "\n" : "", run.c_str(),
                         done, e.what());
            return 1;
        }
        if (tty && done >= 100) std::fputc('\n', options.out);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fputs(replay::format_report(store.report(run)).c_str(), options.out);
        std::fprintf(options.out, "replayed in %.1f s; dashboard: /replays/%s\n", seconds, run.c_str());
        if (session.job_rows() > 0)
            std::fprintf(options.out, "warning: %llu job scopes opened during the replay (a module ignored the detection's answer)\n",
                         static_cast<unsigned long long>(session.job_rows()));
        return 0;
    }
}

std::string silence_json(const std::string& conninfo, const std::string& schema, const silence_options& o) {
    pqxx::connection c(conninfo);
    pqxx::work t(c);
    auto r = t.exec_params("SELECT COALESCE(json_agg(row_to_json(s)), '[]')::text FROM " + c.quote_name(schema) +
                               ".silent_event_types($1::integer, $2::numeric, $3::integer, $4::numeric) s",
                           o.recent_hours, o.fraction, o.baseline_days, o.min_expected);
    auto silent = nlohmann::json::parse(r[0][0].as<std::string>());
    nlohmann::json out = {{"status", silent.empty() ? "ok" : "alert"},
                          {"silent", silent},
                          {"parameters",
                           {{"hours", o.recent_hours}, {"fraction", o.fraction}, {"baseline_days", o.baseline_days}, {"min_expected", o.min_expected}}}};
    return out.dump();
}

http_response silence_response(const eventscope::config& cfg, const std::string& target) {
    const auto conninfo = eventscope::pg::build_conninfo(cfg.database, std::chrono::seconds(5), "eventscope_silence");
    const auto& schema = cfg.schema;
    silence_options o;
    auto q = target.find('?');
    std::string query = q == std::string::npos ? std::string() : target.substr(q + 1);
    std::size_t pos = 0;
    while (pos < query.size()) {
        auto amp = query.find('&', pos);
        auto pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        pos = amp == std::string::npos ? query.size() : amp + 1;
        auto eq = pair.find('=');
        if (eq == std::string::npos) continue;
        auto key = pair.substr(0, eq), value = pair.substr(eq + 1);
        double v = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || end != value.data() + value.size())
            return {400, nlohmann::json{{"error", "query parameter " + key + " must be a number"}}.dump()};
        if (key == "hours") o.recent_hours = static_cast<int>(v);
        else if (key == "fraction") o.fraction = v;
        else if (key == "baseline_days") o.baseline_days = static_cast<int>(v);
        else if (key == "min_expected") o.min_expected = v;
        else return {400, nlohmann::json{{"error", "unknown query parameter " + key + " (hours, fraction, baseline_days, min_expected)"}}.dump()};
    }
    try {
        return {200, silence_json(conninfo, schema, o)};
    } catch (const pqxx::sql_error& e) {
        return {400, nlohmann::json{{"error", e.what()}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
    } catch (const std::exception& e) {
        return {503, nlohmann::json{{"error", std::string("observability database unavailable: ") + e.what()}}.dump(
                         -1, ' ', false, nlohmann::json::error_handler_t::replace)};
    }
}

namespace {

struct tool_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

double number_arg(const std::map<std::string, std::string>& args, const std::string& key, double fallback, double lo, double hi) {
    auto it = args.find(key);
    if (it == args.end()) return fallback;
    double v = 0;
    const auto& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
        throw tool_error("--" + key + " must be a number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got '" + text + "'");
    return v;
}

}  // namespace

std::optional<int> run_replay_tool(int argc, char** argv) {
    bool replay = false, silence = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        replay |= a == "--replay";
        silence |= a == "--check-silence";
    }
    if (!replay && !silence) return std::nullopt;
    static const char* const valued[] = {"db-url", "schema", "from", "to", "source-function", "correlation-id", "limit", "build-label",
                                         "silence-hours", "silence-fraction", "silence-baseline-days", "silence-min-expected"};
    std::map<std::string, std::string> args;
    try {
        if (replay && silence) throw tool_error("--replay and --check-silence are separate runs: give one");
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--replay" || a == "--check-silence") continue;
            if (a.rfind("--", 0) != 0) throw tool_error("unexpected argument '" + a + "'");
            std::string key = a.substr(2), v;
            if (auto eq = key.find('='); eq != std::string::npos) {
                v = key.substr(eq + 1);
                key.resize(eq);
            } else {
                if (i + 1 >= argc) throw tool_error("--" + key + " needs a value");
                v = argv[++i];
            }
            bool known = false;
            for (const char* k : valued) known |= key == k;
            if (!known) throw tool_error("unknown option --" + key + " for " + (replay ? "--replay" : "--check-silence"));
            args[key] = v;
        }
        auto cfg = eventscope::config::from_env();
        if (auto it = args.find("db-url"); it != args.end()) cfg.database.connection_string = it->second;
        if (auto it = args.find("schema"); it != args.end()) cfg.schema = it->second;
        if (cfg.database.connection_string.empty() && !std::getenv("OBSERVABILITY_DB_URL"))
            throw tool_error("--replay and --check-silence read the observability database: give --db-url URL (or OBSERVABILITY_DB_URL)");
        const auto conninfo = eventscope::pg::build_conninfo(cfg.database, std::chrono::seconds(10), "eventscope_replay");
        if (silence) {
            silence_options o;
            o.recent_hours = static_cast<int>(number_arg(args, "silence-hours", 6, 1, 24 * 365));
            o.fraction = number_arg(args, "silence-fraction", 0.5, 0.0001, 1);
            o.baseline_days = static_cast<int>(number_arg(args, "silence-baseline-days", 7, 1, 365));
            o.min_expected = number_arg(args, "silence-min-expected", 5, 0, 1e12);
            try {
                auto report = nlohmann::json::parse(silence_json(conninfo, cfg.schema, o));
                std::printf("%s\n", report.dump(2).c_str());
                return report["status"] == "ok" ? 0 : 1;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "detector_service: the silence check failed: %s\n", e.what());
                return 2;
            }
        }
        replay_options o;
        o.conninfo = conninfo;
        o.schema = cfg.schema;
        auto get = [&](const char* k) { auto it = args.find(k); return it == args.end() ? std::string() : it->second; };
        o.from = get("from");
        o.to = get("to");
        o.source_function = get("source-function");
        o.correlation_id = get("correlation-id");
        o.build_label = get("build-label");
        o.limit = static_cast<std::size_t>(number_arg(args, "limit", 10000, 1, 1e8));
        try {
            return run_replay(o);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "detector_service: replay failed: %s\n", e.what());
            return 1;
        }
    } catch (const tool_error& e) {
        std::fprintf(stderr, "detector_service: %s (see --help)\n", e.what());
        return 2;
    }
}

}  // namespace demo
