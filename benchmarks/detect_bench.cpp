// eventscope_detect_bench: the caller's cost of a detection stated as clauses (EVENTSCOPE_DETECT, issue 14),
// against the same decision passed to ev.detected() in the same event scope. Each iteration opens an event scope
// under a long-lived invocation, decides, and closes it; the clause cost is the difference between a variant and
// BM_event_detected at the same capture level. The clause: two small string operands ("status changed": the
// old and new status differ; "now shipped": new status == "shipped"), as in the example service's modules.
//
//   benchmarks/detect_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
// ESB_SMOKE=1: tiny fixed iteration counts (the test suite's smoke run); ESB_ITERATIONS=N: N iterations each.
#include <cstdlib>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include <eventscope/eventscope.hpp>
#include <eventscope/sinks/memory_sink.hpp>

#include "common.hpp"

namespace es = eventscope;

namespace {

template <es::capture Level>
using observer_t = es::observer<es::options<esbench::discard_sink, Level, (std::size_t{1} << 20)>>;

// Statuses that alternate so the branch predictor cannot learn one outcome: half detected, half stopped at the
// second clause.
struct statuses {
    std::string before = "paid";
    std::string shipped = "shipped", cancelled = "cancelled";
    const std::string& now(std::size_t i) const { return (i & 1) ? shipped : cancelled; }
};

template <es::capture Level, bool Clauses>
void run(benchmark::State& st) {
    es::config cfg;
    cfg.batch_size = 1000;
    observer_t<Level> obs(cfg);
    auto payload = esbench::hasura_payload();
    auto inv = obs.invocation(payload, "db-orders");
    statuses s;
    std::size_t i = 0, detected = 0;
    for (auto _ : st) {
        auto ev = inv.event("orders.shipped");
        const std::string& now = s.now(i++);
        bool yes;
        if constexpr (Clauses) yes = EVENTSCOPE_DETECT(ev, ("status changed", s.before != now), ("now shipped", now == "shipped"));
        else yes = ev.detected(s.before != now && now == "shipped");
        detected += yes;
        benchmark::DoNotOptimize(detected);
        // Drain the ring now and then (untimed), so that the figure is the cost of records taken, not of a full
        // ring refusing them (a refused push is cheaper than a taken one).
        if ((i & 0xFFFF) == 0) {
            st.PauseTiming();
            obs.flush();
            st.ResumeTiming();
        }
    }
    st.counters["detected_pct"] = st.iterations() ? 100.0 * static_cast<double>(detected) / static_cast<double>(st.iterations()) : 0;
    auto stats = obs.stats();
    st.counters["drop_pct"] = stats.recorded ? 100.0 * static_cast<double>(stats.dropped_buffer_full) / static_cast<double>(stats.recorded) : 0.0;
}

void BM_plain_decision(benchmark::State& st) {  // no scope at all: the decision alone
    statuses s;
    std::size_t i = 0, detected = 0;
    for (auto _ : st) {
        const std::string& now = s.now(i++);
        detected += (s.before != now && now == "shipped");
        benchmark::DoNotOptimize(detected);
    }
}

void BM_event_detected_metrics(benchmark::State& st) { run<es::capture::metrics, false>(st); }
void BM_detect_clauses_metrics(benchmark::State& st) { run<es::capture::metrics, true>(st); }
void BM_event_detected_full(benchmark::State& st) { run<es::capture::full, false>(st); }
void BM_detect_clauses_full(benchmark::State& st) { run<es::capture::full, true>(st); }
void BM_detect_clauses_off(benchmark::State& st) { run<es::capture::off, true>(st); }

// Runs at static initialization (BENCHMARK), before main: reads the environment itself. ESB_ITERATIONS=N fixes
// the count (callgrind: instructions per iteration from two counts, benchmarks/README.md "Issue 14").
void apply(benchmark::internal::Benchmark* b) {
    if (const char* n = std::getenv("ESB_ITERATIONS")) b->Iterations(std::atoll(n));
    else if (std::getenv("ESB_SMOKE") != nullptr) b->Iterations(2000);
}

}  // namespace

BENCHMARK(BM_plain_decision)->Apply(apply);
BENCHMARK(BM_detect_clauses_off)->Apply(apply);
BENCHMARK(BM_event_detected_metrics)->Apply(apply);
BENCHMARK(BM_detect_clauses_metrics)->Apply(apply);
BENCHMARK(BM_event_detected_full)->Apply(apply);
BENCHMARK(BM_detect_clauses_full)->Apply(apply);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
