#include "routes.hpp"

#include <algorithm>
#include <string_view>

namespace demo {

namespace {

bool valid_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

route refuse(int status, std::string message) {
    route r;
    r.refusal = {status, R"({"error":")" + std::move(message) + "\"}"};
    return r;
}

}  // namespace

route classify_request(const std::string& method, const std::string& target) {
    std::string_view path(target);
    if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);

    if (path == "/healthz") {
        if (method != "GET" && method != "HEAD") return refuse(405, "use GET /healthz");
        route r;
        r.what = route::kind::health;
        return r;
    }
    if (path == "/alerts/silence") {
        if (method != "GET") return refuse(405, "use GET /alerts/silence");
        route r;
        r.what = route::kind::silence;
        return r;
    }
    if (path == "/metrics") {
        if (method != "GET" && method != "HEAD") return refuse(405, "use GET /metrics");
        route r;
        r.what = route::kind::metrics;
        return r;
    }
    constexpr std::string_view prefix = "/events/";
    if (path.substr(0, prefix.size()) != prefix)
        return refuse(404, "no such path; POST Hasura event-trigger deliveries to /events/<source_function>");
    if (method != "POST") return refuse(405, "POST Hasura event-trigger deliveries to /events/<source_function>");
    auto name = path.substr(prefix.size());
    if (name.empty() || name.size() > max_source_function_length || !std::all_of(name.begin(), name.end(), valid_name_char))
        return refuse(400, "the source function in /events/<source_function> must be 1 to " + std::to_string(max_source_function_length) +
                               " characters of A-Z a-z 0-9 . _ - (got " + std::to_string(name.size()) + " characters)");
    route r;
    r.what = route::kind::delivery;
    r.source_function = std::string(name);
    return r;
}

}  // namespace demo
