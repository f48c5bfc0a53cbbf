// A sink chosen at run time (--sink jsonl|postgres). The observer's sink is a compile-time type; this wrapper
// puts one virtual call per batch (not per record) between the pipeline and the real sink.
#pragma once

#include <memory>
#include <span>
#include <utility>

#include <eventscope/records.hpp>
#include <eventscope/sink.hpp>

namespace demo {

class dynamic_sink {
public:
    struct backend {
        virtual ~backend() = default;
        virtual eventscope::write_result write(std::span<eventscope::record> batch) = 0;
    };

    template <class Sink>
    struct model final : backend {
        template <class... Args>
        explicit model(Args&&... args) : sink(std::forward<Args>(args)...) {}
        eventscope::write_result write(std::span<eventscope::record> batch) override { return sink.write(batch); }
        Sink sink;
    };

    template <class Sink, class... Args>
    static std::unique_ptr<backend> make(Args&&... args) {
        return std::make_unique<model<Sink>>(std::forward<Args>(args)...);
    }

    explicit dynamic_sink(std::unique_ptr<backend> b) : backend_(std::move(b)) {}

    eventscope::write_result write(std::span<eventscope::record> batch) { return backend_->write(batch); }

private:
    std::unique_ptr<backend> backend_;
};

}  // namespace demo
