// The demo driver: plays the application and Hasura. Seeds users and orders through the app store, takes the
// captured changes (plus the payload corpus) as Hasura event-trigger deliveries, POSTs them to the service
// over a real loopback socket, repeats with the changes the jobs wrote (the chains), then reports.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "app_store.hpp"
#include "service.hpp"

namespace demo {

struct demo_options {
    std::string payload_dir;  // the corpus (examples/payloads); empty = none
    int users = 12;
    int orders = 40;
    std::size_t clients = 4;  // concurrent HTTP connections
    int max_waves = 12;
    std::string sink_description;
    std::FILE* out = stdout;  // progress and report
    bool progress_tty = false;
};

// Runs the demo against the service listening on 127.0.0.1:port and returns the report (also printed).
nlohmann::json run_demo(recorder_t& obs, app_store& app, unsigned short port, const demo_options& options);

// Builds the Hasura event-trigger payload of one captured change.
nlohmann::json hasura_payload(const row_change& change, const nlohmann::json& session_variables);

}  // namespace demo
