// payments.completed: a payment went through. Books it, runs the fraud check, and fulfils the order: ships it,
// or holds and cancels it when the amount needs a manual review (either write continues the chain).
#include <cstdio>
#include <iostream>
#include <string>
#include <stdexcept>

#include "../service.hpp"

namespace demo {

namespace {

std::string money(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

constexpr double review_limit = 900.0;

struct fraud_review_required : std::runtime_error {
    using std::runtime_error::runtime_error;
};

double amount(const json& row) { return row.at("amount").get<double>(); }

json record_ledger_entry(job_context& ctx) {
    ctx.work(5, 25);
    auto id = "le-" + hasura_event::text(ctx.event.new_row, "id");
    ctx.job.log(eventscope::log_level::info, "ledger entry booked", {{"entry", id}, {"amount", amount(ctx.event.new_row)}});
    return {{"ledger_entry", id}};
}

json fraud_check(job_context& ctx) {
    ctx.work(10, 50);
    double a = amount(ctx.event.new_row);
    if (a > review_limit)
        throw fraud_review_required("amount " + money(a) + " exceeds the automatic approval limit of " +
                                    money(review_limit));
    return {{"score", 0.12}, {"approved", true}};
}

json fulfil_order(job_context& ctx) {
    const auto& payment = ctx.event.new_row;
    auto order_id = hasura_event::text(payment, "order_id");
    auto token = ctx.job.tracking_token();
    json base = {{"id", order_id}, {"user_id", hasura_event::text(payment, "user_id")}, {"total", payment.value("amount", json(0))},
                 {"status", "imported"}};  // only for an order this store has never seen
    ctx.work(20, 100);
    if (amount(payment) > review_limit) {
        std::cout << "[warehouse] order " << order_id << " held for review and cancelled" << std::endl;
        ctx.app.update("orders", order_id, {{"status", "cancelled"}, {"updated_by", token}}, base);
        return {{"order_id", order_id}, {"held", true}};
    }
    auto current = ctx.app.find("orders", order_id);
    auto carrier = current ? hasura_event::text(*current, "carrier") : std::string();
    if (carrier.empty()) carrier = "dhl";
    auto tracking = "TRK" + std::to_string(std::hash<std::string>{}(order_id) % 100000000);
    std::cout << "[warehouse] order " << order_id << " packed, handed to " << carrier << std::endl;
    ctx.app.update("orders", order_id, {{"status", "shipped"}, {"carrier", carrier}, {"tracking_number", tracking}, {"updated_by", token}},
                   base);
    return {{"order_id", order_id}, {"carrier", carrier}, {"tracking_number", tracking}};
}

}  // namespace

event_module payments_completed_module() {
    return {"payments.completed", "examples/detector_service/modules/payments_completed.cpp",
            [](eventscope::event& ev, const hasura_event& e) {
                const auto before = hasura_event::text(e.old_row, "status"), now = hasura_event::text(e.new_row, "status");
                return EVENTSCOPE_DETECT(ev, ("on payments", e.table == "payments"), ("not a delete", e.op != "DELETE"),
                                         ("status changed", before != now), ("now completed", now == "completed"),
                                         // typed read: an amount sent as text throws, and the detection fails
                                         ("amount is not negative", amount(e.new_row) >= 0));
            },
            {{"record_ledger_entry", "record_ledger_entry", {{"ledger", "main"}}, record_ledger_entry},
             {"fraud_check", "fraud_check", {{"limit", review_limit}}, fraud_check},
             {"fulfil_order", "fulfil_order", {{"warehouse", "fra-1"}}, fulfil_order}}};
}

}  // namespace demo
