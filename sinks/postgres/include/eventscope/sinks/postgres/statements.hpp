// The SQL text of one connection, derived from the column tables: only the quoted schema name and the fixed
// table and column names are spliced in; values travel as COPY data or bound parameters.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <eventscope/row_columns.hpp>
#include <eventscope/sinks/postgres/copy_text.hpp>

namespace eventscope::pg {

// `(CASE <expr> WHEN 'running' THEN 0 ... ELSE 2 END)` from columns::status_ranks: the C++ ranks, once.
inline std::string status_rank_sql(const std::string& expr) {
    std::string s = "(CASE " + expr;
    for (const auto& e : columns::status_ranks)
        if (e.rank != columns::final_rank) s += " WHEN '" + std::string(e.status) + "' THEN " + std::to_string(e.rank);
    return s + " ELSE " + std::to_string(columns::final_rank) + " END)";
}

struct statements {
    std::array<std::string, columns::table_count> target;        // "schema".table: the direct COPY
    std::array<std::string, columns::table_count> stage;         // session-local staging table
    std::array<std::string, columns::table_count> create_stage;  // once per connection
    std::array<std::string, columns::table_count> upsert;        // staging -> table
    std::array<std::vector<std::string>, columns::table_count> columns;
    std::string create_partitions;
    std::string begin_counted_inserts;  // $1 a partition the COPY then names (migration 014)
    std::string add_job_rollups;        // $1 the sums of the job rows just COPYed (job_rollup_deltas.hpp)
};

// Upserts: a row replaces the stored one only if the stored one is not final and the new one is at least as far
// (a late `running` never reverts a completed row; a final row is never rewritten, so a replayed batch writes
// nothing and rollups count each final row once). created_at (the scope's start) is never updated. A column
// only the database uses, and source_job_id, is never overwritten by NULL. Log lines are immutable.
inline statements build_statements(const std::string& quoted_schema) {
    statements st;
    for (std::size_t t = 0; t < columns::table_count; ++t) {
        const std::string name(columns::table_names[t]);
        st.target[t] = quoted_schema + "." + name;
        st.stage[t] = "eventscope_stage_" + name;
        st.create_stage[t] = "CREATE TEMP TABLE IF NOT EXISTS " + st.stage[t] + " (LIKE " + st.target[t] +
                             " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS";
        st.columns[t] = column_names(t);
        std::string cols, set;
        bool has_status = false;
        columns::visit_table(t, [&]<class Record>(std::type_identity<Record>) {
            columns::for_each_column<Record>([&](const auto& c) {
                std::string n(c.name);
                if (!cols.empty()) cols += ", ";
                cols += n;
                if (n == "status") has_status = true;
                if (n == "id" || n == "created_at") return;
                if (!set.empty()) set += ", ";
                if (!c.in_row_json || n == "source_job_id") set += n + " = COALESCE(EXCLUDED." + n + ", t." + n + ")";
                else set += n + " = EXCLUDED." + n;
            });
        });
        std::string sql = "INSERT INTO " + st.target[t] + " AS t (" + cols + ") SELECT " + cols + " FROM " + st.stage[t] +
                          " ON CONFLICT (id) DO ";
        if (!has_status) {
            sql += "NOTHING";
        } else {
            sql += "UPDATE SET " + set + " WHERE " + status_rank_sql("EXCLUDED.status") + " >= " + status_rank_sql("t.status") +
                   " AND " + status_rank_sql("t.status") + " < " + std::to_string(columns::final_rank);
        }
        st.upsert[t] = std::move(sql);
    }
    st.create_partitions = "SELECT " + quoted_schema + ".create_partitions()";
    st.begin_counted_inserts = "SELECT " + quoted_schema + ".begin_counted_inserts($1::regclass)";
    st.add_job_rollups = "SELECT " + quoted_schema + ".add_job_rollups($1::jsonb)";
    return st;
}

}  // namespace eventscope::pg
