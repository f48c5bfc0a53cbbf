// A small HTTP/1.1 server and client on Boost.Beast, loopback only in the demo.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace demo {

struct http_response {
    int status = 0;
    std::string body;
    std::string content_type = "application/json";
};

class http_server {
public:
    // handler(method, target, body) -> status + JSON body. Called on the server's I/O threads.
    using handler = std::function<http_response(const std::string& method, const std::string& target, const std::string& body)>;

    // Hasura sends a row's full old and new image; rows with large text or jsonb columns make deliveries of
    // several megabytes, which must be recorded, not refused.
    static constexpr std::size_t default_body_limit = std::size_t{32} << 20;
    // The soft RLIMIT_NOFILE minus what the rest of the process needs (sink and app connections, spool and log
    // files), at least 8.
    static std::size_t default_max_connections();

    // Binds `address:port` (port 0 = a free port). Throws std::system_error when it cannot bind.
    // body_limit: larger request bodies are answered 413 (and logged). max_connections: open connections kept at
    // once; 0 = derived from the process's file-descriptor limit (see default_max_connections). At the cap, a new
    // connection replaces the longest-idle keep-alive connection, or is answered 503 when none is idle.
    http_server(const std::string& address, unsigned short port, handler h, std::size_t threads,
                std::size_t body_limit = default_body_limit, std::size_t max_connections = 0);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    unsigned short port() const;
    std::size_t max_connections() const;
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
