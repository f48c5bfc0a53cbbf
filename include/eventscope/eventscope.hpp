// What a detector source file includes: the scope types, the recorder they write into, and the macros.
// Light on purpose (no Asio, no sink, no <dlfcn.h>; nlohmann_json only forward-declared): the observer that
// owns the pipeline and the sinks is defined in one file, which includes <eventscope/observer.hpp> (or any
// sink header, which brings it). Functions take `eventscope::recorder&`, `eventscope::invocation&`,
// `eventscope::event&`, `eventscope::job&`, whatever the observer writes to.
#pragma once

#include "detect.hpp"
#include "invocation_options.hpp"
#include "macros.hpp"
#include "policy.hpp"
#include "recorder.hpp"
#include "scope_concepts.hpp"
#include "scopes.hpp"
#include "stats.hpp"
#include "status.hpp"
#include "uuid.hpp"
