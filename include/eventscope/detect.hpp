// Detections stated as named clauses, so that "why was it (not) detected" has an answer: each clause is
// recorded on its event execution with its outcome, and under capture::full with the expression's text and the
// values it compared. Detected = every clause holds; evaluation stops at the first clause that does not (like
// &&), which is recorded as the one that stopped it and the later ones as skipped.
//
//   bool shipped = EVENTSCOPE_DETECT(ev, ("status changed", old_status != new_status),
//                                        ("now shipped", new_status == "shipped"));
//   if (shipped) { EVENTSCOPE_JOB(ev, job, "send_email"); ... }
//
// The macro decomposes each clause's comparison like Catch2 (`a == b` is recorded as both operands' text), calls
// ev.detected() with the outcome and returns it. Under capture::off it is the bare expression
// `(c1) && (c2) && ...` passed to the empty event's detected(): the same machine code as without it
// (benchmarks/offcheck.cpp). Without the macro:
//
//   eventscope::detection d(ev);
//   if (d.detected(d("status changed", old_status != new_status) &&
//                  d("now shipped", eventscope::that(new_status) == "shipped"))) { ... }
//
// In a replay (config.replay, replay.hpp) detected() records the real decision and returns false: no job runs.
// Values are bounded (clause_value_limit bytes of text per operand, JSON nesting to clause_json_depth) and made
// valid UTF-8, whatever the operands hold. A type is described by an overload
// `void eventscope_describe(std::string& out, const T&)` found by ADL, else by its value if it is a number,
// string, enum, pointer, optional or JSON, else as "{?}".
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "clause.hpp"
#include "detail/utf8.hpp"
#include "policy.hpp"
#include "scopes.hpp"

namespace eventscope {

namespace detail {

inline constexpr std::size_t clause_value_limit = 256;  // bytes of text per recorded operand
inline constexpr int clause_json_depth = 4;             // JSON operands: nesting shown, deeper levels elided

// `"text"` with JSON escapes, at most `limit` bytes of the text (cut on a character boundary), invalid UTF-8 as
// U+FFFD; a cut string ends with `…(+N bytes)` after the quote.
inline void append_quoted(std::string& out, std::string_view s, std::size_t limit) {
    out += '"';
    std::size_t used = 0, i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : utf8_sequence_length(s, i);
        if (used + (n ? n : 1) > limit) break;
        if (c < 0x80) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                default:
                    if (c < 0x20 || c == 0x7f) {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "\\u%04x", c);
                        out += buf;
                    } else {
                        out += static_cast<char>(c);
                    }
            }
            ++i;
            ++used;
        } else if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
            ++used;
        } else {
            out.append(s.substr(i, n));
            i += n;
            used += n;
        }
    }
    out += '"';
    if (i < s.size()) {
        out += "\xE2\x80\xA6(+";
        out += std::to_string(s.size() - i);
        out += " bytes)";
    }
}

template <class J>
concept json_like = requires(const J& j) {
    j.is_object();
    j.is_array();
    j.is_string();
    j.is_primitive();
    j.items();
    j.dump();
    typename J::string_t;
};

// A JSON value as compact text, stopping once `end` bytes of output are reached: cost bounded by the limit, not
// by the document (a huge array is not walked to its end).
template <class J>
void append_json(std::string& out, const J& j, std::size_t end, int depth) {
    auto left = [&] { return out.size() < end ? end - out.size() : std::size_t{0}; };
    if (j.is_string()) return append_quoted(out, j.template get_ref<const typename J::string_t&>(), left() > 8 ? left() : 8);
    if (j.is_primitive()) return void(out += j.dump());
    const bool object = j.is_object();
    if (depth <= 0) return void(out += object ? "{\xE2\x80\xA6}" : "[\xE2\x80\xA6]");
    out += object ? '{' : '[';
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (out.size() >= end) {
            out += first ? "\xE2\x80\xA6" : ",\xE2\x80\xA6";
            break;
        }
        if (!first) out += ',';
        first = false;
        if (object) {
            append_quoted(out, it.key(), left() > 8 ? left() : 8);
            out += ':';
        }
        append_json(out, *it, end, depth - 1);
    }
    out += object ? '}' : ']';
}

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

}  // namespace detail

