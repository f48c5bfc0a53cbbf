// One COPY of some of a write's rows into a table, a partition or a staging table, sent one PQputCopyData per MiB:
// binary when allowed and every one of the rows comes from a record (copy_binary.hpp), text otherwise (row JSON
// from spool replays and write_rows; text lines go through tablewriter::write_raw_line, as 6.4's stream_to would
// build a std::string per field).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include <eventscope/sinks/postgres/copy_binary.hpp>
#include <eventscope/sinks/postgres/session.hpp>
#include <eventscope/sinks/postgres/staged_rows.hpp>

namespace eventscope::pg {

// COPYs the rows `selected(i)` picks into `target` (`columns`: the table's column list) in the open transaction
// `tx` on `c`. Returns how many went in binary (0 when the COPY was text). Failures throw what libpqxx throws.
template <class Selected>
std::size_t copy_rows(pqxx::work& tx, connection& c, const std::string& target, const std::vector<std::string>& columns,
                      std::span<const staged_row> rows, Selected selected, bool binary_allowed) {
    std::string buffer;
    // Appends every selected row with `append`, handing the buffer to `send` at each MiB (the caller sends the rest).
    auto encode = [&](auto&& append, auto&& send) {
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (!selected(i)) continue;
            append(rows[i]);
            if (buffer.size() >= (1u << 20)) send();
        }
    };
    bool from_records = binary_allowed;
    std::size_t n = 0;
    for (std::size_t i = 0; i < rows.size() && from_records; ++i) {
        if (!selected(i)) continue;
        ++n;
        from_records = rows[i].rec && rows[i].row.is_null();
    }
    if (from_records) {
        binary_copy_in copy(c, target, columns);
        auto send = [&] {
            copy.write(buffer);
            buffer.clear();
        };
        append_copy_binary_header(buffer);
        encode([&](const staged_row& r) { append_copy_binary_row(buffer, *r.rec); }, send);
        append_copy_binary_trailer(buffer);
        send();
        copy.complete();
        return n;
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    pqxx::tablewriter writer(tx, target, columns.begin(), columns.end());
#pragma GCC diagnostic pop
    auto send = [&] {
        if (buffer.empty()) return;
        buffer.pop_back();  // write_raw_line adds the final newline
        writer.write_raw_line(buffer);
        buffer.clear();
    };
    encode([&](const staged_row& r) { append_copy_line(buffer, r); }, send);
    send();
    writer.complete();
    return 0;
}

}  // namespace eventscope::pg
