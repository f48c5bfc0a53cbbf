// Text from exceptions, payloads and user code may be any bytes; outputs (JSON, Postgres text) need UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace eventscope::detail {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid (overlong, surrogate, truncated).
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    if (c < 0x80) return 1;
    std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    if (n == 3 && ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) > 0x9F))) return 0;
    if (n == 4 && ((c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) > 0x8F))) return 0;
    return n;
}

inline bool needs_sanitizing(std::string_view s, bool strip_nul) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        if (strip_nul && s[i] == '\0') return true;
        auto n = utf8_sequence_length(s, i);
        if (n == 0) return true;
        i += n;
    }
    return false;
}

// Replaces each invalid byte (and NUL when asked: Postgres text cannot hold it) with U+FFFD.
inline std::string sanitize_utf8(std::string_view s, bool strip_nul) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        auto n = strip_nul && s[i] == '\0' ? 0 : utf8_sequence_length(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace eventscope::detail
