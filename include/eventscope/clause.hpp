// One clause of a detection (detect.hpp) as recorded on its event execution: its name, whether it held, and
// under capture::full the expression's text and the values it compared. Shared by the frontend (the event's
// extras) and the sink-facing event_record, so the pipeline moves it without copying.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detail/utf8.hpp"

namespace eventscope {

enum class clause_outcome : std::int8_t {
    skipped,  // not evaluated: an earlier clause stopped the detection (short-circuit, like &&)
    passed,
    failed,   // this clause stopped the detection
    threw     // evaluating it threw; the event is detection_failed
};

constexpr std::string_view to_string(clause_outcome o) noexcept {
    switch (o) {
        case clause_outcome::skipped: return "skipped";
        case clause_outcome::passed: return "passed";
        case clause_outcome::failed: return "failed";
        case clause_outcome::threw: return "threw";
    }
    return "skipped";
}

struct clause_result {
    std::string name;
    clause_outcome outcome = clause_outcome::skipped;
    // capture::full only (empty otherwise): the clause's source text, and the operands of a comparison (op set)
    // or the value of a plain boolean (lhs only), each as bounded JSON-like text (detect.hpp, describe()).
    bool has_values = false;
    std::string expression;
    std::string lhs, op, rhs;
};

namespace detail {

inline constexpr std::size_t clause_name_limit = 200;         // bytes of a clause name kept
inline constexpr std::size_t clause_expression_limit = 1000;  // bytes of a clause's source text kept

// Names and expression texts come from user code: on the pipeline thread they are cut to their limits (on a
// character boundary) and made valid UTF-8 without NUL, as the database's text and jsonb need. Operand values
// are already bounded and escaped by describe().
inline void clean_text(std::string& s, std::size_t limit) {
    if (s.size() > limit) {
        std::size_t cut = limit;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
        s.resize(cut);
        s += "\xE2\x80\xA6";
    }
    if (needs_sanitizing(s, true)) s = sanitize_utf8(s, true);
}

inline std::vector<clause_result> clean_clauses(std::vector<clause_result> clauses) {
    for (auto& c : clauses) {
        clean_text(c.name, clause_name_limit);
        if (!c.expression.empty()) clean_text(c.expression, clause_expression_limit);
    }
    return clauses;
}

}  // namespace detail

}  // namespace eventscope
