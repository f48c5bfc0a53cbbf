// Short names (event, job, function names) stored inline so that a scope's record needs no allocation.
#pragma once

#include <cstring>
#include <memory>
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
        if (this != &other) assign(other.view());
        return *this;
    }
    name(name&& other) noexcept { steal(other); }
    name& operator=(name&& other) noexcept {
        if (this != &other) steal(other);
        return *this;
    }

    std::string_view view() const noexcept { return heap_ ? std::string_view(heap_.get(), size_) : std::string_view(inline_, size_); }
    std::string str() const { return std::string(view()); }
    bool empty() const noexcept { return size_ == 0; }
    operator std::string_view() const noexcept { return view(); }
    friend bool operator==(const name& a, std::string_view b) noexcept { return a.view() == b; }

private:
    void assign(std::string_view text) {
        size_ = static_cast<std::uint32_t>(text.size());
        if (text.size() <= inline_capacity) {
            heap_.reset();
            std::memcpy(inline_, text.data(), text.size());
            inline_[text.size()] = '\0';
        } else {
            heap_ = std::make_unique<char[]>(text.size());
            std::memcpy(heap_.get(), text.data(), text.size());
        }
    }
    void steal(name& other) noexcept {
        size_ = other.size_;
        heap_ = std::move(other.heap_);
        if (!heap_) std::memcpy(inline_, other.inline_, size_ + 1);
        other.size_ = 0;
        other.inline_[0] = '\0';
    }

    std::unique_ptr<char[]> heap_;
    std::uint32_t size_ = 0;
    char inline_[inline_capacity + 1];
};

}  // namespace eventscope
