// Keeps every written record in memory: for tests, and as the fixture that checks what a run produced.
// It can be told to fail or to be slow, to exercise the pipeline's retries and back-pressure.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <eventscope/records.hpp>
#include <eventscope/row_json.hpp>
#include <eventscope/sink.hpp>

namespace eventscope {

class memory_sink {
public:
    write_result write(std::span<record> batch) {
        if (auto delay = std::chrono::milliseconds(delay_ms_.load()); delay.count() > 0) std::this_thread::sleep_for(delay);
        if (fail_next_.load() > 0) {
            fail_next_.fetch_sub(1);
            return write_result::failure("memory_sink: failure injected by the test");
        }
        std::lock_guard lock(mutex_);
        batch_sizes_.push_back(batch.size());
        for (auto& r : batch) records_.push_back(std::move(r));
        return write_result::success();
    }

    // The next `n` writes fail (the pipeline must retry them).
    void fail_next_writes(int n) { fail_next_.store(n); }
    void set_write_delay(std::chrono::milliseconds d) { delay_ms_.store(d.count()); }

    // All written records as rows (see row_json.hpp), in write order.
    std::vector<nlohmann::json> rows() const {
        std::lock_guard lock(mutex_);
        std::vector<nlohmann::json> out;
        out.reserve(records_.size());
        for (const auto& r : records_) out.push_back(to_row(r));
        return out;
    }

    // The last row written for each id of one table, i.e. what a database upserting by id would hold.
    std::vector<nlohmann::json> final_rows(std::string_view table) const {
        std::vector<nlohmann::json> out;
        std::vector<std::string> order;
        std::map<std::string, nlohmann::json> latest;
        for (auto& row : rows()) {
            if (row["table"] != table) continue;
            auto id = row["id"].get<std::string>();
            if (!latest.count(id)) order.push_back(id);
            latest[id] = std::move(row);
        }
        for (auto& id : order) out.push_back(std::move(latest[id]));
        return out;
    }

    template <class F>
    void visit(F&& f) const {
        std::lock_guard lock(mutex_);
        for (const auto& r : records_) f(r);
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return records_.size();
    }
    std::vector<std::size_t> batch_sizes() const {
        std::lock_guard lock(mutex_);
        return batch_sizes_;
    }

private:
    mutable std::mutex mutex_;  // between the pipeline thread and the test reading; producers never take it
    std::vector<record> records_;
    std::vector<std::size_t> batch_sizes_;
    std::atomic<int> fail_next_{0};
    std::atomic<std::chrono::milliseconds::rep> delay_ms_{0};  // set by the test thread, read by the pipeline's
};

}  // namespace eventscope
