// eventscope example: a Hasura event-detector service, instrumented with eventscope.
//
//   detector_service [--port N] [--sink jsonl --out FILE | --sink postgres --db-url URL] [--app-db-url URL]
//   detector_service --demo [...same...] [--report FILE] [--service-log FILE]
//   detector_service --replay --db-url URL [--from T] [--to T] [--source-function F] [--correlation-id C] [--limit N]
//   detector_service --check-silence --db-url URL [--silence-hours N] [--silence-fraction F] [--silence-baseline-days N]
//
// Serves POST /events/<source_function> (Hasura event-trigger webhook payloads) on 127.0.0.1, GET /healthz (is the
// service storing its records: record_health.hpp) and GET /metrics (Prometheus text: metrics.hpp).
// --demo also runs the demo driver against it (see driver.hpp), prints the report and exits.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/json_lines_sink.hpp>  // brings the observer (the backend), here only
#include <eventscope/throw_capture.hpp>          // failed jobs name the exception and where it was thrown
#if EVENTSCOPE_EXAMPLE_POSTGRES
#include <eventscope/sinks/postgres_sink.hpp>
#include <eventscope/sinks/postgres/preflight.hpp>

#include "replay_driver.hpp"
#endif

#include "abandoned_rows.hpp"
#include "driver.hpp"
#include "http.hpp"
#include "metrics.hpp"
#include "record_health.hpp"
#include "routes.hpp"
#include "service.hpp"
#include "service_instance.hpp"

#ifndef EVENTSCOPE_EXAMPLE_PAYLOAD_DIR
#define EVENTSCOPE_EXAMPLE_PAYLOAD_DIR ""
#endif

