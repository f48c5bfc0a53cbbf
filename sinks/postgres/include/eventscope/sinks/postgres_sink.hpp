// PostgreSQL sink (libpqxx 6.4): writes each batch in one transaction, parents first: rows that are new and
// final are COPYed straight into their tables; everything else is COPYed into TEMP staging tables and upserted.
//
//   using opts = eventscope::options<eventscope::postgres_sink>;
//   eventscope::observer<opts> obs(cfg, {}, cfg, eventscope::postgres_sink_options{.spool_directory = "/var/spool/es"});
//
// Connection: `config.database.connection_string` (a URL or key=value string), else the environment variable
// OBSERVABILITY_DB_URL, else the individual fields (host, port, database, user, password, sslmode). Tables live
// in `config.schema` (quoted as an identifier). The sink connects lazily, on the pipeline thread, at the first
// write, and reconnects after a broken connection. connect_timeout and statement_timeout are bounded (options).
//
// One write:
//   1. write(): every record is encoded as its COPY text line straight from the record (detail/pg_rows.hpp,
//      no nlohmann::json object per row; the same column values as row_json.hpp's `to_row`, sanitized for
//      Postgres: valid UTF-8, no NUL, invalid bytes and NUL become U+FFFD, in text and inside jsonb; strings
//      are copied only when they need it). write_rows() and spool replays start from row JSON (`to_row`'s
//      form), sanitized the same way; a test checks that both encodings leave identical rows.
//   2. rows of the same id are coalesced (first position, last content; a running row never replaces a
//      final one), so a short job is one row write;
//   3. each row takes one of two paths, per table in the order invocations, event_executions, job_executions,
//      job_logs (a table's rows are all in before the next table's):
//      - direct: a final row (any status past running/detecting/handling; every log line) whose id this sink
//        has not written as running/detecting/handling (a bounded set, `max_tracked_open_ids`, of ids written
//        unfinished and not yet completed; a running copy coalesced away within the batch was never written)
//        and, for invocations, without source_job_id: one COPY (text) straight into the real table. No
//        staging, no ON CONFLICT. If that COPY meets a unique violation (23505: the row exists after all,
//        e.g. a batch retried after a commit whose outcome was lost, or written by another sink), the whole
//        transaction is redone through the upsert path: a duplicate is never dead-lettered.
//      - upsert (completions of rows written as running, running rows, invocations naming a source job,
//        spool replays, retries after a 23505): COPY (text) into `pg_temp.eventscope_stage_<table>` (LIKE
//        the real table), then INSERT ... SELECT ... ON CONFLICT (id) DO UPDATE ... WHERE <incoming status is
//        at least as far as the stored one> (running/detecting < handling < final): a late `running` row never
//        reverts a completed one. created_at is never updated. job_logs: ON CONFLICT DO NOTHING.
//      At most one COPY per table and path per transaction.
//   4. commit (durable: synchronous_commit is left as the server has it). Values reach the server only as
//      COPY data or bound parameters.
//
// invocations.source_job_id (FK to job_executions): the job may belong to another process or not be written
// yet. The row is written with NULL in that column when the job row does not exist; the (invocation, job)
// pair is kept in a bounded in-memory list (`max_pending_source_links`, oldest evicted with a log line) and
// patched in the same transaction as any later batch that writes job rows (a job written by another process
// is found the same way). A stored link is never overwritten by NULL.
//
// Failures:
//   - server unreachable / connection lost (08xxx, 57Pxx, broken connection): the write fails and the pipeline
//     retries (retry_attempts, retry_delay) and keeps the batch; logged once per outage.
//   - content (SQLSTATE class 22 data exception, 23 integrity violation, 54 program limit exceeded such as
//     an over-long indexed value): the batch is bisected until the
//     offending rows are isolated; the others are written; each rejected row goes with the server's error to
//     `dead_letter_path` (JSON lines, `to_row`'s form) and the write returns success(rejected records, note).
//     Exception: 23505 met by a direct COPY is not a content error; the range is redone by upsert first.
//   - configuration (missing schema/table 42P01/3F000, outdated schema 42703, no privilege 42501, database
//     missing 3D000, login refused 28xxx): the write fails with one message naming what to run or fix,
//     logged once (not per batch).
// Spool (`spool_directory`, bounded by `spool_max_bytes`): a batch that cannot be written for a non-content
// reason is appended as rows (one JSON line each) to the spool and the write reports success. Every later
// write first replays the spool in order (same coalesce/upsert/dead-letter path; files are deleted once
// written); while rows remain spooled, new batches are appended behind them so parents stay ahead of their
// children. A full spool makes the write fail (the pipeline retries, then counts drops). Spool files left by
// a previous process are replayed too. Replaying is idempotent: replayed rows always take the upsert path
// (never the direct COPY). Spool lines are row JSON (`to_row` of the records, made only for spooled rows).
#pragma once

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include <eventscope/config.hpp>
#include <eventscope/records.hpp>
#include <eventscope/row_json.hpp>
#include <eventscope/sink.hpp>
#include <eventscope/sinks/detail/pg_rows.hpp>

