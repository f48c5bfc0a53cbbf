// Opt-in capture of std::cout / std::cerr / std::clog lines written while a job scope is current on the
// writing thread. The output still reaches the original stream; the job gets one log line per text line.
#pragma once

#include <array>
#include <iostream>
#include <streambuf>
#include <string>
#include <string_view>

#include "detail/log_target.hpp"

namespace eventscope {

namespace detail {

// Unbuffered tee: no shared put area, so concurrent writers on several threads do not race on our state.
class tee_buffer : public std::streambuf {
public:
    tee_buffer(std::streambuf* original, int stream_index, log_level level)
        : original_(original), index_(stream_index), level_(level) {}
    std::streambuf* original() const noexcept { return original_; }

protected:
    int_type overflow(int_type ch) override {
        if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
        char c = traits_type::to_char_type(ch);
        collect(&c, 1);
        return original_->sputc(c);
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        collect(s, n);
        return original_->sputn(s, n);
    }
    int sync() override { return original_->pubsync(); }

private:
    void collect(const char* s, std::streamsize n) {
        log_target* target = current_log_target();
        if (!target) return;
        std::string& line = target->partial[static_cast<std::size_t>(index_)];
        for (std::streamsize i = 0; i < n; ++i) {
            if (s[i] == '\n') {
                target->emit(target->context, level_, line);
                line.clear();
            } else {
                line.push_back(s[i]);
            }
        }
    }

    std::streambuf* original_;
    int index_;
    log_level level_;
};

}  // namespace detail

// RAII: while alive, std::cout/cerr/clog are teed. Create one near the start of main(), before worker threads.
class console_capture {
public:
    console_capture()
        : out_(std::cout.rdbuf(), 0, log_level::info),
          err_(std::cerr.rdbuf(), 1, log_level::error),
          log_(std::clog.rdbuf(), 2, log_level::info) {
        std::cout.rdbuf(&out_);
        std::cerr.rdbuf(&err_);
        std::clog.rdbuf(&log_);
    }
    ~console_capture() {
        std::cout.rdbuf(out_.original());
        std::cerr.rdbuf(err_.original());
        std::clog.rdbuf(log_.original());
    }
    console_capture(const console_capture&) = delete;
    console_capture& operator=(const console_capture&) = delete;

private:
    detail::tee_buffer out_, err_, log_;
};

}  // namespace eventscope
