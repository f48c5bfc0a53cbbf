// eventscope_pg_bench: ingest throughput through the PostgreSQL sink, resident memory per buffered job, and bytes
// on disk per job / per invocation. Driven by scripts/bench-postgres.sh (which starts a throwaway cluster).
//
//   eventscope_pg_bench ingest  --url URL --batch N --jobs J [--jobs-per-event K] [--max-batch M] [--rows-per-transaction R] [--parallel-min-rows P]
//                               [--copy binary|text]   (the sink's binary_copy option; default binary, as configured by default)
//                               [--partition-copy on|off]  (the sink's copy_into_partitions option; default on)
//   eventscope_pg_bench memory  --jobs N
//   eventscope_pg_bench storage --url URL --invocations N [--payload] [--threads N] [--capture full|metrics] [--no-job-options]
//                               [--partition-copy on|off]
//     (--capture: the scopes' capture level, default full; --no-job-options: config.capture_job_options = false, the
//     seed's captureJobOptions: false)
//
// Every mode prints one JSON object on stdout (the script turns them into tables) and exits non-zero on failure.
#include <malloc.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/postgres_sink.hpp>

#include "common.hpp"

namespace es = eventscope;
using nlohmann::json;

namespace {

std::map<std::string, std::string> parse_args(int argc, char** argv) {
    std::map<std::string, std::string> a;
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        if (k.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument " + k);
        if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) a[k.substr(2)] = argv[++i];
        else a[k.substr(2)] = "1";
    }
    return a;
}

std::size_t num(const std::map<std::string, std::string>& a, const std::string& k, std::size_t def) {
    auto it = a.find(k);
    return it == a.end() ? def : std::stoull(it->second);
}

std::string need(const std::map<std::string, std::string>& a, const std::string& k) {
    auto it = a.find(k);
    if (it == a.end() || it->second.empty()) throw std::invalid_argument("missing --" + k);
    return it->second;
}

// --partition-copy on|off: the sink's copy_into_partitions option (default on, as configured by default).
void apply_partition_copy(const std::map<std::string, std::string>& a, es::postgres_sink_options& sink_opts) {
    if (!a.count("partition-copy")) return;
    const auto& v = a.at("partition-copy");
    if (v != "on" && v != "off") throw std::invalid_argument("--partition-copy must be on or off, not " + v);
    sink_opts.copy_into_partitions = v == "on";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

long rss_bytes() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * sysconf(_SC_PAGESIZE);
}

// The capture level as the JSON output and --capture spell it.
constexpr const char* capture_name(es::capture level) {
    return level == es::capture::full ? "full" : level == es::capture::metrics ? "metrics" : "off";
}

std::int64_t scalar(pqxx::connection& c, const std::string& sql) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    return r[0][0].is_null() ? 0 : r[0][0].as<std::int64_t>();
}

constexpr std::size_t big_ring = std::size_t{1} << 21;  // 2M records: the ingest run never drops

// ---- ingest -------------------------------------------------------------------------------------------------