namespace eventscope {

struct postgres_sink_options {
    std::string spool_directory;                       // empty: no spool (an unwritable batch fails the write)
    std::uintmax_t spool_max_bytes = 256u << 20;       // all spool files together
    std::uintmax_t spool_file_bytes = 16u << 20;       // a spool file is rotated past this size
    std::string dead_letter_path;                      // JSON lines; empty: rejected rows are only counted/logged
    std::chrono::milliseconds statement_timeout{30000};
    std::chrono::seconds connect_timeout{5};
    std::size_t max_rows_per_transaction = 5000;       // spool replay chunks and very large batches
    std::size_t max_pending_source_links = 10000;      // invocations whose source job is not written yet
    std::size_t max_tracked_open_ids = 100000;         // ids written as running/detecting/handling, not yet final
    bool direct_copy = true;                           // new final rows: COPY straight into the table (see header)
    std::string application_name = "eventscope";
    std::function<void(const std::string&)> log;       // default: one line on stderr
};

// Counters, readable from any thread.
struct postgres_sink_stats {
    std::uint64_t rows_written = 0;    // rows upserted (after coalescing)
    std::uint64_t rows_rejected = 0;   // dead-lettered rows
    std::uint64_t rows_spooled = 0;    // rows appended to the spool
    std::uint64_t rows_replayed = 0;   // spooled rows written to the database
    std::uint64_t transactions = 0;    // committed transactions
    std::uint64_t rows_copied_direct = 0;  // of rows_written: COPYed straight into their table (new, final)
    std::uint64_t direct_retries = 0;      // transactions redone through the upsert path after a 23505
    std::uint64_t connects = 0;        // successful connections
    std::uint64_t spool_bytes = 0;     // bytes in the spool now
    std::uint64_t pending_source_links = 0;
};

class postgres_sink {
public:
    explicit postgres_sink(const config& cfg, postgres_sink_options options = {})
        : db_(cfg.database), schema_(cfg.schema), options_(std::move(options)) {
        if (options_.max_rows_per_transaction == 0) options_.max_rows_per_transaction = 1;
        if (!options_.spool_directory.empty()) open_spool();
    }

    postgres_sink(const postgres_sink&) = delete;
    postgres_sink& operator=(const postgres_sink&) = delete;

    // The sink contract: called from the pipeline thread only. Records are left intact (they are read only).
    write_result write(std::span<record> batch) {
        std::vector<detail::pg::staged_row> rows;
        rows.reserve(batch.size());
        // No row JSON here: COPY text is encoded straight from the records (detail::pg::append_copy_line); the
        // JSON form is made only for a row that goes to the spool or the dead-letter file.
        for (const auto& r : batch) rows.push_back(detail::pg::stage_record(r));
        return write_staged(std::move(rows));
    }

