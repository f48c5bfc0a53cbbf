#include "service_instance.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include <eventscope/row_json.hpp>
#include <eventscope/uuid.hpp>

namespace demo {

namespace {

nlohmann::json read_all(int fd) {
    std::string text;
    char buf[4096];
    off_t at = 0;
    for (ssize_t n; (n = pread(fd, buf, sizeof buf, at)) > 0; at += n) text.append(buf, static_cast<std::size_t>(n));
    return nlohmann::json::parse(text, nullptr, false);
}

ended_instance ended_from(const nlohmann::json& j) {
    ended_instance e;
    e.id = j.value("instance", "");
    e.pid = j.value("pid", 0L);
    e.started_at = j.value("started_at", "");
    e.stopped_cleanly = j.value("stopped_cleanly", false);
    return e;
}

}  // namespace

std::unique_ptr<service_instance> service_instance::acquire(const std::string& directory, std::string& error) {
    error.clear();
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    const std::string path = directory + "/" + file_name;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return nullptr;  // the spool's own warning names the directory's problem
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int why = errno;
        auto owner = read_all(fd);
        ::close(fd);
        if (why != EWOULDBLOCK) return nullptr;
        error = "the spool directory " + directory + " is in use by another detector_service";
        if (owner.is_object())
            error += " (pid " + std::to_string(owner.value("pid", 0L)) + ", instance " + owner.value("instance", "?") + ", started " +
                     owner.value("started_at", "?") + ")";
        error += ": two processes on one spool would replay the same rows twice; give each process its own --spool-dir";
        return nullptr;
    }
    std::unique_ptr<service_instance> self(new service_instance);
    self->fd_ = fd;
    self->path_ = path;
    // Whoever is named in the file is gone: we hold the lock it held while it lived.
    if (auto before = read_all(fd); before.is_object()) {
        if (auto list = before.find("ended"); list != before.end() && list->is_array())
            for (const auto& e : *list)
                if (e.is_object() && !e.value("instance", "").empty()) self->ended_.push_back(ended_from(e));
        if (!before.value("instance", "").empty()) self->ended_.push_back(ended_from(before));
    }
    self->id_ = eventscope::new_random_uuid().to_string();
    self->started_at_ = eventscope::format_timestamp(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    if (!self->write(false)) return nullptr;
    return self;
}

service_instance::~service_instance() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
}

std::vector<ended_instance> service_instance::ended() const {
    std::lock_guard lock(mutex_);
    return ended_;
}

void service_instance::forget_ended(std::size_t count) {
    std::lock_guard lock(mutex_);
    ended_.erase(ended_.begin(), ended_.begin() + static_cast<std::ptrdiff_t>(std::min(count, ended_.size())));
    write_locked(stopped_);
}

void service_instance::mark_stopped() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    write_locked(true);
}

bool service_instance::write(bool stopped) {
    std::lock_guard lock(mutex_);
    return write_locked(stopped);
}

bool service_instance::write_locked(bool stopped) {
    nlohmann::json ended = nlohmann::json::array();
    for (const auto& e : ended_)
        ended.push_back({{"instance", e.id}, {"pid", e.pid}, {"started_at", e.started_at}, {"stopped_cleanly", e.stopped_cleanly}});
    nlohmann::json j = {{"instance", id_},          {"pid", static_cast<long>(::getpid())}, {"started_at", started_at_},
                        {"stopped_cleanly", stopped}, {"ended", std::move(ended)}};
    auto text = j.dump() + "\n";
    // In place: the lock belongs to this open file, a renamed replacement would not carry it.
    if (::ftruncate(fd_, 0) != 0) return false;
    if (::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) return false;
    return ::fsync(fd_) == 0;
}

}  // namespace demo
