// PostgreSQL sink (libpqxx 6.4): writes each batch in one transaction, parents first; new final rows are COPYed
// straight into their tables, everything else through TEMP staging tables and an upsert. sinks/postgres/README.md
// describes the write path, failures, the spool and the options; the pieces live in eventscope/sinks/postgres/:
//   copy_text.hpp     COPY text from records and from row JSON (derived from eventscope/row_columns.hpp)
//   copy_binary.hpp   COPY binary from records (the live path);  session.hpp  the connection, the binary COPY
//   copy_rows.hpp     one COPY of a write's rows, binary or text;  staged_rows.hpp  rows on their way, coalescing
//   direct_copy.hpp   new final rows into their table or partition;  partition_targets.hpp  which partition
//   job_rollup_deltas.hpp  the rollup sums of the job rows the sink counts itself (migration 014)
//   open_ids.hpp      ids written unfinished (their completion is an upsert)
//   statements.hpp    the SQL of a connection (upserts and their status-rank guard)
//   failures.hpp      failure classification;  conninfo.hpp  the connection string
//   spool.hpp         the outage spool;  dead_letters.hpp  rejected rows;  failure_log.hpp  throttled log lines
//
//   using opts = eventscope::options<eventscope::postgres_sink>;
//   eventscope::observer<opts> obs(cfg, {}, cfg, eventscope::postgres_sink_options{.spool_directory = "/var/spool/es"});
//
// Rollups (sql/migrations/002_scale.up.sql) are kept in the same transaction as the rows: by the database's
// statement triggers, and for the job rows the sink COPYs into a partition by the sink itself (direct_copy.hpp).
// The sink's other part in their exactness is that it never rewrites a final row (statements.hpp).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <eventscope/config.hpp>
#include <eventscope/records.hpp>
#include <eventscope/row_json.hpp>
#include <eventscope/sink.hpp>
#include <eventscope/sinks/postgres/conninfo.hpp>
#include <eventscope/sinks/postgres/copy_binary.hpp>
#include <eventscope/sinks/postgres/copy_text.hpp>
#include <eventscope/sinks/postgres/direct_copy.hpp>
#include <eventscope/sinks/postgres/dead_letters.hpp>
#include <eventscope/sinks/postgres/failure_log.hpp>
#include <eventscope/sinks/postgres/failures.hpp>
#include <eventscope/sinks/postgres/open_ids.hpp>
#include <eventscope/sinks/postgres/partition_targets.hpp>
#include <eventscope/sinks/postgres/session.hpp>
#include <eventscope/sinks/postgres/spool.hpp>
#include <eventscope/sinks/postgres/staged_rows.hpp>
#include <eventscope/sinks/postgres/statements.hpp>