namespace {

const char* const usage = R"(usage: detector_service [options]
  --port N              listen on 127.0.0.1:N (default 0: a free port, printed)
  --bind ADDR           listen address (default 127.0.0.1)
  --sink KIND           where the observability records go: jsonl (default) or postgres
  --out FILE            jsonl sink: output file, '-' = standard output (default -)
  --db-url URL          postgres sink: the observability database (or OBSERVABILITY_DB_URL)
  --schema NAME         observability schema (default event_detector_observability)
  --app-db-url URL      the application tables (orders, payments, users) in PostgreSQL (default: in-process)
  --app-max-rows N      in-process tables: rows kept per table, oldest dropped first (default 10000)
  --job-threads N       thread pool for jobs (default 8)
  --http-threads N      HTTP I/O threads (default 8: a thread waits while its delivery's records are stored)
  --max-body-bytes N    larger deliveries are answered 413 and logged (default 33554432 = 32 MiB)
  --max-connections N   open HTTP connections at once (default: the file-descriptor limit minus 64)
postgres sink, when the database is unavailable (examples/README.md "Outages and health"):
  --spool-dir DIR       keep records on disk here until they are written (default $STATE_DIRECTORY/spool, else
                        ./detector_service-state/spool; --demo: no spool unless given)
  --no-spool            no spool: during an outage records wait in memory and are dropped when it is full (loudly)
  --spool-max-mb N      spool size limit (default 256)
  --spool-sync POLICY   fsync of the spool: per-batch, interval (default) or none (survives the process, not the machine)
  --spool-sync-ms N     interval policy: at most one fsync per N ms (default 1000)
  --ack-timeout-ms N    with a spool, a delivery is answered once its records are stored (database or spool), waiting
                        at most N ms (default 5000; 0 = answer at once, records stored afterwards)
  --start-degraded      start even when the database refuses us (login, missing database or schema, bad URL)
  --demo                run the demo driver against the service, print the report, exit
  --payloads DIR        demo: payload corpus (default: the source tree's examples/payloads)
  --users N, --orders N demo: how many users and orders to seed (default 12, 40)
  --report FILE         demo: also write the report as JSON
  --service-log FILE    demo: where the service's own console output goes (default detector_service.log)
  --replay              dry run: replay stored payloads from --db-url through this build (no job runs), print the
                        report (also stored in replay_runs / replay_decisions), exit
  --from T, --to T      replay: invocations created in [T1, T2) (any PostgreSQL timestamptz text)
  --source-function F   replay: only this source function
  --correlation-id C    replay: only this correlation ID
  --limit N             replay: at most N invocations, oldest first (default 10000)
  --build-label TEXT    replay: how the run names this build
  --check-silence       print the event types whose detection rate fell (silent_event_types()); exit 1 if any
  --silence-hours N, --silence-fraction F, --silence-baseline-days N, --silence-min-expected N
                        silence: recent window in hours (6), fraction of the baseline rate (0.5), baseline days (7),
                        detections the baseline must predict for the window before a type can alert (5)
  with --sink postgres, GET /alerts/silence?hours=&fraction=&baseline_days= answers the same as JSON
)";

struct cli {
    std::map<std::string, std::string> values;
    std::set<std::string> flags;  // the switches given (--no-spool, --start-degraded)
    bool demo = false;
};

[[noreturn]] void fail_usage(const std::string& message) {
    std::fprintf(stderr, "detector_service: %s\n%s", message.c_str(), usage);
    std::exit(2);
}

cli parse(int argc, char** argv) {
    static const std::set<std::string> known = {"port", "bind", "sink", "out", "db-url", "schema", "app-db-url", "app-max-rows",
                                                "job-threads", "http-threads", "max-body-bytes", "max-connections",
                                                "payloads", "users", "orders", "report", "service-log",
                                                "spool-dir", "spool-max-mb", "spool-sync", "spool-sync-ms", "ack-timeout-ms"};
    static const std::set<std::string> switches = {"no-spool", "start-degraded"};
    cli c;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(usage, stdout);
#if EVENTSCOPE_EXAMPLE_POSTGRES
            std::fputs("sinks in this build: jsonl postgres\n", stdout);
#else
            std::fputs("sinks in this build: jsonl\n", stdout);
#endif
            std::exit(0);
        }
        if (a == "--demo") {
            c.demo = true;
            continue;
        }
        if (a.rfind("--", 0) != 0) fail_usage("unexpected argument '" + a + "'");
        if (switches.count(a.substr(2))) {
            c.flags.insert(a.substr(2));
            continue;
        }
        std::string key = a.substr(2), value;
        if (auto eq = key.find('='); eq != std::string::npos) {
            value = key.substr(eq + 1);
            key = key.substr(0, eq);
        } else {
            if (i + 1 >= argc) fail_usage("--" + key + " needs a value");
            value = argv[++i];
        }
        if (!known.count(key)) fail_usage("unknown option --" + key);
        c.values[key] = value;
    }
    return c;
}

