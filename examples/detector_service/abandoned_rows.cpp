#include "abandoned_rows.hpp"

#include <pqxx/pqxx>

#include <eventscope/sinks/postgres/conninfo.hpp>

namespace demo {

namespace {

// Which rows to close: the invocations (besides status = 'running'), and their children by invocation_id.
struct open_rows {
    std::string invocations, children;
};

// In one transaction on its own connection: the running invocations `select` names, and their events and jobs
// still open, become failed with `error_type` (jobs, invocations) and `why` as the error message.
template <class Select>
closed_rows close_open_rows(const eventscope::config& cfg, int statement_timeout_ms, const std::string& error_type, const std::string& why,
                            Select&& select) {
    closed_rows out;
    try {
        pqxx::connection c(eventscope::pg::build_conninfo(cfg.database, std::chrono::seconds(5), "detector_service-janitor"));
        pqxx::work tx(c);
        tx.exec("SET LOCAL statement_timeout = " + std::to_string(statement_timeout_ms));
        const auto s = c.quote_name(cfg.schema) + ".";
        const open_rows rows = select(tx, s);
        const auto quoted_why = tx.quote(why), quoted_type = tx.quote(error_type);
        out.invocations = tx.exec("UPDATE " + s + "invocations SET status = 'failed', error_type = " + quoted_type + ", error_message = " +
                                  quoted_why + ", updated_at = now() WHERE status = 'running' AND " + rows.invocations)
                              .affected_rows();
        out.events = tx.exec("UPDATE " + s + "event_executions SET status = 'failed', handler_error = " + quoted_why +
                             ", updated_at = now() WHERE status IN ('detecting', 'handling') AND " + rows.children)
                         .affected_rows();
        out.jobs = tx.exec("UPDATE " + s + "job_executions SET status = 'failed', error_type = " + quoted_type + ", error_message = " +
                           quoted_why + ", updated_at = now() WHERE status = 'running' AND " + rows.children)
                       .affected_rows();
        tx.commit();
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

}  // namespace

closed_rows close_abandoned_rows(const eventscope::config& cfg, const std::vector<std::string>& ended, const std::string& reason) {
    if (ended.empty()) return {};
    return close_open_rows(cfg, 30000, "records_lost", reason, [&](pqxx::work& tx, const std::string&) {
        std::string ids = "{";
        for (const auto& id : ended) ids += (ids.size() > 1 ? "," : "") + id;
        ids = tx.quote(ids + "}") + "::uuid[]";
        return open_rows{"id = ANY(" + ids + ")", "invocation_id = ANY(" + ids + ")"};
    });
}

closed_rows close_rows_of_instance(const eventscope::config& cfg, const ended_instance& ended) {
    const std::string why = "process ended: detector_service instance " + ended.id + " (pid " + std::to_string(ended.pid) +
                            ", started " + ended.started_at + ") " +
                            (ended.stopped_cleanly ? "stopped" : "ended without stopping (kill -9, crash or power loss)") +
                            " before this delivery finished; it was not acknowledged, so the sender delivers it again";
    return close_open_rows(cfg, 60000, "process_ended", why, [&](pqxx::work& tx, const std::string& s) {
        // Its rows are not older than its start (a minute of slack for clocks): the created_at index, not a scan.
        const std::string since = ended.started_at.empty() ? "'-infinity'::timestamptz" : tx.quote(ended.started_at) + "::timestamptz - interval '1 minute'";
        const std::string mine = "context_data->>'service_instance' = " + tx.quote(ended.id) + " AND created_at >= " + since;
        return open_rows{mine, "invocation_id IN (SELECT id FROM " + s + "invocations WHERE " + mine + ")"};
    });
}

abandoned_rows_janitor::abandoned_rows_janitor(recorder_t& obs, const record_health& health, eventscope::config cfg,
                                               std::function<void(const std::string&)> log)
    : obs_(obs), health_(health), cfg_(std::move(cfg)), log_(std::move(log)) {
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

abandoned_rows_janitor::~abandoned_rows_janitor() {
    thread_.request_stop();
    wake_.notify_all();
}

void abandoned_rows_janitor::run(std::stop_token stop) {
    std::mutex m;
    std::unique_lock lock(m);
    while (!stop.stop_requested()) {
        wake_.wait_for(lock, stop, std::chrono::seconds(2), [] { return false; });
        if (stop.stop_requested()) break;
        pass();
    }
}

void abandoned_rows_janitor::close_instances() {
    if (!instance_) return;
    auto ended = instance_->ended();
    if (ended.empty()) return;
    // Their spooled records first: replayed, they may complete rows (or open rows this pass must then close).
    for (const auto& sink : obs_.stats().sinks)
        for (const auto& [name, value] : sink.own)
            if (name == "spool_bytes" && value > 0) return;
    if (!obs_.flush(std::chrono::seconds(5))) return;
    std::size_t done = 0;
    for (const auto& e : ended) {
        auto r = close_rows_of_instance(cfg_, e);
        if (!r.error.empty()) {
            if (r.error != last_instance_error_) log_("detector_service: cannot close the rows of ended instance " + e.id + " yet (retrying): " + r.error);
            last_instance_error_ = r.error;
            break;
        }
        ++done;
        closed_ += r.total();
        if (r.total() || !e.stopped_cleanly)
            log_("detector_service: previous instance " + e.id + " (pid " + std::to_string(e.pid) + ") " +
             (e.stopped_cleanly ? "stopped cleanly" : "ended without stopping") + ": closed as failed (process_ended) " +
             std::to_string(r.invocations) + " invocations, " + std::to_string(r.events) + " events and " + std::to_string(r.jobs) +
             " jobs it left running");
    }
    if (done) instance_->forget_ended(done);
}

void abandoned_rows_janitor::pass() {
    close_instances();
    auto cutoff = std::chrono::steady_clock::now();
    auto health = health_.current();
    auto dropped = health.stats.dropped_any();
    if (dropped <= handled_drops_) {
        // Nothing lost: forget what was answered long enough ago for its records to be written by now.
        std::lock_guard lock(mutex_);
        while (!ended_.empty() && cutoff - ended_.front().first > std::chrono::minutes(1)) ended_.pop_front();
        return;
    }
    if (health.state != record_state::writing) return;  // nothing can be closed while nothing is written
    // Every invocation answered before `cutoff` pushed its records before the flush below; once that completes
    // they are in the database, or lost.
    if (!obs_.flush(std::chrono::seconds(5))) return;
    dropped = obs_.stats().dropped_any();
    std::vector<std::string> ids;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [at, id] : ended_) {
            if (at >= cutoff) break;
            ids.push_back(id);
        }
    }
    auto r = close_abandoned_rows(cfg_, ids,
                                  "records lost: the final record of this scope was dropped (the database was unavailable and there was "
                                  "no usable spool; see eventscope_records_dropped_total in /metrics)");
    if (!r.error.empty()) return;
    {
        std::lock_guard lock(mutex_);
        while (!ended_.empty() && ended_.front().first < cutoff) ended_.pop_front();
    }
    handled_drops_ = dropped;
    closed_ += r.total();
    if (r.total())
        log_("detector_service: closed as failed " + std::to_string(r.invocations) + " invocations, " + std::to_string(r.events) +
             " events and " + std::to_string(r.jobs) + " jobs whose final records were dropped");
}

}  // namespace demo