namespace eventscope {

struct postgres_sink_options {
    std::string spool_directory;                       // empty: no spool (an unwritable batch fails the write)
    std::uintmax_t spool_max_bytes = 256u << 20;       // all spool files together
    std::uintmax_t spool_file_bytes = 16u << 20;       // a spool file is rotated past this size
    // fsync of spool appends (spool.hpp): per_batch = before the write reports success; interval = at most once per
    // spool_sync_interval; none = flushed to the kernel only (survives the process, not the machine).
    pg::spool_sync spool_sync = pg::spool_sync::interval;
    std::chrono::milliseconds spool_sync_interval{1000};
    std::string dead_letter_path;                      // JSON lines; empty: rejected rows are only counted/logged
    std::chrono::milliseconds statement_timeout{30000};
    std::chrono::seconds connect_timeout{5};
    std::size_t max_rows_per_transaction = 5000;       // spool replay chunks and very large batches
    std::size_t max_pending_source_links = 10000;      // unused since schema 002 (source_job_id is written as is)
    std::size_t max_tracked_open_ids = 100000;         // ids written as running/detecting/handling, not yet final
    bool direct_copy = true;                           // new final rows: COPY straight into the table
    // COPY rows made from records in binary format (copy_binary.hpp): less parsing for the server, less
    // formatting here. Row JSON (spool replays, write_rows) is always COPY text. False: text for everything.
    bool binary_copy = true;
    // A chunk whose largest table has at least this many new, final rows COPYs half of them on a second
    // connection (opened on first use) at the same time: the server's side (COPY, indexes, rollup triggers) is
    // most of a write's time and one backend uses one core. Zero: one connection. See write_chunk().
    std::size_t parallel_min_rows = 2000;
    // A direct COPY names the partition its rows go to when one holds them all (partition_targets.hpp, migration
    // 013): PostgreSQL then inserts them in batches instead of one at a time. False: always the table.
    bool copy_into_partitions = true;
    // How often the sink runs create_partitions() (also at every connect); zero: never (schedule it yourself).
    std::chrono::seconds partition_maintenance_interval{3600};
    std::string application_name = "eventscope";
    std::function<void(const std::string&)> log;       // default: one line on stderr
};

// Counters, readable from any thread.
struct postgres_sink_stats {
    std::uint64_t rows_written = 0;    // rows upserted or copied (after coalescing)
    std::uint64_t rows_rejected = 0;   // dead-lettered rows
    std::uint64_t rows_spooled = 0;    // rows appended to the spool
    std::uint64_t rows_replayed = 0;   // spooled rows written to the database
    std::uint64_t transactions = 0;    // committed transactions
    std::uint64_t rows_copied_direct = 0;  // of rows_written: COPYed straight into their table (new, final)
    std::uint64_t rows_copied_binary = 0;  // rows sent in COPY binary (direct or staged; counted per attempt)
    std::uint64_t rows_copied_into_partitions = 0;  // of rows_copied_direct: by a COPY naming their partition
    std::uint64_t partition_retries = 0;   // transactions redone naming the table after a partition COPY failed
    std::uint64_t direct_retries = 0;      // transactions redone through the upsert path after a 23505
    std::uint64_t transient_retries = 0;   // transactions redone after a deadlock / serialization failure
    std::uint64_t parallel_halves = 0;     // halves committed on the second connection (parallel_min_rows)
    std::uint64_t parallel_redone = 0;     // halves the second connection failed, redone on the first
    std::uint64_t connects = 0;        // successful connections
    std::uint64_t spool_bytes = 0;     // bytes in the spool now
    std::uint64_t pending_source_links = 0;  // always 0 since schema 002
    std::uint64_t partitions_created = 0;    // by the sink's create_partitions() calls
};

class postgres_sink {
public:
    explicit postgres_sink(const config& cfg, postgres_sink_options options = {})
        : db_(cfg.database),
          schema_(cfg.schema),
          options_(std::move(options)),
          log_(options_.log),
          spool_(options_.spool_directory, options_.spool_max_bytes, options_.spool_file_bytes, options_.spool_sync,
                 options_.spool_sync_interval),
          dead_letters_(options_.dead_letter_path),
          open_ids_(options_.max_tracked_open_ids) {
        if (options_.max_rows_per_transaction == 0) options_.max_rows_per_transaction = 1;
        spool_bytes_ = spool_.bytes();
        if (auto problem = spool_.problem(); !problem.empty()) {
            set_spool_problem(problem);
            log_.line("postgres_sink: WARNING: " + problem + "; during an outage, batches that cannot be spooled are retried and then dropped");
        }
        if (!spool_.empty())
            log_.line("postgres_sink: " + std::to_string(spool_.files()) + " spool files from an earlier run in " +
                      spool_.directory() + " will be replayed at the first write");
    }

    postgres_sink(const postgres_sink&) = delete;
    postgres_sink& operator=(const postgres_sink&) = delete;

    // The sink contract: called from the pipeline thread only. Records are only read.
    write_result write(std::span<record> batch) {
        std::vector<pg::staged_row> rows;
        rows.reserve(batch.size());
        for (const auto& r : batch) rows.push_back(pg::stage_record(r));
        return write_staged(std::move(rows));
    }

    // Rows as row_json.hpp makes them (keys = column names, plus "table"), for anyone holding rows instead of
    // records. Each row counts as one record in the result. Not concurrent with write().
    write_result write_rows(std::vector<nlohmann::json> rows) {
        std::vector<pg::staged_row> staged;
        staged.reserve(rows.size());
        std::size_t unknown = 0;
        for (auto& row : rows) {
            auto table = pg::table_of(row);
            if (!table) {
                dead_letters_.write(row, "", "row has no known \"table\"", log_);
                ++rows_rejected_;
                ++unknown;
                continue;
            }
            staged.push_back(pg::stage_row_json(*table, std::move(row), 1));
        }
        auto result = write_staged(std::move(staged));
        if (result.ok && unknown) {
            result.rejected += unknown;
            if (result.error.empty()) result.error = "postgres_sink: rows without a known table were dead-lettered";
        }
        return result;
    }

