// Off-hot-path finishing of a record on the pipeline thread: ticks become Unix nanoseconds, mangled exception
// types become readable names, return addresses become a symbolized stack.
#pragma once

#include <cstring>
#include <deque>
#include <sstream>
#include <unordered_map>
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

// Open invocations by id, so that child records get their invocation's info (correlation ID) on the pipeline
// thread. Entries leave with the invocation's final record; a bound evicts the oldest if final records were
// dropped (a full ring), so the index cannot grow without limit.
class invocation_index {
public:
    void opened(const invocation_record& r) {
        if (!r.info || !open_.emplace(r.id, r.info).second) return;
        order_.push_back(r.id);
        // Closed ids are removed from order_ lazily, from the front; a long-lived invocation there could hold
        // them back, hence the occasional compaction.
        while (!order_.empty() && !open_.count(order_.front())) order_.pop_front();
        if (order_.size() > 4 * max_open) {
            std::deque<uuid> still_open;
            for (const auto& id : order_)
                if (open_.count(id)) still_open.push_back(id);
            order_.swap(still_open);
        }
        while (open_.size() > max_open) {
            open_.erase(order_.front());
            order_.pop_front();
        }
    }
    void closed(const uuid& id) { open_.erase(id); }
    invocation_info_ptr find(const uuid& id) const {
        auto it = open_.find(id);
        return it == open_.end() ? nullptr : it->second;
    }

private:
    struct uuid_hash {
        std::size_t operator()(const uuid& u) const noexcept {
            std::uint64_t a, b;
            std::memcpy(&a, u.bytes.data(), 8);
            std::memcpy(&b, u.bytes.data() + 8, 8);
            return static_cast<std::size_t>(a * 0x9E3779B97F4A7C15ull ^ b);
        }
    };
    static constexpr std::size_t max_open = 1u << 16;
    std::unordered_map<uuid, invocation_info_ptr, uuid_hash> open_;
    std::deque<uuid> order_;  // insertion order, for the bound
};

inline void stamp(record& r, const tick_clock& clock, invocation_index& invocations) {
    std::visit(
        [&](auto& rec) {
            if (rec.stamped) return;
            rec.stamped = true;
            using T = std::decay_t<decltype(rec)>;
            if constexpr (std::is_same_v<T, invocation_record>) {
                if (rec.ended == 0) invocations.opened(rec);
                else invocations.closed(rec.id);
                rec.started = to_ns(clock, rec.started);
                rec.ended = to_ns(clock, rec.ended);
                finish_error(rec.error);
            } else if constexpr (std::is_same_v<T, event_record>) {
                if (!rec.info) rec.info = invocations.find(rec.invocation_id);
                rec.started = to_ns(clock, rec.started);
                rec.detected_at = to_ns(clock, rec.detected_at);
                rec.ended = to_ns(clock, rec.ended);
                finish_error(rec.detection_error);
                finish_error(rec.handler_error);
            } else if constexpr (std::is_same_v<T, job_record>) {
                if (!rec.info) rec.info = invocations.find(rec.invocation_id);
                rec.started = to_ns(clock, rec.started);
                rec.ended = to_ns(clock, rec.ended);
                if (rec.details) finish_error(rec.details->error);
            } else {
                if (!rec.info) rec.info = invocations.find(rec.invocation_id);
                rec.logged_at = to_ns(clock, rec.logged_at);
            }
        },
        r);
}

}  // namespace eventscope::detail
