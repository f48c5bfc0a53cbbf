// eventscope_micro: the caller's cost of eventscope's scopes, next to a baseline with the same loop body and to
// peers that record one structured event asynchronously. See benchmarks/README.md for how to read it.
//
// Built twice by scripts/bench-micro.sh --before: against this tree, and with ESB_BEFORE_API against another
// tree's headers (the API before issue 12), so that both columns of a comparison come from the same source.
//
// Environment:
//   ESB_SMOKE=1            tiny fixed iteration counts (the test suite's smoke run)
//   ESB_MEMORY=1           instead of benchmarks: resident memory per buffered job (a parked sink, ring filled)
//   ESB_CALLGRIND=N        instead of benchmarks: N calls of each esb_cg_* function, for callgrind's
//                          --toggle-collect (instructions per call, independent of machine load)
//   EVENTSCOPE_BENCH_DB_URL  PostgreSQL URL with sql/schema.sql applied: enables the postgres_sink variants
//
// Counters on every instrumented benchmark: records (offered to the ring), dropped (ring full), drop_pct.
// A drop means the producer outran the pipeline thread and the benchmark measured the drop path for those
// records (a failed CAS-free check on a full ring, cheaper than a push): read ns/op together with drop_pct.
#include <x86intrin.h>

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>

#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/json_lines_sink.hpp>
#include <eventscope/sinks/memory_sink.hpp>
#ifdef ESB_HAVE_POSTGRES
#include <eventscope/sinks/postgres_sink.hpp>
#endif
#ifdef ESB_HAVE_SPDLOG
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#endif
#ifdef ESB_HAVE_LTTNG
#include "lttng_tp.h"
#endif

#include "common.hpp"

namespace es = eventscope;
using esbench::work;