    postgres_sink_stats stats() const {
        postgres_sink_stats s;
        s.rows_written = rows_written_.load();
        s.rows_rejected = rows_rejected_.load();
        s.rows_spooled = rows_spooled_.load();
        s.rows_replayed = rows_replayed_.load();
        s.transactions = transactions_.load();
        s.rows_copied_direct = rows_direct_.load();
        s.rows_copied_binary = rows_binary_.load();
        s.rows_copied_into_partitions = rows_into_partitions_.load();
        s.partition_retries = partition_retries_.load();
        s.direct_retries = direct_retries_.load();
        s.transient_retries = transient_retries_.load();
        s.parallel_halves = parallel_halves_.load();
        s.parallel_redone = parallel_redone_.load();
        s.connects = connects_.load();
        s.spool_bytes = spool_bytes_.load();
        s.partitions_created = partitions_created_.load();
        return s;
    }

    // Called by the observer's shutdown() when its deadline passes during a write (any thread): a statement
    // waiting on a server that stopped answering (or on a lock) would otherwise hold the caller until
    // statement_timeout, or forever if the server host froze. Shutting the socket down makes the blocked libpq
    // call fail at once; the batch then fails (or is spooled) like any lost connection, and no reconnect follows.
    void interrupt() {
        interrupted_.store(true);
        std::lock_guard lock(socket_mutex_);
        if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
        if (helper_socket_ >= 0) ::shutdown(helper_socket_, SHUT_RDWR);
    }

    // Pipeline thread, at a flush tick with nothing to write: the spool of an outage (or of an earlier run) is
    // replayed without waiting for the next record, so an idle service catches up and its health recovers.
    // After a failed try the next waits longer (up to 10 s): an unreachable server costs a connect timeout.
    void idle() {
        if (!spool_.enabled() || spool_.empty()) return;
        auto now = std::chrono::steady_clock::now();
        if (now < next_idle_replay_) return;
        auto replayed = replay_spool();
        if (replayed.failure.ok()) {
            idle_backoff_ = {};
            if (replayed.rejected_rows)
                log_.line("postgres_sink: " + std::to_string(replayed.rejected_rows) + " spooled rows dead-lettered: " + replayed.first_rejection);
            return;
        }
        log_.failed(replayed.failure);
        idle_backoff_ = std::min<std::chrono::milliseconds>(std::max<std::chrono::milliseconds>(idle_backoff_ * 2, std::chrono::milliseconds(500)),
                                                            std::chrono::seconds(10));
        next_idle_replay_ = std::chrono::steady_clock::now() + idle_backoff_;
    }

    // Named counters beyond stats() (merged into the observer's stats().sinks[i].own).
    std::vector<std::pair<std::string, std::uint64_t>> counters() const {
        return {{"spool_errors", spool_errors_.load()},
                {"spool_syncs", spool_syncs_.load()},
                {"rows_copied_into_partitions", rows_into_partitions_.load()},
                {"partition_retries", partition_retries_.load()}};
    }

    // Why the spool cannot take rows now ("" when it can, or when there is no spool): set by a failed append or
    // the start-up check, cleared by the next successful append. Any thread.
    std::string spool_problem() const {
        std::lock_guard lock(spool_problem_mutex_);
        return spool_problem_;
    }
    bool spool_enabled() const { return spool_.enabled(); }

    // The libpq connection string the sink uses (with the password, if any: do not log it).
    std::string connection_info() const { return pg::build_conninfo(db_, options_.connect_timeout, options_.application_name); }

private:
    using staged_row = pg::staged_row;
    using attempt = pg::attempt;
    using failure_kind = pg::failure_kind;

    struct outcome {
        attempt failure;             // kind none: everything written or dead-lettered
        std::size_t rejected_records = 0;
        std::size_t rejected_rows = 0;
        std::string first_rejection;
    };

    // ---- the write path ----------------------------------------------------------------------------------