// Appends the bounded text of one operand (see the header comment for the rules).
template <class T>
void describe(std::string& out, const T& v) {
    using U = std::remove_cvref_t<T>;
    constexpr std::size_t limit = detail::clause_value_limit;
    if constexpr (requires { eventscope_describe(out, v); }) {
        std::string mine;
        eventscope_describe(mine, v);
        detail::append_quoted(out, mine, limit);
    } else if constexpr (std::is_same_v<U, bool>) {
        out += v ? "true" : "false";
    } else if constexpr (std::is_same_v<U, std::nullptr_t>) {
        out += "null";
    } else if constexpr (std::is_same_v<U, char>) {
        detail::append_quoted(out, std::string_view(&v, 1), limit);
    } else if constexpr (std::is_enum_v<U>) {
        describe(out, static_cast<std::underlying_type_t<U>>(v));
    } else if constexpr (std::is_arithmetic_v<U>) {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, r.ptr);
    } else if constexpr (detail::json_like<U>) {
        detail::append_json(out, v, out.size() + limit, detail::clause_json_depth);
    } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
        detail::append_quoted(out, std::string_view(v), limit);
    } else if constexpr (detail::is_optional<U>::value) {
        if (v) describe(out, *v);
        else out += "nullopt";
    } else if constexpr (std::is_pointer_v<U>) {
        if (!v) {
            out += "nullptr";
        } else {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%p", static_cast<const void*>(v));
            out += buf;
        }
    } else {
        out += "{?}";
    }
}

namespace detail {

// Catch2-style decomposition: `decomposer{} <= a == b` is `(decomposer{} <= a) == b`, so the comparison is seen
// with both operands. Operands are held by reference: a decomposed clause is consumed within its full-expression.
template <class L, class R>
struct compared {
    const L& lhs;
    const R& rhs;
    bool result;
    const char* op;
    constexpr explicit operator bool() const noexcept { return result; }
};

template <class L>
struct decomposed {
    const L& value;
    template <class R>
    constexpr compared<L, R> operator==(const R& r) const {
        return {value, r, static_cast<bool>(value == r), "=="};
    }
    template <class R>
    constexpr compared<L, R> operator!=(const R& r) const {
        return {value, r, static_cast<bool>(value != r), "!="};
    }
    template <class R>
    constexpr compared<L, R> operator<(const R& r) const {
        return {value, r, static_cast<bool>(value < r), "<"};
    }
    template <class R>
    constexpr compared<L, R> operator<=(const R& r) const {
        return {value, r, static_cast<bool>(value <= r), "<="};
    }
    template <class R>
    constexpr compared<L, R> operator>(const R& r) const {
        return {value, r, static_cast<bool>(value > r), ">"};
    }
    template <class R>
    constexpr compared<L, R> operator>=(const R& r) const {
        return {value, r, static_cast<bool>(value >= r), ">="};
    }
    constexpr explicit operator bool() const { return static_cast<bool>(value); }
};

struct decomposer {
    template <class T>
    friend constexpr decomposed<T> operator<=(decomposer, const T& v) noexcept {
        return {v};
    }
};

template <class E>
struct is_compared : std::false_type {};
template <class L, class R>
struct is_compared<compared<L, R>> : std::true_type {};
template <class E>
struct is_decomposed : std::false_type {};
template <class L>
struct is_decomposed<decomposed<L>> : std::true_type {};

template <class E>
constexpr bool outcome_of(const E& e) {
    if constexpr (is_compared<E>::value) return e.result;
    else return static_cast<bool>(e);
}

// Records the clauses of one detection into its event's extras. Several detections on one event append.
template <class Event>
class clause_runner;

template <capture Level>
class clause_runner<basic_event<Level>> {
    static constexpr bool full = Level == capture::full;

public:
    static constexpr bool off = false;

    clause_runner(basic_event<Level>& ev, std::size_t count) : event_(ev), clauses_(ev.clause_results()) {
        if (clauses_) {
            base_ = clauses_->size();
            clauses_->reserve(base_ + count);
        }
    }

