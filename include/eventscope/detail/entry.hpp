// The frontend's compact records: what a scope pushes into the ring (one trivially copyable 88-byte `entry`
// per row write), and the few heap blocks an entry may own (a copied name, a job's details, an invocation's
// payload). The pipeline thread turns them into the sink-facing `record` (records.hpp, detail/convert.hpp):
// nothing here needs nlohmann_json to be complete, Asio, or a sink.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "../clause.hpp"
#include "../status.hpp"
#include "../uuid.hpp"

namespace eventscope {

namespace detail {

// A name copied once and shared by the entries of one scope (start, detected, end), freed by whichever
// releases it last: the scope (when a push failed) or the pipeline thread (after converting an entry).
struct shared_text {
    std::atomic<std::uint32_t> refs;
    std::uint32_t size;
    char* data() noexcept { return reinterpret_cast<char*>(this + 1); }

    static shared_text* make(std::string_view text) {
        void* memory = ::operator new(sizeof(shared_text) + text.size());
        auto* t = ::new (memory) shared_text{{1}, static_cast<std::uint32_t>(text.size())};
        if (!text.empty()) std::memcpy(t->data(), text.data(), text.size());
        return t;
    }
    void retain() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            this->~shared_text();
            ::operator delete(this);
        }
    }
};

// A scope's name: text of static storage duration (a string literal given to a macro) is referenced; any
// other text is copied once into a shared_text.
class scope_name {
public:
    scope_name() noexcept = default;
    scope_name(const char* data, std::size_t size, bool is_static) {
        if (is_static) {
            data_ = data;
            size_ = static_cast<std::uint32_t>(size);
        } else {
            owner_ = shared_text::make(std::string_view(data, size));
            data_ = owner_->data();
            size_ = owner_->size;
        }
    }
    scope_name(const scope_name&) = delete;
    scope_name& operator=(const scope_name&) = delete;
    ~scope_name() {
        if (owner_) owner_->release();
    }

    const char* data() const noexcept { return data_; }
    std::uint32_t size() const noexcept { return size_; }
    shared_text* owner() const noexcept { return owner_; }
    std::string_view view() const noexcept { return {data_, size_}; }
    // One more reference for an entry about to be pushed; undo() if the push failed.
    shared_text* share() const noexcept {
        if (owner_) owner_->retain();
        return owner_;
    }
    static void undo(shared_text* t) noexcept {
        if (t) t->release();
    }

private:
    const char* data_ = "";
    std::uint32_t size_ = 0;
    shared_text* owner_ = nullptr;
};

}  // namespace detail

// What scopes accept as a name: anything string-like. The macros mark string literals, which are then
// referenced instead of copied (Tracy's static source location, without the fixed variable name).
struct name_arg {
    const char* data = "";
    std::size_t size = 0;
    bool is_static = false;

    name_arg(const char* text) noexcept : data(text ? text : ""), size(text ? std::strlen(text) : 0) {}
    name_arg(std::string_view text) noexcept : data(text.data()), size(text.size()) {}
    name_arg(const std::string& text) noexcept : data(text.data()), size(text.size()) {}

    // Used by the macros: `literal` is __builtin_constant_p of the argument, true only for a string literal.
    template <class Text>
    static name_arg from_macro(const Text& text, bool literal) noexcept {
        name_arg n(text);
        if constexpr (std::is_convertible_v<const Text&, const char*>) n.is_static = literal;
        return n;
    }
};

namespace detail {

// A value of nlohmann::json held without the frontend needing the complete type: stored in place (a json is
// 16 bytes), with its destroy and move functions instantiated where the caller had a complete json.
struct json_box {
    json_box() noexcept = default;
    json_box(const json_box&) = delete;
    json_box& operator=(const json_box&) = delete;
    json_box(json_box&& o) noexcept { take(o); }
    json_box& operator=(json_box&& o) noexcept {
        if (this != &o) {
            reset();
            take(o);
        }
        return *this;
    }
    ~json_box() { reset(); }

