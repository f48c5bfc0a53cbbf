// Per-invocation options a caller may pass when it opens an invocation scope.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "uuid.hpp"

namespace eventscope {

struct invocation_options {
    std::string source_system = "hasura";
    std::optional<bool> auto_load_modules;
    std::string event_modules_directory;
    std::string correlation_id;  // an ID the caller already knows; skips extraction
    std::optional<uuid> source_job_id;
    // context_data entries written with the invocation's first (running) row and kept on its final row, at every
    // capture level: e.g. which process wrote it, so that the rows a killed process left running can be closed.
    // The scope's set_context wins over an entry of the same key.
    std::vector<std::pair<std::string, std::string>> context;
};

}  // namespace eventscope
