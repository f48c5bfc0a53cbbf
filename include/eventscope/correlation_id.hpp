// The text forms of correlation IDs: `{system}.{uuid}` for a system action, and the tracking token
// `source|correlationId|jobExecutionId` a job writes into `updated_by` so that the next invocation links back.
#pragma once

#include <string>
#include <string_view>

#include "uuid.hpp"

namespace eventscope {

// A system action's correlation ID: `{system_name}.{uuid}`.
inline std::string make_system_correlation_id(std::string_view system_name) {
    std::string id(system_name);
    id += '.';
    id += new_random_uuid().to_string();
    return id;
}

// What a job writes into `updated_by` so that the invocation its write triggers links back to it.
inline std::string make_tracking_token(std::string_view source, std::string_view correlation_id, const uuid& job_execution_id) {
    std::string token;
    token.reserve(source.size() + correlation_id.size() + 38);
    token.append(source).append(1, '|').append(correlation_id).append(1, '|').append(job_execution_id.to_string());
    return token;
}

}  // namespace eventscope
