// Reading a Hasura event-trigger payload into an invocation's info. Tolerant by design: whatever is malformed
// (not an object, missing `event`, wrong types, huge strings, deep nesting) is noted in `payload_errors` and
// the rest is still read; nothing here throws into the detector.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "correlation.hpp"
#include "invocation_options.hpp"
#include "records.hpp"

namespace eventscope {

namespace detail {

constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace detail

// ISO 8601 as Hasura sends `created_at` ("2026-11-26T09:00:00.123456", optionally with Z or ±HH:MM; no zone
// means UTC). Returns Unix nanoseconds, or nullopt for anything else.
inline std::optional<std::int64_t> parse_iso8601(std::string_view s) noexcept {
    auto digits = [&](std::size_t pos, std::size_t n, int& out) {
        if (pos + n > s.size()) return false;
        out = 0;
        for (std::size_t i = pos; i < pos + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            out = out * 10 + (s[i] - '0');
        }
        return true;
    };
    int Y, M, D, h, m, sec;
    if (!digits(0, 4, Y) || s.size() < 19 || s[4] != '-' || !digits(5, 2, M) || s[7] != '-' || !digits(8, 2, D) ||
        (s[10] != 'T' && s[10] != ' ') || !digits(11, 2, h) || s[13] != ':' || !digits(14, 2, m) || s[16] != ':' ||
        !digits(17, 2, sec))
        return std::nullopt;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
    std::size_t pos = 19;
    std::int64_t frac_ns = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000'000;
        std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            frac_ns += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    std::int64_t offset_s = 0;
    if (pos < s.size()) {
        if (s[pos] == 'Z' || s[pos] == 'z') {
            ++pos;
        } else if (s[pos] == '+' || s[pos] == '-') {
            int oh, om = 0;
            if (!digits(pos + 1, 2, oh)) return std::nullopt;
            std::size_t next = pos + 3;
            if (next < s.size() && s[next] == ':') ++next;
            if (next < s.size() && !digits(next, 2, om)) return std::nullopt;
            if (next < s.size()) next += 2;
            offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
            pos = next;
        }
    }
    if (pos != s.size()) return std::nullopt;
    std::int64_t seconds = detail::days_from_civil(Y, static_cast<unsigned>(M), static_cast<unsigned>(D)) * 86400 + h * 3600 +
                           m * 60 + sec - offset_s;
    return seconds * 1'000'000'000 + frac_ns;
}

namespace detail {

// What a bounded copy had to leave out.
struct payload_limits {
    bool too_deep = false;  // a subtree deeper than config.max_payload_depth was replaced by a marker
    bool trimmed = false;   // a string longer than config.max_string_bytes was cut (or a subtree replaced)
};

// Copies a payload for storage in one pass, truncating long strings and replacing too-deep subtrees, so that
// buffering and JSON output stay bounded. Recursion stops at max_payload_depth, whatever the input's depth.
inline nlohmann::json bounded_copy(const nlohmann::json& j, const config& cfg, std::size_t depth, payload_limits& hit) {
    if (depth >= cfg.max_payload_depth) {
        hit.too_deep = hit.trimmed = true;
        return nlohmann::json{{"_eventscope_truncated", "nesting deeper than " + std::to_string(cfg.max_payload_depth)}};
    }
    switch (j.type()) {
        case nlohmann::json::value_t::object: {
            nlohmann::json out(nlohmann::json::value_t::object);
            auto& members = out.get_ref<nlohmann::json::object_t&>();
            for (auto it = j.begin(); it != j.end(); ++it) members.emplace_hint(members.end(), it.key(), bounded_copy(it.value(), cfg, depth + 1, hit));
            return out;
        }
        case nlohmann::json::value_t::array: {
            nlohmann::json out(nlohmann::json::value_t::array);
            auto& items = out.get_ref<nlohmann::json::array_t&>();
            items.reserve(j.size());
            for (const auto& v : j) items.push_back(bounded_copy(v, cfg, depth + 1, hit));
            return out;
        }
        case nlohmann::json::value_t::string: {
            const auto& s = j.get_ref<const std::string&>();
            if (s.size() <= cfg.max_string_bytes) return j;
            hit.trimmed = true;
            return s.substr(0, cfg.max_string_bytes) + "...[truncated " + std::to_string(s.size() - cfg.max_string_bytes) + " bytes]";
        }
        default:
            return j;
    }
}

// Whether a payload is within the limits (no string too long, nothing too deep): then a plain copy is the
// bounded copy, and about twice as fast. Recursion stops at max_payload_depth.
inline bool within_limits(const nlohmann::json& j, const config& cfg, std::size_t depth = 0) {
    if (depth >= cfg.max_payload_depth) return false;
    switch (j.type()) {
        case nlohmann::json::value_t::object:
            for (auto it = j.begin(); it != j.end(); ++it)
                if (!within_limits(it.value(), cfg, depth + 1)) return false;
            return true;
        case nlohmann::json::value_t::array:
            for (const auto& v : j)
                if (!within_limits(v, cfg, depth + 1)) return false;
            return true;
        case nlohmann::json::value_t::string:
            return j.get_ref<const std::string&>().size() <= cfg.max_string_bytes;
        default:
            return true;
    }
}

inline void note_limits(const payload_limits& hit, const config& cfg, std::vector<std::string>& errors) {
    if (hit.too_deep) errors.push_back("payload nesting deeper than " + std::to_string(cfg.max_payload_depth) + " levels: stored truncated");
    if (hit.trimmed && errors.empty()) errors.push_back("payload truncated to the configured limits");
}

// What the metrics path keeps of a payload it does not store: the members the source columns come from.
inline nlohmann::json payload_header(const nlohmann::json& payload) {
    if (!payload.is_object()) return payload.is_structured() ? nlohmann::json() : payload;
    nlohmann::json header = nlohmann::json::object();
    for (const char* key : {"id", "created_at", "table"}) {
        auto it = payload.find(key);
        if (it != payload.end() && !it->is_structured()) header[key] = *it;
        else if (it != payload.end() && it->is_object()) {
            auto& t = header[key] = nlohmann::json::object();
            for (const char* member : {"name", "schema"})
                if (auto m = it->find(member); m != it->end() && !m->is_structured()) t[member] = *m;
        } else if (it != payload.end()) {
            header[key] = nlohmann::json::array();  // the wrong type, noted as such when read
        }
    }
    auto event = payload.find("event");
    if (event == payload.end()) return header;
    if (!event->is_object()) {
        header["event"] = event->is_structured() ? nlohmann::json::array() : *event;
        return header;
    }
    auto& e = header["event"] = nlohmann::json::object();
    if (auto op = event->find("op"); op != event->end()) e["op"] = op->is_structured() ? nlohmann::json::array() : *op;
    if (auto sv = event->find("session_variables"); sv != event->end()) {
        if (!sv->is_object()) {
            e["session_variables"] = sv->is_structured() ? nlohmann::json::array() : *sv;
        } else {
            auto& s = e["session_variables"] = nlohmann::json::object();
            for (const char* member : {"x-hasura-role", "x-hasura-user-email"})
                if (auto m = sv->find(member); m != sv->end()) s[member] = m->is_structured() ? nlohmann::json::array() : *m;
        }
    }
    return header;
}

inline std::string string_member(const nlohmann::json* obj, const char* key, const char* where, std::vector<std::string>& errors) {
    const auto* v = object_member(obj, key);
    if (!v || v->is_null()) return {};
    if (!v->is_string()) {
        errors.push_back(std::string(where) + "." + key + " is not a string");
        return {};
    }
    return v->get<std::string>();
}

}  // namespace detail

namespace detail {

// The source columns of an invocation (table, operation, event id and time, role, email), from a payload;
// what cannot be read is noted in info.payload_errors.
inline void read_source_fields(const nlohmann::json& payload, invocation_info& info) {
    auto& errors = info.payload_errors;
    if (!payload.is_object()) {
        errors.push_back(std::string("payload is not a JSON object but ") + payload.type_name());
        return;
    }
    const auto* event = object_member(&payload, "event");
    if (!event) errors.push_back("payload has no 'event'");
    else if (!event->is_object()) errors.push_back("payload.event is not an object");
    const auto* table = object_member(&payload, "table");
    if (table && !table->is_object()) errors.push_back("payload.table is not an object");
    info.source_table = string_member(table, "name", "payload.table", errors);
    if (auto schema = string_member(table, "schema", "payload.table", errors); !schema.empty() && !info.source_table.empty() && schema != "public")
        info.source_table = schema + "." + info.source_table;
    info.source_operation = string_member(event, "op", "payload.event", errors);
    if (auto id = string_member(&payload, "id", "payload", errors); !id.empty()) {
        info.source_event_id = uuid::parse(id);
        if (!info.source_event_id) errors.push_back("payload.id is not a UUID");
    }
    if (auto created = string_member(&payload, "created_at", "payload", errors); !created.empty()) {
        info.source_event_time_ns = parse_iso8601(created);
        if (!info.source_event_time_ns) errors.push_back("payload.created_at is not an ISO 8601 time");
    }
    const auto* session = object_member(event, "session_variables");
    if (session && !session->is_null() && !session->is_object()) errors.push_back("payload.event.session_variables is not an object");
    info.source_user_role = string_member(session, "x-hasura-role", "payload.event.session_variables", errors);
    info.source_user_email = string_member(session, "x-hasura-user-email", "payload.event.session_variables", errors);
}

// The payload column: a copy bounded in string size and depth (config.max_string_bytes, max_payload_depth).
inline void store_payload(const nlohmann::json& payload, const config& cfg, invocation_info& info) {
    payload_limits hit;
    info.source_event_payload = within_limits(payload, cfg) ? payload : bounded_copy(payload, cfg, 0, hit);
    note_limits(hit, cfg, info.payload_errors);
}

}  // namespace detail

// Builds the immutable info of an invocation from its payload. `capture_payload` is false on the metrics path
// and when captureHasuraPayload is off (the column then holds an empty object).
inline invocation_info read_invocation_payload(const nlohmann::json& payload, std::string_view source_function,
                                               const invocation_options& options, const correlation_config& correlation,
                                               const config& cfg, bool capture_payload) {
    invocation_info info;
    info.source_function = std::string(source_function);
    info.source_system = options.source_system;
    info.auto_load_modules = options.auto_load_modules;
    info.event_modules_directory = options.event_modules_directory;
    try {
        detail::read_source_fields(payload, info);
        if (!options.correlation_id.empty()) {
            info.correlation_id = options.correlation_id;
            info.correlation_from = correlation_source::explicit_id;
        } else {
            auto c = extract_correlation(payload, correlation, source_function);
            info.correlation_id = std::move(c.id);
            info.correlation_from = c.source;
            info.source_job_id = c.parent_job_id;
            if (info.source_user_email.empty()) info.source_user_email = std::move(c.user_email);
        }
        if (options.source_job_id) info.source_job_id = options.source_job_id;
        if (capture_payload) detail::store_payload(payload, cfg, info);
    } catch (const std::exception& e) {
        info.payload_errors.push_back(std::string("payload could not be read: ") + e.what());
    }
    if (info.correlation_id.empty()) {
        info.correlation_id = make_system_correlation_id(source_function.empty() ? "unknown" : source_function);
        info.correlation_from = correlation_source::generated;
    }
    return info;
}

}  // namespace eventscope