    // With a spool: the spool is replayed first; while rows remain in it, new rows go behind them (parents stay
    // ahead of their children).
    write_result write_staged(std::vector<staged_row> rows) {
        if (!spool_.enabled()) return finish(write_live(std::move(rows), false, true).first);
        std::string replay_note;
        if (!spool_.empty()) {
            auto replayed = replay_spool();
            if (!replayed.failure.ok() || !spool_.empty()) return spool_or_fail(rows, replayed.failure);
            if (replayed.rejected_rows)
                replay_note = "postgres_sink: " + std::to_string(replayed.rejected_rows) +
                              " spooled rows dead-lettered: " + replayed.first_rejection;
        }
        auto live = write_live(std::move(rows), true, true);
        if (!live.first.failure.ok()) return spool_or_fail(live.second, live.first.failure);
        auto result = finish(live.first);
        if (result.error.empty()) result.error = std::move(replay_note);
        return result;
    }

    // Writes `rows` (coalesced, in chunks of max_rows_per_transaction). On failure returns, when `keep_rest`,
    // the rows not known to be written (the failed chunk on). `direct`: new final rows may be COPYed straight
    // into their table (false for spool replays, which may repeat rows already written).
    std::pair<outcome, std::vector<staged_row>> write_live(std::vector<staged_row> rows, bool keep_rest, bool direct) {
        outcome out;
        auto coalesced = pg::coalesce(std::move(rows));
        std::size_t chunk = options_.max_rows_per_transaction;
        for (std::size_t from = 0; from < coalesced.size(); from += chunk) {
            auto n = std::min(chunk, coalesced.size() - from);
            auto failed_from = write_chunk(std::span<staged_row>(coalesced.data() + from, n), out, direct);
            if (!out.failure.ok()) {
                std::vector<staged_row> rest;
                if (keep_rest) rest.assign(std::make_move_iterator(coalesced.begin() + static_cast<std::ptrdiff_t>(from + failed_from)),
                                           std::make_move_iterator(coalesced.end()));
                return {std::move(out), std::move(rest)};
            }
        }
        return {std::move(out), {}};
    }

    // One transaction's worth of rows. When the chunk's largest table has at least parallel_min_rows rows that are
    // new and final (direct COPY), the second half of those goes to the helper connection as one COPY in its own
    // transaction, at the same time as the rest here; that table's other rows (upserts) follow in a third
    // transaction. So each of the two concurrent transactions runs one statement on that table, whose trigger
    // locks that table's rollup rows in key order after the COPY: they overlap their COPYs and wait for each
    // other only for a rollup row, never in a cycle (two statements on the table in one transaction could
    // deadlock with the helper's; a share of the parents would make the helper wait for this commit at its first
    // statement). One attempt: if the helper fails for any reason, its rows are redone here by write_range
    // (retries, bisection, dead letters, the failure reported), so it needs no failure handling of its own.
    // Returns the offset in `rows` from which rows are not known to be written when out.failure is set.
    std::size_t write_chunk(std::span<staged_row> rows, outcome& out, bool direct) {
        auto sequential = [&] {
            write_range(rows, out, direct);
            return std::size_t{0};
        };
        if (options_.parallel_min_rows == 0 || rows.size() < options_.parallel_min_rows || !direct || !options_.direct_copy)
            return sequential();
        // Decided here: open_ids_ belongs to this thread (track_open_ids runs below and in try_transaction).
        std::vector<char> eligible(rows.size(), 0);
        std::array<std::size_t, columns::table_count> per_table{};
        for (std::size_t i = 0; i < rows.size(); ++i)
            if ((eligible[i] = direct_eligible(rows[i]))) ++per_table[rows[i].table];
        auto big = static_cast<std::size_t>(std::max_element(per_table.begin(), per_table.end()) - per_table.begin());
        if (per_table[big] < options_.parallel_min_rows || !ensure_connected().ok()) return sequential();
        // [rest, first half of big's direct rows | second half (helper) | big's other rows], each part in order.
        std::vector<staged_row> main_part, helper_part, upserts;
        std::size_t seen = 0, keep = per_table[big] - per_table[big] / 2;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (rows[i].table != big) main_part.push_back(std::move(rows[i]));
            else if (!eligible[i]) upserts.push_back(std::move(rows[i]));
            else (seen++ < keep ? main_part : helper_part).push_back(std::move(rows[i]));
        }
        auto mid = main_part.size(), end = mid + helper_part.size();
        auto it = std::move(main_part.begin(), main_part.end(), rows.begin());
        it = std::move(helper_part.begin(), helper_part.end(), it);
        std::move(upserts.begin(), upserts.end(), it);
        auto second = rows.subspan(mid, end - mid);
        auto helper_target = partition_target(second, big, [](std::size_t) { return true; });
        auto helper = std::async(std::launch::async, [this, second, big, helper_target] { return helper_copy(second, big, helper_target); });
        write_range(rows.subspan(0, mid), out, direct);
        bool helper_ok = helper.get();
        if (helper_ok) {
            ++parallel_halves_;
            track_open_ids(second);
        }
        if (!out.failure.ok()) return 0;
        if (!helper_ok) {
            ++parallel_redone_;
            write_range(second, out, direct);
            if (!out.failure.ok()) return mid;
        }
        write_range(rows.subspan(end), out, direct);
        return end;
    }

