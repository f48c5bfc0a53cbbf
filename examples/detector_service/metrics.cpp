#include "metrics.hpp"

#include <cstdio>
#include <string_view>

namespace demo {

namespace {

class exposition {
public:
    // One metric family: its HELP and TYPE lines, then samples.
    exposition& family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
        return *this;
    }
    exposition& sample(std::string_view name, double value, std::string_view labels = {}) {
        out_ += name;
        if (!labels.empty()) {
            out_ += '{';
            out_ += labels;
            out_ += '}';
        }
        char buf[64];
        if (value == static_cast<double>(static_cast<std::uint64_t>(value)) && value >= 0)
            std::snprintf(buf, sizeof buf, " %llu\n", static_cast<unsigned long long>(value));
        else
            std::snprintf(buf, sizeof buf, " %.9g\n", value);
        out_ += buf;
        return *this;
    }
    std::string text() && { return std::move(out_); }

private:
    std::string out_;
};

// A label value: backslash, double quote and newline escaped (the exposition format's rules).
std::string label(std::string_view key, std::string_view value) {
    std::string out(key);
    out += "=\"";
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + '"';
}

}  // namespace

std::string prometheus_text(const eventscope::pipeline_stats& s, record_state state, const delivery_counters& deliveries) {
    exposition e;
    auto u = [](std::uint64_t v) { return static_cast<double>(v); };
    e.family("eventscope_records_recorded_total", "counter", "Records offered by scopes (invocations, events, jobs, job logs).")
        .sample("eventscope_records_recorded_total", u(s.recorded));
    e.family("eventscope_records_written_total", "counter", "Records the sink confirmed (written to the database, or spooled to disk).");
    for (const auto& k : s.sinks) e.sample("eventscope_records_written_total", u(k.written), label("sink", k.name));
    e.family("eventscope_records_dropped_total", "counter", "Records lost, by cause.")
        .sample("eventscope_records_dropped_total", u(s.dropped_buffer_full), label("cause", "buffer_full"));
    for (const auto& k : s.sinks) {
        auto sink = label("sink", k.name);
        e.sample("eventscope_records_dropped_total", u(k.rejected), label("cause", "rejected") + "," + sink);
        e.sample("eventscope_records_dropped_total", u(k.dropped_backlog), label("cause", "backlog_full") + "," + sink);
        e.sample("eventscope_records_dropped_total", u(k.lost_at_shutdown), label("cause", "shutdown") + "," + sink);
    }
    e.family("eventscope_write_retries_total", "counter", "Sink writes repeated after a failure.");
    for (const auto& k : s.sinks) e.sample("eventscope_write_retries_total", u(k.retried), label("sink", k.name));
    e.family("eventscope_failed_batches_total", "counter", "Batches that failed every attempt (kept and tried again later).");
    for (const auto& k : s.sinks) e.sample("eventscope_failed_batches_total", u(k.failed_batches), label("sink", k.name));
    e.family("eventscope_batches_total", "counter", "Successful sink writes.");
    for (const auto& k : s.sinks) e.sample("eventscope_batches_total", u(k.batches), label("sink", k.name));
    e.family("eventscope_records_spooled_total", "counter", "Rows set aside to the disk spool while the database was unavailable.");
    for (const auto& k : s.sinks) e.sample("eventscope_records_spooled_total", u(k.spooled), label("sink", k.name));
    e.family("eventscope_records_replayed_total", "counter", "Spooled rows written to the database later.");
    for (const auto& k : s.sinks) e.sample("eventscope_records_replayed_total", u(k.replayed), label("sink", k.name));
    e.family("eventscope_queue_depth", "gauge", "Records waiting in the in-memory ring.").sample("eventscope_queue_depth", u(s.queue_depth));
    e.family("eventscope_queue_capacity", "gauge", "Size of the in-memory ring in records.").sample("eventscope_queue_capacity", u(s.capacity));
    e.family("eventscope_records_in_flight", "gauge", "Records taken from the ring and not yet confirmed by the sink.");
    for (const auto& k : s.sinks) e.sample("eventscope_records_in_flight", u(k.pending), label("sink", k.name));
    e.family("eventscope_last_write_seconds", "gauge", "Duration of the last sink write (success or failure).");
    for (const auto& k : s.sinks) e.sample("eventscope_last_write_seconds", static_cast<double>(k.last_write_ns) / 1e9, label("sink", k.name));
    // The sink's own counters (postgres_sink: rows_written, spool_bytes, connects, ...), one family each.
    for (const auto& k : s.sinks)
        for (const auto& [name, value] : k.own) {
            bool gauge = name == "spool_bytes" || name == "pending_source_links";
            auto metric = "eventscope_sink_" + name + (gauge ? "" : "_total");
            e.family(metric, gauge ? "gauge" : "counter", "The sink's own counter " + name + " (sinks/postgres/README.md).")
                .sample(metric, u(value), label("sink", k.name));
        }
    e.family("eventscope_invocations_by_correlation_source_total", "counter",
             "Invocations by where their correlation ID came from (generated: nothing found in the payload).");
    for (std::size_t i = 0; i < s.correlation.by_source.size(); ++i)
        e.sample("eventscope_invocations_by_correlation_source_total", u(s.correlation.by_source[i]),
                 label("source", eventscope::to_string(static_cast<eventscope::correlation_source>(i))));
    e.family("eventscope_payload_errors_total", "counter", "Invocations whose payload could not be read in full.")
        .sample("eventscope_payload_errors_total", u(s.correlation.payload_errors));
    e.family("detector_service_records_state", "gauge", "1 for the current state of record storage (writing, spooling, retrying, dropping).");
    for (auto st : {record_state::writing, record_state::spooling, record_state::retrying, record_state::dropping})
        e.sample("detector_service_records_state", st == state ? 1 : 0, label("state", to_string(st)));
    e.family("detector_service_deliveries_total", "counter", "Replies to POST /events/<source_function>, by status class.")
        .sample("detector_service_deliveries_total", u(deliveries.ok.load()), label("status", "2xx"))
        .sample("detector_service_deliveries_total", u(deliveries.client_error.load()), label("status", "4xx"))
        .sample("detector_service_deliveries_total", u(deliveries.server_error.load()), label("status", "5xx"));
    e.family("detector_service_unconfirmed_acks_total", "counter",
             "Deliveries answered before their records were confirmed stored (the store did not confirm in time).")
        .sample("detector_service_unconfirmed_acks_total", u(deliveries.unconfirmed_acks.load()));
    return std::move(e).text();
}

}  // namespace demo
