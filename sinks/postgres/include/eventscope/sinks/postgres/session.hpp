// The sink's connection: a libpqxx connection whose libpq handle the sink can reach, for the one thing libpqxx
// 6.4 cannot do, a COPY in binary format (its tablewriter ends every write with a newline). The handle comes from
// the connection policy, libpqxx's public hook for opening a connection, while the constructor opens it on the
// calling thread. Reactivation is inhibited, so the handle stays this connection's until it closes.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/pqxx>

namespace eventscope::pg {

// connect_direct, remembering the handle it opened on this thread.
class handle_recording_policy : public pqxx::connect_direct {
public:
    using pqxx::connect_direct::connect_direct;
    handle do_startconnect(handle orig) override {
        orig = pqxx::connect_direct::do_startconnect(orig);
        opened_on_this_thread() = orig;
        return orig;
    }
    static handle& opened_on_this_thread() {
        thread_local handle h = nullptr;
        return h;
    }
    static const std::string& forget_then(const std::string& options) {
        opened_on_this_thread() = nullptr;
        return options;
    }
};

class connection : public pqxx::basic_connection_base<handle_recording_policy> {
public:
    explicit connection(const std::string& options)
        : basic_connection_base(handle_recording_policy::forget_then(options)),
          handle_(handle_recording_policy::opened_on_this_thread()) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        inhibit_reactivation(true);
#pragma GCC diagnostic pop
        if (!handle_) throw pqxx::broken_connection("postgres_sink: connected without a libpq handle");
    }
    // Null once the connection is closed or lost.
    PGconn* libpq_handle() const { return is_open() ? handle_ : nullptr; }

private:
    PGconn* handle_;
};

// One `COPY target (columns) FROM STDIN (FORMAT binary)` inside the caller's open transaction on `c`: write() the
// data (copy_binary.hpp), then complete(). Failures throw what libpqxx would (pqxx::sql_error with the SQLSTATE,
// pqxx::broken_connection), so the sink classifies them as any other. Destroyed before complete(), it ends the
// COPY as failed, leaving the transaction to abort.
class binary_copy_in {
public:
    binary_copy_in(connection& c, std::string_view target, const std::vector<std::string>& columns) : handle_(c.libpq_handle()) {
        if (!handle_) throw pqxx::broken_connection("postgres_sink: connection lost before COPY");
        query_ = "COPY ";
        query_.append(target).append(" (");
        for (std::size_t i = 0; i < columns.size(); ++i) query_.append(i ? ", " : "").append(columns[i]);
        query_ += ") FROM STDIN (FORMAT binary)";
        result started(PQexec(handle_, query_.c_str()));
        if (!started || PQresultStatus(started.get()) != PGRES_COPY_IN) fail(started.get());
        open_ = true;
    }
    binary_copy_in(const binary_copy_in&) = delete;
    binary_copy_in& operator=(const binary_copy_in&) = delete;
    ~binary_copy_in() {
        if (!open_) return;
        if (PQputCopyEnd(handle_, "postgres_sink: COPY abandoned") == 1) drain();
    }

    void write(std::string_view data) {
        if (!data.empty() && PQputCopyData(handle_, data.data(), static_cast<int>(data.size())) != 1) lost();
    }
    void complete() {
        open_ = false;
        if (PQputCopyEnd(handle_, nullptr) != 1) lost();
        result done(PQgetResult(handle_));
        bool ok = done && PQresultStatus(done.get()) == PGRES_COMMAND_OK;
        if (!ok) {
            drain();
            fail(done.get());
        }
        drain();
    }

private:
    struct clear_result {
        void operator()(PGresult* r) const { PQclear(r); }
    };
    using result = std::unique_ptr<PGresult, clear_result>;

    void drain() {
        while (PGresult* r = PQgetResult(handle_)) PQclear(r);
    }
    [[noreturn]] void lost() {
        open_ = false;
        throw pqxx::broken_connection(std::string("postgres_sink: COPY failed: ") + PQerrorMessage(handle_));
    }
    [[noreturn]] void fail(const PGresult* r) {
        const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
        if (!state || PQstatus(handle_) != CONNECTION_OK) {
            open_ = false;
            throw pqxx::broken_connection(std::string("postgres_sink: ") + PQerrorMessage(handle_));
        }
        throw pqxx::sql_error(r ? PQresultErrorMessage(r) : "", query_, state);
    }

    PGconn* handle_;
    std::string query_;
    bool open_ = false;
};

}  // namespace eventscope::pg