    // The row path: rows as row_json.hpp makes them (keys = column names, plus "table"). Used for the spool,
    // and by anyone holding rows instead of records. Each row counts as one record in the result. Not
    // concurrent with write().
    write_result write_rows(std::vector<nlohmann::json> rows) {
        std::vector<detail::pg::staged_row> staged;
        staged.reserve(rows.size());
        std::size_t unknown = 0;
        for (auto& row : rows) {
            auto table = detail::pg::table_of(row);
            if (!table) {
                dead_letter(row, "", "row has no known \"table\"");
                ++unknown;
                continue;
            }
            staged.push_back({*table, std::move(row), 1, nullptr, {}, 2, false});
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
        s.direct_retries = direct_retries_.load();
        s.connects = connects_.load();
        s.spool_bytes = spool_bytes_.load();
        s.pending_source_links = pending_links_count_.load();
        return s;
    }

    // The libpq connection string the sink uses (with the password, if any: do not log it).
    std::string connection_info() const { return build_conninfo(); }

private:
    using staged_row = detail::pg::staged_row;
    using table_id = detail::pg::table_id;

    enum class failure_kind { none, content, connection, configuration, other };
    struct attempt {
        failure_kind kind = failure_kind::none;
        std::string sqlstate;
        std::string message;
        bool ok() const { return kind == failure_kind::none; }
    };
    struct outcome {
        attempt failure;             // kind none: everything written or dead-lettered
        std::size_t rejected_records = 0;
        std::size_t rejected_rows = 0;
        std::string first_rejection;
    };
    struct spool_file {
        std::filesystem::path path;
        std::uintmax_t size = 0;
    };

    // ---- the write path ----------------------------------------------------------------------------------

    write_result write_staged(std::vector<staged_row> rows) {
        for (auto& r : rows) normalize(r);
        if (spool_enabled()) {
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
        auto live = write_live(std::move(rows), false, true);
        return finish(live.first);
    }

    // Writes `rows` (coalesced, chunked, bisected). On failure returns the rows not known to be written when
    // `keep_rest` (for the spool): everything from the failed chunk on.
    // `direct`: new final rows may be COPYed straight into their table (false for spool replays).
    std::pair<outcome, std::vector<staged_row>> write_live(std::vector<staged_row> rows, bool keep_rest, bool direct) {
        outcome out;
        auto coalesced = detail::pg::coalesce(std::move(rows));
        std::size_t chunk = options_.max_rows_per_transaction;
        for (std::size_t from = 0; from < coalesced.size(); from += chunk) {
            auto n = std::min(chunk, coalesced.size() - from);
            write_range(std::span<staged_row>(coalesced.data() + from, n), out, direct);
            if (!out.failure.ok()) {
                std::vector<staged_row> rest;
                if (keep_rest) rest.assign(std::make_move_iterator(coalesced.begin() + static_cast<std::ptrdiff_t>(from)),
                                           std::make_move_iterator(coalesced.end()));
                return {std::move(out), std::move(rest)};
            }
        }
        return {std::move(out), {}};
    }

    write_result finish(const outcome& out) {
        if (!out.failure.ok()) {
            set_failure(out.failure);
            return write_result::failure(out.failure.message);
        }
        note_success();
        if (out.rejected_rows == 0) return write_result::success();
        return write_result::success(out.rejected_records,
                                     "postgres_sink: " + std::to_string(out.rejected_rows) + " rows rejected by the server (" +
                                         (options_.dead_letter_path.empty() ? std::string("no dead_letter_path configured")
                                                                            : "dead-lettered to " + options_.dead_letter_path) +
                                         "): " + out.first_rejection);
    }

    // One transaction for the range; on a content error, bisect until the offending rows are alone.
    // A direct COPY that hits a unique violation (23505: a row this sink did not know was stored, e.g. a retry
    // after a commit whose outcome was lost) redoes the whole range through the upsert path: a duplicate is
    // never dead-lettered.
    void write_range(std::span<staged_row> rows, outcome& out, bool direct) {
        if (rows.empty()) return;
        bool used_direct = false;
        attempt a = try_transaction(rows, direct, used_direct);
        if (a.ok()) return;
        if (used_direct && a.kind == failure_kind::content && a.sqlstate == "23505") {
            ++direct_retries_;
            direct = false;
            a = try_transaction(rows, false, used_direct);
            if (a.ok()) return;
        }
        if (a.kind != failure_kind::content) {
            out.failure = std::move(a);
            return;
        }
        if (rows.size() == 1) {
            dead_letter(materialize(rows[0]), a.sqlstate, a.message);
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

    // Whether `r` may be COPYed straight into its table: final (log lines always are), with an id this sink has
    // not written as running/detecting/handling (open_ids_), and, for invocations, no source_job_id (those go
    // through the staging path, which writes NULL when the job row does not exist yet).
    bool direct_eligible(const staged_row& r) const {
        if (r.rank < 2 || r.id.empty() || r.source_job) return false;
        if (r.table == table_id::job_logs) return true;
        const auto& open = open_ids_[static_cast<std::size_t>(r.table)];
        return open.empty() || !open.count(r.id);
    }

    attempt try_transaction(std::span<staged_row> rows, bool allow_direct, bool& used_direct) {
        used_direct = false;
        if (auto a = ensure_connected(); !a.ok()) return a;
        allow_direct = allow_direct && options_.direct_copy;
        // Per row: 1 = COPY into the real table, 0 = staging + upsert.
        std::vector<char> direct(rows.size(), 0);
        std::array<std::size_t, detail::pg::table_count> staged{}, copied{};
        for (std::size_t i = 0; i < rows.size(); ++i) {
            auto t = static_cast<std::size_t>(rows[i].table);
            direct[i] = allow_direct && direct_eligible(rows[i]);
            ++(direct[i] ? copied[t] : staged[t]);
        }
        std::vector<std::pair<std::string, std::string>> new_pending;
        std::vector<std::string> patched;
        std::size_t n_direct = 0;
        try {
            pqxx::work tx(*conn_);
            const bool inv = staged[0] != 0, jobs = staged[2] + copied[2] != 0;
            // Parents first: each table's rows (direct and staged) are in before the next table's.
            for (std::size_t t = 0; t < detail::pg::table_count; ++t) {
                if (copied[t]) {
                    used_direct = true;
                    copy_rows(tx, static_cast<table_id>(t), rows, direct, 1);
                    n_direct += copied[t];
                }
                if (staged[t]) {
                    copy_rows(tx, static_cast<table_id>(t), rows, direct, 0);
                    tx.exec(sql_.upsert[t]);
                }
                if (t == 2 && inv && jobs) tx.exec(sql_.link_from_stage);
            }
            if (inv)
                for (const auto& row : tx.exec(sql_.unlinked_from_stage))
                    new_pending.emplace_back(row[0].c_str(), row[1].c_str());
            if (jobs && !pending_links_.empty()) {
                std::string invs = "{", job_ids = "{";
                for (const auto& [i, j] : pending_links_) {
                    if (invs.size() > 1) invs += ',', job_ids += ',';
                    invs += i;
                    job_ids += j;
                }
                invs += '}';
                job_ids += '}';
                for (const auto& row : tx.exec_params(sql_.link_pending, invs, job_ids)) patched.emplace_back(row[0].c_str());
            }
            tx.commit();
        } catch (...) {
            return classify(std::current_exception());
        }
        ++transactions_;
        rows_written_ += rows.size();
        rows_direct_ += n_direct;
        track_open_ids(rows);
        update_pending_links(std::move(new_pending), patched);
        return {};
    }

    // After a commit: ids written as running/detecting/handling are remembered (their completion must go through
    // the upsert); final ones are forgotten. Bounded: past max_tracked_open_ids an id is not remembered, and its
    // completion's direct COPY meets 23505 and is redone through the upsert path (slower, same rows).
    void track_open_ids(std::span<const staged_row> rows) {
        for (const auto& r : rows) {
            if (r.table == table_id::job_logs || r.id.empty()) continue;
            auto& open = open_ids_[static_cast<std::size_t>(r.table)];
            const auto& id = r.id;
            if (r.rank < 2) {
                if (open_ids_count() < options_.max_tracked_open_ids) open.insert(id);
                else if (!open_ids_full_logged_) {
                    log("postgres_sink: more than " + std::to_string(options_.max_tracked_open_ids) +
                        " rows are running at once; completions beyond that are written through the slower upsert retry");
                    open_ids_full_logged_ = true;
                }
            } else if (!open.empty()) {
                open.erase(id);
            }
        }
    }

    std::size_t open_ids_count() const {
        std::size_t n = 0;
        for (const auto& s : open_ids_) n += s.size();
        return n;
    }

    // One COPY (text format) of the rows of table `t` whose `direct` flag is `which`: into the real table
    // (which = 1) or into its staging table (which = 0).
    void copy_rows(pqxx::work& tx, table_id t, std::span<staged_row> rows, const std::vector<char>& direct, char which) {
        const auto& def = detail::pg::tables()[static_cast<std::size_t>(t)];
        std::vector<std::string> columns;
        for (const auto& c : def.columns) columns.emplace_back(c.name);
        // The staging name is a fixed, lower-case identifier; the real table is the quoted schema + fixed name.
        std::string target = which ? sql_.target[static_cast<std::size_t>(t)] : "eventscope_stage_" + std::string(def.name);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        // tablewriter::write_raw_line sends pre-encoded COPY text (many lines in one PQputCopyData); stream_to
        // in 6.4 would build a std::string per field.
        pqxx::tablewriter writer(tx, target, columns.begin(), columns.end());
#pragma GCC diagnostic pop
        std::string buffer;
        auto send = [&] {
            if (buffer.empty()) return;
            buffer.pop_back();  // write_raw_line adds the final newline
            writer.write_raw_line(buffer);
            buffer.clear();
        };
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (rows[i].table != t || direct[i] != which) continue;
            detail::pg::append_copy_line(buffer, rows[i]);
            if (buffer.size() >= (1u << 20)) send();
        }
        send();
        writer.complete();
    }

    // ---- rows ----------------------------------------------------------------------------------------------

    // Row JSON (write_rows, spool replays): sanitized, then id/status/source_job_id indexed. Record rows are
    // sanitized as they are encoded.
    static void normalize(staged_row& r) {
        if (r.rec) return;
        normalize_json(r);
        detail::pg::index_row(r);
    }

    static void normalize_json(staged_row& r) {
        detail::pg::sanitize_json(r.row);
        // source_event_payload is NOT NULL (an empty object when payload capture is off).
        if (r.table == table_id::invocations) {
            auto it = r.row.find("source_event_payload");
            if (it == r.row.end() || it->is_null()) r.row["source_event_payload"] = nlohmann::json::object();
        }
    }

    // The row JSON of a staged row (made from its record when it has none yet): for the spool and dead letters.
    static const nlohmann::json& materialize(staged_row& r) {
        if (r.rec && r.row.is_null()) {
            r.row = to_row(*r.rec);
            normalize_json(r);
        }
        return r.row;
    }

    // ---- source_job_id links -------------------------------------------------------------------------------

    void update_pending_links(std::vector<std::pair<std::string, std::string>> fresh, const std::vector<std::string>& patched) {
        if (!patched.empty()) {
            std::unordered_set<std::string> done(patched.begin(), patched.end());
            std::erase_if(pending_links_, [&](const auto& p) { return done.count(p.first) != 0; });
        }
        for (auto& p : fresh) {
            bool known = std::any_of(pending_links_.begin(), pending_links_.end(), [&](const auto& q) { return q.first == p.first; });
            if (!known) pending_links_.push_back(std::move(p));
        }
        if (pending_links_.size() > options_.max_pending_source_links) {
            auto evict = pending_links_.size() - options_.max_pending_source_links;
            if (!eviction_logged_) {
                log("postgres_sink: more than " + std::to_string(options_.max_pending_source_links) +
                    " invocations wait for their source job row; the oldest keep source_job_id NULL");
                eviction_logged_ = true;
            }
            pending_links_.erase(pending_links_.begin(), pending_links_.begin() + static_cast<std::ptrdiff_t>(evict));
        }
        pending_links_count_ = pending_links_.size();
    }

    // ---- connection ----------------------------------------------------------------------------------------

    attempt ensure_connected() {
        if (conn_ && conn_->is_open() && conn_->backendpid() == backend_pid_) return {};
        conn_.reset();
        try {
            auto c = std::make_unique<pqxx::connection>(build_conninfo());
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
            c->inhibit_reactivation(true);  // the TEMP staging tables live and die with the session
#pragma GCC diagnostic pop
            {
                pqxx::nontransaction n(*c);
                n.exec("SET statement_timeout = " + std::to_string(options_.statement_timeout.count()));
            }
            build_sql(*c);
            {
                pqxx::work tx(*c);
                for (const auto& stmt : sql_.create_stage) tx.exec(stmt);
                tx.commit();
            }
            backend_pid_ = c->backendpid();
            conn_ = std::move(c);
            ++connects_;
            return {};
        } catch (const pqxx::broken_connection& e) {
            return connect_failure(e.what());
        } catch (...) {
            return classify(std::current_exception());
        }
    }

    attempt connect_failure(std::string message) {
        while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
        auto has = [&](const char* s) { return message.find(s) != std::string::npos; };
        if (has("password authentication failed") || has("no pg_hba.conf entry") || has("role \"") ||
            has("authentication failed") || has("password is required"))
            return {failure_kind::configuration, "28000",
                    "postgres_sink: the database refused the login (" + message +
                        "); fix user/password in config.database / OBSERVABILITY_DB_URL, or pg_hba.conf"};
        if (has("database \"") && has("does not exist"))
            return {failure_kind::configuration, "3D000",
                    "postgres_sink: " + message + "; create it: psql -d postgres -v dbname=NAME -f sql/create-database.sql, "
                                                  "then psql -d NAME -v schema=" + schema_ + " -f sql/schema.sql"};
        return {failure_kind::connection, "08001", "postgres_sink: database unreachable: " + message};
    }

    attempt classify(std::exception_ptr ep) {
        attempt a;
        try {
            std::rethrow_exception(ep);
        } catch (const pqxx::broken_connection& e) {
            a = {failure_kind::connection, "08006", std::string("postgres_sink: connection lost: ") + e.what()};
        } catch (const pqxx::in_doubt_error& e) {
            a = {failure_kind::connection, "08007", std::string("postgres_sink: commit outcome unknown (retried; upserts are idempotent): ") + e.what()};
        } catch (const pqxx::sql_error& e) {
            a.sqlstate = e.sqlstate();
            a.message = e.what();
            while (!a.message.empty() && (a.message.back() == '\n' || a.message.back() == ' ')) a.message.pop_back();
            const std::string& s = a.sqlstate;
            auto cls = s.substr(0, 2);
            if (cls == "22" || cls == "23" || cls == "54") {  // 54: a value too large for an index row, etc.
                a.kind = failure_kind::content;
            } else if (cls == "08" || s.rfind("57P", 0) == 0 || (s.empty() && !(conn_ && conn_->is_open()))) {
                a.kind = failure_kind::connection;
                a.message = "postgres_sink: connection lost: " + a.message;
            } else if ((s == "42P01" && a.message.find("eventscope_stage_") != std::string::npos)) {
                a.kind = failure_kind::connection;  // a new session without our staging tables
            } else if (s == "42P01" || s == "3F000" || s == "42703") {
                a.kind = failure_kind::configuration;
                a.message = "postgres_sink: schema \"" + schema_ + "\" is missing or outdated in the database (" + s + ": " +
                            a.message + "); create it with: psql -d DBNAME -v schema=" + schema_ +
                            " -f sql/schema.sql   or upgrade it with: sql/migrate.sh --db-url URL --schema " + schema_ + " up";
            } else if (cls == "28" || s == "3D000" || s == "42501") {
                a.kind = failure_kind::configuration;
                a.message = "postgres_sink: the database refused access (" + s + ": " + a.message +
                            "); fix the credentials/grants in config.database / OBSERVABILITY_DB_URL";
            } else {
                a.kind = failure_kind::other;
                a.message = "postgres_sink: " + (s.empty() ? std::string() : s + ": ") + a.message;
            }
        } catch (const std::exception& e) {
            bool open = conn_ && conn_->is_open();
            a = {open ? failure_kind::other : failure_kind::connection, "", std::string("postgres_sink: ") + e.what()};
        } catch (...) {
            a = {failure_kind::other, "", "postgres_sink: unknown exception"};
        }
        if (a.kind == failure_kind::connection) conn_.reset();
        return a;
    }

    std::string build_conninfo() const {
        std::string s = db_.connection_string;
        if (s.empty())
            if (const char* env = std::getenv("OBSERVABILITY_DB_URL")) s = env;
        auto timeout = std::to_string(options_.connect_timeout.count());
        if (!s.empty()) {
            bool url = s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0;
            auto add = [&](const char* key, const std::string& value) {
                if (s.find(key) != std::string::npos) return;
                if (url) s += (s.find('?') == std::string::npos ? '?' : '&') + std::string(key) + "=" + value;
                else s += " " + std::string(key) + "=" + quote_conninfo(value);
            };
            add("connect_timeout", timeout);
            bool plain = std::all_of(options_.application_name.begin(), options_.application_name.end(),
                                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
            if (plain && !options_.application_name.empty()) add("application_name", options_.application_name);
            return s;
        }
        std::string out = "host=" + quote_conninfo(db_.host) + " port=" + std::to_string(db_.port) + " dbname=" + quote_conninfo(db_.database);
        if (!db_.user.empty()) out += " user=" + quote_conninfo(db_.user);
        if (!db_.password.empty()) out += " password=" + quote_conninfo(db_.password);
        if (!db_.sslmode.empty()) out += " sslmode=" + quote_conninfo(db_.sslmode);
        out += " connect_timeout=" + timeout;
        if (!options_.application_name.empty()) out += " application_name=" + quote_conninfo(options_.application_name);
        return out;
    }

    static std::string quote_conninfo(const std::string& v) {
        std::string out = "'";
        for (char c : v) {
            if (c == '\'' || c == '\\') out += '\\';
            out += c;
        }
        return out + "'";
    }

    // The statements of one connection: only the (quoted) schema name and fixed column names are spliced in.
    void build_sql(pqxx::connection& c) {
        const auto& defs = detail::pg::tables();
        const std::string schema = c.quote_name(schema_);
        auto target = [&](std::size_t t) { return schema + "." + std::string(defs[t].name); };
        auto stage = [&](std::size_t t) { return "eventscope_stage_" + std::string(defs[t].name); };
        const char* rank_new = "(CASE EXCLUDED.status WHEN 'running' THEN 0 WHEN 'detecting' THEN 0 WHEN 'handling' THEN 1 ELSE 2 END)";
        const char* rank_old = "(CASE t.status WHEN 'running' THEN 0 WHEN 'detecting' THEN 0 WHEN 'handling' THEN 1 ELSE 2 END)";
        const std::string job_exists = "EXISTS (SELECT 1 FROM " + target(2) + " j WHERE j.id = s.source_job_id)";
        sql_ = {};
        for (std::size_t t = 0; t < detail::pg::table_count; ++t) {
            sql_.target[t] = target(t);
            sql_.create_stage.push_back("CREATE TEMP TABLE IF NOT EXISTS " + stage(t) + " (LIKE " + target(t) +
                                        " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
            std::string cols, select, set;
            for (const auto& col : defs[t].columns) {
                std::string name(col.name);
                if (!cols.empty()) cols += ", ", select += ", ";
                cols += name;
                if (t == 0 && name == "source_job_id")
                    select += "CASE WHEN s.source_job_id IS NOT NULL AND " + job_exists + " THEN s.source_job_id END";
                else
                    select += "s." + name;
                if (name == "id" || name == "created_at") continue;
                if (!set.empty()) set += ", ";
                if (t == 0 && name == "source_job_id")
                    set += "source_job_id = COALESCE(EXCLUDED.source_job_id, t.source_job_id)";
                else
                    set += name + " = EXCLUDED." + name;
            }
            std::string sql = "INSERT INTO " + target(t) + " AS t (" + cols + ") SELECT " + select + " FROM " + stage(t) +
                              " s ON CONFLICT (id) DO ";
            if (defs[t].name == "job_logs") sql += "NOTHING";
            else sql += "UPDATE SET " + set + " WHERE " + rank_new + " >= " + rank_old;
            sql_.upsert[t] = std::move(sql);
        }
        sql_.link_from_stage = "UPDATE " + target(0) + " i SET source_job_id = s.source_job_id FROM " + stage(0) +
                               " s WHERE i.id = s.id AND i.source_job_id IS NULL AND s.source_job_id IS NOT NULL AND " + job_exists;
        sql_.unlinked_from_stage = "SELECT s.id::text, s.source_job_id::text FROM " + stage(0) + " s JOIN " + target(0) +
                                   " i ON i.id = s.id WHERE s.source_job_id IS NOT NULL AND i.source_job_id IS NULL";
        sql_.link_pending = "UPDATE " + target(0) + " i SET source_job_id = p.job FROM unnest($1::uuid[], $2::uuid[]) AS p(inv, job) "
                            "WHERE i.id = p.inv AND i.source_job_id IS NULL AND EXISTS (SELECT 1 FROM " + target(2) +
                            " j WHERE j.id = p.job) RETURNING i.id::text";
    }

    // ---- spool ---------------------------------------------------------------------------------------------

    bool spool_enabled() const { return !options_.spool_directory.empty(); }

    void open_spool() {
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::create_directories(options_.spool_directory, ec);
        std::vector<std::pair<std::uint64_t, fs::path>> found;
        for (const auto& e : fs::directory_iterator(options_.spool_directory, ec)) {
            auto name = e.path().filename().string();
            if (name.rfind("spool-", 0) != 0 || e.path().extension() != ".jsonl") continue;
            found.emplace_back(std::strtoull(name.c_str() + 6, nullptr, 10), e.path());
        }
        std::sort(found.begin(), found.end());
        for (auto& [seq, path] : found) {
            auto size = fs::file_size(path, ec);
            spool_.push_back({path, ec ? 0 : size});
            spool_bytes_ += ec ? 0 : size;
            next_spool_seq_ = seq + 1;
        }
        if (!spool_.empty())
            log("postgres_sink: " + std::to_string(spool_.size()) + " spool files from an earlier run in " +
                options_.spool_directory + " will be replayed at the first write");
    }

    // Appends rows (those of the current batch not known to be written) to the spool: success while it has room.
    write_result spool_or_fail(std::vector<staged_row>& rows, const attempt& why) {
        set_failure(why);
        std::string text;
        for (auto& r : rows) {
            text += materialize(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            text += '\n';
        }
        if (text.empty()) return write_result::success(0, why.message);
        if (spool_bytes_.load() + text.size() > options_.spool_max_bytes)
            return write_result::failure(why.message + " (spool full: " + std::to_string(spool_bytes_.load()) + " of " +
                                         std::to_string(options_.spool_max_bytes) + " bytes)");
        if (!active_spool_ || spool_.empty() || spool_.back().size >= options_.spool_file_bytes) {
            active_spool_.reset();
            char name[64];
            std::snprintf(name, sizeof name, "spool-%020llu.jsonl", static_cast<unsigned long long>(next_spool_seq_++));
            auto path = std::filesystem::path(options_.spool_directory) / name;
            active_spool_.reset(std::fopen(path.c_str(), "ab"));
            if (!active_spool_)
                return write_result::failure(why.message + " (cannot open spool file " + path.string() + ": " + std::strerror(errno) + ")");
            spool_.push_back({path, 0});
        }
        if (std::fwrite(text.data(), 1, text.size(), active_spool_.get()) != text.size() || std::fflush(active_spool_.get()) != 0) {
            // A torn line is skipped (dead-lettered as unreadable) at replay; the batch is retried.
            active_spool_.reset();
            return write_result::failure(why.message + " (spool write failed: " + std::strerror(errno) + ")");
        }
        spool_.back().size += text.size();
        spool_bytes_ += text.size();
        rows_spooled_ += rows.size();
        return write_result::success(0, why.message + " (spooled " + std::to_string(rows.size()) + " rows)");
    }

    // Replays spool files oldest first; a file is deleted once all its rows are written or dead-lettered.
    outcome replay_spool() {
        outcome total;
        while (!spool_.empty()) {
            auto& file = spool_.front();
            if (spool_.size() == 1) active_spool_.reset();  // appends after this replay start a new file
            std::ifstream in(file.path, std::ios::binary);
            std::string content;
            if (in) content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            std::size_t pos = std::min<std::size_t>(replay_offset_, content.size());
            while (pos < content.size()) {
                std::vector<staged_row> chunk;
                std::size_t end = pos;
                while (end < content.size() && chunk.size() < options_.max_rows_per_transaction) {
                    auto nl = content.find('\n', end);
                    auto line_end = nl == std::string::npos ? content.size() : nl;
                    std::string_view line(content.data() + end, line_end - end);
                    end = nl == std::string::npos ? content.size() : nl + 1;
                    if (line.empty()) continue;
                    auto row = nlohmann::json::parse(line, nullptr, false);
                    auto table = row.is_discarded() ? std::nullopt : detail::pg::table_of(row);
                    if (!table) {
                        dead_letter(nlohmann::json(std::string(line)), "", "unreadable spool line in " + file.path.string());
                        ++total.rejected_rows;
                        continue;
                    }
                    chunk.push_back({*table, std::move(row), 0, nullptr, {}, 2, false});
                }
                auto n = chunk.size();
                for (auto& r : chunk) normalize(r);
                auto result = write_live(std::move(chunk), false, false).first;  // replays: upsert only
                total.rejected_rows += result.rejected_rows;
                if (total.first_rejection.empty()) total.first_rejection = result.first_rejection;
                if (!result.failure.ok()) {
                    total.failure = result.failure;
                    return total;
                }
                rows_replayed_ += n - result.rejected_rows;
                pos = end;
                replay_offset_ = pos;
            }
            std::error_code ec;
            std::filesystem::remove(file.path, ec);
            spool_bytes_ -= std::min<std::uint64_t>(spool_bytes_.load(), file.size);
            spool_.pop_front();
            replay_offset_ = 0;
        }
        return total;
    }

    // ---- dead letters, logging -----------------------------------------------------------------------------

    void dead_letter(const nlohmann::json& row, const std::string& sqlstate, const std::string& error) {
        ++rows_rejected_;
        if (options_.dead_letter_path.empty()) return;
        nlohmann::json line = {{"rejected_at", format_timestamp(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch()).count())},
                               {"sqlstate", sqlstate},
                               {"error", error},
                               {"row", row}};
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(options_.dead_letter_path.c_str(), "ab"), &std::fclose);
        std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        if (!f || std::fwrite(text.data(), 1, text.size(), f.get()) != text.size()) {
            if (!dead_letter_error_logged_) log("postgres_sink: cannot append to dead-letter file " + options_.dead_letter_path + ": " + std::strerror(errno));
            dead_letter_error_logged_ = true;
        }
    }

    // Logged once per distinct configuration error and once per outage, never per batch.
    void set_failure(const attempt& a) {
        if (a.kind == failure_kind::configuration) {
            if (a.message != last_logged_) log(a.message);
            last_logged_ = a.message;
        } else if (a.kind == failure_kind::connection) {
            if (!in_outage_) log(a.message + " (retrying; logged once per outage)");
            in_outage_ = true;
            last_logged_.clear();
        } else {
            if (a.message != last_logged_) log(a.message);
            last_logged_ = a.message;
        }
    }

    void note_success() {
        if (in_outage_ || !last_logged_.empty()) log("postgres_sink: writing again");
        in_outage_ = false;
        last_logged_.clear();
    }

    void log(const std::string& line) {
        if (options_.log) options_.log(line);
        else std::fprintf(stderr, "eventscope: %s\n", line.c_str());
    }

    struct statements {
        std::vector<std::string> create_stage;
        std::array<std::string, detail::pg::table_count> upsert;
        std::string link_from_stage, unlinked_from_stage, link_pending;
        std::array<std::string, detail::pg::table_count> target;  // "schema".table, for the direct COPY
    };

    database_config db_;
    std::string schema_;
    postgres_sink_options options_;

    std::unique_ptr<pqxx::connection> conn_;
    int backend_pid_ = 0;
    statements sql_;
    std::deque<std::pair<std::string, std::string>> pending_links_;  // (invocation id, source job id)
    std::array<std::unordered_set<std::string>, detail::pg::table_count> open_ids_;  // written running, not final
    bool open_ids_full_logged_ = false;
    bool eviction_logged_ = false;
    bool dead_letter_error_logged_ = false;
    bool in_outage_ = false;
    std::string last_logged_;

    std::deque<spool_file> spool_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> active_spool_{nullptr, &std::fclose};
    std::uint64_t next_spool_seq_ = 1;
    std::size_t replay_offset_ = 0;

    std::atomic<std::uint64_t> rows_direct_{0}, direct_retries_{0};
    std::atomic<std::uint64_t> rows_written_{0}, rows_rejected_{0}, rows_spooled_{0}, rows_replayed_{0}, transactions_{0},
        connects_{0}, spool_bytes_{0}, pending_links_count_{0};
};

}  // namespace eventscope