namespace {

bool g_smoke = false;
std::string g_db_url;

constexpr std::size_t ring_default = 16384;
constexpr std::size_t ring_large = std::size_t{1} << 20;

es::config bench_config(std::size_t batch_size = 100) {
    es::config c;  // library defaults, not the environment
    c.batch_size = batch_size;
    return c;
}

template <class Obs>
void report_drops(benchmark::State& st, const Obs& obs) {
    auto s = obs.stats();
    st.counters["records"] = static_cast<double>(s.recorded);
    st.counters["dropped"] = static_cast<double>(s.dropped_buffer_full);
    st.counters["backlog"] = static_cast<double>(s.pending());  // records not yet written when the loop ended
    st.counters["drop_pct"] = s.recorded ? 100.0 * static_cast<double>(s.dropped_buffer_full) / static_cast<double>(s.recorded) : 0.0;
}

// The event scope type of an observer type.
#ifdef ESB_BEFORE_API
template <class Obs>
struct event_type_of {
    using type = es::event_scope<Obs>;
};
template <class S, std::size_t N>
struct event_type_of<es::observer<es::options<S, es::capture::off, N>>> {
    using type = es::null_event_scope;
};
template <class Obs>
using event_of = typename event_type_of<Obs>::type;
#else
template <class Obs>
using event_of = typename Obs::event_type;
#endif

// An invocation with one detected event, kept open while the loop creates job scopes under it.
template <class Obs>
struct open_event {
    typename Obs::invocation_type inv;
    event_of<Obs> ev;
    open_event(Obs& obs, const nlohmann::json& payload) : inv(obs.invocation(payload, "db-orders")), ev(inv.event("orders.shipped")) {
        ev.detected(true);
    }
};

template <class Opts, class... SinkArgs>
std::unique_ptr<es::observer<Opts>> make_observer(std::size_t batch_size, SinkArgs&&... args) {
    if constexpr (Opts::capture_level == es::capture::off) {
        return std::unique_ptr<es::observer<Opts>>(new es::observer<Opts>());
    } else {
        es::config cfg = bench_config(batch_size);
        es::correlation_config corr;
        return std::unique_ptr<es::observer<Opts>>(new es::observer<Opts>(std::move(cfg), std::move(corr), std::forward<SinkArgs>(args)...));
    }
}

// ---- baseline and one job scope ---------------------------------------------------------------------------

void BM_baseline(benchmark::State& st) {
    std::uint64_t x = 1;
    for (auto _ : st) {
        x = work(x);
        benchmark::DoNotOptimize(x);
    }
}

template <class Opts>
void job_loop(benchmark::State& st, es::observer<Opts>& obs) {
    auto payload = esbench::hasura_payload();
    {
        open_event<es::observer<Opts>> chain(obs, payload);
        std::uint64_t x = 1;
        for (auto _ : st) {
            EVENTSCOPE_JOB(chain.ev, job, "send_email");
            (void)job;  // capture::off: an otherwise unused scope trips -Wunused-but-set-variable (see README)
            x = work(x);
            benchmark::DoNotOptimize(x);
        }
        if constexpr (Opts::capture_level != es::capture::off) report_drops(st, obs);
    }
}

template <class Sink, es::capture Level, std::size_t Ring>
void BM_job(benchmark::State& st) {
    using opts = es::options<Sink, Level, Ring>;
    auto obs = make_observer<opts>(100);
    job_loop(st, *obs);
}

// The pipeline thread is parked in the sink's first write: the producer alone, no cache line shared with a
// consumer at the same moment (what the caller pays on a machine with a spare core for the pipeline).
template <es::capture Level>
void BM_job_consumer_parked(benchmark::State& st) {
    using opts = es::options<esbench::gated_sink, Level, ring_large>;
    auto obs = make_observer<opts>(100);
    {
        auto payload = esbench::hasura_payload();
        open_event<es::observer<opts>> chain(*obs, payload);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the pipeline enter the parked write
        std::uint64_t x = 1;
        for (auto _ : st) {
            EVENTSCOPE_JOB(chain.ev, job, "send_email");
            x = work(x);
            benchmark::DoNotOptimize(x);
        }
        report_drops(st, *obs);
    }
    obs->sink().open.store(true);
}

void BM_job_json_lines(benchmark::State& st) {
    using opts = es::options<es::json_lines_sink, es::capture::full, ring_default>;
    auto obs = make_observer<opts>(100, std::string("/dev/null"));
    job_loop(st, *obs);
}

// A job scope that also sets a JSON result (full capture allocates its details).
void BM_job_full_with_result(benchmark::State& st) {
    using opts = es::options<es::memory_sink, es::capture::full, ring_large>;
    auto obs = make_observer<opts>(100);
    auto payload = esbench::hasura_payload();
    {
        open_event<es::observer<opts>> chain(*obs, payload);
        std::uint64_t x = 1;
        for (auto _ : st) {
            EVENTSCOPE_JOB(chain.ev, job, "send_email");
            x = work(x);
            job.set_result(nlohmann::json{{"sent", true}, {"n", x & 0xff}});
            benchmark::DoNotOptimize(x);
        }
        report_drops(st, *obs);
    }
}

// set_result of a small flat object written as a braced list: a JSON object built on the caller before issue
// 12, a flat encoding of the fields since (the same source text compiles against both).
void BM_job_full_with_result_fields(benchmark::State& st) {
    using opts = es::options<es::memory_sink, es::capture::full, ring_large>;
    auto obs = make_observer<opts>(100);
    auto payload = esbench::hasura_payload();
    {
        open_event<es::observer<opts>> chain(*obs, payload);
        std::uint64_t x = 1;
        for (auto _ : st) {
            EVENTSCOPE_JOB(chain.ev, job, "send_email");
            x = work(x);
            job.set_result({{"sent", true}, {"n", x & 0xff}});
            benchmark::DoNotOptimize(x);
        }
        report_drops(st, *obs);
    }
}

// The parked pipeline keeps every entry (and the payload copies they hold): the heap only grows. So that the
// caller is not charged the kernel's first touch of fresh pages, which a long-running service does not pay,
// the heap is made resident and kept first.
void warm_heap() {
    static bool done = false;
    if (done) return;
    done = true;
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
    std::size_t bytes = std::size_t{768} << 20;
    if (void* p = std::malloc(bytes)) {
        std::memset(p, 1, bytes);
        benchmark::DoNotOptimize(p);
        std::free(p);
    }
}

// The same with the pipeline parked: the caller's own cost, without the pipeline thread freeing (on the other
// core) what this thread allocates.
void BM_job_full_with_result_fields_parked(benchmark::State& st) {
    using opts = es::options<esbench::gated_sink, es::capture::full, ring_large>;
    warm_heap();
    auto obs = make_observer<opts>(100);
    auto payload = esbench::hasura_payload();
    {
        open_event<es::observer<opts>> chain(*obs, payload);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::uint64_t x = 1;
        for (auto _ : st) {
            EVENTSCOPE_JOB(chain.ev, job, "send_email");
            x = work(x);
            job.set_result({{"sent", true}, {"n", x & 0xff}});
            benchmark::DoNotOptimize(x);
        }
        report_drops(st, *obs);
    }
    obs->sink().open.store(true);
}

// ---- one invocation scope with a ~0.5 kB payload: the caller's cost ---------------------------------------------
// The pipeline is parked (gated_sink) so that the caller's thread is measured alone; the ring holds every entry.

template <bool RawBody>
void BM_invocation_only(benchmark::State& st) {
    using opts = es::options<esbench::gated_sink, es::capture::full, ring_large>;
    warm_heap();
    auto obs = make_observer<opts>(100);
    auto payload = esbench::hasura_payload();
    const std::string body = payload.dump();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (auto _ : st) {
        if constexpr (RawBody) {
            auto inv = obs->invocation_from_body(body, "db-orders");
            benchmark::DoNotOptimize(&inv);
        } else {
            auto inv = obs->invocation(payload, "db-orders");
            benchmark::DoNotOptimize(&inv);
        }
    }
    report_drops(st, *obs);
    obs->sink().open.store(true);
}

#ifdef ESB_HAVE_POSTGRES
void BM_job_postgres(benchmark::State& st) {
    using opts = es::options<es::postgres_sink, es::capture::full, ring_large>;
    auto cfg = bench_config(1000);
    cfg.database.connection_string = g_db_url;
    auto obs = std::make_unique<es::observer<opts>>(cfg, es::correlation_config{}, cfg);
    job_loop(st, *obs);
    if (!obs->flush(std::chrono::minutes(5))) st.SkipWithError(("postgres flush failed: " + obs->stats().last_error).c_str());
}
#endif

// ---- one record per job: config.record_running_jobs = false (no `running` row at job start) ----------------

template <std::size_t Ring>
void BM_job_one_record(benchmark::State& st) {
    using opts = es::options<es::memory_sink, es::capture::full, Ring>;
    auto cfg = bench_config(100);
    cfg.record_running_jobs = false;
    std::unique_ptr<es::observer<opts>> obs(new es::observer<opts>(cfg));
    job_loop(st, *obs);
}

// ---- a whole invocation: 5 events checked, 2 detected, 5 jobs ----------------------------------------------

constexpr const char* event_names[5] = {"orders.shipped", "orders.paid", "orders.cancelled", "orders.refunded", "orders.flagged"};
constexpr const char* job_names[3] = {"send_email", "update_inventory", "notify_slack"};

void BM_invocation_baseline(benchmark::State& st) {
    auto payload = esbench::hasura_payload();
    std::uint64_t x = 1;
    for (auto _ : st) {
        benchmark::DoNotOptimize(payload);
        for (int e = 0; e < 5; ++e) {
            x = work(x);
            if (e < 2) {
                for (int j = 0; j < (e == 0 ? 3 : 2); ++j) {
                    x = work(x);
                    benchmark::DoNotOptimize(x);
                }
            }
        }
        benchmark::DoNotOptimize(x);
    }
}

template <es::capture Level>
void BM_invocation(benchmark::State& st) {
    using opts = es::options<es::memory_sink, Level, ring_large>;
    auto obs = make_observer<opts>(100);
    auto payload = esbench::hasura_payload();
    std::uint64_t x = 1;
    for (auto _ : st) {
        benchmark::DoNotOptimize(payload);
        EVENTSCOPE_INVOCATION(*obs, inv, payload, "db-orders");
        for (int e = 0; e < 5; ++e) {
            EVENTSCOPE_EVENT(inv, ev, event_names[e]);
            x = work(x);
            if (ev.detected(e < 2)) {
                for (int j = 0; j < (e == 0 ? 3 : 2); ++j) {
                    EVENTSCOPE_JOB(ev, job, job_names[j]);
                    (void)job;
                    x = work(x);
                    benchmark::DoNotOptimize(x);
                }
            }
        }
        benchmark::DoNotOptimize(x);
    }
    if constexpr (Level != es::capture::off) report_drops(st, *obs);
}

// ---- peers ----------------------------------------------------------------------------------------------------

#ifdef ESB_HAVE_SPDLOG
std::shared_ptr<spdlog::async_logger> spdlog_logger() {
    static auto logger = [] {
        spdlog::init_thread_pool(16384, 1);
        auto sink = std::make_shared<spdlog::sinks::null_sink_mt>();
        return std::make_shared<spdlog::async_logger>("bench", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::block);
    }();
    return logger;
}

// One structured line per job: name, id, status and two timestamps, formatted on the caller (spdlog formats
// before enqueueing) and handed to spdlog's worker thread; the default overflow policy (block).
void BM_spdlog_async(benchmark::State& st) {
    auto logger = spdlog_logger();
    std::uint64_t x = 1, seq = 0;
    for (auto _ : st) {
        auto t0 = __rdtsc();
        x = work(x);
        benchmark::DoNotOptimize(x);
        auto t1 = __rdtsc();
        logger->info("job_finished job={} id={} status={} started={} ended={}", "send_email", ++seq, "completed", t0, t1);
    }
}
#endif

#ifdef ESB_HAVE_LTTNG
// A tracepoint with no tracing session (no lttng-sessiond here): the disabled fast path, a load and a branch.
void BM_lttng_tracepoint_disabled(benchmark::State& st) {
    std::uint64_t x = 1, seq = 0;
    for (auto _ : st) {
        auto t0 = __rdtsc();
        x = work(x);
        benchmark::DoNotOptimize(x);
        auto t1 = __rdtsc();
        lttng_ust_tracepoint(eventscope_bench, job, "send_email", ++seq, t0, t1, 1);
    }
}
#endif

// ---- two threads recording at once -----------------------------------------------------------------------------

template <class Opts>
struct shared_job_env {
    std::unique_ptr<es::observer<Opts>> obs;
    nlohmann::json payload = esbench::hasura_payload();
    std::unique_ptr<open_event<es::observer<Opts>>> chain;
};

template <es::capture Level, std::size_t Ring>
void BM_job_mt(benchmark::State& st) {
    using opts = es::options<es::memory_sink, Level, Ring>;
    static shared_job_env<opts> env;
    if (st.thread_index() == 0) {
        env.obs = make_observer<opts>(100);
        env.chain = std::make_unique<open_event<es::observer<opts>>>(*env.obs, env.payload);
    }
    std::uint64_t x = static_cast<std::uint64_t>(st.thread_index()) + 1;
    for (auto _ : st) {  // the loop starts after a barrier: thread 0's set-up is complete
        EVENTSCOPE_JOB(env.chain->ev, job, "send_email");
        x = work(x);
        benchmark::DoNotOptimize(x);
    }
    if (st.thread_index() == 0) {  // the loop ends with a barrier too
        report_drops(st, *env.obs);
        env.chain.reset();
        env.obs.reset();
    }
}

// ---- resident memory per buffered job ---------------------------------------------------------------------------

std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// A parked sink and a ring filled with jobs (default config: a `running` row and a final row per job).
// RSS before the observer exists and once the ring is full, divided by the jobs buffered: the ring (allocated
// and touched up front) and any heap the records hold.
int measure_memory() {
    constexpr std::size_t ring = std::size_t{1} << 20;
    using opts = es::options<esbench::gated_sink, es::capture::full, ring>;
    auto payload = esbench::hasura_payload();
    std::size_t before = rss_bytes(), jobs = 0, after = 0;
    {
        auto obs = make_observer<opts>(100);
        {
            open_event<es::observer<opts>> chain(*obs, payload);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the pipeline parks in its first write
            while (obs->stats().dropped_buffer_full == 0 && jobs < ring) {
                EVENTSCOPE_JOB(chain.ev, job, "send_email");
                ++jobs;
            }
            after = rss_bytes();
        }
        obs->sink().open.store(true);
    }
    std::printf("{\"mode\":\"memory\",\"ring\":%zu,\"jobs_buffered\":%zu,\"rss_bytes\":%zu,\"rss_per_job\":%.1f}\n", ring, jobs,
                after - before, static_cast<double>(after - before) / static_cast<double>(jobs));
    return 0;
}

// ---- instruction counts (callgrind) -------------------------------------------------------------------------------
// Each function does one thing; `valgrind --tool=callgrind --toggle-collect='esb_cg_*'` counts the instructions
// executed inside it (callees included), which scripts/bench-micro.sh divides by the number of calls.

template <class Ev>
[[gnu::noinline]] void esb_cg_job(Ev& ev) {
    EVENTSCOPE_JOB(ev, job, "send_email");
}

template <class Ev>
[[gnu::noinline]] void esb_cg_job_with_result(Ev& ev, std::uint64_t x) {
    EVENTSCOPE_JOB(ev, job, "send_email");
    job.set_result({{"sent", true}, {"n", x & 0xff}});
}

// The failure path: a job left by an exception that its catch block names with eventscope::caught() (any type:
// the catch site finds out whether it is a std::exception), and with caught(e) (a std::exception at hand). Counted
// around a loop of calls: callgrind's --toggle-collect around a function an exception lands in counts wrongly.
template <class Ev>
[[gnu::noinline]] void job_failed_caught(Ev& ev) {
    try {
        EVENTSCOPE_JOB(ev, job, "send_email");
        throw std::runtime_error("smtp down");
    } catch (...) {
        es::caught();
    }
}

template <class Ev>
[[gnu::noinline]] void job_failed_caught_e(Ev& ev) {
    try {
        EVENTSCOPE_JOB(ev, job, "send_email");
        throw std::runtime_error("smtp down");
    } catch (const std::exception& e) {
        es::caught(e);
    }
}

template <class Ev>
[[gnu::noinline]] void esb_cg_jobs_failed_caught(Ev& ev, long calls) {
    for (long i = 0; i < calls; ++i) job_failed_caught(ev);
}

template <class Ev>
[[gnu::noinline]] void esb_cg_jobs_failed_caught_e(Ev& ev, long calls) {
    for (long i = 0; i < calls; ++i) job_failed_caught_e(ev);
}

template <class Obs>
[[gnu::noinline]] void esb_cg_invocation_json(Obs& obs, const nlohmann::json& payload) {
    auto inv = obs.invocation(payload, "db-orders");
}

template <class Obs>
[[gnu::noinline]] void esb_cg_invocation_raw_body(Obs& obs, const std::string& body) {
    auto inv = obs.invocation_from_body(body, "db-orders");
}

int run_for_callgrind(long calls) {
    using opts = es::options<esbench::gated_sink, es::capture::full, ring_large>;
    auto obs = make_observer<opts>(100);
    auto payload = esbench::hasura_payload();
    const std::string body = payload.dump();
    {
        open_event<es::observer<opts>> chain(*obs, payload);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        for (long i = 0; i < calls; ++i) esb_cg_job(chain.ev);
        for (long i = 0; i < calls; ++i) esb_cg_job_with_result(chain.ev, static_cast<std::uint64_t>(i));
        for (long i = 0; i < calls; ++i) esb_cg_invocation_json(*obs, payload);
        for (long i = 0; i < calls; ++i) esb_cg_invocation_raw_body(*obs, body);
        esb_cg_jobs_failed_caught(chain.ev, calls);
        esb_cg_jobs_failed_caught_e(chain.ev, calls);
    }
    auto s = obs->stats();
    std::printf("{\"mode\":\"callgrind\",\"calls\":%ld,\"recorded\":%llu,\"dropped\":%llu}\n", calls,
                static_cast<unsigned long long>(s.recorded), static_cast<unsigned long long>(s.dropped_buffer_full));
    obs->sink().open.store(true);
    return s.dropped_buffer_full == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (std::getenv("ESB_MEMORY")) return measure_memory();
    if (const char* calls = std::getenv("ESB_CALLGRIND")) return run_for_callgrind(std::atol(calls));
    g_smoke = std::getenv("ESB_SMOKE") != nullptr;
    if (const char* url = std::getenv("EVENTSCOPE_BENCH_DB_URL")) g_db_url = url;
    using es::capture;
    // Variants whose sink keeps every record (memory_sink) or whose ring must not wrap run a fixed count.
    const benchmark::IterationCount fixed = g_smoke ? 2000 : 400000;
    const benchmark::IterationCount fixed_inv = g_smoke ? 200 : 20000;
    auto fix = [&](benchmark::internal::Benchmark* b, benchmark::IterationCount n) {
        if (g_smoke || n > 0) b->Iterations(n);
        return b;
    };
    auto cheap = [&](benchmark::internal::Benchmark* b) {
        if (g_smoke) b->Iterations(20000);
        return b;
    };

    cheap(benchmark::RegisterBenchmark("baseline", BM_baseline));
    cheap(benchmark::RegisterBenchmark("job/off", BM_job<es::memory_sink, capture::off, ring_default>));
    fix(benchmark::RegisterBenchmark("job/metrics/memory/ring16k", BM_job<es::memory_sink, capture::metrics, ring_default>), fixed);
    fix(benchmark::RegisterBenchmark("job/full/memory/ring16k", BM_job<es::memory_sink, capture::full, ring_default>), fixed);
    fix(benchmark::RegisterBenchmark("job/metrics/memory/ring1M", BM_job<es::memory_sink, capture::metrics, ring_large>), fixed);
    fix(benchmark::RegisterBenchmark("job/full/memory/ring1M", BM_job<es::memory_sink, capture::full, ring_large>), fixed);
    fix(benchmark::RegisterBenchmark("job/metrics/consumer_parked/ring1M", BM_job_consumer_parked<capture::metrics>), fixed);
    fix(benchmark::RegisterBenchmark("job/full/consumer_parked/ring1M", BM_job_consumer_parked<capture::full>), fixed);
    cheap(benchmark::RegisterBenchmark("job/full/discard/ring16k", BM_job<esbench::discard_sink, capture::full, ring_default>));
    cheap(benchmark::RegisterBenchmark("job/full/json_lines_devnull/ring16k", BM_job_json_lines));
    fix(benchmark::RegisterBenchmark("job/full+result/memory/ring1M", BM_job_full_with_result), fixed);
    fix(benchmark::RegisterBenchmark("job/full+result_fields/memory/ring1M", BM_job_full_with_result_fields), fixed);
    fix(benchmark::RegisterBenchmark("job/full+result_fields/consumer_parked/ring1M", BM_job_full_with_result_fields_parked), fixed);
    fix(benchmark::RegisterBenchmark("invocation/full/json_payload/parked", BM_invocation_only<false>), fixed_inv * 5);
    fix(benchmark::RegisterBenchmark("invocation/full/raw_body/parked", BM_invocation_only<true>), fixed_inv * 5);
#ifdef ESB_HAVE_POSTGRES
    if (!g_db_url.empty())
        fix(benchmark::RegisterBenchmark("job/full/postgres/ring1M", BM_job_postgres), g_smoke ? 2000 : 200000);
#endif
    fix(benchmark::RegisterBenchmark("job/full/memory/ring16k/no_running_rows", BM_job_one_record<ring_default>), fixed);
    fix(benchmark::RegisterBenchmark("job/full/memory/ring1M/no_running_rows", BM_job_one_record<ring_large>), fixed);
    cheap(benchmark::RegisterBenchmark("invocation5x5/baseline", BM_invocation_baseline));
    cheap(benchmark::RegisterBenchmark("invocation5x5/off", BM_invocation<capture::off>));
    fix(benchmark::RegisterBenchmark("invocation5x5/metrics/memory/ring1M", BM_invocation<capture::metrics>), fixed_inv);
    fix(benchmark::RegisterBenchmark("invocation5x5/full/memory/ring1M", BM_invocation<capture::full>), fixed_inv);
#ifdef ESB_HAVE_SPDLOG
    cheap(benchmark::RegisterBenchmark("peer/spdlog_async_nullsink", BM_spdlog_async));
#endif
#ifdef ESB_HAVE_LTTNG
    cheap(benchmark::RegisterBenchmark("peer/lttng_ust_tracepoint_disabled", BM_lttng_tracepoint_disabled));
#endif
    // Two producers: Google Benchmark reports per-thread time per call (each thread's wall time / its calls).
    cheap(benchmark::RegisterBenchmark("mt2/baseline", BM_baseline))->Threads(2)->UseRealTime();
    fix(benchmark::RegisterBenchmark("mt2/job/full/memory/ring16k", BM_job_mt<capture::full, ring_default>), fixed / 2)->Threads(2)->UseRealTime();
    fix(benchmark::RegisterBenchmark("mt2/job/full/memory/ring1M", BM_job_mt<capture::full, ring_large>), fixed / 2)->Threads(2)->UseRealTime();
#ifdef ESB_HAVE_SPDLOG
    cheap(benchmark::RegisterBenchmark("mt2/peer/spdlog_async_nullsink", BM_spdlog_async))->Threads(2)->UseRealTime();
#endif

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