    write_result finish(const outcome& out) {
        if (!out.failure.ok()) {
            log_.failed(out.failure);
            return write_result::failure(out.failure.message);
        }
        log_.succeeded();
        if (out.rejected_rows == 0) return write_result::success();
        return write_result::success(out.rejected_records,
                                     "postgres_sink: " + std::to_string(out.rejected_rows) + " rows rejected by the server (" +
                                         (dead_letters_.path().empty() ? std::string("no dead_letter_path configured")
                                                                       : "dead-lettered to " + dead_letters_.path()) +
                                         "): " + out.first_rejection);
    }

    // One transaction for the range. A direct COPY meeting a unique violation (23505: a row this sink did not
    // know was stored, e.g. a retry after a commit whose outcome was lost) redoes the range through the upsert
    // path: a duplicate is never dead-lettered. A deadlock (concurrent writers' rollup rows) is redone as is.
    // On a content error, bisect until the offending rows are alone.
    void write_range(std::span<staged_row> rows, outcome& out, bool direct) {
        if (rows.empty()) return;
        bool used_direct = false, used_partition = false, partitions = options_.copy_into_partitions;
        attempt a = try_transaction(rows, direct, partitions, used_direct, used_partition);
        for (int retry = 0; !a.ok() && retry < 5; ++retry) {
            if (used_direct && a.kind == failure_kind::content && a.sqlstate == "23505") {
                ++direct_retries_;
                direct = false;
            } else if (used_partition && (a.sqlstate == "42P01" || a.sqlstate == "23514" || a.sqlstate == "55000" ||
                                          a.sqlstate == "42883")) {
                // The partition is gone (dropped by hand), holds other ids than remembered, or counts its rows
                // otherwise than remembered (55000, 42883: a migration under the running sink): name the table.
                ++partition_retries_;
                partition_targets_.forget();
                partitions = false;
            } else if (a.kind == failure_kind::transient) {
                ++transient_retries_;
            } else {
                break;
            }
            a = try_transaction(rows, direct, partitions, used_direct, used_partition);
        }
        if (a.ok()) return;
        if (a.kind != failure_kind::content) {
            out.failure = std::move(a);
            return;
        }
        if (rows.size() == 1) {
            dead_letters_.write(pg::materialize(rows[0]), a.sqlstate, a.message, log_);
            ++rows_rejected_;
            out.rejected_records += rows[0].records;
            ++out.rejected_rows;
            if (out.first_rejection.empty()) out.first_rejection = a.sqlstate + " " + a.message;
            return;
        }
        auto mid = rows.size() / 2;
        write_range(rows.subspan(0, mid), out, direct);
        if (!out.failure.ok()) return;
        write_range(rows.subspan(mid), out, direct);
    }

    // Whether `r` may be COPYed straight into its table: final, with an id this sink has not written as
    // running/detecting/handling (open_ids_: their completion must be an upsert).
    bool direct_eligible(const staged_row& r) const { return r.is_final() && !r.id.empty() && !open_ids_.contains(r); }

