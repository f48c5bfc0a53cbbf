// Parsing a delivery's body as JSON, noticing what a plain parse hides: an object with the same key twice
// (JSON allows it, nlohmann keeps the last value, and Hasura never sends it, so a sender is misbehaving). The
// paths of the duplicated keys are returned so that the invocation can record them (context_data).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace demo {

struct delivery_body {
    nlohmann::json json;                      // discarded when the body is not valid JSON
    std::vector<std::string> duplicate_keys;  // JSON Pointer paths, at most max_reported
    std::size_t duplicates = 0;               // all of them

    static constexpr std::size_t max_reported = 10;
};

delivery_body parse_delivery_body(std::string_view body);

}  // namespace demo
