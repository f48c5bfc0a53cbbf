// Compile-time policy: capture level, sink type and buffer capacity, as one options struct (Quill-style).
//
// The capture level of a build: `EVENTSCOPE_CAPTURE` (off, metrics or full; default full) sets
// `default_capture`, which is both the default level of `options` and the level of the plain scope names
// (`eventscope::job`, `eventscope::event`, `eventscope::invocation`, `eventscope::recorder`). Flipping it for a
// whole build (`-DEVENTSCOPE_CAPTURE=metrics`) changes every one of them together, so code written against the
// plain names compiles unchanged under every level. `EVENTSCOPE_DISABLE` forces `off` everywhere.
#pragma once

#include <cstddef>

namespace eventscope {

enum class capture {
    off,      // scopes compile to nothing
    metrics,  // timings, status, counts, ids
    full      // also payloads, options, results, error types/messages/stacks, log lines
};

#if defined(EVENTSCOPE_DISABLE)
inline constexpr capture default_capture = capture::off;
#elif defined(EVENTSCOPE_CAPTURE)
inline constexpr capture default_capture = capture::EVENTSCOPE_CAPTURE;
#else
inline constexpr capture default_capture = capture::full;
#endif

// The level a build really uses: EVENTSCOPE_DISABLE turns every level off.
constexpr capture effective_capture(capture requested) noexcept {
#if defined(EVENTSCOPE_DISABLE)
    (void)requested;
    return capture::off;
#else
    return requested;
#endif
}

template <class Sink, capture Level = default_capture, std::size_t BufferCapacity = 16384>
struct options {
    using sink_type = Sink;
    static constexpr capture capture_level = effective_capture(Level);
    static constexpr std::size_t buffer_capacity = BufferCapacity;
};

}  // namespace eventscope