    attempt try_transaction(std::span<staged_row> rows, bool allow_direct, bool allow_partitions, bool& used_direct,
                            bool& used_partition) {
        used_direct = used_partition = false;
        if (auto a = ensure_connected(); !a.ok()) return a;
        maintain_partitions(false);
        allow_direct = allow_direct && options_.direct_copy;
        std::vector<char> direct(rows.size(), 0);  // per row: 1 = COPY into the table, 0 = staging + upsert
        std::array<std::size_t, columns::table_count> staged{}, copied{};
        for (std::size_t i = 0; i < rows.size(); ++i) {
            direct[i] = allow_direct && direct_eligible(rows[i]);
            ++(direct[i] ? copied[rows[i].table] : staged[rows[i].table]);
        }
        std::array<pg::partition_targets::target, columns::table_count> partition{};  // an empty name: the table
        for (std::size_t t = 0; t < columns::table_count && allow_partitions; ++t)
            if (copied[t]) partition[t] = partition_target(rows, t, [&](std::size_t i) { return direct[i] != 0; });
        std::size_t n_direct = 0, n_partition = 0;
        try {
            pqxx::work tx(*conn_);
            // Parents first: each table's rows (direct and staged) are in before the next table's.
            for (std::size_t t = 0; t < columns::table_count; ++t) {
                if (copied[t]) {
                    used_direct = true;
                    // Set first: its first statement can be the one refused (55000) by a partition that changed.
                    used_partition = used_partition || !partition[t].name.empty();
                    auto copy = pg::direct_copy(tx, *conn_, sql_, t, rows, [&](std::size_t i) { return rows[i].table == t && direct[i]; },
                                                partition[t], options_.binary_copy);
                    rows_binary_ += copy.binary_rows;
                    n_direct += copied[t];
                    if (copy.into_partition) n_partition += copied[t];
                }
                if (staged[t]) {
                    rows_binary_ += pg::copy_rows(tx, *conn_, sql_.stage[t], sql_.columns[t], rows,
                                                  [&](std::size_t i) { return rows[i].table == t && !direct[i]; }, options_.binary_copy);
                    tx.exec(sql_.upsert[t]);
                }
            }
            tx.commit();
        } catch (...) {
            return classify_current();
        }
        ++transactions_;
        rows_written_ += rows.size();
        rows_direct_ += n_direct;
        rows_into_partitions_ += n_partition;
        track_open_ids(rows);
        return {};
    }

    // The partition the rows of table `t` that `selected(i)` picks go to; "" names the table, also when the
    // look-up fails (the write that follows meets a broken connection itself). A remembered partition costs no
    // query. Otherwise it is looked up on the first connection (partition_targets belongs to this thread; the
    // helper gets the answer) in a statement of its own, never inside a write's transaction: copy_partition()
    // reads every partition's bounds, and pg_get_expr() takes a share lock on each. Held until the write's COPY
    // then locked the table, they would be taken in the order opposite to a DROP of a partition (the table
    // first), and could deadlock with retention.
    template <class Selected>
    pg::partition_targets::target partition_target(std::span<const staged_row> rows, std::size_t t, Selected selected) {
        if (!options_.copy_into_partitions || !conn_) return {};
        auto ids = pg::id_range(rows, t, selected);
        if (!ids) return {};
        if (const auto* known = partition_targets_.find(t, ids->first, ids->second)) return *known;
        try {
            pqxx::nontransaction n(*conn_);
            return partition_targets_.look_up(n, t, ids->first, ids->second);
        } catch (...) {
            return {};
        }
    }

    // After a commit (open_ids.hpp).
    void track_open_ids(std::span<const staged_row> rows) {
        if (!open_ids_.track(rows))
            log_.once("open-ids", "postgres_sink: more than " + std::to_string(options_.max_tracked_open_ids) +
                                      " rows are running at once; completions beyond that are written through the slower upsert retry");
    }

    // ---- the helper connection (parallel halves; runs on a std::async thread, one at a time) ---------------

    // One attempt: `rows` (all of table `t`, new and final) COPYed into their table in one transaction on the
    // helper connection. Touches only helper_* members and atomic counters. Any failure but an SQL error (a
    // content error or a conflict: the session is fine) drops the connection.
    bool helper_copy(std::span<staged_row> rows, std::size_t t, const pg::partition_targets::target& partition) {
        if (interrupted_.load()) return false;
        try {
            if (!helper_conn_ || !helper_conn_->is_open()) {
                auto c = open_session();
                helper_sql_ = pg::build_statements(c->quote_name(schema_));
                std::lock_guard lock(socket_mutex_);
                helper_conn_ = std::move(c);
                helper_socket_ = helper_conn_->sock();
            }
            pqxx::work tx(*helper_conn_);
            auto copy = pg::direct_copy(tx, *helper_conn_, helper_sql_, t, rows, [](std::size_t) { return true; }, partition,
                                        options_.binary_copy);
            rows_binary_ += copy.binary_rows;  // per attempt, as on the first connection
            tx.commit();
            ++transactions_;
            rows_written_ += rows.size();
            rows_direct_ += rows.size();
            if (copy.into_partition) rows_into_partitions_ += rows.size();
            return true;
        } catch (const pqxx::sql_error&) {
        } catch (...) {
            std::lock_guard lock(socket_mutex_);
            helper_socket_ = -1;
            helper_conn_.reset();
        }
        return false;
    }

