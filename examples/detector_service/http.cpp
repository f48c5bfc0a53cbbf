#include <utility>  // before Asio (Asio 1.74 + C++20)

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http.hpp"

namespace demo {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

using steady = std::chrono::steady_clock;

// One line per kind of trouble at most every 10 s, with how many were folded into it: an overload or an attack
// must be visible in the log without filling the disk.
class throttled_log {
public:
    explicit throttled_log(const char* what) : what_(what) {}
    void operator()(const std::string& detail) {
        std::lock_guard lock(mutex_);
        auto now = steady::now();
        if (printed_once_ && now - last_ < std::chrono::seconds(10)) {
            ++folded_;
            return;
        }
        if (folded_ > 0)
            std::fprintf(stderr, "detector_service: %s: %s (and %llu more in the last %llds)\n", what_, detail.c_str(),
                         static_cast<unsigned long long>(folded_),
                         static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(now - last_).count()));
        else
            std::fprintf(stderr, "detector_service: %s: %s\n", what_, detail.c_str());
        std::fflush(stderr);
        printed_once_ = true;
        last_ = now;
        folded_ = 0;
    }

private:
    const char* what_;
    std::mutex mutex_;
    steady::time_point last_{};
    bool printed_once_ = false;
    unsigned long long folded_ = 0;
};

class session;

// The open connections, so that the server can stay under its file-descriptor budget: at the cap a new
// connection takes the place of the one that has waited longest for its next request.
class connection_table {
public:
    explicit connection_table(std::size_t cap) : cap_(cap) {}
    std::size_t cap() const { return cap_; }
    // False when the table is full and no connection is idle: the caller refuses the new one.
    bool admit(const std::shared_ptr<session>& s);
    void forget(const session* s) {
        std::lock_guard lock(mutex_);
        open_.erase(s);
    }
    // Closes the longest-idle connection, if any; true when one was asked to close.
    bool evict_longest_idle();

private:
    std::size_t cap_;
    std::mutex mutex_;
    std::unordered_map<const session*, std::weak_ptr<session>> open_;
};

class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, const http_server::handler& h, std::size_t body_limit, connection_table& table,
            throttled_log& refusals)
        : stream_(std::move(socket)), handler_(h), body_limit_(body_limit), table_(table), refusals_(refusals) {}
    ~session() { table_.forget(this); }

    void start() { read(); }

    // Server at its connection cap with nothing idle to replace: say so and close.
    void refuse_overloaded() { respond(503, R"json({"error":"too many open connections; retry shortly"})json", false, 11); }

    // When idle (waiting for the next request on a kept-alive connection), since when; nullopt while busy. A
    // closing connection reads as idle since the clock's start.
    std::optional<steady::time_point> idle_since() const {
        auto t = idle_since_.load(std::memory_order_acquire);
        if (t == busy) return std::nullopt;
        return steady::time_point(steady::duration(t));
    }

    // Called from any thread: the close happens on the connection's own strand.
    void evict() {
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            beast::error_code ignored;
            self->stream_.socket().close(ignored);
        });
    }