    template <class Json>
    static json_box make(Json&& value) {
        using J = std::remove_cvref_t<Json>;
        static_assert(sizeof(J) <= sizeof(storage_) && alignof(J) <= 16, "a JSON value larger than nlohmann::json");
        json_box b;
        ::new (static_cast<void*>(b.storage_)) J(std::forward<Json>(value));
        b.destroy_ = [](void* p) noexcept { static_cast<J*>(p)->~J(); };
        b.relocate_ = [](void* from, void* to) noexcept {
            ::new (to) J(std::move(*static_cast<J*>(from)));
            static_cast<J*>(from)->~J();
        };
        return b;
    }
    void* get() noexcept { return destroy_ ? static_cast<void*>(storage_) : nullptr; }
    const void* get() const noexcept { return destroy_ ? static_cast<const void*>(storage_) : nullptr; }
    void reset() noexcept {
        if (destroy_) destroy_(storage_);
        destroy_ = nullptr;
    }
    explicit operator bool() const noexcept { return destroy_ != nullptr; }

private:
    void take(json_box& o) noexcept {
        if (!o.destroy_) return;
        o.relocate_(o.storage_, storage_);
        destroy_ = o.destroy_;
        relocate_ = o.relocate_;
        o.destroy_ = nullptr;
    }
    alignas(16) unsigned char storage_[16];
    void (*destroy_)(void*) noexcept = nullptr;
    void (*relocate_)(void* from, void* to) noexcept = nullptr;
};

// Bytes kept in place when they fit (a small result's flat fields), on the heap otherwise.
class small_bytes {
public:
    static constexpr std::size_t inline_capacity = 56;
    char* resize(std::size_t n) {
        size_ = static_cast<std::uint32_t>(n);
        if (n <= inline_capacity) {
            heap_.reset();
            return inline_;
        }
        heap_.reset(new char[n]);
        return heap_.get();
    }
    const char* data() const noexcept { return heap_ ? heap_.get() : inline_; }
    std::size_t size() const noexcept { return size_; }
    void clear() noexcept {
        heap_.reset();
        size_ = 0;
    }

private:
    char inline_[inline_capacity];
    std::uint32_t size_ = 0;
    std::unique_ptr<char[]> heap_;
};

}  // namespace detail

// A scalar of a flat JSON object given as `{{"key", value}, ...}` (set_result, job options): encoded on the
// caller into one small buffer instead of building an nlohmann::json there (a map node and a string per key).
// An initializer list of these is preferred by overload resolution over nlohmann::json whenever every
// element fits; nested values fall back to nlohmann::json.
class field_value {
public:
    enum class kind : std::uint8_t { null, boolean, integer, unsigned_integer, floating, string };

    field_value(std::nullptr_t) noexcept : kind_(kind::null) {}
    field_value(bool b) noexcept : kind_(kind::boolean) { u_.b = b; }
    template <class I>
        requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char>)
    field_value(I v) noexcept {
        if constexpr (std::is_signed_v<I>) {
            kind_ = kind::integer;
            u_.i = v;
        } else {
            kind_ = kind::unsigned_integer;
            u_.u = v;
        }
    }
    template <class F>
        requires std::is_floating_point_v<F>
    field_value(F v) noexcept : kind_(kind::floating) {
        u_.d = static_cast<double>(v);
    }
    field_value(const char* s) noexcept : kind_(kind::string), text_(s ? s : "") {}
    field_value(std::string_view s) noexcept : kind_(kind::string), text_(s) {}
    field_value(const std::string& s) noexcept : kind_(kind::string), text_(s) {}

    kind type() const noexcept { return kind_; }
    bool boolean() const noexcept { return u_.b; }
    std::int64_t integer() const noexcept { return u_.i; }
    std::uint64_t unsigned_integer() const noexcept { return u_.u; }
    double floating() const noexcept { return u_.d; }
    std::string_view text() const noexcept { return text_; }

