// The ids the sink wrote unfinished (running, detecting, handling) and has not written final since, per table. A
// completion of such an id must be an upsert: a direct COPY would meet the stored row's primary key (23505).
// Bounded: past `capacity` an id is not remembered, and its completion's direct COPY meets 23505 and is redone
// through the upsert path (slower, the same rows). Belongs to the pipeline thread.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <unordered_set>

#include <eventscope/row_columns.hpp>
#include <eventscope/sinks/postgres/staged_rows.hpp>

namespace eventscope::pg {

class open_ids {
public:
    explicit open_ids(std::size_t capacity) : capacity_(capacity) {}

    bool contains(const staged_row& r) const {
        const auto& open = ids_[r.table];
        return !open.empty() && open.contains(r.id);
    }

    // After a commit: unfinished ids are remembered, final ones forgotten. False when an id was not remembered
    // because `capacity` ids already are.
    bool track(std::span<const staged_row> rows) {
        bool remembered_all = true;
        for (const auto& r : rows) {
            if (r.id.empty() || columns::table_names[r.table] == "job_logs") continue;  // log lines are never updated
            auto& open = ids_[r.table];
            if (r.is_final()) {
                if (!open.empty()) size_ -= open.erase(r.id);
            } else if (!open.contains(r.id)) {
                if (size_ < capacity_) {
                    open.insert(r.id);
                    ++size_;
                } else {
                    remembered_all = false;
                }
            }
        }
        return remembered_all;
    }

    std::size_t size() const { return size_; }

private:
    std::size_t capacity_;
    std::size_t size_ = 0;
    std::array<std::unordered_set<std::string>, columns::table_count> ids_;
};

}  // namespace eventscope::pg
