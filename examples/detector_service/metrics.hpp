// GET /metrics: the recorder's stats() and the service's own counts in the Prometheus text exposition format
// (version 0.0.4). Names and meanings are listed in examples/README.md ("Self-metrics").
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "record_health.hpp"

namespace demo {

// Replies to deliveries, by class; and acknowledgements sent before the records were confirmed stored.
struct delivery_counters {
    std::atomic<std::uint64_t> ok{0}, client_error{0}, server_error{0}, unconfirmed_acks{0};

    void count(int status) {
        (status < 400 ? ok : status < 500 ? client_error : server_error).fetch_add(1, std::memory_order_relaxed);
    }
};

// `stats`: read now (obs.stats()); `state`: the health sampler's latest.
std::string prometheus_text(const eventscope::pipeline_stats& stats, record_state state, const delivery_counters& deliveries);

}  // namespace demo