int run_ingest(const std::map<std::string, std::string>& a) {
    const std::string url = need(a, "url");
    const std::size_t batch = num(a, "batch", 1000), jobs = num(a, "jobs", 200000), per_event = num(a, "jobs-per-event", 100);
    if (2 * jobs + 4 * (jobs / per_event + 1) > big_ring) throw std::invalid_argument("--jobs too large for the ring");
    {
        pqxx::connection c(url);
        pqxx::nontransaction tx(c);
        tx.exec("TRUNCATE event_detector_observability.invocations, event_detector_observability.event_executions, "
                "event_detector_observability.job_executions, event_detector_observability.job_logs");
    }
    using opts = es::options<es::postgres_sink, es::capture::full, big_ring>;
    es::config cfg;
    cfg.batch_size = batch;
    cfg.flush_interval = std::chrono::milliseconds(100);
    cfg.database.connection_string = url;
    // Everything else as configured by default (max_batch_size, the sink's rows per transaction), unless asked:
    // the figure that matters is what a user gets without tuning.
    if (a.count("max-batch")) cfg.max_batch_size = num(a, "max-batch", cfg.max_batch_size);
    es::postgres_sink_options sink_opts;
    if (a.count("rows-per-transaction")) sink_opts.max_rows_per_transaction = num(a, "rows-per-transaction", 5000);
    if (a.count("parallel-min-rows")) sink_opts.parallel_min_rows = num(a, "parallel-min-rows", 2000);
    if (a.count("copy")) {
        const auto& format = a.at("copy");
        if (format != "binary" && format != "text") throw std::invalid_argument("--copy must be binary or text, not " + format);
        sink_opts.binary_copy = format == "binary";
    }
    apply_partition_copy(a, sink_opts);
    es::observer<opts> obs(cfg, es::correlation_config{}, cfg, sink_opts);
    auto payload = esbench::hasura_payload();
    // Warm the connection (the sink connects lazily on its first write) outside the measurement.
    {
        EVENTSCOPE_INVOCATION(obs, inv, payload, "warmup");
        (void)inv;
    }
    if (!obs.flush(std::chrono::seconds(60))) throw std::runtime_error("warm-up flush failed: " + obs.stats().last_error);

    std::vector<std::uint32_t> lat;  // ticks per job scope (construct + destroy), the caller's whole cost
    lat.reserve(jobs);
    auto t0 = std::chrono::steady_clock::now();
    std::size_t done = 0;
    std::uint64_t x = 1;
    while (done < jobs) {
        EVENTSCOPE_INVOCATION(obs, inv, payload, "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        for (std::size_t j = 0; j < per_event && done < jobs; ++j, ++done) {
            auto c0 = __rdtsc();
            {
                EVENTSCOPE_JOB(ev, job, "send_email");
                (void)job;
            }
            auto c1 = __rdtsc();
            lat.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(c1 - c0, UINT32_MAX)));
            x = esbench::work(x);
        }
    }
    double produce_s = seconds_since(t0);
    bool flushed = obs.flush(std::chrono::minutes(10));
    double total_s = seconds_since(t0);
    auto s = obs.stats();
    pqxx::connection c(url);
    auto job_rows = scalar(c, "SELECT count(*) FROM event_detector_observability.job_executions WHERE status = 'completed'");
    auto all_rows = scalar(c, "SELECT (SELECT count(*) FROM event_detector_observability.invocations) + "
                              "(SELECT count(*) FROM event_detector_observability.event_executions) + "
                              "(SELECT count(*) FROM event_detector_observability.job_executions)");
    auto sink_stats = obs.sink().stats();

    double npt = es::tick_clock::instance().ns_per_tick();
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))] * npt; };
    json out = {{"mode", "ingest"},
                {"batch_size", batch},
                {"jobs", jobs},
                {"jobs_per_event", per_event},
                {"flushed", flushed},
                {"produce_s", produce_s},
                {"total_s", total_s},
                {"job_rows_in_db", job_rows},
                {"all_rows_in_db", all_rows},
                {"job_rows_per_s", static_cast<double>(job_rows) / total_s},
                {"all_rows_per_s", static_cast<double>(all_rows) / total_s},
                {"records_recorded", s.recorded},
                {"records_dropped", s.dropped},
                {"max_batch_size", cfg.max_batch_size},
                {"pipeline_batches", s.batches},
                {"sink_transactions", sink_stats.transactions},
                {"sink_rows_written", sink_stats.rows_written},
                {"sink_rows_copied_binary", sink_stats.rows_copied_binary},
                {"sink_rows_copied_into_partitions", sink_stats.rows_copied_into_partitions},
                {"caller_ns_p50", pct(0.50)},
                {"caller_ns_p99", pct(0.99)},
                {"caller_ns_p999", pct(0.999)},
                {"caller_ns_max", lat.empty() ? 0.0 : lat.back() * npt},
                {"last_error", s.last_error}};
    std::cout << out.dump() << std::endl;
    return flushed && s.dropped == 0 && job_rows == static_cast<std::int64_t>(jobs) ? 0 : 1;
}

// ---- memory: records buffered while the sink is blocked ---------------------------------------------------------

using esbench::gated_sink;

constexpr std::size_t mem_ring = std::size_t{1} << 19;  // 524,288 records

