// Several sinks at once, chosen at compile time: `options<fanout<postgres_sink, json_lines_sink>>`. Every
// record goes to every sink; each sink has its own batches, retries, confirmations and counters
// (stats().sinks[i]), so a sink that fails holds back nobody else: while it is down its records wait in a
// backlog of its own (config.sink_backlog), and only what overflows that backlog is lost, for that sink only,
// and counted.
//
//   using opts = eventscope::options<eventscope::fanout<eventscope::postgres_sink, eventscope::json_lines_sink>>;
//   eventscope::observer<opts> obs(cfg, {}, std::forward_as_tuple(cfg), std::forward_as_tuple("/var/log/es.jsonl"));
//   obs.sink().get<eventscope::postgres_sink>().stats();
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "sink.hpp"

namespace eventscope {

namespace detail {

template <std::size_t I, class Sink>
struct fanout_member {
    fanout_member() = default;
    template <class Tuple>
    explicit fanout_member(Tuple&& args) : sink(std::make_from_tuple<Sink>(std::forward<Tuple>(args))) {}
    Sink sink;
};

template <class Indices, class... Sinks>
class fanout_base;

template <std::size_t... I, class... Sinks>
class fanout_base<std::index_sequence<I...>, Sinks...> : public fanout_member<I, Sinks>... {
public:
    fanout_base() = default;
    template <class... Tuples>
    explicit fanout_base(Tuples&&... args) : fanout_member<I, Sinks>(std::forward<Tuples>(args))... {}
};

}  // namespace detail

template <sink... Sinks>
class fanout : private detail::fanout_base<std::index_sequence_for<Sinks...>, Sinks...> {
    using base = detail::fanout_base<std::index_sequence_for<Sinks...>, Sinks...>;

public:
    static_assert(sizeof...(Sinks) >= 1, "fanout needs at least one sink");
    static constexpr std::size_t size = sizeof...(Sinks);
    template <std::size_t I>
    using sink_type = std::tuple_element_t<I, std::tuple<Sinks...>>;

    // Every sink default-constructed.
    fanout() = default;
    // One tuple of constructor arguments per sink, in order (std::forward_as_tuple(...), or std::tuple<>()).
    template <class... Tuples>
        requires(sizeof...(Tuples) == sizeof...(Sinks))
    explicit fanout(Tuples&&... args) : base(std::forward<Tuples>(args)...) {}

    fanout(const fanout&) = delete;
    fanout& operator=(const fanout&) = delete;

    template <std::size_t I>
    sink_type<I>& get() noexcept {
        return static_cast<detail::fanout_member<I, sink_type<I>>&>(*this).sink;
    }
    template <std::size_t I>
    const sink_type<I>& get() const noexcept {
        return static_cast<const detail::fanout_member<I, sink_type<I>>&>(*this).sink;
    }
    // By type, when the type appears once.
    template <class S>
    S& get() noexcept {
        return get<index_of<S>()>();
    }

private:
    template <class S>
    static constexpr std::size_t index_of() {
        constexpr bool matches[] = {std::is_same_v<S, Sinks>...};
        std::size_t found = sizeof...(Sinks), count = 0;
        for (std::size_t i = 0; i < sizeof...(Sinks); ++i)
            if (matches[i]) {
                found = i;
                ++count;
            }
        if (count != 1) throw "fanout::get<S>: S must appear exactly once (use get<I>)";
        return found;
    }
};

namespace detail {

// How the pipeline sees its sink: a list of member sinks (one for a plain sink).
template <class Sink>
struct sink_members {
    static constexpr std::size_t size = 1;
    template <std::size_t I>
    static Sink& get(Sink& s) noexcept {
        return s;
    }
    template <std::size_t I>
    using type = Sink;
};

template <class... Sinks>
struct sink_members<fanout<Sinks...>> {
    static constexpr std::size_t size = sizeof...(Sinks);
    template <std::size_t I>
    static auto& get(fanout<Sinks...>& f) noexcept {
        return f.template get<I>();
    }
    template <std::size_t I>
    using type = std::tuple_element_t<I, std::tuple<Sinks...>>;
};

}  // namespace detail
}  // namespace eventscope
