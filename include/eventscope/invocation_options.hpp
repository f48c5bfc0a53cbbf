// Per-invocation options a caller may pass when it opens an invocation scope.
#pragma once

#include <optional>
#include <string>

#include "uuid.hpp"

namespace eventscope {

struct invocation_options {
    std::string source_system = "hasura";
    std::optional<bool> auto_load_modules;
    std::string event_modules_directory;
    std::string correlation_id;  // an ID the caller already knows; skips extraction
    std::optional<uuid> source_job_id;
};

}  // namespace eventscope