template <es::capture Level>
json measure_memory(std::size_t jobs, bool one_record, bool with_result) {
    using opts = es::options<gated_sink, Level, mem_ring>;
    using obs_t = es::observer<opts>;
    auto payload = esbench::hasura_payload();
    es::tick_clock::instance();
    malloc_trim(0);
    long rss0 = rss_bytes();
    auto heap0 = mallinfo2().uordblks;
    es::config cfg;
    cfg.batch_size = 100;
    cfg.capture_hasura_payload = false;  // payloads aside
    es::correlation_config corr;
    std::unique_ptr<obs_t> obs(new obs_t(cfg, corr));  // std::make_unique here hits a GCC 12 ICE (check_noexcept_r)
    long rss1 = rss_bytes();
    auto heap1 = mallinfo2().uordblks;
    {
        EVENTSCOPE_INVOCATION(*obs, inv, payload, "db-orders");
        EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
        ev.detected(true);
        // Let the pipeline take its first batch into the blocked sink, so what follows stays in the ring.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        for (std::size_t j = 0; j < jobs; ++j) {
            if (one_record) {
                es::job_record r;  // the final row only (the variant of dropping the start record)
                r.id = es::new_uuid();
                r.invocation_id = inv.id();
                r.event_execution_id = ev.id();
                r.job_name = "send_email";
                r.started = es::now_tick();
                r.ended = es::now_tick();
                r.status = es::run_status::completed;
                obs->push(std::move(r));
            } else {
                EVENTSCOPE_JOB(ev, job, "send_email");
                if (with_result) job.set_result(json{{"ok", true}, {"rows", j % 7}});
            }
        }
        long rss2 = rss_bytes();
        auto heap2 = mallinfo2().uordblks;
        auto s = obs->stats();
        json out = {{"mode", "memory"},
                    {"capture", capture_name(Level)},
                    {"records_per_job", one_record ? 1 : 2},
                    {"with_result", with_result},
                    {"jobs", jobs},
                    {"buffered_records", s.queue_depth},
                    {"dropped", s.dropped_buffer_full},
                    {"sizeof_record", sizeof(es::record)},
                    {"ring_capacity", mem_ring},
                    {"rss_ring_bytes", rss1 - rss0},
                    {"rss_total_delta_bytes", rss2 - rss0},
                    {"rss_per_job_bytes", static_cast<double>(rss2 - rss0) / static_cast<double>(jobs)},
                    {"heap_per_job_bytes", static_cast<double>(heap2 - heap1) / static_cast<double>(jobs)},
                    {"heap_ring_bytes", static_cast<double>(heap1 - heap0)}};
        obs->sink().open.store(true);
        return out;
    }
}

int run_memory(const std::map<std::string, std::string>& a) {
    // Ring of 2^19 records: 2 records per job fill it at 2^18 jobs (less the first batch and the parents).
    std::size_t jobs = num(a, "jobs", (mem_ring / 2) - 1000);
    std::size_t one_jobs = std::min(jobs * 2, mem_ring - 1000);
    std::cout << measure_memory<es::capture::metrics>(jobs, false, false).dump() << std::endl;
    std::cout << measure_memory<es::capture::full>(jobs, false, false).dump() << std::endl;
    std::cout << measure_memory<es::capture::full>(jobs, false, true).dump() << std::endl;
    std::cout << measure_memory<es::capture::full>(one_jobs, true, false).dump() << std::endl;
    return 0;
}

// ---- storage: realistic invocations written through the sink, then measured ----------------------------------

