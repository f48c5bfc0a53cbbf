// Reading a Hasura event-trigger payload into an invocation's info. Tolerant by design: whatever is malformed
// (not an object, missing `event`, wrong types, huge strings, deep nesting) is noted in `payload_errors` and
// the rest is still read; nothing here throws into the detector.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "correlation.hpp"
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

// Copies a payload for storage, truncating long strings and replacing too-deep subtrees, so that buffering and
// JSON output stay bounded. Iterative over depth by construction: recursion stops at max_depth.
inline nlohmann::json bounded_copy(const nlohmann::json& j, const config& cfg, std::size_t depth, bool& trimmed) {
    if (depth >= cfg.max_payload_depth) {
        trimmed = true;
        return nlohmann::json{{"_eventscope_truncated", "nesting deeper than " + std::to_string(cfg.max_payload_depth)}};
    }
    switch (j.type()) {
        case nlohmann::json::value_t::object: {
            auto out = nlohmann::json::object();
            for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = bounded_copy(it.value(), cfg, depth + 1, trimmed);
            return out;
        }
        case nlohmann::json::value_t::array: {
            auto out = nlohmann::json::array();
            for (const auto& v : j) out.push_back(bounded_copy(v, cfg, depth + 1, trimmed));
            return out;
        }
        case nlohmann::json::value_t::string: {
            const auto& s = j.get_ref<const std::string&>();
            if (s.size() <= cfg.max_string_bytes) return j;
            trimmed = true;
            return s.substr(0, cfg.max_string_bytes) + "...[truncated " + std::to_string(s.size() - cfg.max_string_bytes) + " bytes]";
        }
        default:
            return j;
    }
}

inline std::size_t depth_exceeds(const nlohmann::json& j, std::size_t limit) {
    // Explicit stack: a hostile payload may be far deeper than the thread's stack allows recursion for.
    std::vector<std::pair<const nlohmann::json*, std::size_t>> todo{{&j, 0}};
    while (!todo.empty()) {
        auto [node, depth] = todo.back();
        todo.pop_back();
        if (depth > limit) return true;
        if (node->is_structured())
            for (const auto& child : *node) todo.emplace_back(&child, depth + 1);
    }
    return false;
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

struct invocation_options {
    std::string source_system = "hasura";
    std::optional<bool> auto_load_modules;
    std::string event_modules_directory;
    std::string correlation_id;  // an ID the caller already knows; skips extraction
    std::optional<uuid> source_job_id;
};

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
    auto& errors = info.payload_errors;
    try {
        if (!payload.is_object()) {
            errors.push_back(std::string("payload is not a JSON object but ") + payload.type_name());
        } else {
            const auto* event = detail::object_member(&payload, "event");
            if (!event) errors.push_back("payload has no 'event'");
            else if (!event->is_object()) errors.push_back("payload.event is not an object");
            const auto* table = detail::object_member(&payload, "table");
            if (table && !table->is_object()) errors.push_back("payload.table is not an object");
            info.source_table = detail::string_member(table, "name", "payload.table", errors);
            if (auto schema = detail::string_member(table, "schema", "payload.table", errors); !schema.empty() && !info.source_table.empty() && schema != "public")
                info.source_table = schema + "." + info.source_table;
            info.source_operation = detail::string_member(event, "op", "payload.event", errors);
            if (auto id = detail::string_member(&payload, "id", "payload", errors); !id.empty()) {
                info.source_event_id = uuid::parse(id);
                if (!info.source_event_id) errors.push_back("payload.id is not a UUID");
            }
            if (auto created = detail::string_member(&payload, "created_at", "payload", errors); !created.empty()) {
                info.source_event_time_ns = parse_iso8601(created);
                if (!info.source_event_time_ns) errors.push_back("payload.created_at is not an ISO 8601 time");
            }
            const auto* session = detail::object_member(event, "session_variables");
            if (session && !session->is_null() && !session->is_object()) errors.push_back("payload.event.session_variables is not an object");
            info.source_user_role = detail::string_member(session, "x-hasura-role", "payload.event.session_variables", errors);
            info.source_user_email = detail::string_member(session, "x-hasura-user-email", "payload.event.session_variables", errors);
        }
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
        if (capture_payload) {
            if (detail::depth_exceeds(payload, cfg.max_payload_depth)) {
                errors.push_back("payload nesting deeper than " + std::to_string(cfg.max_payload_depth) + " levels: stored truncated");
            }
            bool trimmed = false;
            info.source_event_payload = detail::bounded_copy(payload, cfg, 0, trimmed);
            if (trimmed && errors.empty()) errors.push_back("payload truncated to the configured limits");
        }
    } catch (const std::exception& e) {
        errors.push_back(std::string("payload could not be read: ") + e.what());
    }
    if (info.correlation_id.empty()) {
        info.correlation_id = make_system_correlation_id(source_function.empty() ? "unknown" : source_function);
        info.correlation_from = correlation_source::generated;
    }
    return info;
}

}  // namespace eventscope
