// The spool: rows that could not be written for a reason other than their content (server unreachable,
// configuration) are appended as row JSON lines to files spool-<seq>.jsonl, and replayed oldest first before
// anything new is written. Bounded by max_bytes over all files; a file is rotated past file_bytes and deleted
// once every row in it is written or dead-lettered. Files left by an earlier process are replayed too.
// Durability (spool_sync): every append is flushed to the kernel (fflush), so it survives a crash of the process;
// `per_batch` also fsyncs each append (and the directory when a file is created), surviving a crash of the machine;
// `interval` fsyncs at most once per interval (a machine crash loses at most that much); `none` never fsyncs.
// An append that fails part-way (ENOSPC) is cut back to the last complete line, so no torn line is left to be
// counted as rejected at replay while its batch is retried and written later.
#pragma once

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace eventscope::pg {

enum class spool_sync { none, interval, per_batch };

inline const char* to_string(spool_sync s) {
    return s == spool_sync::per_batch ? "per_batch" : s == spool_sync::interval ? "interval" : "none";
}

class spool {
public:
    spool(std::string directory, std::uintmax_t max_bytes, std::uintmax_t file_bytes, spool_sync sync = spool_sync::interval,
          std::chrono::milliseconds sync_interval = std::chrono::milliseconds(1000))
        : dir_(std::move(directory)), max_bytes_(max_bytes), file_bytes_(file_bytes), sync_(sync), sync_interval_(sync_interval) {
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

    // Why appends would fail now (directory missing or not writable, or less free space than the spool may
    // need), or "" when it looks usable. A probe file is created and removed.
    std::string problem() const {
        if (dir_.empty()) return {};
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::create_directories(dir_, ec);
        if (ec) return "cannot create spool directory " + dir_ + ": " + ec.message();
        auto probe = fs::path(dir_) / ".write-probe";
        int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) return "spool directory " + dir_ + " is not writable: " + std::strerror(errno);
        ::close(fd);
        fs::remove(probe, ec);
        struct statvfs vfs {};
        if (::statvfs(dir_.c_str(), &vfs) == 0) {
            auto free_bytes = static_cast<std::uintmax_t>(vfs.f_bavail) * vfs.f_frsize;
            auto room = max_bytes_ > bytes_ ? max_bytes_ - bytes_ : 0;
            if (free_bytes < room)
                return "spool directory " + dir_ + " has " + std::to_string(free_bytes >> 20) + " MiB free, less than the spool may need (" +
                       std::to_string(room >> 20) + " MiB of spool_max_bytes left)";
        }
        return {};
    }

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
            std::setvbuf(active_.get(), nullptr, _IONBF, 0);  // nothing buffered that a later fclose could add after a cut
            synced_dir_for_active_ = false;
            files_.push_back({path, 0});
        }
        std::optional<std::string> failure;
        if (std::fwrite(text.data(), 1, text.size(), active_.get()) != text.size() || std::fflush(active_.get()) != 0)
            failure = std::string("spool write failed: ") + std::strerror(errno);
        else
            failure = sync_after_append();
        if (failure) {
            std::string why = std::move(*failure);
            // Cut back what part of the text reached the file: the whole batch is retried by the caller.
            int fd = ::fileno(active_.get());
            if (fd >= 0 && ::ftruncate(fd, static_cast<off_t>(files_.back().size)) != 0)
                why += " (and the partial write could not be cut back: " + std::string(std::strerror(errno)) + ")";
            active_.reset();
            return why;
        }
        files_.back().size += text.size();
        bytes_ += text.size();
        return std::nullopt;
    }

    spool_sync sync_policy() const { return sync_; }
    std::uint64_t syncs() const { return syncs_; }

    // Replays oldest first, in chunks of at most max_lines lines: write(lines) returns whether the chunk is done
    // (written or dead-lettered); on false the replay stops and resumes at that chunk next time. Returns whether
    // the spool is empty now. A file is read from its first unwritten line, a block at a time: a retry during an
    // outage reads that one chunk again, not the whole file, and memory holds one chunk's lines.
    template <class WriteChunk>
    bool replay(std::size_t max_lines, WriteChunk&& write) {
        while (!files_.empty()) {
            auto& file = files_.front();
            if (files_.size() == 1) active_.reset();  // appends after this replay start a new file
            std::ifstream in(file.path, std::ios::binary);
            if (in) in.seekg(static_cast<std::streamoff>(offset_));
            bool at_end = !in;
            std::string unread;  // the file from offset_ on, as far as read
            std::vector<std::pair<std::size_t, std::size_t>> spans;  // the chunk's lines in `unread`: start, length
            std::vector<std::string_view> lines;
            for (;;) {
                spans.clear();
                std::size_t consumed = 0, searched = 0;  // searched: no newline in unread[consumed, searched)
                while (spans.size() < max_lines) {
                    auto nl = unread.find('\n', searched);
                    if (nl == std::string::npos) {
                        if (!at_end) {
                            searched = unread.size();  // a line longer than a block is not searched again
                            at_end = !read_block(in, unread);
                            continue;
                        }
                        if (consumed < unread.size()) spans.emplace_back(consumed, unread.size() - consumed);
                        consumed = unread.size();
                        break;
                    }
                    if (nl > consumed) spans.emplace_back(consumed, nl - consumed);
                    consumed = searched = nl + 1;
                }
                if (consumed == 0) break;  // the file is done
                // Views are taken once the chunk is complete: reading a block may move `unread`.
                lines.clear();
                for (auto [start, length] : spans) lines.emplace_back(unread.data() + start, length);
                if (!lines.empty() && !write(lines, file.path.string())) return false;
                offset_ += consumed;
                unread.erase(0, consumed);
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
    // Appends up to one block of the file to `unread`; false at the end of the file.
    static bool read_block(std::ifstream& in, std::string& unread) {
        constexpr std::size_t block = std::size_t{1} << 20;
        auto had = unread.size();
        unread.resize(had + block);
        in.read(unread.data() + had, static_cast<std::streamsize>(block));
        unread.resize(had + static_cast<std::size_t>(in.gcount()));
        return static_cast<bool>(in);
    }

    // The append's bytes are in the file; with per_batch they are on disk before the caller reports success.
    std::optional<std::string> sync_after_append() {
        if (sync_ == spool_sync::none || !active_) return std::nullopt;
        auto now = std::chrono::steady_clock::now();
        if (sync_ == spool_sync::interval && now - last_sync_ < sync_interval_) return std::nullopt;
        if (::fsync(::fileno(active_.get())) != 0) return std::string("spool fsync failed: ") + std::strerror(errno);
        if (!synced_dir_for_active_) {
            // A new file's directory entry must reach the disk too.
            int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
            if (dfd >= 0) {
                ::fsync(dfd);
                ::close(dfd);
            }
            synced_dir_for_active_ = true;
        }
        last_sync_ = now;
        ++syncs_;
        return std::nullopt;
    }

    struct file_entry {
        std::filesystem::path path;
        std::uintmax_t size = 0;
    };
    std::string dir_;
    std::uintmax_t max_bytes_, file_bytes_;
    spool_sync sync_;
    std::chrono::milliseconds sync_interval_;
    std::chrono::steady_clock::time_point last_sync_{};
    bool synced_dir_for_active_ = false;
    std::uint64_t syncs_ = 0;
    std::deque<file_entry> files_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> active_{nullptr, &std::fclose};
    std::uint64_t next_seq_ = 1;
    std::uint64_t bytes_ = 0;
    std::size_t offset_ = 0;  // into the oldest file: lines before it are written
};

}  // namespace eventscope::pg