template <es::capture Level>
int run_storage(const std::map<std::string, std::string>& a) {
    const std::string url = need(a, "url");
    const std::size_t n = num(a, "invocations", 20000);
    const bool with_payload = a.count("payload") > 0;
    {
        pqxx::connection c(url);
        pqxx::nontransaction tx(c);
        tx.exec("TRUNCATE event_detector_observability.invocations, event_detector_observability.event_executions, "
                "event_detector_observability.job_executions, event_detector_observability.job_logs");
    }
    using opts = es::options<es::postgres_sink, Level, big_ring>;
    es::config cfg;
    cfg.batch_size = 1000;
    cfg.flush_interval = std::chrono::milliseconds(100);
    cfg.capture_hasura_payload = with_payload;
    cfg.capture_job_options = a.count("no-job-options") == 0;
    cfg.database.connection_string = url;
    // A named correlation_config: a temporary one in this template's constructor call hits a GCC 12 ICE
    // (check_noexcept_r).
    es::correlation_config correlation;
    es::postgres_sink_options sink_opts;
    apply_partition_copy(a, sink_opts);
    es::observer<opts> obs(cfg, correlation, cfg, sink_opts);
    auto payload = esbench::hasura_payload();
    const char* job_names[5] = {"send_email", "update_inventory", "notify_slack", "charge_card", "write_audit"};
    // Invocations [first, last) on the calling thread; with --threads the rows of several threads interleave in
    // the sink's batches, as a service's request threads do.
    auto write_invocations = [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) {
            EVENTSCOPE_INVOCATION(obs, inv, payload, "db-orders");
            {
                EVENTSCOPE_EVENT(inv, ev, "orders.shipped");
                ev.set_module_path("./events/orders.shipped.js");
                if (ev.detected(true)) {
                    for (int k = 0; k < 5; ++k) {
                        EVENTSCOPE_JOB(ev, job, job_names[k], json{{"retries", 3}, {"timeout", 5000}});
                        job.set_function_name(std::string("run_") + job_names[k]);
                        job.log(es::log_level::info, "processed order batch");
                        if (i % 50 == 0 && k == 4) job.fail("timeout after 5000 ms", "TimeoutError");
                        else job.set_result(json{{"ok", true}, {"rows", k}});
                    }
                }
            }
            {
                EVENTSCOPE_EVENT(inv, ev, "orders.cancelled");
                ev.set_module_path("./events/orders.cancelled.js");
                ev.detected(false);
            }
            if ((i - first) % 20000 == 19999 && !obs.flush(std::chrono::minutes(5)))
                throw std::runtime_error("flush failed: " + obs.stats().last_error);
        }
    };
    const std::size_t threads = std::max<std::size_t>(1, num(a, "threads", 1));
    if (threads == 1) {
        write_invocations(0, n);
    } else {
        std::vector<std::thread> writers;
        for (std::size_t t = 0; t < threads; ++t)
            writers.emplace_back([&, t] { write_invocations(n * t / threads, n * (t + 1) / threads); });
        for (auto& w : writers) w.join();
    }
    if (!obs.flush(std::chrono::minutes(10))) throw std::runtime_error("flush failed: " + obs.stats().last_error);
    auto s = obs.stats();
    pqxx::connection c(url);
    {
        pqxx::nontransaction tx(c);
        tx.exec("VACUUM (ANALYZE) event_detector_observability.invocations, event_detector_observability.event_executions, "
                "event_detector_observability.job_executions, event_detector_observability.job_logs");
    }
    json tables = json::object();
    std::int64_t total = 0;
    for (const char* t : {"invocations", "event_executions", "job_executions", "job_logs"}) {
        std::string q = std::string("event_detector_observability.") + t;
        auto rows = scalar(c, "SELECT count(*) FROM " + q);
        // Partitioned tables (schema 002) keep their bytes in their partitions: sum the tree.
        auto bytes = scalar(c, "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('" + q + "')");
        auto heap = scalar(c, "SELECT sum(pg_table_size(relid)) FROM pg_partition_tree('" + q + "')");
        total += bytes;
        tables[t] = {{"rows", rows}, {"total_bytes", bytes}, {"table_bytes", heap}, {"index_bytes", bytes - heap},
                     {"bytes_per_row", rows ? static_cast<double>(bytes) / static_cast<double>(rows) : 0.0}};
    }
    auto jobs = tables["job_executions"]["rows"].get<std::int64_t>();
    // Each partitioned index of job_executions (all its partitions), bytes per job row: the evidence for each index.
    json job_indexes = json::object();
    {
        pqxx::nontransaction tx(c);
        for (const auto& r : tx.exec("SELECT i.relname, sum(pg_relation_size(t.relid)) FROM pg_class i CROSS JOIN LATERAL pg_partition_tree(i.oid) t "
                                     "WHERE i.relkind = 'I' AND i.relnamespace = 'event_detector_observability'::regnamespace "
                                     "AND i.relname LIKE 'job_executions%' GROUP BY 1 ORDER BY 1"))
            job_indexes[r[0].c_str()] = jobs ? static_cast<double>(r[1].as<std::int64_t>()) / static_cast<double>(jobs) : 0.0;
    }
    json out = {{"mode", "storage"},
                {"invocations", n},
                {"threads", threads},
                {"capture", capture_name(Level)},
                {"payload_captured", with_payload},
                {"job_options_captured", cfg.capture_job_options},
                {"records_dropped", s.dropped},
                {"tables", tables},
                {"job_index_bytes_per_row", job_indexes},
                {"total_bytes", total},
                {"bytes_per_job_row", tables["job_executions"]["bytes_per_row"]},
                {"bytes_per_job_incl_log", jobs ? static_cast<double>(tables["job_executions"]["total_bytes"].get<std::int64_t>() +
                                                                      tables["job_logs"]["total_bytes"].get<std::int64_t>()) /
                                                      static_cast<double>(jobs)
                                                : 0.0},
                {"bytes_per_invocation_5_jobs", static_cast<double>(total) / static_cast<double>(n)}};
    std::cout << out.dump() << std::endl;
    return s.dropped == 0 && jobs == static_cast<std::int64_t>(5 * n) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: eventscope_pg_bench ingest|memory|storage [--options]\n";
        return 2;
    }
    try {
        auto a = parse_args(argc, argv);
        std::string mode = argv[1];
        if (mode == "ingest") return run_ingest(a);
        if (mode == "memory") return run_memory(a);
        if (mode == "storage") {
            const std::string level = a.count("capture") ? a.at("capture") : "full";
            if (level == capture_name(es::capture::full)) return run_storage<es::capture::full>(a);
            if (level == capture_name(es::capture::metrics)) return run_storage<es::capture::metrics>(a);
            std::cerr << "eventscope_pg_bench: --capture must be full or metrics, not '" << level << "'\n";
            return 2;
        }
        std::cerr << "unknown mode " << mode << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "eventscope_pg_bench: " << e.what() << "\n";
        return 1;
    }
}
