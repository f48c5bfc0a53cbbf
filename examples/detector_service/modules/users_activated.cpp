// users.activated: a customer account became active. Sends the welcome email (a bouncing address marks the
// job failed without an exception), syncs the CRM (slow; times out for one domain) and grants a coupon.
// The end of the chain: nothing here writes to a table with a trigger.
#include <iostream>
#include <stdexcept>

#include "../service.hpp"

namespace demo {

namespace {

struct crm_timeout : std::runtime_error {
    using std::runtime_error::runtime_error;
};

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

json send_welcome_email(job_context& ctx) {
    auto email = hasura_event::text(ctx.event.new_row, "email");
    ctx.work(5, 30);
    if (email.empty() || ends_with(email, ".invalid")) {
        std::cerr << "[mail] welcome email to '" << email << "' bounced" << std::endl;
        ctx.fail("mailbox unavailable: " + email, "smtp_bounce");
        return {{"delivered", false}};
    }
    std::cout << "[mail] welcome email sent to " << email << std::endl;
    ctx.app.update("notifications", "ntf-" + ctx.job.id().to_string(),
                   {{"user_id", hasura_event::text(ctx.event.new_row, "id")}, {"kind", "welcome"}, {"channel", "email"},
                    {"updated_by", ctx.job.tracking_token()}},
                   json::object());
    return {{"delivered", true}};
}

json sync_crm(job_context& ctx) {
    auto email = hasura_event::text(ctx.event.new_row, "email");
    ctx.work(40, 160);
    if (ends_with(email, "@example.org")) throw crm_timeout("CRM API: request for " + email + " timed out after 150 ms");
    ctx.job.log(eventscope::log_level::debug, "contact upserted", {{"email", email}});
    return {{"crm_contact", "c-" + hasura_event::text(ctx.event.new_row, "id")}};
}

json grant_welcome_coupon(job_context& ctx) {
    ctx.work(5, 15);
    ctx.job.log(eventscope::log_level::info, "coupon granted", {{"code", "WELCOME10"}});
    return {{"coupon", "WELCOME10"}, {"percent_off", 10}};
}

}  // namespace

event_module users_activated_module() {
    return {"users.activated", "examples/detector_service/modules/users_activated.cpp",
            [](eventscope::event& ev, const hasura_event& e) {
                const auto before = hasura_event::text(e.old_row, "status"), now = hasura_event::text(e.new_row, "status");
                return EVENTSCOPE_DETECT(ev, ("on users", e.table == "users"), ("insert or update", e.op == "INSERT" || e.op == "UPDATE"),
                                         ("status changed", before != now), ("now active", now == "active"));
            },
            {{"send_welcome_email", "send_welcome_email", {{"template", "welcome"}}, send_welcome_email},
             {"sync_crm", "sync_crm", {{"timeout_ms", 150}}, sync_crm},
             {"grant_welcome_coupon", "grant_welcome_coupon", {{"percent_off", 10}}, grant_welcome_coupon}}};
}

}  // namespace demo
