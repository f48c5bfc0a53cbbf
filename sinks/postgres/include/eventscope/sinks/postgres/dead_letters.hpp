// Rows the server rejected for their content, one JSON line each with the SQLSTATE and the error:
// {"rejected_at": "...Z", "sqlstate": "23514", "error": "ERROR: ...", "row": {...}}. Without a path they are
// only counted.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include <eventscope/row_json.hpp>
#include <eventscope/sinks/postgres/failure_log.hpp>

namespace eventscope::pg {

class dead_letters {
public:
    explicit dead_letters(std::string path) : path_(std::move(path)) {}

    const std::string& path() const { return path_; }

    void write(const nlohmann::json& row, const std::string& sqlstate, const std::string& error, failure_log& log) {
        if (path_.empty()) return;
        auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        nlohmann::json line = {{"rejected_at", format_timestamp(now)}, {"sqlstate", sqlstate}, {"error", error}, {"row", row}};
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path_.c_str(), "ab"), &std::fclose);
        std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        if (!f || std::fwrite(text.data(), 1, text.size(), f.get()) != text.size())
            log.once("dead-letter-file", "postgres_sink: cannot append to dead-letter file " + path_ + ": " + std::strerror(errno));
    }

private:
    std::string path_;
};

}  // namespace eventscope::pg
