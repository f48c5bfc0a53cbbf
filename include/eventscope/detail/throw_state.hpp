// What the opt-in throw capture (throw_capture.hpp) leaves for the scopes: the last exception thrown on this
// thread, described at its throw site. Without the opt-in nothing writes here and scopes only see *that* they
// are left by an exception (std::uncaught_exceptions), not what it was.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <typeinfo>

namespace eventscope::detail {

inline constexpr int max_throw_frames = 64;

struct throw_state {
    std::uint64_t sequence = 0;  // bumped on every captured throw
    const std::type_info* type = nullptr;
    std::string message;
    int frame_count = 0;
    void* frames[max_throw_frames];
};

inline throw_state& thread_throw_state() noexcept {
    thread_local throw_state state;
    return state;
}

// Set once by throw_capture.hpp's static initializer; read by scopes to decide whether to look at the state.
inline std::atomic<bool>& throw_capture_installed() noexcept {
    static std::atomic<bool> installed{false};
    return installed;
}

// How many live observers want stack traces (config.capture_error_stacks with full capture): the hook takes a
// backtrace only while this is non-zero.
inline std::atomic<int>& throw_stacks_wanted() noexcept {
    static std::atomic<int> wanted{0};
    return wanted;
}

}  // namespace eventscope::detail
