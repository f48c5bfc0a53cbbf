#include "delivery_body.hpp"

#include <unordered_set>

namespace demo {

namespace {

// A JSON Pointer reference token: '~' and '/' escaped.
std::string pointer_token(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

}  // namespace

delivery_body parse_delivery_body(std::string_view body) {
    delivery_body out;
    // Per open container: the keys seen (objects only) and the path to it. Arrays get an index-less "-" token:
    // the path says where the object is, which is what a reader needs to find it.
    struct level {
        bool object = false;
        std::unordered_set<std::string> keys;
        std::string path;
        std::string pending_key;
    };
    std::vector<level> stack;
    auto child_path = [&]() -> std::string {
        if (stack.empty()) return "";
        const auto& top = stack.back();
        return top.path + "/" + (top.object ? pointer_token(top.pending_key) : std::string("-"));
    };
    nlohmann::json::parser_callback_t cb = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using ev = nlohmann::json::parse_event_t;
        switch (event) {
            case ev::object_start:
            case ev::array_start: {
                level l;
                l.object = event == ev::object_start;
                l.path = child_path();
                stack.push_back(std::move(l));
                break;
            }
            case ev::object_end:
            case ev::array_end:
                if (!stack.empty()) stack.pop_back();
                break;
            case ev::key:
                if (!stack.empty() && stack.back().object) {
                    auto& top = stack.back();
                    top.pending_key = parsed.get<std::string>();
                    if (!top.keys.insert(top.pending_key).second) {
                        ++out.duplicates;
                        if (out.duplicate_keys.size() < delivery_body::max_reported)
                            out.duplicate_keys.push_back(top.path + "/" + pointer_token(top.pending_key));
                    }
                }
                break;
            case ev::value:
                break;
        }
        return true;
    };
    out.json = nlohmann::json::parse(body.begin(), body.end(), cb, /*allow_exceptions=*/false);
    return out;
}

}  // namespace demo
