// Which requests the service answers: Hasura deliveries at POST /events/<source_function>, GET /healthz,
// GET /metrics and GET /alerts/silence (replay_driver.hpp; PostgreSQL builds with --sink postgres).
// Everything else is refused here, before it can reach the recorder (a URL path becomes source_function, which
// is indexed: an unbounded one would make the database reject the invocation's rows).
#pragma once

#include <string>

#include "http.hpp"

namespace demo {

struct route {
    enum class kind { delivery, health, metrics, silence, refused };
    kind what = kind::refused;
    std::string source_function;  // delivery: validated
    http_response refusal;        // refused: the reply to send
};

constexpr std::size_t max_source_function_length = 128;

route classify_request(const std::string& method, const std::string& target);

}  // namespace demo
