// std::uncaught_exceptions() without a call per scope: it is a call into libstdc++ that looks the thread's
// exception globals up every time, and a scope asks twice (when it starts and when it ends). The globals'
// address does not change for a thread, so it is looked up once. Their layout is the Itanium C++ ABI's
// `__cxa_eh_globals { __cxa_exception* caughtExceptions; unsigned int uncaughtExceptions; }` (GCC and Clang
// on Linux).
#pragma once

#include <cxxabi.h>

namespace eventscope::detail {

struct eh_globals_view {
    void* caught_exceptions;
    unsigned int uncaught_exceptions;
};

inline int uncaught_exceptions() noexcept {
    [[gnu::tls_model("initial-exec")]] thread_local const eh_globals_view* globals = nullptr;
    if (!globals) [[unlikely]]
        globals = reinterpret_cast<const eh_globals_view*>(abi::__cxa_get_globals());
    return static_cast<int>(globals->uncaught_exceptions);
}

}  // namespace eventscope::detail
