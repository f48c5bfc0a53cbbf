// Which partition a direct COPY names (sql: copy_partition(), migration 013). A COPY naming a partitioned table
// whose statement triggers have transition tables (the rollups) makes PostgreSQL insert its rows one at a time;
// a COPY naming the partition inserts them in batches, and the partition's own triggers (013) count them. The
// range of the last partition found is remembered per table, so a look-up is one query a week per table, not
// one per write. Rows outside every partition, ids that are not UUIDs, and databases before 013 name the table,
// as before.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include <eventscope/row_columns.hpp>
#include <eventscope/uuid.hpp>

namespace eventscope::pg {

class partition_targets {
public:
    // `quoted_schema` as spliced into SQL; `available`: the database has copy_partition() (013 applied).
    void reset(std::string quoted_schema, bool available) {
        schema_ = std::move(quoted_schema);
        available_ = available;
        forget();
    }

    void forget() { ranges_ = {}; }

    // The remembered partition of table `t` that holds ids [lo, hi], if any: no query.
    const std::string* find(std::size_t t, const uuid& lo, const uuid& hi) const {
        const auto& known = ranges_[t];
        return known && known->lo <= lo && hi < known->hi ? &known->target : nullptr;
    }

    // The partition copy_partition() names for ids [lo, hi] of table `t` (remembered), or "" (name the table; also
    // before 013). A failed look-up throws, like any statement of `tx`.
    std::string look_up(pqxx::transaction_base& tx, std::size_t t, const uuid& lo, const uuid& hi) {
        if (!available_) return {};
        auto r = tx.exec_params("SELECT partition, range_lo::text, range_hi::text FROM " + schema_ +
                                    ".copy_partition($1, $2::uuid, $3::uuid)",
                                std::string(columns::table_names[t]), lo.to_string(), hi.to_string());
        if (r.empty()) return {};
        auto range_lo = uuid::parse(r[0][1].c_str()), range_hi = uuid::parse(r[0][2].c_str());
        if (!range_lo || !range_hi) return {};
        ranges_[t] = range{schema_ + "." + tx.quote_name(r[0][0].as<std::string>()), *range_lo, *range_hi};
        return ranges_[t]->target;
    }

private:
    struct range {
        std::string target;  // "schema"."partition"
        uuid lo, hi;         // ids in [lo, hi), ordered as PostgreSQL orders uuid (byte by byte)
    };

    std::string schema_;
    bool available_ = false;
    std::array<std::optional<range>, columns::table_count> ranges_;
};

}  // namespace eventscope::pg
