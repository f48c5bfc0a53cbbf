// Which partition a direct COPY names (sql: copy_partition(), migration 013; sink_copy_partition(), 014). A COPY
// naming a partitioned table whose statement triggers have transition tables (the rollups) makes PostgreSQL insert
// its rows one at a time; a COPY naming the partition inserts them in batches, and the partition's own triggers
// (013) count them, or, for the job partitions of 014 (`writer_counts`), the sink declares the COPY with
// begin_counted_inserts() and adds the rows' counts after it with add_job_rollups(). The range of the last partition
// found is remembered per table, so a look-up is one query a week per table, not one per write. Rows outside every
// partition, ids that are not UUIDs, and databases before 013 name the table, as before.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include <pqxx/pqxx>

#include <eventscope/row_columns.hpp>
#include <eventscope/sinks/postgres/staged_rows.hpp>
#include <eventscope/uuid.hpp>

namespace eventscope::pg {

// The smallest and largest id of the rows of table `t` that `selected(i)` picks, in PostgreSQL's uuid order (what
// partition_targets takes); nullopt when one of them has no UUID id (such rows go through the table).
template <class Selected>
std::optional<std::pair<uuid, uuid>> id_range(std::span<const staged_row> rows, std::size_t t, Selected selected) {
    std::optional<std::pair<uuid, uuid>> range;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows[i].table != t || !selected(i)) continue;
        auto id = uuid::parse(rows[i].id);
        if (!id) return std::nullopt;
        if (!range) range.emplace(*id, *id);
        range->first = std::min(range->first, *id);
        range->second = std::max(range->second, *id);
    }
    return range;
}

class partition_targets {
public:
    struct target {
        std::string name;            // "schema"."partition"
        bool writer_counts = false;  // the COPY needs begin_counted_inserts() and add_job_rollups() in its transaction
    };

    // `quoted_schema` as spliced into SQL; `function`: the look-up the database has, "sink_copy_partition" (014),
    // "copy_partition" (013) or "" (before 013).
    void reset(std::string quoted_schema, std::string function) {
        schema_ = std::move(quoted_schema);
        function_ = std::move(function);
        forget();
    }

    void forget() { ranges_ = {}; }

    // The remembered partition of table `t` that holds ids [lo, hi], if any: no query.
    const target* find(std::size_t t, const uuid& lo, const uuid& hi) const {
        const auto& known = ranges_[t];
        return known && known->lo <= lo && hi < known->hi ? &known->partition : nullptr;
    }

    // The partition the database names for ids [lo, hi] of table `t` (remembered), or an empty name (name the
    // table; also before 013). A failed look-up throws, like any statement of `tx`.
    target look_up(pqxx::transaction_base& tx, std::size_t t, const uuid& lo, const uuid& hi) {
        if (function_.empty()) return {};
        bool writer_counts_column = function_ == "sink_copy_partition";
        auto r = tx.exec_params("SELECT partition, range_lo::text, range_hi::text" +
                                    std::string(writer_counts_column ? ", writer_counts" : "") + " FROM " + schema_ + "." +
                                    function_ + "($1, $2::uuid, $3::uuid)",
                                std::string(columns::table_names[t]), lo.to_string(), hi.to_string());
        if (r.empty()) return {};
        auto range_lo = uuid::parse(r[0][1].c_str()), range_hi = uuid::parse(r[0][2].c_str());
        if (!range_lo || !range_hi) return {};
        ranges_[t] = range{{schema_ + "." + tx.quote_name(r[0][0].as<std::string>()), writer_counts_column && r[0][3].as<bool>()},
                           *range_lo,
                           *range_hi};
        return ranges_[t]->partition;
    }

private:
    struct range {
        target partition;
        uuid lo, hi;  // ids in [lo, hi), ordered as PostgreSQL orders uuid (byte by byte)
    };

    std::string schema_, function_;
    std::array<std::optional<range>, columns::table_count> ranges_;
};

}  // namespace eventscope::pg