    // A clause of the macro, before any is evaluated: the ones never reached are recorded as skipped.
    void declare(std::string_view name, [[maybe_unused]] std::string_view expression) {
        if (!clauses_) return;
        auto& c = clauses_->emplace_back();
        c.name.assign(name.data(), name.size());
        if constexpr (full) c.expression.assign(expression.data(), expression.size());
    }

    template <class E>
    bool check(const E& e) {
        const bool ok = outcome_of(e);
        if (clauses_ && base_ + pos_ < clauses_->size()) {
            auto& c = (*clauses_)[base_ + pos_];
            c.outcome = ok ? clause_outcome::passed : clause_outcome::failed;
            if constexpr (full) record_values(c, e);
        }
        ++pos_;
        return ok;
    }

    // The clause being evaluated threw (the exception goes on; the event scope records detection_failed).
    void threw() noexcept {
        if (clauses_ && base_ + pos_ < clauses_->size()) (*clauses_)[base_ + pos_].outcome = clause_outcome::threw;
    }

    bool decide(bool all) { return event_.detected(all); }

private:
    template <class E>
    static void record_values(clause_result& c, const E& e) noexcept {
        try {
            c.has_values = true;
            if constexpr (is_compared<E>::value) {
                describe(c.lhs, e.lhs);
                c.op = e.op;
                describe(c.rhs, e.rhs);
            } else if constexpr (is_decomposed<E>::value) {
                describe(c.lhs, e.value);
            } else {
                describe(c.lhs, e);
            }
        } catch (...) {
            // Out of memory while describing: the outcome stands without its values.
            c.has_values = false;
        }
    }

    basic_event<Level>& event_;
    std::vector<clause_result>* clauses_;
    std::size_t base_ = 0, pos_ = 0;
};

template <>
class clause_runner<basic_event<capture::off>> {
public:
    static constexpr bool off = true;
};

}  // namespace detail

// `that(x) == y`: a comparison whose operands a detection records (capture::full), for clauses written
// without the macro.
template <class T>
constexpr detail::decomposed<T> that(const T& value) noexcept {
    return {value};
}

// A detection without the macro: `d(name, outcome)` records one clause and returns its outcome, so `&&` gives
// the short-circuit; `detected(all)` decides the event (false in a replay).
template <capture Level>
class basic_detection {
public:
    explicit basic_detection(basic_event<Level>& ev) : runner_(ev, 4) {}
    basic_detection(const basic_detection&) = delete;
    basic_detection& operator=(const basic_detection&) = delete;

    template <class E>
    bool operator()(std::string_view clause_name, const E& outcome) {
        runner_.declare(clause_name, {});
        return runner_.check(outcome);
    }
    bool detected(bool all) { return runner_.decide(all); }

private:
    detail::clause_runner<basic_event<Level>> runner_;
};

template <>
class basic_detection<capture::off> {
public:
    explicit constexpr basic_detection(basic_event<capture::off>&) noexcept {}
    template <class E>
    constexpr bool operator()(std::string_view, const E& outcome) const {
        return detail::outcome_of(outcome);
    }
    constexpr bool detected(bool all) const noexcept { return all; }
};

template <capture Level>
basic_detection(basic_event<Level>&) -> basic_detection<Level>;

using detection = basic_detection<default_capture>;

}  // namespace eventscope

// ---- the macro --------------------------------------------------------------------------------------------------

// A clause is `(name, expression)`; the expression may contain commas.
#define EVENTSCOPE_DETAIL_CLAUSE_NAME(name, ...) name
#define EVENTSCOPE_DETAIL_CLAUSE_EXPR(name, ...) __VA_ARGS__
#define EVENTSCOPE_DETAIL_CLAUSE_TEXT(name, ...) #__VA_ARGS__

