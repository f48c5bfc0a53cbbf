// orders.cancelled: an order was cancelled (by support, or held by the fraud review). Releases the stock,
// refunds a completed payment (a payments write: the chain goes on, no module detects a refund) and tells
// the customer.
#include <iostream>

#include "../service.hpp"

namespace demo {

namespace {

json release_inventory(job_context& ctx) {
    ctx.work(10, 40);
    ctx.job.log(eventscope::log_level::info, "stock released", {{"order_id", hasura_event::text(ctx.event.new_row, "id")}});
    return {{"released", true}};
}

json refund_payment(job_context& ctx) {
    auto payment_id = "pay-" + hasura_event::text(ctx.event.new_row, "id");
    auto payment = ctx.app.find("payments", payment_id);
    if (!payment || hasura_event::text(*payment, "status") != "completed") {
        ctx.job.log(eventscope::log_level::warn, "no completed payment to refund", {{"payment_id", payment_id}});
        return {{"refunded", 0}};
    }
    ctx.work(20, 60);
    ctx.app.update("payments", payment_id, {{"status", "refunded"}, {"updated_by", ctx.job.tracking_token()}}, *payment);
    return {{"payment_id", payment_id}, {"refunded", (*payment)["amount"]}};
}

json notify_customer_cancelled(job_context& ctx) {
    const auto& order = ctx.event.new_row;
    auto order_id = hasura_event::text(order, "id");
    ctx.work(5, 25);
    std::cout << "[mail] order " << order_id << " cancelled, customer " << hasura_event::text(order, "user_id") << " informed" << std::endl;
    ctx.app.update("notifications", "ntf-" + ctx.job.id().to_string(),
                   {{"user_id", hasura_event::text(order, "user_id")}, {"kind", "order_cancelled"}, {"ref_id", order_id},
                    {"channel", "email"}, {"updated_by", ctx.job.tracking_token()}},
                   json::object());
    return {{"channel", "email"}, {"template", "order-cancelled"}};
}

}  // namespace

event_module orders_cancelled_module() {
    return {"orders.cancelled", "examples/detector_service/modules/orders_cancelled.cpp",
            [](eventscope::event& ev, const hasura_event& e) {
                const auto before = hasura_event::text(e.old_row, "status"), now = hasura_event::text(e.new_row, "status");
                return EVENTSCOPE_DETECT(ev, ("on orders", e.table == "orders"), ("is an update", e.op == "UPDATE"),
                                         ("status changed", before != now), ("now cancelled", now == "cancelled"));
            },
            {{"release_inventory", "release_inventory", nullptr, release_inventory},
             {"refund_payment", "refund_payment", {{"provider", "stripe"}}, refund_payment},
             {"notify_customer_cancelled", "notify_customer_cancelled", {{"template", "order-cancelled"}}, notify_customer_cancelled}}};
}

}  // namespace demo
