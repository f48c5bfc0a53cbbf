// One JSON object per line, keys identical to the SQL column names plus "table", readable by `jq`.
// Rows still running are written too; a reader keeps the last line per (table, id).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include <eventscope/records.hpp>
#include <eventscope/row_json.hpp>
#include <eventscope/sink.hpp>

namespace eventscope {

class json_lines_sink {
public:
    // Standard output.
    json_lines_sink() : file_(stdout), owned_(nullptr, &std::fclose) {}

    // Appends to `path` (created if missing). Throws std::runtime_error naming the file if it cannot be opened.
    explicit json_lines_sink(const std::string& path) : file_(nullptr), owned_(std::fopen(path.c_str(), "a"), &std::fclose) {
        if (!owned_) throw std::runtime_error("json_lines_sink: cannot open '" + path + "': " + std::strerror(errno));
        file_ = owned_.get();
    }

    write_result write(std::span<record> batch) {
        std::string buffer;
        for (const auto& r : batch) {
            buffer += to_json_line(r);
            buffer += '\n';
        }
        // One fwrite per batch; a partial write is reported and the batch retried (a reader may then see a
        // repeated line, which the last-line-per-id rule absorbs).
        if (std::fwrite(buffer.data(), 1, buffer.size(), file_) != buffer.size() || std::fflush(file_) != 0) {
            std::clearerr(file_);
            return write_result::failure(std::string("json_lines_sink: write failed: ") + std::strerror(errno));
        }
        return write_result::success();
    }

private:
    std::FILE* file_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned_;
};

}  // namespace eventscope