private:
    kind kind_ = kind::null;
    union {
        bool b;
        std::int64_t i;
        std::uint64_t u;
        double d;
    } u_{};
    std::string_view text_;
};

struct field {
    std::string_view key;
    field_value value;
};

namespace detail {

// Flat fields encoded as [kind:1][key size:4][key][value], value = 8 bytes (1 for a bool, 0 for null) or
// [size:4][text]: sized first, then written with plain copies.
inline void encode_fields(small_bytes& out, std::initializer_list<field> fields) {
    std::size_t bytes = 0;
    for (const auto& f : fields) {
        bytes += 1 + 4 + f.key.size();
        switch (f.value.type()) {
            case field_value::kind::null: break;
            case field_value::kind::boolean: bytes += 1; break;
            case field_value::kind::string: bytes += 4 + f.value.text().size(); break;
            default: bytes += 8; break;
        }
    }
    char* p = out.resize(bytes);
    auto put = [&](const void* src, std::size_t n) {
        std::memcpy(p, src, n);
        p += n;
    };
    for (const auto& f : fields) {
        *p++ = static_cast<char>(f.value.type());
        auto key_size = static_cast<std::uint32_t>(f.key.size());
        put(&key_size, 4);
        put(f.key.data(), f.key.size());
        switch (f.value.type()) {
            case field_value::kind::null: break;
            case field_value::kind::boolean: *p++ = f.value.boolean() ? 1 : 0; break;
            case field_value::kind::integer: {
                auto v = f.value.integer();
                put(&v, 8);
                break;
            }
            case field_value::kind::unsigned_integer: {
                auto v = f.value.unsigned_integer();
                put(&v, 8);
                break;
            }
            case field_value::kind::floating: {
                auto v = f.value.floating();
                put(&v, 8);
                break;
            }
            case field_value::kind::string: {
                auto n = static_cast<std::uint32_t>(f.value.text().size());
                put(&n, 4);
                put(f.value.text().data(), n);
                break;
            }
        }
    }
}

// A flat object or a boxed nlohmann::json: what set_result / set_options / job options store.
struct json_or_fields {
    json_box json;
    small_bytes fields;
    bool has_fields = false;

    bool empty() const noexcept { return !json && !has_fields; }
    void set(std::initializer_list<field> f) {
        json.reset();
        encode_fields(fields, f);
        has_fields = true;
    }
    template <class Json>
    void set(Json&& j) {
        has_fields = false;
        fields.clear();
        json = json_box::make(std::forward<Json>(j));
    }
};

// An error as the frontend knows it: explicit (type and message given), or from the throw capture (a
// type_info and the frames of the throw site, named and symbolized on the pipeline thread).
struct error_note {
    std::string type;
    std::string message;
    const std::type_info* thrown_type = nullptr;
    std::vector<void*> frames;
    bool cause_unknown = false;  // left by an exception nothing described (yet): see exception_cause.hpp
};

struct job_extras {
    json_or_fields options;
    json_or_fields result;
    std::string function_name;
    std::unique_ptr<error_note> error;
};

struct event_extras {
    std::string module_path;
    std::unique_ptr<error_note> detection_error, handler_error;
    std::vector<clause_result> clauses;  // detect.hpp
};

struct invocation_extras {
    std::vector<std::pair<std::string, json_box>> context;  // set_context, in call order (a later key wins)
    std::unique_ptr<error_note> error;
};

struct log_extras {
    std::string message;
    json_box data;
};

// The invocation's inputs, shared by its scope and the pipeline: the payload is read (correlation ID, source
// fields, payload column) on the pipeline thread, or on the caller's thread when it asks for the correlation
// ID first; `resolve_once` makes it happen exactly once.
struct invocation_seed {
    std::atomic<std::uint32_t> refs{1};
    std::atomic<std::uint8_t> state{0};  // 0 unresolved, 1 resolving, 2 resolved