private:
    void read() {
        parser_.emplace();
        parser_->body_limit(body_limit_);
        stream_.expires_after(std::chrono::seconds(60));
        if (buffer_.size() > 0) return read_request();
        // Idle until the first byte of the next request arrives; from then on it is busy and never evicted.
        idle_since_.store(std::max<steady::rep>(closing + 1, steady::now().time_since_epoch().count()), std::memory_order_release);
        stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            // A read that failed (the client closed, or we evicted it) goes straight from idle to closing: marked
            // busy on the way, a thread preempted here would make the table refuse a new connection for it.
            self->idle_since_.store(ec ? closing : busy, std::memory_order_release);
            self->buffer_.commit(n);
            if (ec) return self->on_read(ec);
            self->read_request();
        });
    }

    void read_request() {
        bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset || ec == asio::error::bad_descriptor)
            return close();
        if (ec == bhttp::error::body_limit) {
            std::string target(parser_->get().target());
            refusals_("request body over the limit of " + std::to_string(body_limit_) + " bytes (--max-body-bytes) on " +
                      target.substr(0, 200) + ", answered 413");
            return respond(413, R"json({"error":"request body larger than the service's limit (--max-body-bytes)"})json", false, 11);
        }
        if (ec) return respond(400, std::string(R"({"error":"malformed HTTP request: )") + ec.message() + "\"}", false, 11);
        auto req = parser_->release();
        http_response r;
        try {
            r = handler_(std::string(req.method_string()), std::string(req.target()), std::move(req.body()));
        } catch (const std::exception& e) {
            r = {500, std::string(R"({"error":"internal error"})")};
        }
        respond(r.status, std::move(r.body), req.keep_alive(), req.version(), r.content_type);
    }

    void respond(int status, std::string body, bool keep_alive, unsigned version, const std::string& content_type = "application/json") {
        response_ = {};
        response_.version(version);
        response_.result(static_cast<unsigned>(status));
        response_.set(bhttp::field::server, "eventscope-detector-service");
        response_.set(bhttp::field::content_type, content_type);
        response_.keep_alive(keep_alive);
        response_.body() = std::move(body);
        response_.body() += '\n';
        response_.prepare_payload();
        bhttp::async_write(stream_, response_, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
            if (!ec && keep_alive) return self->read();
            self->close();
        });
    }

    // Lingering close: stop sending, then read and discard what the client still sends, for at most 2 s. Closing
    // with its unread bytes pending would reset the connection, and a client still sending a body we refused
    // (413) would get a broken pipe instead of our answer.
    void close() {
        // Lingering, the connection serves nobody: it is the first to go when the table needs room (the oldest
        // possible idle time), so a burst of refused deliveries cannot hold the cap for 2 s.
        idle_since_.store(closing, std::memory_order_release);
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(std::chrono::seconds(2));  // one deadline for the whole drain
        drain();
    }

    void drain() {
        stream_.async_read_some(buffer_.prepare(64 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (!ec) return self->drain();
            beast::error_code ignored;
            self->stream_.socket().close(ignored);
        });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    bhttp::response<bhttp::string_body> response_;
    const http_server::handler& handler_;
    std::size_t body_limit_;
    connection_table& table_;
    throttled_log& refusals_;
    // Idle since this tick, or one of these two marks.
    static constexpr steady::rep busy = 0;
    static constexpr steady::rep closing = 1;
    std::atomic<steady::rep> idle_since_{busy};
};

bool connection_table::admit(const std::shared_ptr<session>& s) {
    {
        std::lock_guard lock(mutex_);
        if (open_.size() < cap_) {
            open_.emplace(s.get(), s);
            return true;
        }
    }
    if (!evict_longest_idle()) return false;
    // The evicted connection leaves the table when its close has run; until then the table is one over its cap,
    // which the file-descriptor reserve of default_max_connections() absorbs.
    std::lock_guard lock(mutex_);
    open_.emplace(s.get(), s);
    return true;
}

bool connection_table::evict_longest_idle() {
    // Declared before the lock: the last owner of a session runs its destructor, which calls forget() and locks
    // the table again, so no session may be released while the lock is held.
    std::vector<std::shared_ptr<session>> released_after_unlock;
    std::shared_ptr<session> victim;
    std::lock_guard lock(mutex_);
    released_after_unlock.reserve(open_.size());
    std::optional<steady::time_point> oldest;
    for (auto it = open_.begin(); it != open_.end(); ++it) {
        auto candidate = it->second.lock();
        if (!candidate) {
            // Its last owner has let go and its destructor is about to forget it: the place is free already.
            // Counting it as taken, a new connection would be refused with 503 on a table that has room.
            open_.erase(it);
            return true;
        }
        auto since = candidate->idle_since();
        if (since && (!oldest || *since < *oldest)) {
            oldest = since;
            victim = candidate;
        }
        released_after_unlock.push_back(std::move(candidate));
    }
    if (!victim) return false;
    open_.erase(victim.get());
    victim->evict();
    return true;
}

bool out_of_descriptors(const beast::error_code& ec) {
    return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
           ec.value() == ENFILE;
}

}  // namespace

struct http_server::impl {
    // Declared before the io_context: sessions still queued in it at destruction unregister themselves.
    std::optional<connection_table> connections;
    throttled_log refusals{"refused a request"};
    throttled_log accept_failures{"cannot accept connections"};
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    asio::steady_timer accept_pause{ioc};
    handler h;
    std::size_t body_limit;
    std::vector<std::thread> threads;
    bool stopped = false;

