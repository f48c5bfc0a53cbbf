// Compile-time policy: capture level, sink type and buffer capacity, as one options struct (Quill-style).
#pragma once

#include <cstddef>

namespace eventscope {

enum class capture {
    off,      // scopes compile to nothing
    metrics,  // timings, status, counts, ids
    full      // also payloads, options, results, error types/messages/stacks, log lines
};

template <class Sink, capture Level = capture::full, std::size_t BufferCapacity = 16384>
struct options {
    using sink_type = Sink;
    static constexpr capture capture_level = Level;
    static constexpr std::size_t buffer_capacity = BufferCapacity;
};

}  // namespace eventscope
