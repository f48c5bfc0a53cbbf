// The sink contract. A sink's `write` is only ever called from the pipeline's own thread, one batch at a time,
// so a sink needs no locking of its own for writing; the calling (detector) threads never touch a sink.
// Optional members the pipeline uses when present (pipeline.hpp): `stats()` (its own counters, merged into
// the observer's stats), `counters()` (named counters), `interrupt()` (cut a write short at shutdown), `idle()`
// (at each flush tick when the sink has nothing to write, on the pipeline thread: its own pending work).
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <string>

#include "records.hpp"

namespace eventscope {

struct write_result {
    bool ok = true;
    // Records the sink refused for their content and set aside (e.g. a dead-letter file); they count as handled.
    std::size_t rejected = 0;
    std::string error;  // why the batch failed (ok == false), or a note on the rejected records

    static write_result success(std::size_t rejected_records = 0, std::string note = {}) {
        return {true, rejected_records, std::move(note)};
    }
    static write_result failure(std::string why) { return {false, 0, std::move(why)}; }
};

// On success a sink may move from the records (they are discarded afterwards); on failure it must leave them
// intact, because the pipeline retries the same batch. Records arrive stamped, parents before their children.
template <class S>
concept sink = requires(S& s, std::span<record> batch) {
    { s.write(batch) } -> std::same_as<write_result>;
};

}  // namespace eventscope

// A file that includes a sink defines an observer: the backend comes with it.
#include "observer.hpp"
