// Dry-run replay: stored trigger payloads run again through the current build of a detector, to see which
// decisions a change would flip before it is deployed. A replay_session owns an observer in replay mode
// (config.replay): every detection is recorded as decided, but detected() / EVENTSCOPE_DETECT answer "not
// detected", so no job scope opens and no job runs; its records stay in memory (replay_sink), never in a
// production sink. Each replayed invocation's decisions are compared with the production ones (before/after,
// and the clause whose outcome changed).
//
//   eventscope::replay::replay_session session;
//   auto decisions = session.run(stored, [&](eventscope::recorder& rec) { my_detector(rec, stored.body, stored.source_function); });
//
// The detector function must take the recorder it is given (eventscope::recorder&, as detector code does).
// Reading stored payloads from PostgreSQL and writing the report is eventscope/sinks/postgres/replay_store.hpp.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "observer.hpp"
#include "records.hpp"
#include "row_json.hpp"
#include "sink.hpp"

namespace eventscope::replay {

// One event's decision, as recorded in production (before) or by the replayed build (after). `clauses` and
// `clause_values` are the event_executions columns detection_clauses / detection_clause_values (JSON null when
// the detection had no clauses).
struct event_decision {
    std::string event_name;
    bool detected = false;
    std::string status;
    nlohmann::json clauses;
    nlohmann::json clause_values;
    std::string rejected_by;
    std::string error;  // detection_error
};

// A production invocation to replay.
struct stored_invocation {
    std::string id;          // uuid text
    std::string created_at;  // as the database printed it
    std::string source_function;
    std::string correlation_id;
    std::string body;  // the stored payload, as the webhook body to feed the detector
    std::vector<event_decision> before;
};

struct compared_decision {
    std::string event_name;
    std::optional<bool> detected_before, detected_after;  // nullopt: that side did not check the event
    bool changed = false;
    std::string changed_clause;  // see changed_clause_of()
    std::optional<event_decision> before, after;
};

// The clause that explains a changed decision: the first position where the clauses' names or outcomes differ;
// if they agree everywhere (or one side has none), the clause that stops the detection now, else the one that
// stopped it before.
inline std::string changed_clause_of(const event_decision* before, const event_decision* after) {
    static const nlohmann::json none = nlohmann::json::array();
    const auto& a = before && before->clauses.is_array() ? before->clauses : none;
    const auto& b = after && after->clauses.is_array() ? after->clauses : none;
    if (!a.empty() && !b.empty()) {
        for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
            if (i >= a.size()) return b[i].value("name", "");
            if (i >= b.size()) return a[i].value("name", "");
            if (a[i].value("name", "") != b[i].value("name", "") || a[i].value("outcome", "") != b[i].value("outcome", ""))
                return b[i].value("name", "");
        }
    }
    if (after && !after->rejected_by.empty()) return after->rejected_by;
    if (before && !before->rejected_by.empty()) return before->rejected_by;
    return {};
}

inline std::vector<compared_decision> compare(const std::vector<event_decision>& before, const std::vector<event_decision>& after) {
    std::vector<compared_decision> out;
    auto find = [](const std::vector<event_decision>& v, const std::string& name) -> const event_decision* {
        for (const auto& d : v)
            if (d.event_name == name) return &d;
        return nullptr;
    };
    auto add = [&](const std::string& name) {
        for (const auto& c : out)
            if (c.event_name == name) return;
        const auto* b = find(before, name);
        const auto* a = find(after, name);
        compared_decision c;
        c.event_name = name;
        if (b) c.detected_before = b->detected, c.before = *b;
        if (a) c.detected_after = a->detected, c.after = *a;
        c.changed = c.detected_before.value_or(false) != c.detected_after.value_or(false);
        if (c.changed) c.changed_clause = changed_clause_of(b, a);
        out.push_back(std::move(c));
    };
    for (const auto& d : after) add(d.event_name);
    for (const auto& d : before) add(d.event_name);
    return out;
}

// Keeps what a replayed detector recorded, for the session to take after each invocation.
class replay_sink {
public:
    write_result write(std::span<record> batch) {
        std::lock_guard lock(mutex_);
        for (auto& r : batch) {
            if (auto* e = std::get_if<event_record>(&r)) {
                // An event comes as several records (started, detected, ended), in order: the last one is its
                // decision as a whole. A replayed invocation has a few events: a linear look-up is enough.
                auto same = std::find_if(events_.rbegin(), events_.rend(), [&](const event_record& x) { return x.id == e->id; });
                if (same != events_.rend()) *same = std::move(*e);
                else events_.push_back(std::move(*e));
            } else if (std::holds_alternative<job_record>(r)) {
                ++job_rows_;
            }
        }
        return write_result::success();
    }
    std::vector<event_record> take() {
        std::lock_guard lock(mutex_);
        return std::exchange(events_, {});
    }
    std::uint64_t job_rows() const {
        std::lock_guard lock(mutex_);
        return job_rows_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<event_record> events_;
    std::uint64_t job_rows_ = 0;  // should stay 0: a job scope opened during a replay
};

inline event_decision decision_of(const event_record& r) {
    auto row = to_row(r);
    event_decision d;
    d.event_name = std::string(std::string_view(r.event_name));
    d.detected = r.detected;
    d.status = row.value("status", "");
    d.clauses = row["detection_clauses"];
    d.clause_values = row["detection_clause_values"];
    if (row["detection_rejected_by"].is_string()) d.rejected_by = row["detection_rejected_by"].get<std::string>();
    if (row["detection_error"].is_string()) d.error = row["detection_error"].get<std::string>();
    return d;
}

// A replay run in this process. `Level` must record (metrics or full; full also keeps the compared values).
template <capture Level = capture::full>
class replay_session {
    static_assert(Level != capture::off, "a replay needs scopes that record: capture::metrics or capture::full");

public:
    using observer_type = observer<options<replay_sink, Level, 16384>>;

    explicit replay_session(config base = {}) : observer_(replay_config(std::move(base))) {}

    // What the detector records into (pass it where production code gets its recorder).
    basic_recorder<Level>& recorder() noexcept { return observer_; }

    // Runs `detector(recorder())` for one stored invocation and compares its decisions with the production ones.
    // An exception from the detector is not an error of the replay: the event scopes have recorded it.
    template <class Detector>
    std::vector<compared_decision> run(const stored_invocation& stored, Detector&& detector) {
        try {
            detector(recorder());
        } catch (...) {
        }
        if (!observer_.flush(std::chrono::seconds(30))) throw std::runtime_error("replay: the replay's records were not collected within 30 s");
        std::vector<event_decision> after;
        for (const auto& e : observer_.sink().take()) after.push_back(decision_of(e));
        return compare(stored.before, after);
    }

    // Job rows recorded by the replay (a job scope the detector opened although detection answered no).
    std::uint64_t job_rows() const { return observer_.sink().job_rows(); }
    pipeline_stats stats() const { return observer_.stats(); }

private:
    static config replay_config(config c) {
        c.enabled = true;
        c.replay = true;
        c.capture_console = false;
        c.flush_interval = std::chrono::milliseconds(50);
        return c;
    }
    observer_type observer_;
};

}  // namespace eventscope::replay
