// Correlation IDs: the email of a user action, `{system}.{uuid}` of a system action, carried across invocations
// by the tracking token `source|correlationId|jobExecutionId` that a job writes into `updated_by`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "correlation_id.hpp"
#include "status.hpp"
#include "uuid.hpp"

namespace eventscope {

struct correlation_strategy {
    enum class kind { updated_by, session_variable, metadata, custom };
    kind strategy;
    // updated_by: the column name; session_variable: the variable name; metadata/custom: a JSON pointer.
    std::string where;

    static correlation_strategy updated_by(std::string column = "updated_by") { return {kind::updated_by, std::move(column)}; }
    static correlation_strategy session_variable(std::string variable = "x-correlation-id") {
        return {kind::session_variable, std::move(variable)};
    }
    static correlation_strategy metadata(std::string json_pointer) { return {kind::metadata, std::move(json_pointer)}; }
    static correlation_strategy custom(std::string json_pointer) { return {kind::custom, std::move(json_pointer)}; }
};

struct correlation_config {
    // Tried in order; the first that yields an ID wins.
    std::vector<correlation_strategy> order = {
        correlation_strategy::updated_by(),
        correlation_strategy::session_variable(),
        correlation_strategy::metadata("/event/trace_context/correlation_id"),
        correlation_strategy::metadata("/correlation_id"),
    };
};

struct correlation_result {
    std::string id;
    correlation_source source = correlation_source::generated;
    std::optional<uuid> parent_job_id;  // from a tracking token
    std::string user_email;             // when the ID is a user's email
};

namespace detail {

inline bool is_email(std::string_view s) noexcept {
    auto at = s.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
    if (s.find('@', at + 1) != std::string_view::npos) return false;
    auto dot = s.find('.', at + 1);
    if (dot == std::string_view::npos || dot == at + 1 || dot + 1 >= s.size()) return false;
    for (char c : s)
        if (c == ' ' || c == '|' || static_cast<unsigned char>(c) < 0x21) return false;
    return true;
}

// `{system_name}.{uuid}`: a non-empty system name, a dot, then a canonical UUID.
inline bool is_system_id(std::string_view s) noexcept {
    if (s.size() < 38) return false;
    auto dot = s.size() - 37;
    return s[dot] == '.' && uuid::parse(s.substr(dot + 1)).has_value();
}

inline const nlohmann::json* find_pointer(const nlohmann::json& payload, const std::string& pointer) noexcept {
    try {
        nlohmann::json::json_pointer p(pointer);
        if (!payload.contains(p)) return nullptr;
        return &payload.at(p);
    } catch (...) {
        return nullptr;
    }
}

inline const nlohmann::json* object_member(const nlohmann::json* j, const char* key) noexcept {
    if (!j || !j->is_object()) return nullptr;
    auto it = j->find(key);
    return it == j->end() ? nullptr : &*it;
}

}  // namespace detail

// Reads one `updated_by` value: a tracking token, an email or a system ID; anything else is no correlation ID.
inline std::optional<correlation_result> parse_correlation_value(std::string_view value) {
    if (value.empty()) return std::nullopt;
    auto first = value.find('|');
    if (first != std::string_view::npos) {
        auto second = value.rfind('|');
        if (second == first) return std::nullopt;
        auto correlation = value.substr(first + 1, second - first - 1);
        auto job = uuid::parse(value.substr(second + 1));
        if (correlation.empty() || !job) return std::nullopt;
        correlation_result r{std::string(correlation), correlation_source::tracking_token, job, {}};
        if (detail::is_email(correlation)) r.user_email = r.id;
        return r;
    }
    if (detail::is_email(value)) return correlation_result{std::string(value), correlation_source::updated_by, {}, std::string(value)};
    if (detail::is_system_id(value)) return correlation_result{std::string(value), correlation_source::updated_by, {}, {}};
    return std::nullopt;
}

// Extracts the correlation ID of a Hasura event-trigger payload. Never throws on malformed input;
// falls back to a generated `{source_function}.{uuid}` marked as generated.
inline correlation_result extract_correlation(const nlohmann::json& payload, const correlation_config& cfg,
                                              std::string_view source_function) {
    const auto* event = detail::object_member(&payload, "event");
    for (const auto& strategy : cfg.order) {
        switch (strategy.strategy) {
            case correlation_strategy::kind::updated_by: {
                const auto* data = detail::object_member(event, "data");
                for (const char* side : {"new", "old"}) {
                    const auto* v = detail::object_member(detail::object_member(data, side), strategy.where.c_str());
                    if (v && v->is_string())
                        if (auto r = parse_correlation_value(v->get_ref<const std::string&>())) return *r;
                }
                break;
            }
            case correlation_strategy::kind::session_variable: {
                const auto* v = detail::object_member(detail::object_member(event, "session_variables"), strategy.where.c_str());
                if (v && v->is_string() && !v->get_ref<const std::string&>().empty()) {
                    const auto& id = v->get_ref<const std::string&>();
                    correlation_result r{id, correlation_source::session_variable, {}, {}};
                    if (auto token = parse_correlation_value(id); token && token->source == correlation_source::tracking_token) {
                        r.id = token->id;
                        r.parent_job_id = token->parent_job_id;
                    }
                    if (detail::is_email(r.id)) r.user_email = r.id;
                    return r;
                }
                break;
            }
            case correlation_strategy::kind::metadata:
            case correlation_strategy::kind::custom: {
                const auto* v = detail::find_pointer(payload, strategy.where);
                if (v && v->is_string() && !v->get_ref<const std::string&>().empty()) {
                    auto source = strategy.strategy == correlation_strategy::kind::metadata ? correlation_source::metadata
                                                                                             : correlation_source::custom;
                    correlation_result r{v->get<std::string>(), source, {}, {}};
                    if (auto token = parse_correlation_value(r.id); token && token->source == correlation_source::tracking_token) {
                        r.id = token->id;
                        r.parent_job_id = token->parent_job_id;
                    }
                    if (detail::is_email(r.id)) r.user_email = r.id;
                    return r;
                }
                break;
            }
        }
    }
    std::string generated(source_function.empty() ? std::string_view("unknown") : source_function);
    generated += '.';
    generated += new_random_uuid().to_string();
    return correlation_result{std::move(generated), correlation_source::generated, {}, {}};
}

}  // namespace eventscope
