// orders.shipped: an order left the warehouse (or an operator re-ran the event by hand: op MANUAL). Books the
// carrier pickup, emails the customer, and marks the customer notified; a customer's first shipment activates
// the account, which is the next event of the chain (users.activated).
#include <iostream>
#include <stdexcept>

#include "../service.hpp"

namespace demo {

namespace {

struct carrier_api_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

json notify_carrier(job_context& ctx) {
    auto carrier = hasura_event::text(ctx.event.new_row, "carrier");
    ctx.work(20, 120);
    if (carrier != "dhl" && carrier != "ups" && carrier != "fedex")
        throw carrier_api_error("carrier API: no pickup service for carrier '" + carrier + "'");
    ctx.job.log(eventscope::log_level::info, "pickup booked", {{"carrier", carrier}});
    return {{"carrier", carrier}, {"pickup", "booked"}};
}

json send_shipping_email(job_context& ctx) {
    const auto& order = ctx.event.new_row;
    auto order_id = hasura_event::text(order, "id");
    ctx.work(5, 30);
    std::cout << "[mail] order " << order_id << " shipped with " << hasura_event::text(order, "carrier") << ", tracking "
              << hasura_event::text(order, "tracking_number") << std::endl;
    ctx.app.update("notifications", "ntf-" + ctx.job.id().to_string(),
                   {{"user_id", hasura_event::text(order, "user_id")}, {"kind", "order_shipped"}, {"ref_id", order_id},
                    {"channel", "email"}, {"updated_by", ctx.job.tracking_token()}},
                   json::object());
    return {{"channel", "email"}, {"template", "order-shipped"}};
}

json notify_customer(job_context& ctx) {
    auto user_id = hasura_event::text(ctx.event.new_row, "user_id");
    if (user_id.empty()) return {{"skipped", "order has no user"}};
    auto user = ctx.app.find("users", user_id);
    json changes = {{"last_notified_at", hasura_time_now()}, {"updated_by", ctx.job.tracking_token()}};
    bool activates = !user || hasura_event::text(*user, "status") != "active";
    if (activates) changes["status"] = "active";  // first shipment: the account becomes active
    ctx.work(5, 20);
    ctx.app.update("users", user_id, changes, {{"id", user_id}, {"email", user_id + "@example.com"}, {"status", "imported"}});
    return {{"user_id", user_id}, {"activated", activates}};
}

}  // namespace

event_module orders_shipped_module() {
    return {"orders.shipped", "examples/detector_service/modules/orders_shipped.cpp",
            [](eventscope::event& ev, const hasura_event& e) {
                // An operator's manual re-run (op MANUAL) has no old row: the status needs no change then.
                const auto before = hasura_event::text(e.old_row, "status"), now = hasura_event::text(e.new_row, "status");
                return EVENTSCOPE_DETECT(ev, ("on orders", e.table == "orders"), ("update or manual run", e.op == "UPDATE" || e.op == "MANUAL"),
                                         ("status changed", e.op == "MANUAL" || before != now), ("now shipped", now == "shipped"));
            },
            {{"notify_carrier", "notify_carrier", {{"sla_hours", 24}}, notify_carrier},
             {"send_shipping_email", "send_shipping_email", {{"template", "order-shipped"}, {"channel", "email"}}, send_shipping_email},
             {"notify_customer", "notify_customer", nullptr, notify_customer}}};
}

}  // namespace demo