    // Inputs.
    std::string body;      // the raw request body (invocation_from_body)
    json_box payload;      // a copy of the parsed payload (invocation(json))
    bool keep_payload = false;
    bool body_unparsable = false;  // set when resolved
    bool payload_bounded = false;  // `payload` is already the stored copy (bounded on the caller's thread)
    bool payload_too_deep = false, payload_trimmed = false;
    std::string source_function;
    std::string source_system = "hasura";
    std::optional<bool> auto_load_modules;
    std::string event_modules_directory;
    std::string explicit_correlation_id;
    std::optional<uuid> explicit_source_job_id;
    std::vector<std::pair<std::string, std::string>> start_context;  // invocation_options::context

    // Resolved.
    std::string correlation_id;
    correlation_source correlation_from = correlation_source::generated;
    std::optional<uuid> source_job_id;
    std::string user_email;

    void retain() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    bool resolved() const noexcept { return state.load(std::memory_order_acquire) == 2; }

    // Runs `resolve(*this)` if nobody has; waits if another thread is doing it right now.
    template <class Resolve>
    void resolve_once(Resolve&& resolve) {
        std::uint8_t expected = 0;
        if (state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
            resolve(*this);
            state.store(2, std::memory_order_release);
            return;
        }
        while (state.load(std::memory_order_acquire) != 2) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
};

enum class entry_kind : std::uint8_t { invocation_start, invocation_end, event_start, event_detected, event_end, job_start, job_end, job_log, record };

// Entry flags.
inline constexpr std::uint8_t entry_detected = 1;     // event: detected(true) was called
inline constexpr std::uint8_t entry_name_shared = 2;  // `name` is the text of a shared_text the entry holds a reference on
inline constexpr std::uint8_t entry_awaits_cause = 4;  // left by an exception a catch site may still describe (exception_cause.hpp)

// One row write, as pushed by a scope: 88 bytes, trivially copyable, built in place in its ring slot.
// The pointers are owned by the entry once pushed: `name_owner` (a reference on a shared_text) and `extra`
// (job_extras / event_extras / invocation_extras / log_extras, or the invocation_seed for invocations).
struct entry {
    entry_kind kind;
    std::uint8_t status;  // run_status or event_status
    std::uint8_t flags;
    std::uint8_t level;   // log_level of a job_log
    std::uint32_t name_size;
    uuid id;
    uuid parent;       // event: its invocation; job: its event; log: its job
    uuid invocation;   // job / log: the invocation; event end: ended tick + counts (see event_end_data)
    std::int64_t t0;   // started (log: logged_at)
    std::int64_t t1;   // ended (event: detected_at)
    const char* name;  // invocation: the extra block of the end entry (invocation_extras*)
    void* extra;  // record: a sink-facing `record` (observer::push), times still in ticks unless stamped
};
static_assert(std::is_trivially_copyable_v<entry>);
static_assert(sizeof(entry) == 88);

// The event end needs a third time and two counts: they live in the `invocation` bytes (an event's own
// invocation is `parent`). An invocation end keeps its counts in `parent`.
struct event_end_data {
    std::int64_t ended;
    std::int32_t jobs_succeeded, jobs_failed;
};
struct invocation_end_data {
    std::int32_t events_detected, jobs_succeeded, jobs_failed, unused;
};
template <class T>
inline void store_in(uuid& bytes, const T& value) noexcept {
    static_assert(sizeof(T) == 16);
    std::memcpy(bytes.bytes.data(), &value, 16);
}
template <class T>
inline T load_from(const uuid& bytes) noexcept {
    T value;
    std::memcpy(&value, bytes.bytes.data(), 16);
    return value;
}

}  // namespace detail
}  // namespace eventscope
