// The job currently collecting console lines on this thread (console_capture.hpp tees std::cout/cerr/clog
// into it). Type-erased, so that the stream side needs nothing of the scopes and the scopes nothing of iostream.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "../status.hpp"

namespace eventscope::detail {

struct log_target {
    void* context = nullptr;
    void (*emit)(void* context, log_level level, std::string_view line) = nullptr;
    std::array<std::string, 3> partial;  // unfinished line per stream
};

inline log_target*& current_log_target() noexcept {
    [[gnu::tls_model("initial-exec")]] thread_local log_target* target = nullptr;
    return target;
}

}  // namespace eventscope::detail
