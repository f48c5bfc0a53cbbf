// Which detector_service process owns a spool directory, and which earlier ones ended without closing their rows.
//
// Each process is an instance with its own ID, written into context_data.service_instance of every invocation
// it opens (invocation_options::context), from the invocation's first (running) row on. At start-up it takes an
// exclusive flock on <spool>/detector_service.instance:
//   - taken by a live process: start-up fails naming its pid (two processes replaying one spool would write
//     the same rows twice and each count them);
//   - free: every instance named in the file (the one before, and any that could not close its predecessors'
//     rows before it died too) is gone (the kernel drops a killed process's lock), so its rows still running
//     can never complete: once its spool is replayed they are closed as `failed` (close_rows_of_instances).
// The file is rewritten in place (the lock belongs to the open file), with fsync.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace demo {

struct ended_instance {
    std::string id;
    long pid = 0;
    std::string started_at;  // ISO 8601 UTC: its rows are not older
    bool stopped_cleanly = false;
};

class service_instance {
public:
    static constexpr const char* file_name = "detector_service.instance";

    // Takes the lock in `directory` (created if missing). nullptr with `error` set when another live process holds
    // it; nullptr with `error` empty when the directory cannot hold the file (then no instance is tracked).
    static std::unique_ptr<service_instance> acquire(const std::string& directory, std::string& error);

    service_instance(const service_instance&) = delete;
    service_instance& operator=(const service_instance&) = delete;
    ~service_instance();

    const std::string& id() const { return id_; }
    const std::string& path() const { return path_; }
    // Instances whose running rows are still to be closed, oldest first. Any thread.
    std::vector<ended_instance> ended() const;
    // The first `count` of ended() had their rows closed: they leave the file.
    void forget_ended(std::size_t count);
    // At a clean stop (SIGTERM, final flush done): the next start says this one stopped cleanly.
    void mark_stopped();

private:
    service_instance() = default;
    bool write(bool stopped);
    bool write_locked(bool stopped);

    int fd_ = -1;
    std::string path_, id_, started_at_;
    mutable std::mutex mutex_;
    std::vector<ended_instance> ended_;
    bool stopped_ = false;
};

}  // namespace demo
