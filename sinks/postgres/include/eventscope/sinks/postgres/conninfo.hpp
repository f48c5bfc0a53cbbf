// The libpq connection string of the sink: `database.connection_string`, else OBSERVABILITY_DB_URL, else the
// individual fields (quoted for libpq); connect_timeout and application_name are added when not set.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <string>

#include <eventscope/config.hpp>

namespace eventscope::pg {

inline std::string quote_conninfo(const std::string& v) {
    std::string out = "'";
    for (char c : v) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

inline std::string build_conninfo(const database_config& db, std::chrono::seconds connect_timeout, const std::string& application_name) {
    std::string s = db.connection_string;
    if (s.empty())
        if (const char* env = std::getenv("OBSERVABILITY_DB_URL")) s = env;
    auto timeout = std::to_string(connect_timeout.count());
    if (!s.empty()) {
        bool url = s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0;
        auto add = [&](const char* key, const std::string& value) {
            if (s.find(key) != std::string::npos) return;
            if (url) s += (s.find('?') == std::string::npos ? '?' : '&') + std::string(key) + "=" + value;
            else s += " " + std::string(key) + "=" + quote_conninfo(value);
        };
        add("connect_timeout", timeout);
        bool plain = std::all_of(application_name.begin(), application_name.end(),
                                 [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
        if (plain && !application_name.empty()) add("application_name", application_name);
        return s;
    }
    std::string out = "host=" + quote_conninfo(db.host) + " port=" + std::to_string(db.port) + " dbname=" + quote_conninfo(db.database);
    if (!db.user.empty()) out += " user=" + quote_conninfo(db.user);
    if (!db.password.empty()) out += " password=" + quote_conninfo(db.password);
    if (!db.sslmode.empty()) out += " sslmode=" + quote_conninfo(db.sslmode);
    out += " connect_timeout=" + timeout;
    if (!application_name.empty()) out += " application_name=" + quote_conninfo(application_name);
    return out;
}

}  // namespace eventscope::pg
