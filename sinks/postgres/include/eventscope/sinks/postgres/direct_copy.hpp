// The COPY of a table's new, final rows straight into the table or into the partition that holds them all
// (partition_targets.hpp). A partition that leaves the counting to its writer (migration 014: the range partitions
// of job_executions) takes rows only in a transaction that declared it with begin_counted_inserts(); the sink then
// adds the rows' sums (job_rollup_deltas.hpp) with add_job_rollups() after the COPY, in the same transaction: after,
// not before, because the rollup row stays locked from that statement to the commit, and a helper connection's
// transaction would wait for it through the whole COPY. Rows the sink cannot sum (row JSON from the spool, another
// table) go through the table, whose trigger counts them.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include <pqxx/pqxx>

#include <eventscope/row_columns.hpp>
#include <eventscope/sinks/postgres/copy_rows.hpp>
#include <eventscope/sinks/postgres/job_rollup_deltas.hpp>
#include <eventscope/sinks/postgres/partition_targets.hpp>
#include <eventscope/sinks/postgres/session.hpp>
#include <eventscope/sinks/postgres/staged_rows.hpp>
#include <eventscope/sinks/postgres/statements.hpp>

namespace eventscope::pg {

struct direct_copy_result {
    bool into_partition = false;  // the COPY named the partition, not the table
    std::size_t binary_rows = 0;
};

// The rows of table `t` that `selected(i)` picks (all new and final), into `partition`'s name or, when it is empty,
// the table; in the open transaction `tx` on `c` with that connection's statements `sql`.
template <class Selected>
direct_copy_result direct_copy(pqxx::work& tx, connection& c, const statements& sql, std::size_t t,
                               std::span<const staged_row> rows, Selected selected, const partition_targets::target& partition,
                               bool binary_allowed) {
    const std::string* into = partition.name.empty() ? &sql.target[t] : &partition.name;
    std::optional<nlohmann::json> sums;
    if (partition.writer_counts && !partition.name.empty()) {
        if (columns::table_names[t] == "job_executions") sums = job_rollup_deltas(rows, selected);
        if (sums) tx.exec_params(sql.begin_counted_inserts, partition.name);
        else into = &sql.target[t];
    }
    direct_copy_result result{into != &sql.target[t], copy_rows(tx, c, *into, sql.columns[t], rows, selected, binary_allowed)};
    if (sums) tx.exec_params(sql.add_job_rollups, sums->dump());
    return result;
}

}  // namespace eventscope::pg
