// Short names (event, job, function names) stored inline so that a scope's record needs no allocation.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace eventscope {

class name {
public:
    static constexpr std::size_t inline_capacity = 31;

    name() noexcept { inline_[0] = '\0'; }
    name(std::string_view text) { assign(text); }
    name(const char* text) : name(std::string_view(text ? text : "")) {}
    name(const std::string& text) : name(std::string_view(text)) {}

    name(const name& other) { assign(other.view()); }
    name& operator=(const name& other) {
        if (this != &other) {
            release();
            assign(other.view());
        }
        return *this;
    }
    name(name&& other) noexcept { steal(other); }
    name& operator=(name&& other) noexcept {
        if (this != &other) {
            release();
            steal(other);
        }
        return *this;
    }
    ~name() { release(); }

    std::string_view view() const noexcept { return {heap_ ? heap_ : inline_, size_}; }
    std::string str() const { return std::string(view()); }
    bool empty() const noexcept { return size_ == 0; }
    operator std::string_view() const noexcept { return view(); }
    friend bool operator==(const name& a, std::string_view b) noexcept { return a.view() == b; }

private:
    void assign(std::string_view text) {
        size_ = static_cast<std::uint32_t>(text.size());
        if (text.size() <= inline_capacity) {
            heap_ = nullptr;
            std::memcpy(inline_, text.data(), text.size());
            inline_[text.size()] = '\0';
        } else {
            heap_ = new char[text.size()];
            std::memcpy(heap_, text.data(), text.size());
        }
    }
    // A fixed-size copy of the inline buffer: two vector moves, cheaper than copying exactly size_ bytes.
    void steal(name& other) noexcept {
        size_ = other.size_;
        heap_ = other.heap_;
        std::memcpy(inline_, other.inline_, sizeof inline_);
        other.heap_ = nullptr;
        other.size_ = 0;
    }
    void release() noexcept { delete[] heap_; }

    char* heap_ = nullptr;
    std::uint32_t size_ = 0;
    char inline_[inline_capacity + 1];
};

}  // namespace eventscope
