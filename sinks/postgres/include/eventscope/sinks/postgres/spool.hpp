// The spool: rows that could not be written for a reason other than their content (server unreachable,
// configuration) are appended as row JSON lines to files spool-<seq>.jsonl, and replayed oldest first before
// anything new is written. Bounded by max_bytes over all files; a file is rotated past file_bytes and deleted
// once every row in it is written or dead-lettered. Files left by an earlier process are replayed too.
// Lines are flushed (fflush), not fsynced: they survive a crash of the process, not of the machine.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace eventscope::pg {

class spool {
public:
    spool(std::string directory, std::uintmax_t max_bytes, std::uintmax_t file_bytes)
        : dir_(std::move(directory)), max_bytes_(max_bytes), file_bytes_(file_bytes) {
        if (dir_.empty()) return;
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::create_directories(dir_, ec);
        std::vector<std::pair<std::uint64_t, fs::path>> found;
        for (const auto& e : fs::directory_iterator(dir_, ec)) {
            auto name = e.path().filename().string();
            if (name.rfind("spool-", 0) != 0 || e.path().extension() != ".jsonl") continue;
            found.emplace_back(std::strtoull(name.c_str() + 6, nullptr, 10), e.path());
        }
        std::sort(found.begin(), found.end());
        for (auto& [seq, path] : found) {
            auto size = fs::file_size(path, ec);
            files_.push_back({path, ec ? 0 : size});
            bytes_ += ec ? 0 : size;
            next_seq_ = seq + 1;
        }
    }

    bool enabled() const { return !dir_.empty(); }
    bool empty() const { return files_.empty(); }
    std::size_t files() const { return files_.size(); }
    std::uint64_t bytes() const { return bytes_; }
    const std::string& directory() const { return dir_; }

    // Appends complete lines. Returns nullopt on success, else why nothing (or a torn line, skipped at replay)
    // was kept.
    std::optional<std::string> append(const std::string& text) {
        if (text.empty()) return std::nullopt;
        if (bytes_ + text.size() > max_bytes_)
            return "spool full: " + std::to_string(bytes_) + " of " + std::to_string(max_bytes_) + " bytes";
        if (!active_ || files_.empty() || files_.back().size >= file_bytes_) {
            active_.reset();
            char name[64];
            std::snprintf(name, sizeof name, "spool-%020llu.jsonl", static_cast<unsigned long long>(next_seq_++));
            auto path = std::filesystem::path(dir_) / name;
            active_.reset(std::fopen(path.c_str(), "ab"));
            if (!active_) return "cannot open spool file " + path.string() + ": " + std::strerror(errno);
            files_.push_back({path, 0});
        }
        if (std::fwrite(text.data(), 1, text.size(), active_.get()) != text.size() || std::fflush(active_.get()) != 0) {
            active_.reset();
            return std::string("spool write failed: ") + std::strerror(errno);
        }
        files_.back().size += text.size();
        bytes_ += text.size();
        return std::nullopt;
    }

    // Replays oldest first, in chunks of at most max_lines lines: write(lines) returns whether the chunk is done
    // (written or dead-lettered); on false the replay stops and resumes at that chunk next time. Returns whether
    // the spool is empty now.
    template <class WriteChunk>
    bool replay(std::size_t max_lines, WriteChunk&& write) {
        while (!files_.empty()) {
            auto& file = files_.front();
            if (files_.size() == 1) active_.reset();  // appends after this replay start a new file
            std::ifstream in(file.path, std::ios::binary);
            std::string content;
            if (in) content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            std::size_t pos = std::min<std::size_t>(offset_, content.size());
            while (pos < content.size()) {
                std::vector<std::string_view> lines;
                std::size_t end = pos;
                while (end < content.size() && lines.size() < max_lines) {
                    auto nl = content.find('\n', end);
                    auto line_end = nl == std::string::npos ? content.size() : nl;
                    std::string_view line(content.data() + end, line_end - end);
                    end = nl == std::string::npos ? content.size() : nl + 1;
                    if (!line.empty()) lines.push_back(line);
                }
                if (!write(lines, file.path.string())) return false;
                pos = end;
                offset_ = pos;
            }
            std::error_code ec;
            std::filesystem::remove(file.path, ec);
            bytes_ -= std::min<std::uint64_t>(bytes_, file.size);
            files_.pop_front();
            offset_ = 0;
        }
        return true;
    }

private:
    struct file_entry {
        std::filesystem::path path;
        std::uintmax_t size = 0;
    };
    std::string dir_;
    std::uintmax_t max_bytes_, file_bytes_;
    std::deque<file_entry> files_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> active_{nullptr, &std::fclose};
    std::uint64_t next_seq_ = 1;
    std::uint64_t bytes_ = 0;
    std::size_t offset_ = 0;  // into the oldest file: lines before it are written
};

}  // namespace eventscope::pg
