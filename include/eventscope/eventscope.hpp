// The one header a detector includes. Sinks live in their own headers (eventscope/sinks/*.hpp) and targets.
#pragma once

#include "config.hpp"
#include "console_capture.hpp"
#include "correlation.hpp"
#include "macros.hpp"
#include "observer.hpp"
#include "policy.hpp"
#include "records.hpp"
#include "row_json.hpp"
#include "uuid.hpp"
