// Bounded multi-producer queue (Vyukov's sequence-per-slot design). Producers never block and never take a
// lock: a full ring makes try_push fail and the caller counts the record as dropped.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>

namespace eventscope::detail {

inline constexpr std::size_t cache_line = 64;

template <class T>
class mpsc_ring {
public:
    explicit mpsc_ring(std::size_t min_capacity)
        : capacity_(std::bit_ceil(min_capacity < 2 ? std::size_t{2} : min_capacity)),
          mask_(capacity_ - 1),
          slots_(new slot[capacity_]) {
        for (std::size_t i = 0; i < capacity_; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
    }
    ~mpsc_ring() {
        T discarded;
        while (try_pop(discarded)) {
        }
    }
    mpsc_ring(const mpsc_ring&) = delete;
    mpsc_ring& operator=(const mpsc_ring&) = delete;

    // Constructs the item in its slot (no intermediate move). Returns the ticket (0-based count of successful
    // pushes) or nullopt when full, in which case the arguments are left untouched.
    template <class... Args>
    std::optional<std::size_t> try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
        std::size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
        for (;;) {
            slot& s = slots_[pos & mask_];
            std::size_t seq = s.sequence.load(std::memory_order_acquire);
            auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
            if (diff == 0) {
                if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    ::new (static_cast<void*>(s.storage)) T(std::forward<Args>(args)...);
                    s.sequence.store(pos + 1, std::memory_order_release);
                    return pos;
                }
            } else if (diff < 0) {
                return std::nullopt;
            } else {
                pos = enqueue_pos_.load(std::memory_order_relaxed);
            }
        }
    }
    std::optional<std::size_t> try_push(T&& value) noexcept(std::is_nothrow_move_constructible_v<T>) {
        return try_emplace(std::move(value));
    }

    // Single consumer.
    bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
        std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
        slot& s = slots_[pos & mask_];
        std::size_t seq = s.sequence.load(std::memory_order_acquire);
        if (static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1) < 0) return false;
        T* item = std::launder(reinterpret_cast<T*>(s.storage));
        out = std::move(*item);
        item->~T();
        s.sequence.store(pos + mask_ + 1, std::memory_order_release);
        dequeue_pos_.store(pos + 1, std::memory_order_relaxed);
        return true;
    }

    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t pushed() const noexcept { return enqueue_pos_.load(std::memory_order_acquire); }
    std::size_t popped() const noexcept { return dequeue_pos_.load(std::memory_order_acquire); }
    // Approximate under concurrent use; exact when quiescent.
    std::size_t size() const noexcept {
        auto popped_now = popped();
        auto pushed_now = pushed();
        return pushed_now > popped_now ? pushed_now - popped_now : 0;
    }

private:
    struct slot {
        std::atomic<std::size_t> sequence;
        alignas(T) unsigned char storage[sizeof(T)];
    };

    const std::size_t capacity_;
    const std::size_t mask_;
    std::unique_ptr<slot[]> slots_;
    alignas(cache_line) std::atomic<std::size_t> enqueue_pos_{0};
    alignas(cache_line) std::atomic<std::size_t> dequeue_pos_{0};
};

}  // namespace eventscope::detail
