// A row on its way to the database (from a record of the current batch, or row JSON from the spool or
// write_rows), and the coalescing of the rows of one id within a write.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include <eventscope/records.hpp>
#include <eventscope/row_columns.hpp>
#include <eventscope/row_json.hpp>
#include <eventscope/sinks/postgres/copy_text.hpp>

namespace eventscope::pg {

// The table index of a record: its alternative in `record` (row_columns.hpp checks that this is table_names' order).
inline std::size_t table_of(const record& r) { return r.index(); }

// The table index named by row JSON's "table", if any.
inline std::optional<std::size_t> table_of(const nlohmann::json& row) {
    auto it = row.find("table");
    if (it == row.end() || !it->is_string()) return std::nullopt;
    const auto& name = it->get_ref<const std::string&>();
    for (std::size_t i = 0; i < columns::table_count; ++i)
        if (columns::table_names[i] == name) return i;
    return std::nullopt;
}

inline int status_rank(const nlohmann::json& row) {
    auto it = row.find("status");
    if (it == row.end() || !it->is_string()) return columns::final_rank;
    return columns::status_rank(it->get_ref<const std::string&>());
}

// Either the record it comes from (`rec`; `row` stays null until a spool or dead-letter line needs it) or row
// JSON; how many records of the current batch it stands for (0 for spool replays, which the pipeline counted
// when they were spooled); its id ("" when the row has no string id) and status rank.
struct staged_row {
    std::size_t table = 0;
    nlohmann::json row;
    std::size_t records = 0;
    const record* rec = nullptr;
    std::string id;
    int rank = columns::final_rank;

    bool is_final() const { return rank == columns::final_rank; }
};

inline staged_row stage_record(const record& r) {
    staged_row s;
    s.table = table_of(r);
    s.records = 1;
    s.rec = &r;
    std::visit([&](const auto& x) { s.id = x.id.to_string(); }, r);
    s.rank = columns::status_rank(r);
    return s;
}

// Row JSON as the database must receive it: sanitized, and source_event_payload (NOT NULL) an empty object
// when absent.
inline void normalize_row_json(std::size_t table, nlohmann::json& row) {
    sanitize_json(row);
    if (columns::table_names[table] == "invocations") {
        auto it = row.find("source_event_payload");
        if (it == row.end() || it->is_null()) row["source_event_payload"] = nlohmann::json::object();
    }
}

inline staged_row stage_row_json(std::size_t table, nlohmann::json row, std::size_t records) {
    staged_row s;
    s.table = table;
    s.records = records;
    normalize_row_json(table, row);
    auto it = row.find("id");
    s.id = it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
    s.rank = status_rank(row);
    s.row = std::move(row);
    return s;
}

// The row JSON of a staged row (made from its record when it has none yet), with the database-only columns:
// what the spool and the dead-letter file keep.
inline const nlohmann::json& materialize(staged_row& r) {
    if (r.rec && r.row.is_null()) {
        r.row = to_row(*r.rec, /*with_db_only=*/true);
        normalize_row_json(r.table, r.row);
    }
    return r.row;
}

// One COPY line of a staged row, whichever form it holds.
inline void append_copy_line(std::string& out, const staged_row& r) {
    if (r.rec && r.row.is_null()) append_copy_line(out, *r.rec);
    else append_copy_line(out, r.row, r.table);
}

// Rows of the same (table, id): the position of the first, the content of the last, unless the last would move
// the row back (a lower status rank). Rows without a string id are kept as they are (the server rejects them and
// they are dead-lettered on their own).
inline std::vector<staged_row> coalesce(std::vector<staged_row> rows) {
    std::vector<staged_row> out;
    out.reserve(rows.size());
    std::array<std::unordered_map<std::string, std::size_t>, columns::table_count> seen;
    for (auto& r : rows) {
        if (r.id.empty()) {
            out.push_back(std::move(r));
            continue;
        }
        auto [pos, inserted] = seen[r.table].try_emplace(r.id, out.size());
        if (inserted) {
            out.push_back(std::move(r));
            continue;
        }
        auto& kept = out[pos->second];
        kept.records += r.records;
        if (r.rank >= kept.rank) {
            kept.row = std::move(r.row);
            kept.rec = r.rec;
            kept.rank = r.rank;
        }
    }
    return out;
}

}  // namespace eventscope::pg