int number(const cli& c, const std::string& key, int fallback, int lo, int hi) {
    auto it = c.values.find(key);
    if (it == c.values.end()) return fallback;
    try {
        std::size_t used = 0;
        int v = std::stoi(it->second, &used);
        if (used != it->second.size() || v < lo || v > hi) throw std::out_of_range(key);
        return v;
    } catch (const std::exception&) {
        fail_usage("--" + key + " must be a number from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
}

std::string value(const cli& c, const std::string& key, const std::string& fallback = {}) {
    auto it = c.values.find(key);
    return it == c.values.end() ? fallback : it->second;
}

// Under systemd (StateDirectory=) the state directory is given; otherwise the working directory holds it.
std::string default_spool_dir() {
    const char* state = std::getenv("STATE_DIRECTORY");
    return std::string(state && *state ? state : "./detector_service-state") + "/spool";
}

}  // namespace

int main(int argc, char** argv) {
#if EVENTSCOPE_EXAMPLE_POSTGRES
    if (auto code = demo::run_replay_tool(argc, argv)) return *code;  // --replay, --check-silence: replay_driver.hpp
#endif
    auto args = parse(argc, argv);
    const auto sink_kind = value(args, "sink", "jsonl");
    if (sink_kind != "jsonl" && sink_kind != "postgres") fail_usage("--sink must be jsonl or postgres");
    const auto out_path = value(args, "out", "-");
    const unsigned short port = static_cast<unsigned short>(number(args, "port", 0, 0, 65535));

    // Serving: SIGINT/SIGTERM are taken by sigwait below, so block them before any thread starts.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (!args.demo) pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    // Demo: the report goes to the terminal; the service's console output (the jobs' std::cout) to a log file.
    std::FILE* report_out = stdout;
    if (args.demo) {
        int keep = dup(STDOUT_FILENO);
        auto log_path = value(args, "service-log", "detector_service.log");
        int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (keep < 0 || log_fd < 0) {
            std::fprintf(stderr, "detector_service: cannot open the service log %s\n", log_path.c_str());
            return 1;
        }
        std::fflush(stdout);
        report_out = fdopen(keep, "w");
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        close(log_fd);
    }
    auto say = [&](const std::string& line) {
        std::fprintf(report_out, "%s\n", line.c_str());
        std::fflush(report_out);
    };

    // Job console output becomes job log lines (config.capture_console); created before any worker thread.
    eventscope::console_capture console;

    try {
        eventscope::config cfg = eventscope::config::from_env();
        cfg.capture_console = true;
        cfg.batch_size = 500;
        cfg.flush_interval = std::chrono::milliseconds(200);
        cfg.retry_delay = std::chrono::milliseconds(200);
        if (auto s = value(args, "schema"); !s.empty()) cfg.schema = s;
        if (auto u = value(args, "db-url"); !u.empty()) cfg.database.connection_string = u;

        // The observer's type names its sink; everything after it sees only the recorder (service.hpp).
        std::string sink_description;
        demo::record_health_options health_options;
        std::chrono::milliseconds ack_timeout{0};  // > 0: a delivery is answered once its records are stored
        // postgres sink: closes rows that can never complete (abandoned_rows.hpp).
        std::function<std::shared_ptr<demo::abandoned_rows_janitor>(demo::recorder_t&, const demo::record_health&)> make_janitor;
        // With a spool: this process's claim on it, and the instances before it whose rows are to be closed.
        std::unique_ptr<demo::service_instance> instance;
        auto serve = [&](demo::recorder_t& obs) -> int {
            demo::record_health health(obs, health_options, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
            demo::delivery_counters deliveries;
            std::unique_ptr<demo::app_store> app;
            if (auto url = value(args, "app-db-url"); !url.empty()) {
#if EVENTSCOPE_EXAMPLE_APP_PG
                app = demo::make_postgres_store(url);
#else
                fail_usage("--app-db-url needs a build with libpqxx");
#endif
            } else {
                app = demo::make_memory_store({.capture_changes = args.demo,
                                               .max_rows_per_table = static_cast<std::size_t>(number(args, "app-max-rows", 10'000, 1, 100'000'000))});
            }

            demo::detector_service service(obs, *app, demo::all_modules(), static_cast<std::size_t>(number(args, "job-threads", 8, 1, 256)));
            if (instance) service.tag_invocations("service_instance", instance->id());
            auto janitor = make_janitor ? make_janitor(obs, health) : nullptr;
            if (janitor && instance) janitor->close_rows_of_ended_instances(instance.get());
            demo::http_server server(
                value(args, "bind", "127.0.0.1"), port,
                [&](const std::string& method, const std::string& target, const std::string& body) -> demo::http_response {
                    auto route = demo::classify_request(method, target);
                    if (route.what == demo::route::kind::refused) return route.refusal;
                    if (route.what == demo::route::kind::health) return {health.http_status(), health.report().dump()};
                    if (route.what == demo::route::kind::metrics)
                        return {200, demo::prometheus_text(obs.stats(), health.current().state, deliveries), "text/plain; version=0.0.4; charset=utf-8"};
                    if (route.what == demo::route::kind::silence) {
#if EVENTSCOPE_EXAMPLE_POSTGRES
                        if (sink_kind == "postgres") return demo::silence_response(cfg, target);  // replay_driver.hpp
#endif
                        return {404, R"({"error":"the silence check needs --sink postgres"})"};
                    }
                    auto r = service.handle(route.source_function, body);
                    deliveries.count(r.status);
                    if (janitor && r.body.contains("invocation_id")) janitor->ended(r.body["invocation_id"].get<std::string>());
                    // The reply acknowledges the delivery: its records reach the database or the spool first, so
                    // that neither an outage nor a kill -9 afterwards can lose what was acknowledged. Only its own
                    // records: service.handle ran here, and the invocation's end, pushed last, covers its jobs.
                    if (ack_timeout.count() > 0 && !obs.flush_mine(ack_timeout)) deliveries.unconfirmed_acks.fetch_add(1, std::memory_order_relaxed);
                    return {r.status, r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
                },
                static_cast<std::size_t>(number(args, "http-threads", 8, 1, 64)),
                static_cast<std::size_t>(number(args, "max-body-bytes", static_cast<int>(demo::http_server::default_body_limit), 1024, 1 << 30)),
                static_cast<std::size_t>(number(args, "max-connections", 0, 1, 1 << 20)));

            if (!args.demo) {
                say("detector_service listening on http://127.0.0.1:" + std::to_string(server.port()) + "/events/<source_function>  (sink: " +
                    sink_description + ", app tables: " + app->describe() + ")");
                int sig = 0;
                sigwait(&stop_signals, &sig);
                say("detector_service: stopping (signal " + std::to_string(sig) + ")");
                server.stop();
                if (auto flushed = obs.flush(std::chrono::seconds(30)); !flushed)
                    say("detector_service: " + std::to_string(flushed.unwritten) + " records not written at exit: " + flushed.last_error);
                if (instance) instance->mark_stopped();
                return 0;
            }

            demo::demo_options opt;
            opt.payload_dir = value(args, "payloads", EVENTSCOPE_EXAMPLE_PAYLOAD_DIR);
            opt.users = number(args, "users", 12, 1, 100000);
            opt.orders = number(args, "orders", 40, 0, 1000000);
            opt.sink_description = sink_description;
            opt.out = report_out;
            opt.progress_tty = isatty(fileno(report_out));
            auto report = demo::run_demo(obs, *app, server.port(), opt);
            server.stop();
            if (auto path = value(args, "report"); !path.empty()) {
                std::ofstream f(path);
                f << report.dump(2) << '\n';
                if (!f) say("warning: could not write the report to " + path);
            }
            return report["records"]["dropped"].get<std::uint64_t>() == 0 && report["http"]["other"].get<int>() == 0 ? 0 : 1;
        };

        if (sink_kind == "jsonl") {
            if (out_path == "-" && args.demo) fail_usage("--demo with --sink jsonl needs --out FILE");
            sink_description = "JSON lines " + out_path;
            using observer_t = eventscope::observer<eventscope::options<eventscope::json_lines_sink>>;
            if (out_path == "-") {
                observer_t obs(cfg);
                return serve(obs);
            }
            observer_t obs(cfg, eventscope::correlation_config{}, out_path);
            return serve(obs);
        }
#if EVENTSCOPE_EXAMPLE_POSTGRES
        if (cfg.database.connection_string.empty()) fail_usage("--sink postgres needs --db-url URL (or OBSERVABILITY_DB_URL)");
        eventscope::postgres_sink_options sink_options;
        const bool spool = !args.flags.count("no-spool") && (!args.demo || args.values.count("spool-dir"));
        if (args.flags.count("no-spool") && args.values.count("spool-dir")) fail_usage("--no-spool and --spool-dir contradict each other");
        if (spool) {
            sink_options.spool_directory = value(args, "spool-dir", default_spool_dir());
            sink_options.spool_max_bytes = static_cast<std::uintmax_t>(number(args, "spool-max-mb", 256, 1, 1 << 20)) << 20;
            sink_options.spool_file_bytes = std::min<std::uintmax_t>(sink_options.spool_file_bytes, sink_options.spool_max_bytes);
            auto sync = value(args, "spool-sync", "interval");
            if (sync == "per-batch") sink_options.spool_sync = eventscope::pg::spool_sync::per_batch;
            else if (sync == "interval") sink_options.spool_sync = eventscope::pg::spool_sync::interval;
            else if (sync == "none") sink_options.spool_sync = eventscope::pg::spool_sync::none;
            else fail_usage("--spool-sync must be per-batch, interval or none");
            sink_options.spool_sync_interval = std::chrono::milliseconds(number(args, "spool-sync-ms", 1000, 1, 3'600'000));
            ack_timeout = std::chrono::milliseconds(number(args, "ack-timeout-ms", 5000, 0, 600'000));
            // One process per spool, before the sink opens it (service_instance.hpp). Not overridable by
            // --start-degraded: a second process would replay the first one's files, writing and counting rows twice.
            std::string taken;
            instance = demo::service_instance::acquire(sink_options.spool_directory, taken);
            if (!taken.empty()) {
                say("detector_service: cannot start: " + taken);
                return 1;
            }
            if (!instance)
                say("detector_service: WARNING: cannot keep " + std::string(demo::service_instance::file_name) + " in " + sink_options.spool_directory +
                    ": rows left running by a kill -9 of this process will not be closed at the next start");
            for (const auto& e : instance ? instance->ended() : std::vector<demo::ended_instance>{})
                if (!e.stopped_cleanly)
                    say("detector_service: previous instance " + e.id + " (pid " + std::to_string(e.pid) + ", started " + e.started_at +
                        ") ended WITHOUT STOPPING (kill -9 or crash); rows it left running are closed as failed (process_ended) once its spool is replayed");
        }
        // Start-up check: a configuration error stops the service with the fix named (records would all be lost
        // or spooled forever); an unreachable server only warns (the spool, or the ring, holds records meanwhile).
        if (auto check = eventscope::pg::check_database(cfg); !check.ok()) {
            if (check.kind == eventscope::pg::failure_kind::configuration) {
                if (!args.flags.count("start-degraded")) {
                    say("detector_service: cannot start: " + check.message +
                        "\n  (to start anyway, with records spooled or dropped until this is fixed: --start-degraded)");
                    return 1;
                }
                health_options.startup_problem = check.message;
                say("detector_service: WARNING: starting degraded (--start-degraded): " + check.message);
            } else {
                say("detector_service: WARNING: the database did not answer the start-up check (" + check.message + "); " +
                    (spool ? "records are spooled to " + sink_options.spool_directory + " until it does"
                           : "records wait in memory (--no-spool) and are dropped when that is full"));
            }
        }
        sink_description = "PostgreSQL schema " + cfg.schema +
                           (spool ? ", spool " + sink_options.spool_directory + " (fsync " + value(args, "spool-sync", "interval") + ")" : ", no spool");
        eventscope::observer<eventscope::options<eventscope::postgres_sink>> obs(cfg, eventscope::correlation_config{}, cfg, sink_options);
        health_options.spool_enabled = spool;
        make_janitor = [&cfg](demo::recorder_t& r, const demo::record_health& h) {
            return std::make_shared<demo::abandoned_rows_janitor>(r, h, cfg, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
        };
        health_options.spool_problem = [&obs] { return obs.sink().spool_problem(); };
        return serve(obs);
#else
        fail_usage("this build has no PostgreSQL sink (libpqxx or eventscope::postgres_sink missing at configure time)");
#endif
    } catch (const std::exception& e) {
        say(std::string("detector_service: ") + e.what());
        return 1;
    }
}
