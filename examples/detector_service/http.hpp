// A small HTTP/1.1 server and client on Boost.Beast, loopback only in the demo.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace demo {

struct http_response {
    int status = 0;
    std::string body;
};

class http_server {
public:
    // handler(method, target, body) -> status + JSON body. Called on the server's I/O threads.
    using handler = std::function<http_response(const std::string& method, const std::string& target, const std::string& body)>;

    // Binds `address:port` (port 0 = a free port). Throws std::system_error when it cannot bind.
    http_server(const std::string& address, unsigned short port, handler h, std::size_t threads, std::size_t body_limit = 1 << 20);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    unsigned short port() const;
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// One keep-alive connection; reconnects when the server closed it. Throws on a network failure.
class http_client {
public:
    http_client(std::string host, unsigned short port);
    ~http_client();
    http_response post(const std::string& target, const std::string& body);
    http_response get(const std::string& target);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace demo
