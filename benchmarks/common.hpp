// Shared pieces of the benchmark programs.
#pragma once

#include <atomic>
#include <cstdint>
#include <chrono>
#include <span>
#include <thread>

#include <nlohmann/json.hpp>

#include <eventscope/records.hpp>
#include <eventscope/sink.hpp>

namespace esbench {

// "Some cheap work": the loop body every variant shares (a few ns, no memory traffic).
inline std::uint64_t work(std::uint64_t x) noexcept {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    return x + 0x9e3779b97f4a7c15ULL;
}

// Takes each batch and drops it: the cheapest possible consumer, to separate the caller's cost from a sink's.
struct discard_sink {
    std::atomic<std::uint64_t> records{0};
    eventscope::write_result write(std::span<eventscope::record> batch) {
        records.fetch_add(batch.size(), std::memory_order_relaxed);
        return eventscope::write_result::success();
    }
};

// Blocks the pipeline thread in its first write until opened: records stay in the ring (memory measurements,
// and the caller's cost with no consumer touching the ring at the same time). Then drops everything.
struct gated_sink {
    std::atomic<bool> open{false};
    eventscope::write_result write(std::span<eventscope::record>) {
        while (!open.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return eventscope::write_result::success();
    }
};

// A Hasura event trigger delivery, ~0.5 kB: what an invocation scope reads correlation and source fields from.
inline nlohmann::json hasura_payload() {
    return nlohmann::json::parse(R"({
      "id": "85558393-c75d-4d2f-9c15-e80591b83894",
      "created_at": "2026-11-26T08:00:00.123456Z",
      "trigger": {"name": "orders_updated"},
      "table": {"schema": "public", "name": "orders"},
      "event": {
        "op": "UPDATE",
        "session_variables": {"x-hasura-role": "user", "x-hasura-user-email": "ada@example.com"},
        "data": {
          "old": {"id": 42, "status": "paid", "total": 129.5, "updated_by": "ada@example.com"},
          "new": {"id": 42, "status": "shipped", "total": 129.5, "updated_by": "ada@example.com"}
        }
      },
      "delivery_info": {"max_retries": 3, "current_retry": 0}
    })");
}

}  // namespace esbench
