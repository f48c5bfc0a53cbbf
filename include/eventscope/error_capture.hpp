// Exceptions that leave a scope are detected by the scope itself (std::uncaught_exceptions); their type,
// message and stack are captured on the throw path by wrapping __cxa_throw, but only while a scope that wants
// them is current on the throwing thread. Symbolizing the stack (~75 us) happens later, on the pipeline thread.
#pragma once

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

#include "records.hpp"

namespace eventscope::detail {

struct throw_capture_state {
    int active_scopes = 0;     // scopes on this thread that want error details
    int stack_scopes = 0;      // ... of which want stack traces
    std::uint64_t sequence = 0;  // bumped on every captured throw
    const std::type_info* type = nullptr;
    std::string message;
    int frame_count = 0;
    void* frames[64];
};

inline throw_capture_state& thread_throw_state() noexcept {
    thread_local throw_capture_state state;
    return state;
}

// Called by the hook: cheap when no scope is current (one thread_local read).
inline void capture_throw(void* object, std::type_info* type) noexcept {
    auto& state = thread_throw_state();
    if (state.active_scopes == 0) return;
    ++state.sequence;
    state.type = type;
    state.message.clear();
    // Does a handler for std::exception catch this type? (the same test the unwinder runs for catch clauses)
    void* adjusted = object;
    if (type && typeid(std::exception).__do_catch(type, &adjusted, 1)) {
        try {
            state.message = static_cast<const std::exception*>(adjusted)->what();
        } catch (...) {
            state.message = "<what() threw>";
        }
    }
    state.frame_count = state.stack_scopes > 0 ? ::backtrace(state.frames, 64) : 0;
}

inline std::string demangle(const char* mangled) {
    if (!mangled) return "unknown exception";
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> text(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    return status == 0 && text ? std::string(text.get()) : std::string(mangled);
}

// Builds the error of a scope left by an exception; `sequence_at_entry` tells whether the last captured throw
// happened inside this scope (otherwise the exception came from elsewhere, e.g. std::rethrow_exception).
inline std::unique_ptr<error_info> error_from_unwinding(std::uint64_t sequence_at_entry, bool with_stack) {
    auto& state = thread_throw_state();
    auto err = std::make_unique<error_info>();
    if (state.sequence > sequence_at_entry && state.type) {
        err->type_mangled = state.type->name();
        err->message = state.message;
        if (with_stack) err->frames.assign(state.frames, state.frames + state.frame_count);
    } else {
        err->type = "unknown exception";
        err->message = "exception details not captured (rethrown from another thread or std::rethrow_exception)";
    }
    return err;
}

using cxa_throw_fn = void (*)(void*, std::type_info*, void (*)(void*));

inline cxa_throw_fn real_cxa_throw() noexcept {
    static cxa_throw_fn real = reinterpret_cast<cxa_throw_fn>(::dlsym(RTLD_NEXT, "__cxa_throw"));
    return real;
}

// First use of backtrace() loads libgcc_s; do it once outside any throw path.
inline void warm_up_backtrace() noexcept {
    void* frames[2];
    ::backtrace(frames, 2);
}

}  // namespace eventscope::detail

#ifndef EVENTSCOPE_NO_THROW_HOOK
// Weak, so that every translation unit including this header may carry it and the linker keeps one; the
// executable's definition wins over libstdc++'s for throws compiled into the program. Declared under another
// C++ name with the assembler name __cxa_throw, to stay clear of the compiler's own declaration of it.
extern "C" __attribute__((weak, noreturn)) void eventscope_cxa_throw_hook(void* object, void* type, void (*destructor)(void*)) __asm__("__cxa_throw");
extern "C" void eventscope_cxa_throw_hook(void* object, void* type, void (*destructor)(void*)) {
    auto* info = static_cast<std::type_info*>(type);
    eventscope::detail::capture_throw(object, info);
    eventscope::detail::real_cxa_throw()(object, info, destructor);
    __builtin_unreachable();
}
#endif