    // ---- connection, partitions ----------------------------------------------------------------------------

    // A new connection with the sink's session settings (both connections: ensure_connected, helper_copy).
    std::unique_ptr<pg::connection> open_session() {
        auto c = std::make_unique<pg::connection>(connection_info());
        {
            pqxx::nontransaction n(*c);
            n.exec("SET statement_timeout = " + std::to_string(options_.statement_timeout.count()));
        }
        return c;
    }

    attempt ensure_connected() {
        if (interrupted_.load())
            return {failure_kind::connection, "57014", "postgres_sink: interrupted at the shutdown deadline"};
        if (conn_ && conn_->is_open() && conn_->backendpid() == backend_pid_) return {};
        drop_connection();
        try {
            auto c = open_session();  // never reactivated: the TEMP staging tables live and die with the session
            sql_ = pg::build_statements(c->quote_name(schema_));
            {
                pqxx::work tx(*c);
                for (const auto& stmt : sql_.create_stage) tx.exec(stmt);
                auto quoted = c->quote_name(schema_);
                auto has = tx.exec_params("SELECT to_regprocedure($1) IS NOT NULL, to_regprocedure($2) IS NOT NULL",
                                          quoted + ".sink_copy_partition(text,uuid,uuid)", quoted + ".copy_partition(text,uuid,uuid)");
                partition_targets_.reset(quoted, has[0][0].as<bool>() ? "sink_copy_partition" : has[0][1].as<bool>() ? "copy_partition" : "");
                tx.commit();
            }
            backend_pid_ = c->backendpid();
            std::lock_guard lock(socket_mutex_);
            conn_ = std::move(c);
            socket_ = conn_->sock();
            ++connects_;
        } catch (const pqxx::broken_connection& e) {
            return pg::connect_failure(e.what(), schema_);
        } catch (...) {
            return classify_current();
        }
        maintain_partitions(true);
        return {};
    }

    // Partitions for the days ahead (sql: create_partitions()), at connect and then every interval. Its failure
    // never fails a write: rows without a partition wait in the default partition (partition_health() shows
    // them, create_partitions() moves them).
    void maintain_partitions(bool now) {
        if (options_.partition_maintenance_interval.count() <= 0 || !conn_) return;
        auto t = std::chrono::steady_clock::now();
        if (!now && t < next_partition_check_) return;
        next_partition_check_ = t + options_.partition_maintenance_interval;
        try {
            pqxx::work tx(*conn_);
            auto r = tx.exec(sql_.create_partitions);
            tx.commit();
            if (!r.empty() && !r[0][0].is_null()) partitions_created_ += r[0][0].as<std::uint64_t>();
        } catch (const pqxx::broken_connection&) {
            drop_connection();
        } catch (const pqxx::sql_error& e) {
            log_.once("partitions-" + std::string(e.sqlstate()),
                      "postgres_sink: create_partitions() failed (" + e.sqlstate() + ": " + pg::trim_right(e.what()) +
                          "); rows of days without a partition go to the default partition until it is run by the schema owner "
                          "(sql/README.md \"Partitions\")");
        } catch (const std::exception& e) {
            log_.once("partitions", std::string("postgres_sink: create_partitions() failed: ") + e.what());
        }
    }

    attempt classify_current() {
        auto a = pg::classify(std::current_exception(), conn_ && conn_->is_open(), schema_);
        if (a.kind == failure_kind::connection) drop_connection();
        return a;
    }

    // interrupt() may be shutting the socket down from another thread: the descriptor is forgotten before the
    // connection closes it, so a reused descriptor number is never touched.
    void drop_connection() {
        std::lock_guard lock(socket_mutex_);
        socket_ = -1;
        conn_.reset();
    }

    // ---- spool ---------------------------------------------------------------------------------------------

