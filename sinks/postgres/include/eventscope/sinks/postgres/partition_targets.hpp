// Which partition a direct COPY names (sql: copy_partition(), migration 013). A COPY naming a partitioned table
// whose statement triggers have transition tables (the rollups) makes PostgreSQL insert its rows one at a time;
// a COPY naming the partition inserts them in batches, and the partition's own triggers (013) count them. The
// range of the last partition found is remembered per table, so a look-up is one query a week per table, not
// one per write. Rows outside every remembered range, ids that are not canonical UUIDs, and databases before 013
// name the table, as before.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <pqxx/pqxx>

#include <eventscope/row_columns.hpp>

namespace eventscope::pg {

// Lowercase 8-4-4-4-12 hex: the text form whose order is the order of uuid in PostgreSQL (byte by byte), so
// ranges can be compared as strings.
inline bool canonical_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

class partition_targets {
public:
    // `quoted_schema` as spliced into SQL; `available`: the database has copy_partition() (013 applied).
    void reset(std::string quoted_schema, bool available) {
        schema_ = std::move(quoted_schema);
        available_ = available;
        forget();
    }

    void forget() { ranges_ = {}; }

    // The target to COPY ids [lo, hi] of table `t` into: a remembered partition, else the one copy_partition()
    // names (remembered), else "" (name the table). A failed look-up throws, like any statement of `tx`.
    std::string target(pqxx::transaction_base& tx, std::size_t t, const std::string& lo, const std::string& hi) {
        if (!available_ || !canonical_uuid(lo) || !canonical_uuid(hi)) return {};
        auto& known = ranges_[t];
        if (known && known->lo <= lo && hi < known->hi) return known->target;
        auto r = tx.exec_params("SELECT partition, range_lo::text, range_hi::text FROM " + schema_ +
                                    ".copy_partition($1, $2::uuid, $3::uuid)",
                                std::string(columns::table_names[t]), lo, hi);
        if (r.empty()) return {};
        known = range{schema_ + "." + tx.quote_name(r[0][0].as<std::string>()), r[0][1].as<std::string>(), r[0][2].as<std::string>()};
        return known->target;
    }

private:
    struct range {
        std::string target;  // "schema"."partition"
        std::string lo, hi;  // ids in [lo, hi), canonical text
    };

    std::string schema_;
    bool available_ = false;
    std::array<std::optional<range>, columns::table_count> ranges_;
};

}  // namespace eventscope::pg
