// The type and message of an exception that left a scope, without replacing anything in the C++ runtime.
// A destructor can tell *that* it runs because of an exception (std::uncaught_exceptions) but the ABI gives it
// no access to the exception in flight; the catch block that handles it has it. So a scope left by an
// exception notes its id on its thread, and the catch site (`eventscope::caught()`, or any scope's `fail(e)`)
// hands the exception over; the pipeline holds those scopes' final rows for `config.exception_cause_wait`
// to receive it (pipeline.hpp). The opt-in throw capture (throw_capture.hpp) makes all this unnecessary.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "../uuid.hpp"

namespace eventscope::detail {

struct recorder_core;

// The message of a cause whose exception does not derive from std::exception.
inline constexpr const char* not_a_std_exception = "(not derived from std::exception: no message)";

// What a catch site hands over: the scopes the exception left, and the exception's type (null when the runtime
// cannot tell, e.g. a foreign exception) and message, both taken on the catching thread (scopes.hpp caught()).
struct exception_cause {
    std::vector<uuid> scopes;
    const std::type_info* type = nullptr;
    std::string message;
};

// Causes waiting for the pipeline thread. Used only on the failure path, so a mutex is fine.
class cause_queue {
public:
    void add(exception_cause cause) {
        std::lock_guard lock(mutex_);
        items_.push_back(std::move(cause));
        waiting_.store(true, std::memory_order_release);
    }
    bool waiting() const noexcept { return waiting_.load(std::memory_order_acquire); }
    std::vector<exception_cause> take() {
        std::lock_guard lock(mutex_);
        waiting_.store(false, std::memory_order_relaxed);
        return std::exchange(items_, {});
    }

private:
    std::mutex mutex_;
    std::vector<exception_cause> items_;
    std::atomic<bool> waiting_{false};
};

// The scopes an exception left on this thread since the last catch site that reported one.
struct unwound_scopes {
    static constexpr std::uint32_t capacity = 16;
    const recorder_core* core = nullptr;
    std::uint32_t count = 0;
    uuid ids[capacity];
};

inline unwound_scopes& thread_unwound() noexcept {
    thread_local unwound_scopes scopes;
    return scopes;
}

inline void note_unwound(const recorder_core* core, const uuid& id) noexcept {
    auto& u = thread_unwound();
    if (u.core != core) {
        u.core = core;
        u.count = 0;
    }
    if (u.count == unwound_scopes::capacity) {  // keep the innermost ones: they are the most specific
        std::move(u.ids + 1, u.ids + u.count, u.ids);
        --u.count;
    }
    u.ids[u.count++] = id;
}

// The recorders alive now, so that `eventscope::caught()` (which knows a recorder only by the pointer a scope
// left on its thread) never reaches one that was destroyed in between. Never destroyed itself: a static
// observer may be destroyed after every function-local static.
struct live_recorders {
    std::mutex mutex;
    std::vector<const recorder_core*> cores;
};
inline live_recorders& live_recorder_registry() {
    static auto* registry = new live_recorders;
    return *registry;
}
// From the moment its backend starts to go away, a recorder takes no more causes.
inline void retire_recorder(const recorder_core* core) {
    auto& live = live_recorder_registry();
    std::lock_guard lock(live.mutex);
    std::erase(live.cores, core);
}

}  // namespace eventscope::detail
