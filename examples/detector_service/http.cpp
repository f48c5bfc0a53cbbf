#include <utility>  // before Asio (Asio 1.74 + C++20)

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
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

class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, const http_server::handler& h, std::size_t body_limit)
        : stream_(std::move(socket)), handler_(h), body_limit_(body_limit) {}

    void start() { read(); }

private:
    void read() {
        parser_.emplace();
        parser_->body_limit(body_limit_);
        stream_.expires_after(std::chrono::seconds(60));
        bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset)
            return close();
        if (ec == bhttp::error::body_limit) return respond(413, R"({"error":"request body too large"})", false, 11);
        if (ec) return respond(400, std::string(R"({"error":"malformed HTTP request: )") + ec.message() + "\"}", false, 11);
        auto req = parser_->release();
        http_response r;
        try {
            r = handler_(std::string(req.method_string()), std::string(req.target()), std::move(req.body()));
        } catch (const std::exception& e) {
            r = {500, std::string(R"({"error":"internal error"})")};
        }
        respond(r.status, std::move(r.body), req.keep_alive(), req.version());
    }

    void respond(int status, std::string body, bool keep_alive, unsigned version) {
        response_ = {};
        response_.version(version);
        response_.result(static_cast<unsigned>(status));
        response_.set(bhttp::field::server, "eventscope-detector-service");
        response_.set(bhttp::field::content_type, "application/json");
        response_.keep_alive(keep_alive);
        response_.body() = std::move(body);
        response_.body() += '\n';
        response_.prepare_payload();
        bhttp::async_write(stream_, response_, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
            if (!ec && keep_alive) return self->read();
            self->close();
        });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    bhttp::response<bhttp::string_body> response_;
    const http_server::handler& handler_;
    std::size_t body_limit_;
};

}  // namespace

struct http_server::impl {
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    handler h;
    std::size_t body_limit;
    std::vector<std::thread> threads;
    bool stopped = false;

    void accept() {
        acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) std::make_shared<session>(std::move(socket), h, body_limit)->start();
            accept();
        });
    }
};

http_server::http_server(const std::string& address, unsigned short port, handler h, std::size_t threads, std::size_t body_limit)
    : impl_(std::make_unique<impl>()) {
    impl_->h = std::move(h);
    impl_->body_limit = body_limit;
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

void http_server::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    asio::post(impl_->ioc, [this] {
        beast::error_code ignored;
        impl_->acceptor.close(ignored);
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
