// COPY binary format for the PostgreSQL sink, derived from the column tables (eventscope/row_columns.hpp) like
// COPY text: the same values, sanitized the same way, so both formats store identical rows (tests/postgres
// rows_test). Binary spares the server its text parsing (timestamps, uuids, integers) and the client its text
// formatting; jsonb still travels as JSON text (version byte 1). Only records are encoded this way: row JSON
// (spool replays, write_rows) keeps COPY text, whose parsing it needs anyway. No libpqxx here.
//
// Format: an 11-byte signature, flags and header-extension length (int32 0, 0); per row an int16 field count,
// then per field an int32 length (-1: NULL) and the bytes; an int16 -1 at the end. Integers are big-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <nlohmann/json.hpp>

#include <eventscope/records.hpp>
#include <eventscope/row_columns.hpp>
#include <eventscope/sinks/postgres/copy_text.hpp>

namespace eventscope::pg {

inline constexpr std::string_view copy_binary_signature{"PGCOPY\n\377\r\n\0", 11};

// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 00:00:00 UTC).
inline constexpr std::int64_t postgres_epoch_us = 946'684'800'000'000;

// Big-endian, appended in one piece (a byte at a time was 4 % of the client's CPU in the ingest benchmark).
template <class Int>
void put_be(std::string& out, Int v) {
    using U = std::make_unsigned_t<Int>;
    auto u = static_cast<U>(v);
    char bytes[sizeof(U)];
    for (std::size_t i = 0; i < sizeof(U); ++i) bytes[i] = static_cast<char>((u >> (8 * (sizeof(U) - 1 - i))) & 0xFF);
    out.append(bytes, sizeof(U));
}
inline void put_be16(std::string& out, std::int16_t v) { put_be(out, v); }
inline void put_be32(std::string& out, std::int32_t v) { put_be(out, v); }
inline void put_be64(std::string& out, std::int64_t v) { put_be(out, v); }

inline void append_copy_binary_header(std::string& out) {
    out.append(copy_binary_signature);
    put_be32(out, 0);  // flags: no OIDs
    put_be32(out, 0);  // no header extension
}
inline void append_copy_binary_trailer(std::string& out) { put_be16(out, -1); }

// The column writer for COPY binary: appends one field (length and bytes) to `out`.
struct copy_binary_writer {
    std::string& out;

    void null() { put_be32(out, -1); }
    void text(std::string_view s) {
        with_storable_text(s, [&](std::string_view v) { bytes(v); });
    }
    void uuid(const eventscope::uuid& u) {
        put_be32(out, 16);
        out.append(reinterpret_cast<const char*>(u.bytes.data()), u.bytes.size());
    }
    void timestamp(std::int64_t unix_ns) {
        put_be32(out, 8);
        put_be64(out, columns::unix_micros(unix_ns) - postgres_epoch_us);
    }
    // int4 columns (sql/migrations) take int32 values only, checked where a getter calls this: a record's
    // counters and durations are int32 (records.hpp), so every value fits and nothing needs a fallback.
    template <class Int>
    void integer(Int n) {
        static_assert(std::is_same_v<Int, std::int32_t>, "a sql_type::integer column's getter must pass an int32");
        put_be32(out, 4);
        put_be32(out, n);
    }
    void boolean(bool b) {
        put_be32(out, 1);
        out += b ? '\1' : '\0';
    }
    void json(const nlohmann::json& j) {
        if (j.is_null()) return null();
        jsonb(storable_json_text(j));
    }

private:
    void bytes(std::string_view s) {
        put_be32(out, static_cast<std::int32_t>(s.size()));
        out.append(s);
    }
    void jsonb(const std::string& text) {
        put_be32(out, static_cast<std::int32_t>(text.size() + 1));
        out += '\1';  // jsonb's binary format version
        out += text;
    }
};
static_assert(columns::column_writer<copy_binary_writer>);

// One row of a record: every column of its table, database-only ones included.
template <class Record>
void append_copy_binary_row(std::string& out, const Record& r) {
    static_assert(columns::column_count<Record>() <= static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max()));
    put_be16(out, static_cast<std::int16_t>(columns::column_count<Record>()));
    copy_binary_writer w{out};
    columns::for_each_column<Record>([&](const auto& c) { c.get(r, w); });
}

inline void append_copy_binary_row(std::string& out, const record& r) {
    std::visit([&](const auto& x) { append_copy_binary_row(out, x); }, r);
}

}  // namespace eventscope::pg
