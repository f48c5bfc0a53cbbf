// The backend's first step, on the pipeline thread: an `entry` (detail/entry.hpp, what the scopes pushed)
// becomes the sink-facing `record` (records.hpp). Ticks become Unix nanoseconds, payloads are parsed and read,
// thrown types are named, stacks symbolized, flat fields become JSON, and child records get their
// invocation's info (correlation ID) from an index of open invocations.
#pragma once

#include <cxxabi.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/stacktrace/frame.hpp>
#include <nlohmann/json.hpp>

#include "../clock.hpp"
#include "../config.hpp"
#include "../correlation.hpp"
#include "../payload.hpp"
#include "../policy.hpp"
#include "../records.hpp"
#include "../stats.hpp"
#include "entry.hpp"

namespace eventscope::detail {

inline std::string demangle(const char* mangled) {
    if (!mangled) return "unknown exception";
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> text(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    return status == 0 && text ? std::string(text.get()) : std::string(mangled);
}

// Frames without a symbol (stripped code, JIT, a missing debug file) are printed with their address.
inline std::string symbolize(const std::vector<void*>& frames) {
    std::string out;
    int index = 0;
    for (void* address : frames) {
        boost::stacktrace::frame f(address);
        std::string function = f.name();
        // The first frames are the throw hook's and the C++ runtime's: skip them.
        if (index == 0 && (function.find("record_throw") != std::string::npos || function.find("__cxa_throw") != std::string::npos))
            continue;
        out += '#';
        out += std::to_string(index++);
        out += ' ';
        if (function.empty()) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "?? (%p)", address);
            out += buf;
        } else {
            out += function;
        }
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

inline std::unique_ptr<error_info> to_error(std::unique_ptr<error_note> note) {
    if (!note) return nullptr;
    auto e = std::make_unique<error_info>();
    e->type = note->thrown_type ? demangle(note->thrown_type->name()) : std::move(note->type);
    e->message = std::move(note->message);
    if (!note->frames.empty()) e->stack = symbolize(note->frames);
    return e;
}

inline nlohmann::json decode_fields(std::string_view buf) {
    auto out = nlohmann::json::object();
    std::size_t pos = 0;
    auto get32 = [&] {
        std::uint32_t v;
        std::memcpy(&v, buf.data() + pos, 4);
        pos += 4;
        return v;
    };
    while (pos < buf.size()) {
        auto kind = static_cast<field_value::kind>(buf[pos++]);
        auto key_size = get32();
        std::string key(buf.substr(pos, key_size));
        pos += key_size;
        nlohmann::json value;
        switch (kind) {
            case field_value::kind::null: break;
            case field_value::kind::boolean: value = buf[pos++] != 0; break;
            case field_value::kind::integer: {
                std::int64_t v;
                std::memcpy(&v, buf.data() + pos, 8);
                pos += 8;
                value = v;
                break;
            }
            case field_value::kind::unsigned_integer: {
                std::uint64_t v;
                std::memcpy(&v, buf.data() + pos, 8);
                pos += 8;
                value = v;
                break;
            }
            case field_value::kind::floating: {
                double v;
                std::memcpy(&v, buf.data() + pos, 8);
                pos += 8;
                value = v;
                break;
            }
            case field_value::kind::string: {
                auto n = get32();
                value = std::string(buf.substr(pos, n));
                pos += n;
                break;
            }
        }
        out[std::move(key)] = std::move(value);
    }
    return out;
}

inline std::optional<nlohmann::json> take_json(json_or_fields& v) {
    if (v.has_fields) return decode_fields(std::string_view(v.fields.data(), v.fields.size()));
    if (v.json) return std::move(*static_cast<nlohmann::json*>(v.json.get()));
    return std::nullopt;
}

// Open invocations by id, so that child records get their invocation's info on the pipeline thread. Entries
// leave with the invocation's final record; a bound evicts the oldest if final records were dropped (a full
// ring), so the index cannot grow without limit.
class invocation_index {
public:
    void opened(const uuid& id, const invocation_info_ptr& info) {
        if (!info || !open_.emplace(id, open_invocation{info, {}, {}}).second) return;
        order_.push_back(id);
        // Closed ids are removed from order_ lazily, from the front; a long-lived invocation there could hold
        // them back, hence the occasional compaction.
        while (!order_.empty() && !open_.count(order_.front())) order_.pop_front();
        if (order_.size() > 4 * max_open) {
            std::deque<uuid> still_open;
            for (const auto& i : order_)
                if (open_.count(i)) still_open.push_back(i);
            order_.swap(still_open);
        }
        while (open_.size() > max_open) {
            open_.erase(order_.front());
            order_.pop_front();
        }
    }
    // The names its children brought, sorted; null when it was not open here (never seen opening, or evicted
    // by the bound) or had more distinct names than max_child_names: unknown, which is not "no children"
    // (readers then look at the child rows).
    std::shared_ptr<const child_names> closed(const uuid& id) {
        auto it = open_.find(id);
        if (it == open_.end()) return nullptr;
        if (it->second.too_many_names) {
            open_.erase(it);
            return nullptr;
        }
        auto names = std::make_shared<child_names>();
        names->events = std::move(it->second.events);
        names->jobs = std::move(it->second.jobs);
        std::sort(names->events.begin(), names->events.end());
        std::sort(names->jobs.begin(), names->jobs.end());
        open_.erase(it);
        return names;
    }
    invocation_info_ptr find(const uuid& id) const {
        auto it = open_.find(id);
        return it == open_.end() ? nullptr : it->second.info;
    }
    // find(), noting a child's name on its open invocation (one look-up for both).
    invocation_info_ptr find_event(const uuid& id, std::string_view event_name) { return find_noting(id, &open_invocation::events, event_name); }
    invocation_info_ptr find_job(const uuid& id, std::string_view job_name) { return find_noting(id, &open_invocation::jobs, job_name); }

private:
    // Names with ids in them ("email-<order>") would make the list, its linear search and the stored value grow
    // with the children; past this many, the invocation's names are left unknown.
    static constexpr std::size_t max_child_names = 64;
    struct open_invocation {
        invocation_info_ptr info;
        std::vector<std::string> events, jobs;  // distinct; a handful per invocation, so a linear search
        bool too_many_names = false;
    };
    invocation_info_ptr find_noting(const uuid& id, std::vector<std::string> open_invocation::*list, std::string_view child_name) {
        auto it = open_.find(id);
        if (it == open_.end()) return nullptr;
        auto& open = it->second;
        auto& names = open.*list;
        if (!open.too_many_names && std::find(names.begin(), names.end(), child_name) == names.end()) {
            if (names.size() == max_child_names) {
                open.too_many_names = true;
                open.events = {};
                open.jobs = {};
            } else {
                names.emplace_back(child_name);
            }
        }
        return open.info;
    }
    struct uuid_hash {
        std::size_t operator()(const uuid& u) const noexcept {
            std::uint64_t a, b;
            std::memcpy(&a, u.bytes.data(), 8);
            std::memcpy(&b, u.bytes.data() + 8, 8);
            return static_cast<std::size_t>(a * 0x9E3779B97F4A7C15ull ^ b);
        }
    };
    static constexpr std::size_t max_open = 1u << 16;
    std::unordered_map<uuid, open_invocation, uuid_hash> open_;
    std::deque<uuid> order_;  // insertion order, for the bound
};

// Reads an invocation's correlation ID (and parses its body, kept for the pipeline): on the first thread that
// needs it, once (invocation_seed::resolve_once).
inline void resolve_seed(invocation_seed& s, const correlation_config& correlation, const nlohmann::json* parsed_payload = nullptr) {
    try {
        if (!parsed_payload && !s.payload) {
            auto parsed = nlohmann::json::parse(s.body, nullptr, /*allow_exceptions=*/false);
            if (parsed.is_discarded()) s.body_unparsable = true;
            else s.payload = json_box::make(std::move(parsed));
        }
        static const nlohmann::json none;
        const nlohmann::json& payload = parsed_payload ? *parsed_payload : s.payload ? *static_cast<const nlohmann::json*>(s.payload.get()) : none;
        if (!s.explicit_correlation_id.empty()) {
            s.correlation_id = s.explicit_correlation_id;
            s.correlation_from = correlation_source::explicit_id;
        } else {
            auto c = extract_correlation(payload, correlation, s.source_function);
            s.correlation_id = std::move(c.id);
            s.correlation_from = c.source;
            s.source_job_id = c.parent_job_id;
            s.user_email = std::move(c.user_email);
        }
    } catch (...) {
        // Out of memory while reading: the generated ID below still links the records.
    }
    if (s.explicit_source_job_id) s.source_job_id = s.explicit_source_job_id;
    if (s.correlation_id.empty()) {
        s.correlation_id = make_system_correlation_id(s.source_function.empty() ? "unknown" : s.source_function);
        s.correlation_from = correlation_source::generated;
    }
}

// On the caller's thread, for invocation(json): the stored copy, bounded in one pass (full capture), or the
// correlation ID read now and only the members the source columns come from (metrics).
inline void capture_payload(invocation_seed& s, const nlohmann::json& payload, const config& cfg, const correlation_config& correlation) {
    if (s.keep_payload) {
        payload_limits hit;
        if (within_limits(payload, cfg)) s.payload = json_box::make(payload);
        else s.payload = json_box::make(bounded_copy(payload, cfg, 0, hit));
        s.payload_bounded = true;
        s.payload_too_deep = hit.too_deep;
        s.payload_trimmed = hit.trimmed;
    } else {
        s.resolve_once([&](invocation_seed& seed) { resolve_seed(seed, correlation, &payload); });
        s.payload = json_box::make(payload_header(payload));
    }
}

// The invocation's info (what the sink-facing records share), built once on the pipeline thread.
inline invocation_info_ptr build_info(invocation_seed& s, const config& cfg, const correlation_config& correlation) {
    s.resolve_once([&](invocation_seed& seed) { resolve_seed(seed, correlation); });
    auto info = std::make_shared<invocation_info>();
    info->source_function = s.source_function;
    info->source_system = s.source_system;
    info->auto_load_modules = s.auto_load_modules;
    info->event_modules_directory = s.event_modules_directory;
    info->correlation_id = s.correlation_id;
    info->correlation_from = s.correlation_from;
    info->source_job_id = s.source_job_id;
    try {
        if (s.body_unparsable) {
            info->payload_errors.assign(1, "request body is not valid JSON");
            if (s.keep_payload) {
                std::string raw(s.body.substr(0, cfg.max_string_bytes));
                info->source_event_payload = nlohmann::json{{"_eventscope_unparsed_body", std::move(raw)}};
            }
        } else if (s.payload) {
            auto& payload = *static_cast<nlohmann::json*>(s.payload.get());
            read_source_fields(payload, *info);
            if (s.keep_payload && s.payload_bounded) {
                note_limits(payload_limits{s.payload_too_deep, s.payload_trimmed}, cfg, info->payload_errors);
                info->source_event_payload = std::move(payload);
                s.payload.reset();
            } else if (s.keep_payload) {
                store_payload(payload, cfg, *info);
            }
        }
    } catch (const std::exception& e) {
        info->payload_errors.push_back(std::string("payload could not be read: ") + e.what());
    }
    if (info->source_user_email.empty()) info->source_user_email = s.user_email;
    return info;
}

// Turns entries into records; one per pipeline, used on its thread only.
class entry_converter {
public:
    entry_converter(const config& cfg, const correlation_config& correlation) : cfg_(cfg), correlation_(correlation) {}

    // Consumes `e` (its owned blocks are released) and writes the record it stands for into `out`.
    void convert(const entry& e, record& out) {
        const tick_clock& clock = tick_clock::instance();
        auto ns = [&](std::int64_t t) { return t == 0 ? std::int64_t{0} : clock.to_unix_ns(t); };
        switch (e.kind) {
            case entry_kind::invocation_start:
            case entry_kind::invocation_end: {
                auto* seed = static_cast<invocation_seed*>(e.extra);
                invocation_record r;
                r.id = e.id;
                r.info = invocations_.find(e.id);
                if (!r.info && seed) {
                    r.info = build_info(*seed, cfg_, correlation_);
                    count(*r.info);
                }
                // The caller's start context (invocation_options::context) on both rows: the running row must
                // already say who wrote it, and the final row would otherwise erase it.
                if (seed && !seed->start_context.empty()) {
                    r.context_data = std::make_unique<nlohmann::json>(nlohmann::json::object());
                    for (const auto& [key, value] : seed->start_context) (*r.context_data)[key] = value;
                }
                if (e.kind == entry_kind::invocation_start) {
                    invocations_.opened(e.id, r.info);
                } else {
                    r.children = invocations_.closed(e.id);
                    auto counts = load_from<invocation_end_data>(e.parent);
                    r.events_detected_count = counts.events_detected;
                    r.total_jobs_succeeded = counts.jobs_succeeded;
                    r.total_jobs_failed = counts.jobs_failed;
                    r.total_jobs_run = counts.jobs_succeeded + counts.jobs_failed;
                    invocation_extras* extras = nullptr;
                    std::memcpy(&extras, e.invocation.bytes.data(), sizeof extras);
                    std::unique_ptr<invocation_extras> owned(extras);
                    if (owned) {
                        r.error = to_error(std::move(owned->error));
                        if (!owned->context.empty()) {
                            if (!r.context_data) r.context_data = std::make_unique<nlohmann::json>(nlohmann::json::object());
                            for (auto& [key, value] : owned->context) (*r.context_data)[key] = std::move(*static_cast<nlohmann::json*>(value.get()));
                        }
                    }
                    if (r.info && !r.info->payload_errors.empty() && !r.error && cfg_full_) {
                        // A payload over the size/depth limits was read in full and stored cut down: "truncated",
                        // not "malformed" (payload.hpp note_limits says "stored truncated" / "truncated to").
                        const auto& first = r.info->payload_errors.front();
                        bool truncated = first.find("stored truncated") != std::string::npos || first.find("truncated to") != std::string::npos;
                        r.error = std::make_unique<error_info>();
                        r.error->type = truncated ? "payload_truncated" : "payload_error";
                        r.error->message = (truncated ? "truncated payload: " : "malformed payload: ") + first;
                    }
                }
                r.started = ns(e.t0);
                r.ended = ns(e.t1);
                r.status = static_cast<run_status>(e.status);
                r.stamped = true;
                if (seed) seed->release();
                out = std::move(r);
                return;
            }
            case entry_kind::event_start:
            case entry_kind::event_detected:
            case entry_kind::event_end: {
                event_record r;
                r.id = e.id;
                r.invocation_id = e.parent;
                r.info = invocations_.find_event(e.parent, std::string_view(e.name, e.name_size));
                r.event_name = std::string_view(e.name, e.name_size);
                r.started = ns(e.t0);
                r.detected_at = ns(e.t1);
                r.detected = (e.flags & entry_detected) != 0;
                r.status = static_cast<event_status>(e.status);
                if (e.kind == entry_kind::event_end) {
                    auto end = load_from<event_end_data>(e.invocation);
                    r.ended = ns(end.ended);
                    r.jobs_succeeded = end.jobs_succeeded;
                    r.jobs_failed = end.jobs_failed;
                    r.jobs_count = end.jobs_succeeded + end.jobs_failed;
                    std::unique_ptr<event_extras> extras(static_cast<event_extras*>(e.extra));
                    if (extras) {
                        r.detection_error = to_error(std::move(extras->detection_error));
                        r.handler_error = to_error(std::move(extras->handler_error));
                        if (!extras->module_path.empty()) r.event_module_path = std::make_unique<std::string>(std::move(extras->module_path));
                        if (!extras->clauses.empty()) r.clauses = clean_clauses(std::move(extras->clauses));
                    }
                }
                r.stamped = true;
                release_name(e);
                out = std::move(r);
                return;
            }
            case entry_kind::job_start:
            case entry_kind::job_end: {
                job_record r;
                r.id = e.id;
                r.invocation_id = e.invocation;
                r.event_execution_id = e.parent;
                r.info = invocations_.find_job(e.invocation, std::string_view(e.name, e.name_size));
                r.job_name = std::string_view(e.name, e.name_size);
                r.started = ns(e.t0);
                r.ended = ns(e.t1);
                r.status = static_cast<run_status>(e.status);
                if (e.kind == entry_kind::job_end) {
                    std::unique_ptr<job_extras> extras(static_cast<job_extras*>(e.extra));
                    if (extras) {
                        auto d = std::make_unique<job_details>();
                        d->job_function_name = std::move(extras->function_name);
                        d->job_options = take_json(extras->options);
                        d->result = take_json(extras->result);
                        d->error = to_error(std::move(extras->error));
                        r.details = std::move(d);
                    }
                }
                r.stamped = true;
                release_name(e);
                out = std::move(r);
                return;
            }
            case entry_kind::record: {
                std::unique_ptr<record> given(static_cast<record*>(e.extra));
                out = std::move(*given);
                stamp(out, ns);
                return;
            }
            case entry_kind::job_log: {
                std::unique_ptr<log_extras> extras(static_cast<log_extras*>(e.extra));
                job_log_record r;
                r.id = e.id;
                r.job_execution_id = e.parent;
                r.invocation_id = e.invocation;
                r.info = invocations_.find(e.invocation);
                r.level = static_cast<log_level>(e.level);
                if (extras) {
                    r.message = std::move(extras->message);
                    if (extras->data) r.data = std::move(*static_cast<nlohmann::json*>(extras->data.get()));
                }
                r.logged_at = ns(e.t0);
                r.stamped = true;
                out = std::move(r);
                return;
            }
        }
    }

    // Frees what an entry owns without converting it (entries left in the ring at shutdown).
    static void discard(const entry& e) noexcept {
        switch (e.kind) {
            case entry_kind::invocation_start:
            case entry_kind::invocation_end: {
                if (e.kind == entry_kind::invocation_end) {
                    invocation_extras* extras = nullptr;
                    std::memcpy(&extras, e.invocation.bytes.data(), sizeof extras);
                    delete extras;
                }
                if (auto* seed = static_cast<invocation_seed*>(e.extra)) seed->release();
                return;
            }
            case entry_kind::event_start:
            case entry_kind::event_detected:
            case entry_kind::event_end:
                if (e.kind == entry_kind::event_end) delete static_cast<event_extras*>(e.extra);
                release_name(e);
                return;
            case entry_kind::job_start:
            case entry_kind::job_end:
                if (e.kind == entry_kind::job_end) delete static_cast<job_extras*>(e.extra);
                release_name(e);
                return;
            case entry_kind::job_log:
                delete static_cast<log_extras*>(e.extra);
                return;
            case entry_kind::record:
                delete static_cast<record*>(e.extra);
                return;
        }
    }

    void set_full_capture(bool full) noexcept { cfg_full_ = full; }

    // How invocations were correlated; written here, read by stats() on any thread.
    correlation_counts counts() const noexcept {
        correlation_counts c;
        for (std::size_t i = 0; i < c.by_source.size(); ++i) c.by_source[i] = by_source_[i].load(std::memory_order_relaxed);
        c.payload_errors = payload_errors_.load(std::memory_order_relaxed);
        return c;
    }

private:
    // A record pushed as is (observer::push): its ticks become Unix nanoseconds, children get their
    // invocation's info, invocations are indexed like scopes' ones.
    template <class ToNs>
    void stamp(record& r, ToNs&& ns) {
        std::visit(
            [&](auto& rec) {
                if (rec.stamped) return;
                rec.stamped = true;
                using T = std::decay_t<decltype(rec)>;
                if constexpr (std::is_same_v<T, invocation_record>) {
                    if (rec.ended == 0) invocations_.opened(rec.id, rec.info);
                    else if (auto names = invocations_.closed(rec.id); !rec.children) rec.children = std::move(names);
                    if (rec.info) count(*rec.info);
                    rec.started = ns(rec.started);
                    rec.ended = ns(rec.ended);
                } else if constexpr (std::is_same_v<T, event_record>) {
                    auto info = invocations_.find_event(rec.invocation_id, std::string_view(rec.event_name));
                    if (!rec.info) rec.info = std::move(info);
                    rec.started = ns(rec.started);
                    rec.detected_at = ns(rec.detected_at);
                    rec.ended = ns(rec.ended);
                } else if constexpr (std::is_same_v<T, job_record>) {
                    auto info = invocations_.find_job(rec.invocation_id, std::string_view(rec.job_name));
                    if (!rec.info) rec.info = std::move(info);
                    rec.started = ns(rec.started);
                    rec.ended = ns(rec.ended);
                } else {
                    if (!rec.info) rec.info = invocations_.find(rec.invocation_id);
                    rec.logged_at = ns(rec.logged_at);
                }
            },
            r);
    }

    // A copied name's text lives in a shared_text right before it; a static name has none.
    static void release_name(const entry& e) noexcept {
        if (e.flags & entry_name_shared) {
            auto* text = reinterpret_cast<shared_text*>(const_cast<char*>(e.name)) - 1;
            text->release();
        }
    }
    void count(const invocation_info& info) noexcept {
        by_source_[static_cast<std::size_t>(info.correlation_from)].fetch_add(1, std::memory_order_relaxed);
        if (!info.payload_errors.empty()) payload_errors_.fetch_add(1, std::memory_order_relaxed);
    }

    const config& cfg_;
    const correlation_config& correlation_;
    bool cfg_full_ = true;
    invocation_index invocations_;
    std::array<std::atomic<std::uint64_t>, 7> by_source_{};
    std::atomic<std::uint64_t> payload_errors_{0};
};

}  // namespace eventscope::detail
