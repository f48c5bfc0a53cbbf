// Ingest measurement (not a test): 100k job rows through postgres_sink::write in batches of 1000, first as
// completed rows, then as running+completed record pairs in the same batch (coalesced to one row write), then
// as running rows completed by later batches. Prints rows/s.
//   postgres_ingest [BASE_URL]   (default: EVENTSCOPE_TEST_DB_URL, else a throwaway cluster)
#include <chrono>
#include <cstdio>
#include <vector>

#include "pg_test_support.hpp"

using namespace pg_test;

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

eventscope::job_record job(const eventscope::uuid& id, const eventscope::uuid& inv, const eventscope::uuid& ev,
                           const eventscope::invocation_info_ptr& info, bool done) {
    eventscope::job_record r;
    r.id = id;
    r.invocation_id = inv;
    r.event_execution_id = ev;
    r.info = info;
    r.job_name = "send_email";
    r.started = now_ns();
    r.ended = done ? r.started + 3'000'000 : 0;
    r.status = done ? eventscope::run_status::completed : eventscope::run_status::running;
    r.stamped = true;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    std::unique_ptr<cluster> own;
    std::string base = argc > 1 ? argv[1] : "";
    if (base.empty())
        if (const char* env = std::getenv("EVENTSCOPE_TEST_DB_URL")) base = env;
    if (base.empty()) {
        own = std::make_unique<cluster>();
        base = own->url();
    }
    database db(base, "ingest");
    eventscope::config cfg;
    cfg.schema = schema_name;
    cfg.database.connection_string = db.url();
    eventscope::postgres_sink sink(cfg);

    auto info = std::make_shared<eventscope::invocation_info>();
    info->correlation_id = "ingest.measure";
    info->source_function = "ingest";
    eventscope::invocation_record inv;
    inv.id = eventscope::new_uuid();
    inv.info = info;
    inv.started = now_ns();
    inv.ended = inv.started + 1;
    inv.status = eventscope::run_status::completed;
    eventscope::event_record ev;
    ev.id = eventscope::new_uuid();
    ev.invocation_id = inv.id;
    ev.info = info;
    ev.event_name = "ingest.event";
    ev.started = now_ns();
    ev.status = eventscope::event_status::handling;
    {
        std::vector<eventscope::record> parents;
        parents.emplace_back(std::move(inv));
        parents.emplace_back(std::move(ev));
        if (!sink.write(parents).ok) return 1;
    }
    constexpr int total = 100'000, batch = 1000;
    auto measure = [&](const char* what, auto make_batch) {
        auto start = std::chrono::steady_clock::now();
        for (int b = 0; b < total / batch; ++b) {
            auto records = make_batch(b);
            auto r = sink.write(records);
            if (!r.ok || r.rejected) {
                std::fprintf(stderr, "write failed: %s\n", r.error.c_str());
                std::exit(1);
            }
        }
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%-58s %8.0f rows/s (%.2f s)\n", what, total / s, s);
    };
    std::vector<eventscope::uuid> ids(total);
    auto inv_uuid = eventscope::uuid{};
    auto ev_uuid = eventscope::uuid{};
    {
        reader r(db.url());
        inv_uuid = *eventscope::uuid::parse(r.query("SELECT id::text FROM " + r.table("invocations"))[0][0].c_str());
        ev_uuid = *eventscope::uuid::parse(r.query("SELECT id::text FROM " + r.table("event_executions"))[0][0].c_str());
    }
    measure("completed job rows, batch 1000", [&](int b) {
        std::vector<eventscope::record> v;
        v.reserve(batch);
        for (int i = 0; i < batch; ++i) v.emplace_back(job(eventscope::new_uuid(), inv_uuid, ev_uuid, info, true));
        (void)b;
        return v;
    });
    measure("running+completed records per job, coalesced (2000 rec)", [&](int b) {
        std::vector<eventscope::record> v;
        v.reserve(2 * batch);
        for (int i = 0; i < batch; ++i) {
            auto id = eventscope::new_uuid();
            v.emplace_back(job(id, inv_uuid, ev_uuid, info, false));
            v.emplace_back(job(id, inv_uuid, ev_uuid, info, true));
        }
        (void)b;
        return v;
    });
    for (auto& id : ids) id = eventscope::new_uuid();
    measure("running job rows, batch 1000", [&](int b) {
        std::vector<eventscope::record> v;
        for (int i = 0; i < batch; ++i) v.emplace_back(job(ids[static_cast<std::size_t>(b * batch + i)], inv_uuid, ev_uuid, info, false));
        return v;
    });
    measure("completing those running rows in place, batch 1000", [&](int b) {
        std::vector<eventscope::record> v;
        for (int i = 0; i < batch; ++i) v.emplace_back(job(ids[static_cast<std::size_t>(b * batch + i)], inv_uuid, ev_uuid, info, true));
        return v;
    });
    return 0;
}
