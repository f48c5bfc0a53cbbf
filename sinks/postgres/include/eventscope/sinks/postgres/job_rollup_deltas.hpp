// The job_rollup sums of the job rows the sink COPYs into a partition that leaves the counting to its writer
// (migration 014: begin_counted_inserts() before the COPY, add_job_rollups() with these sums after it). Without a rollup trigger on the partition, PostgreSQL copies no row into a
// transition table and aggregates nothing; the sink already holds the rows and sends one sum per job name and
// hour instead. The values are read through the column table (row_columns.hpp), exactly as the COPY encodes them,
// and summed by the rules of the rollup trigger (sql/migrations/002_scale.up.sql rollup_sql(), job part): every
// row counts in `jobs`, `completed`/`failed` by status, and the durations (sum, extremes, histogram by
// duration_bucket()) of final rows. The rollup tests compare the result with check_rollups() on the raw rows.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include <eventscope/records.hpp>
#include <eventscope/row_columns.hpp>
#include <eventscope/row_json.hpp>
#include <eventscope/sinks/postgres/copy_text.hpp>
#include <eventscope/sinks/postgres/staged_rows.hpp>

namespace eventscope::pg {

// sql: duration_bucket(ms), the same float8 arithmetic (tests/postgres compares the two on every bucket edge).
inline int duration_bucket(std::int64_t ms) {
    if (ms <= 0) return 0;
    return 1 + static_cast<int>(std::ceil(4 * std::log(static_cast<double>(ms)) / std::log(2.0) - 1e-9));
}

namespace detail {

// A column_writer that keeps the value a getter writes, as the COPY writers would store it.
struct column_value {
    bool is_null = true;
    std::string str;
    std::int64_t number = 0;  // integer, or a timestamp in Unix microseconds (the COPY's truncation)

    void null() { is_null = true; }
    void text(std::string_view s) {
        is_null = false;
        with_storable_text(s, [&](std::string_view v) { str.assign(v); });
    }
    void uuid(const eventscope::uuid&) { is_null = false; }
    void timestamp(std::int64_t unix_ns) {
        is_null = false;
        number = columns::unix_micros(unix_ns);
    }
    void integer(std::int64_t n) {
        is_null = false;
        number = n;
    }
    void boolean(bool) { is_null = false; }
    void json(const nlohmann::json&) { is_null = false; }
};
static_assert(columns::column_writer<column_value>);

}  // namespace detail

// The argument of add_job_rollups() for the rows of `rows` that `selected(i)` picks (all of them job rows from
// records), or nullopt when one of them has no record (row JSON: the caller names the table, whose trigger counts).
template <class Selected>
std::optional<nlohmann::json> job_rollup_deltas(std::span<const staged_row> rows, Selected selected) {
    struct sums {
        std::int64_t jobs = 0, completed = 0, failed = 0, duration_count = 0, duration_sum = 0;
        std::optional<std::int64_t> duration_min, duration_max;
        std::map<int, std::int64_t> buckets;
    };
    std::map<std::pair<std::string, std::int64_t>, sums> groups;  // (job_name, hour in Unix microseconds)
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (!selected(i)) continue;
        const auto* job = rows[i].rec ? std::get_if<job_record>(rows[i].rec) : nullptr;
        if (!job) return std::nullopt;
        detail::column_value created_at, job_name, status, duration;
        columns::for_each_column<job_record>([&](const auto& c) {
            if (c.name == "created_at") c.get(*job, created_at);
            else if (c.name == "job_name") c.get(*job, job_name);
            else if (c.name == "status") c.get(*job, status);
            else if (c.name == "duration_ms") c.get(*job, duration);
        });
        constexpr std::int64_t hour_us = 3'600'000'000;
        auto hour = created_at.number / hour_us * hour_us;
        if (created_at.number % hour_us < 0) hour -= hour_us;  // date_trunc floors times before 1970 too
        auto& s = groups[{job_name.str, hour}];
        ++s.jobs;
        if (status.str == "completed") ++s.completed;
        if (status.str == "failed") ++s.failed;
        if (columns::status_rank(status.str) != columns::final_rank || duration.is_null) continue;
        ++s.duration_count;
        s.duration_sum += duration.number;
        s.duration_min = s.duration_min ? std::min(*s.duration_min, duration.number) : duration.number;
        s.duration_max = s.duration_max ? std::max(*s.duration_max, duration.number) : duration.number;
        ++s.buckets[duration_bucket(duration.number)];
    }
    auto deltas = nlohmann::json::array();
    for (const auto& [key, s] : groups) {
        auto bucket_list = nlohmann::json::array(), counts = nlohmann::json::array();
        for (const auto& [bucket, n] : s.buckets) {
            bucket_list.push_back(bucket);
            counts.push_back(n);
        }
        deltas.push_back({{"job_name", key.first},
                          {"hour_bucket", format_timestamp(key.second * 1000)},
                          {"jobs", s.jobs},
                          {"completed", s.completed},
                          {"failed", s.failed},
                          {"duration_count", s.duration_count},
                          {"duration_sum", s.duration_sum},
                          {"duration_min", s.duration_min ? nlohmann::json(*s.duration_min) : nlohmann::json()},
                          {"duration_max", s.duration_max ? nlohmann::json(*s.duration_max) : nlohmann::json()},
                          {"duration_buckets", bucket_list},
                          {"bucket_counts", counts}});
    }
    return deltas;
}

}  // namespace eventscope::pg