    // Appends rows (those of the current batch not known to be written) to the spool: success while it has room.
    write_result spool_or_fail(std::vector<staged_row>& rows, const attempt& why) {
        log_.failed(why);
        std::string text;
        for (auto& r : rows) {
            text += pg::dump_json(pg::materialize(r));
            text += '\n';
        }
        if (text.empty()) return write_result::success(0, why.message);
        if (auto error = spool_.append(text)) {
            ++spool_errors_;
            if (spool_problem() != *error) log_.line("postgres_sink: cannot spool " + std::to_string(rows.size()) + " rows: " + *error +
                                                     " (the batch is retried; logged again when the reason changes)");
            set_spool_problem(*error);
            return write_result::failure(why.message + " (" + *error + ")");
        }
        set_spool_problem({});
        spool_syncs_ = spool_.syncs();
        spool_bytes_ = spool_.bytes();
        rows_spooled_ += rows.size();
        return write_result::success(0, why.message + " (spooled " + std::to_string(rows.size()) + " rows)");
    }

    // Replays the spool oldest first; replayed rows always take the upsert path (they may have been written).
    outcome replay_spool() {
        outcome total;
        // The connection first: during an outage every batch comes here, and reading and parsing a spool file (up
        // to spool_file_bytes) only to fail at the connect cost more than the batch itself (the service's CPU in
        // a 60 s outage halved, and ~70 -> ~200 deliveries/s behind a 200 MB spool: benchmarks/README.md "Issue 15").
        if (auto a = ensure_connected(); !a.ok()) {
            total.failure = a;
            return total;
        }
        spool_.replay(options_.max_rows_per_transaction, [&](const std::vector<std::string_view>& lines, const std::string& file) {
            std::vector<staged_row> chunk;
            chunk.reserve(lines.size());
            for (auto line : lines) {
                auto row = nlohmann::json::parse(line, nullptr, false);
                auto table = row.is_discarded() ? std::nullopt : pg::table_of(row);
                if (!table) {
                    dead_letters_.write(nlohmann::json(std::string(line)), "", "unreadable spool line in " + file, log_);
                    ++rows_rejected_;
                    ++total.rejected_rows;
                    continue;
                }
                chunk.push_back(pg::stage_row_json(*table, std::move(row), 0));
            }
            auto n = chunk.size();
            auto result = write_live(std::move(chunk), false, false).first;
            total.rejected_rows += result.rejected_rows;
            if (total.first_rejection.empty()) total.first_rejection = result.first_rejection;
            if (!result.failure.ok()) {
                total.failure = result.failure;
                return false;
            }
            rows_replayed_ += n - result.rejected_rows;
            return true;
        });
        spool_bytes_ = spool_.bytes();
        return total;
    }

    void set_spool_problem(std::string problem) {
        std::lock_guard lock(spool_problem_mutex_);
        spool_problem_ = std::move(problem);
    }

    database_config db_;
    std::string schema_;
    postgres_sink_options options_;
    pg::failure_log log_;
    pg::spool spool_;
    pg::dead_letters dead_letters_;
    pg::open_ids open_ids_;

    std::unique_ptr<pg::connection> conn_;
    std::unique_ptr<pg::connection> helper_conn_;  // second connection for parallel halves (helper_copy)
    pg::statements helper_sql_;  // the helper's own copy: the first connection rebuilds sql_ on reconnect
    int helper_socket_ = -1;
    int backend_pid_ = 0;
    std::mutex socket_mutex_;  // guards socket_ against conn_ being replaced while interrupt() uses it
    int socket_ = -1;          // conn_'s descriptor, for interrupt()
    std::atomic<bool> interrupted_{false};
    pg::statements sql_;
    pg::partition_targets partition_targets_;  // the pipeline thread's (the helper gets its target as a string)
    std::chrono::steady_clock::time_point next_partition_check_{};
    std::chrono::steady_clock::time_point next_idle_replay_{};  // idle(): after a failed replay
    std::chrono::milliseconds idle_backoff_{};

    std::atomic<std::uint64_t> rows_written_{0}, rows_rejected_{0}, rows_spooled_{0}, rows_replayed_{0}, transactions_{0},
        rows_direct_{0}, rows_binary_{0}, rows_into_partitions_{0}, partition_retries_{0}, direct_retries_{0},
        transient_retries_{0}, parallel_halves_{0}, parallel_redone_{0}, connects_{0}, spool_bytes_{0}, partitions_created_{0},
        spool_errors_{0}, spool_syncs_{0};
    mutable std::mutex spool_problem_mutex_;
    std::string spool_problem_;
};

}  // namespace eventscope