    void accept() {
        acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (ec) return on_accept_error(ec);
            auto s = std::make_shared<session>(std::move(socket), h, body_limit, *connections, refusals);
            if (connections->admit(s)) {
                s->start();
            } else {
                refusals(std::to_string(connections->cap()) + " connections open and none idle (--max-connections), answered 503");
                s->refuse_overloaded();
            }
            accept();
        });
    }

    // Out of file descriptors, the pending connection stays in the backlog and accept() would fail again at
    // once: retrying immediately spins a core. Free an idle connection and retry a little later instead.
    void on_accept_error(const beast::error_code& ec) {
        bool freed = out_of_descriptors(ec) && connections->evict_longest_idle();
        accept_failures(ec.message() + (out_of_descriptors(ec) ? (freed ? "; closed the longest-idle connection" : "; no idle connection to close")
                                                              : std::string()));
        accept_pause.expires_after(std::chrono::milliseconds(out_of_descriptors(ec) ? 50 : 5));
        accept_pause.async_wait([this](beast::error_code wait_ec) {
            if (!wait_ec) accept();
        });
    }
};

std::size_t http_server::default_max_connections() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 4096;
    constexpr rlim_t reserve = 64;
    return static_cast<std::size_t>(std::max<rlim_t>(8, limit.rlim_cur > reserve ? limit.rlim_cur - reserve : 0));
}

http_server::http_server(const std::string& address, unsigned short port, handler h, std::size_t threads, std::size_t body_limit,
                         std::size_t max_connections)
    : impl_(std::make_unique<impl>()) {
    impl_->h = std::move(h);
    impl_->body_limit = body_limit;
    impl_->connections.emplace(max_connections ? max_connections : default_max_connections());
    tcp::endpoint ep(asio::ip::make_address(address), port);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    impl_->accept();
    for (std::size_t i = 0; i < (threads ? threads : 1); ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

http_server::~http_server() { stop(); }

unsigned short http_server::port() const { return impl_->acceptor.local_endpoint().port(); }
std::size_t http_server::max_connections() const { return impl_->connections->cap(); }

void http_server::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    asio::post(impl_->ioc, [this] {
        beast::error_code ignored;
        impl_->acceptor.close(ignored);
        impl_->accept_pause.cancel();
    });
    impl_->ioc.stop();
    for (auto& t : impl_->threads) t.join();
}

struct http_client::impl {
    std::string host;
    unsigned short port;
    asio::io_context ioc;
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;

    http_response request(bhttp::verb verb, const std::string& target, const std::string& body) {
        for (int attempt = 0;; ++attempt) {
            try {
                if (!stream) {
                    stream.emplace(ioc);
                    stream->connect(tcp::endpoint(asio::ip::make_address(host), port));
                }
                bhttp::request<bhttp::string_body> req(verb, target, 11);
                req.set(bhttp::field::host, host);
                req.set(bhttp::field::content_type, "application/json");
                req.set(bhttp::field::user_agent, "eventscope-demo-driver");
                req.keep_alive(true);
                req.body() = body;
                req.prepare_payload();
                bhttp::write(*stream, req);
                bhttp::response_parser<bhttp::string_body> parser;
                parser.body_limit(64u << 20);
                bhttp::read(*stream, buffer, parser);
                auto res = parser.release();
                if (!res.keep_alive()) stream.reset();
                return {static_cast<int>(res.result_int()), std::move(res.body())};
            } catch (const std::exception&) {
                stream.reset();
                buffer.clear();
                if (attempt >= 1) throw;  // a stale keep-alive connection gets one retry
            }
        }
    }
};

http_client::http_client(std::string host, unsigned short port) : impl_(std::make_unique<impl>()) {
    impl_->host = std::move(host);
    impl_->port = port;
}
http_client::~http_client() = default;
http_response http_client::post(const std::string& target, const std::string& body) { return impl_->request(bhttp::verb::post, target, body); }
http_response http_client::get(const std::string& target) { return impl_->request(bhttp::verb::get, target, {}); }

}  // namespace demo
