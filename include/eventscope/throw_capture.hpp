// Opt-in: the type, message and throw-site stack of exceptions that leave a scope. Include this header in
// exactly ONE source file of the program (e.g. the one defining main or the observer). Nothing else in
// eventscope replaces anything in the C++ runtime.
//
// How: this file defines `__cxa_throw` (the C++ runtime's entry point of every `throw` expression). The
// program's definition is found before libstdc++'s, so each throw first records its type, its what() and,
// while an observer wants stacks (config.capture_error_stacks, full capture), up to 64 return addresses
// (backtrace(), ~1 us), then continues into the runtime's own __cxa_throw found with dlsym(RTLD_NEXT).
// Symbolizing those addresses (~75 us) happens later, on the pipeline thread, only for scopes that failed.
//
// The trade-off:
//   + failed rows name the exception's type, message and the function that threw, without try/catch in user
//     code (also for exceptions thrown inside libraries, e.g. libpqxx or the standard library);
//   - every throw in the process pays ~0.1 us (type and message) or ~1 us (with a stack) more;
//   - it relies on the Itanium C++ ABI as GCC's libstdc++ implements it (`__cxa_throw`, and type_info's
//     `__do_catch` to tell a std::exception apart), i.e. Linux with GCC or Clang on libstdc++.
// Safe failure: if the runtime's __cxa_throw cannot be found (libstdc++ linked statically: then the runtime's
// own definition wins at link time and this one is simply never called), throws still work; a throw that
// reaches this hook without a runtime to continue into aborts with a message rather than jumping to null.
// Without this header, scopes left by an exception are still recorded `failed`, and the catch block that
// handles the exception names it for them with `eventscope::caught()` (detail/exception_cause.hpp); only the
// throw-site stack needs this header.
#pragma once

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <typeinfo>

#include "detail/throw_state.hpp"

namespace eventscope::detail {

using cxa_throw_fn = void (*)(void*, std::type_info*, void (*)(void*));

inline cxa_throw_fn runtime_cxa_throw() noexcept {
    static const cxa_throw_fn runtime = [] {
        void* found = ::dlsym(RTLD_NEXT, "__cxa_throw");
        if (!found) found = ::dlvsym(RTLD_NEXT, "__cxa_throw", "CXXABI_1.3");
        return reinterpret_cast<cxa_throw_fn>(found);
    }();
    return runtime;
}

inline void record_throw(void* object, std::type_info* type) noexcept {
    auto& state = thread_throw_state();
    ++state.sequence;
    state.type = type;
    state.frame_count = 0;
    try {
        state.message.clear();
        // Does a handler for std::exception catch this type? (the test the unwinder runs for catch clauses)
        void* adjusted = object;
        if (type && typeid(std::exception).__do_catch(type, &adjusted, 1)) state.message = static_cast<const std::exception*>(adjusted)->what();
    } catch (...) {
        state.message = "<what() failed>";
    }
    if (throw_stacks_wanted().load(std::memory_order_relaxed) > 0) state.frame_count = ::backtrace(state.frames, max_throw_frames);
}

// backtrace() loads libgcc_s on first use: do it once, outside any throw path.
inline bool install_throw_capture() noexcept {
    void* frames[2];
    ::backtrace(frames, 2);
    if (!runtime_cxa_throw()) {
        std::fputs("eventscope: throw capture is off: the C++ runtime's __cxa_throw was not found (statically linked libstdc++?)\n", stderr);
        return false;
    }
    throw_capture_installed().store(true);
    return true;
}

}  // namespace eventscope::detail

// Weak, so that a second inclusion by mistake does not break the link (one definition is kept). Declared under
// another C++ name with the assembler name __cxa_throw, to stay clear of the compiler's own declaration of it.
extern "C" __attribute__((weak, noreturn)) void eventscope_cxa_throw_hook(void* object, void* type, void (*destructor)(void*)) __asm__("__cxa_throw");
extern "C" void eventscope_cxa_throw_hook(void* object, void* type, void (*destructor)(void*)) {
    auto* info = static_cast<std::type_info*>(type);
    auto runtime = eventscope::detail::runtime_cxa_throw();
    if (!runtime) {
        std::fputs("eventscope: cannot throw: the C++ runtime's __cxa_throw was not found\n", stderr);
        std::abort();
    }
    if (eventscope::detail::throw_capture_installed().load(std::memory_order_relaxed)) eventscope::detail::record_throw(object, info);
    runtime(object, info, destructor);
    __builtin_unreachable();
}

namespace {
// Runs at static initialization of the including file.
[[maybe_unused]] const bool eventscope_throw_capture_installed = eventscope::detail::install_throw_capture();
}  // namespace