// FOR_EACH over up to 4^4 = 256 clauses (C++20 __VA_OPT__ recursion).
#define EVENTSCOPE_DETAIL_PARENS ()
#define EVENTSCOPE_DETAIL_EXPAND(...) EVENTSCOPE_DETAIL_EXPAND3(EVENTSCOPE_DETAIL_EXPAND3(EVENTSCOPE_DETAIL_EXPAND3(EVENTSCOPE_DETAIL_EXPAND3(__VA_ARGS__))))
#define EVENTSCOPE_DETAIL_EXPAND3(...) EVENTSCOPE_DETAIL_EXPAND2(EVENTSCOPE_DETAIL_EXPAND2(EVENTSCOPE_DETAIL_EXPAND2(EVENTSCOPE_DETAIL_EXPAND2(__VA_ARGS__))))
#define EVENTSCOPE_DETAIL_EXPAND2(...) EVENTSCOPE_DETAIL_EXPAND1(EVENTSCOPE_DETAIL_EXPAND1(EVENTSCOPE_DETAIL_EXPAND1(EVENTSCOPE_DETAIL_EXPAND1(__VA_ARGS__))))
#define EVENTSCOPE_DETAIL_EXPAND1(...) __VA_ARGS__
#define EVENTSCOPE_DETAIL_FOR_EACH(macro, ...) __VA_OPT__(EVENTSCOPE_DETAIL_EXPAND(EVENTSCOPE_DETAIL_FOR_EACH_STEP(macro, __VA_ARGS__)))
#define EVENTSCOPE_DETAIL_FOR_EACH_STEP(macro, first, ...) \
    macro(first) __VA_OPT__(EVENTSCOPE_DETAIL_FOR_EACH_AGAIN EVENTSCOPE_DETAIL_PARENS(macro, __VA_ARGS__))
#define EVENTSCOPE_DETAIL_FOR_EACH_AGAIN() EVENTSCOPE_DETAIL_FOR_EACH_STEP

#define EVENTSCOPE_DETAIL_PLUS_ONE(clause) +1
#define EVENTSCOPE_DETAIL_OFF_TERM(clause) static_cast<bool>(EVENTSCOPE_DETAIL_CLAUSE_EXPR clause) &&
#define EVENTSCOPE_DETAIL_DECLARE(clause) \
    eventscope_detect_.declare(EVENTSCOPE_DETAIL_CLAUSE_NAME clause, EVENTSCOPE_DETAIL_CLAUSE_TEXT clause);
#define EVENTSCOPE_DETAIL_CHECK(clause)                                                                \
    if (!eventscope_detect_.check(::eventscope::detail::decomposer{} <= EVENTSCOPE_DETAIL_CLAUSE_EXPR clause)) \
        return eventscope_detect_.decide(false);

#ifndef EVENTSCOPE_DISABLE

// EVENTSCOPE_DETECT(ev, ("name", expression), ...) -> bool: see the top of this file.
#define EVENTSCOPE_DETECT(event, ...)                                                                                  \
    ([&](auto& eventscope_event_) -> bool {                                                                            \
        using eventscope_runner_ = ::eventscope::detail::clause_runner<std::remove_cvref_t<decltype(eventscope_event_)>>; \
        if constexpr (eventscope_runner_::off) {                                                                       \
            return eventscope_event_.detected(EVENTSCOPE_DETAIL_FOR_EACH(EVENTSCOPE_DETAIL_OFF_TERM, __VA_ARGS__) true); \
        } else {                                                                                                       \
            eventscope_runner_ eventscope_detect_(eventscope_event_, 0 EVENTSCOPE_DETAIL_FOR_EACH(EVENTSCOPE_DETAIL_PLUS_ONE, __VA_ARGS__)); \
            EVENTSCOPE_DETAIL_FOR_EACH(EVENTSCOPE_DETAIL_DECLARE, __VA_ARGS__)                                           \
            try {                                                                                                      \
                _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wparentheses\"")                     \
                EVENTSCOPE_DETAIL_FOR_EACH(EVENTSCOPE_DETAIL_CHECK, __VA_ARGS__)                                       \
                _Pragma("GCC diagnostic pop")                                                                          \
            } catch (...) {                                                                                            \
                eventscope_detect_.threw();                                                                            \
                throw;                                                                                                 \
            }                                                                                                          \
            return eventscope_detect_.decide(true);                                                                    \
        }                                                                                                              \
    }(event))

#else

// Scopes removed from the build: the detection is its bare expression, still evaluated.
#define EVENTSCOPE_DETECT(event, ...) \
    (static_cast<void>(sizeof(event)), (EVENTSCOPE_DETAIL_FOR_EACH(EVENTSCOPE_DETAIL_OFF_TERM, __VA_ARGS__) true))

#endif
