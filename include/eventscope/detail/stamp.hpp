// Off-hot-path finishing of a record on the pipeline thread: ticks become Unix nanoseconds, mangled exception
// types become readable names, return addresses become a symbolized stack.
#pragma once

#include <sstream>
#include <string>
#include <variant>

#include <boost/stacktrace/frame.hpp>

#include "../clock.hpp"
#include "../error_capture.hpp"
#include "../records.hpp"

namespace eventscope::detail {

inline std::string symbolize(const std::vector<void*>& frames) {
    std::string out;
    int index = 0;
    for (void* address : frames) {
        boost::stacktrace::frame f(address);
        std::string function = f.name();
        // The first frames are our own throw hook and the C++ runtime's: skip them.
        if (index == 0 && (function.find("capture_throw") != std::string::npos || function.find("__cxa_throw") != std::string::npos))
            continue;
        out += '#';
        out += std::to_string(index++);
        out += ' ';
        out += function.empty() ? "??" : function;
        auto file = f.source_file();
        if (!file.empty()) {
            out += " at ";
            out += file;
            out += ':';
            out += std::to_string(f.source_line());
        }
        out += '\n';
    }
    return out;
}

inline void finish_error(std::unique_ptr<error_info>& err) {
    if (!err) return;
    if (err->type.empty()) err->type = demangle(err->type_mangled);
    if (err->stack.empty() && !err->frames.empty()) {
        err->stack = symbolize(err->frames);
        err->frames.clear();
        err->frames.shrink_to_fit();
    }
}

inline std::int64_t to_ns(const tick_clock& clock, std::int64_t t) { return t == 0 ? 0 : clock.to_unix_ns(t); }

inline void stamp(record& r, const tick_clock& clock) {
    std::visit(
        [&](auto& rec) {
            if (rec.stamped) return;
            rec.stamped = true;
            using T = std::decay_t<decltype(rec)>;
            if constexpr (std::is_same_v<T, invocation_record>) {
                rec.started = to_ns(clock, rec.started);
                rec.ended = to_ns(clock, rec.ended);
                finish_error(rec.error);
            } else if constexpr (std::is_same_v<T, event_record>) {
                rec.started = to_ns(clock, rec.started);
                rec.detected_at = to_ns(clock, rec.detected_at);
                rec.ended = to_ns(clock, rec.ended);
                finish_error(rec.detection_error);
                finish_error(rec.handler_error);
            } else if constexpr (std::is_same_v<T, job_record>) {
                rec.started = to_ns(clock, rec.started);
                rec.ended = to_ns(clock, rec.ended);
                if (rec.details) finish_error(rec.details->error);
            } else {
                rec.logged_at = to_ns(clock, rec.logged_at);
            }
        },
        r);
}

}  // namespace eventscope::detail
