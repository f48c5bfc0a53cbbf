// orders.created: a new order was placed. Reserves stock, confirms by email, and charges the customer: the
// payment row it writes (updated_by = this job's tracking token) is the next event of the chain.
#include <cstdio>
#include <iostream>
#include <string>

#include "../service.hpp"

namespace demo {

namespace {

std::string money(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

double order_total(const json& row) {
    // A typed read: a total sent as text makes the job fail, and the failure is recorded with its stack.
    return row.at("total").get<double>();
}

json reserve_inventory(job_context& ctx) {
    double total = order_total(ctx.event.new_row);
    if (total <= 0) throw std::invalid_argument("cannot reserve stock for an order with total " + money(total));
    ctx.work(10, 60);
    int items = 1 + static_cast<int>(total) % 5;
    ctx.job.log(eventscope::log_level::info, "reserved " + std::to_string(items) + " item(s)", {{"warehouse", "fra-1"}});
    return {{"reserved_items", items}, {"warehouse", "fra-1"}};
}

json send_order_confirmation(job_context& ctx) {
    auto order_id = hasura_event::text(ctx.event.new_row, "id");
    auto user_id = hasura_event::text(ctx.event.new_row, "user_id");
    ctx.work(5, 30);
    std::cout << "[mail] order confirmation for " << order_id << " sent to user " << user_id << std::endl;
    ctx.app.update("notifications", "ntf-" + ctx.job.id().to_string(),
                   {{"user_id", user_id}, {"kind", "order_confirmation"}, {"ref_id", order_id}, {"channel", "email"},
                    {"updated_by", ctx.job.tracking_token()}},
                   json::object());
    return {{"channel", "email"}, {"template", "order-confirmation"}};
}

json request_payment(job_context& ctx) {
    const auto& order = ctx.event.new_row;
    auto order_id = hasura_event::text(order, "id");
    double total = order_total(order);
    if (total <= 0) return {{"skipped", "nothing to charge"}};
    auto payment_id = "pay-" + order_id;
    auto token = ctx.job.tracking_token();
    json payment = {{"id", payment_id}, {"order_id", order_id}, {"user_id", hasura_event::text(order, "user_id")},
                    {"amount", total}, {"status", "pending"}, {"provider", "stripe"}, {"updated_by", token}};
    if (!ctx.app.find("payments", payment_id)) ctx.app.insert("payments", payment);
    ctx.work(20, 80);  // the payment provider's round trip
    ctx.job.log(eventscope::log_level::info, "payment captured", {{"payment_id", payment_id}, {"amount", total}});
    ctx.app.update("payments", payment_id, {{"status", "completed"}, {"updated_by", token}}, payment);
    return {{"payment_id", payment_id}, {"amount", total}, {"status", "completed"}};
}

}  // namespace

event_module orders_created_module() {
    return {"orders.created", "examples/detector_service/modules/orders_created.cpp",
            [](eventscope::event& ev, const hasura_event& e) {
                const auto status = hasura_event::text(e.new_row, "status");
                return EVENTSCOPE_DETECT(ev, ("on orders", e.table == "orders"), ("is an insert", e.op == "INSERT"),
                                         ("pending or no status", status.empty() || status == "pending"));
            },
            {{"reserve_inventory", "reserve_inventory", {{"warehouse", "fra-1"}}, reserve_inventory},
             {"send_order_confirmation", "send_order_confirmation", {{"template", "order-confirmation"}, {"channel", "email"}},
              send_order_confirmation},
             {"request_payment", "request_payment", {{"provider", "stripe"}, {"capture", true}}, request_payment}}};
}

}  // namespace demo
