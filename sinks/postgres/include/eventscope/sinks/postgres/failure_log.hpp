// The sink's few log lines, throttled: a configuration error once per distinct message, an outage once until
// writing works again ("writing again"), never one line per batch.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include <eventscope/sinks/postgres/failures.hpp>

namespace eventscope::pg {

class failure_log {
public:
    explicit failure_log(std::function<void(const std::string&)> sink) : sink_(std::move(sink)) {}

    void failed(const attempt& a) {
        if (a.kind == failure_kind::connection) {
            if (!in_outage_) line(a.message + " (retrying; logged once per outage)");
            in_outage_ = true;
            last_.clear();
            return;
        }
        if (a.message != last_) line(a.message);
        last_ = a.message;
    }

    void succeeded() {
        if (in_outage_ || !last_.empty()) line("postgres_sink: writing again");
        in_outage_ = false;
        last_.clear();
    }

    // Logged once per `key` for the life of the sink (e.g. a bound reached).
    void once(const std::string& key, const std::string& text) {
        if (once_.find('\n' + key + '\n') != std::string::npos) return;
        once_ += '\n' + key + '\n';
        line(text);
    }

    void line(const std::string& text) const {
        if (sink_) sink_(text);
        else std::fprintf(stderr, "eventscope: %s\n", text.c_str());
    }

private:
    std::function<void(const std::string&)> sink_;
    bool in_outage_ = false;
    std::string last_;
    std::string once_;
};

}  // namespace eventscope::pg
