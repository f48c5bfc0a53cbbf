// The outage spool on its own (no server needed): a failed append leaves no torn line behind, the fsync policy
// does what it says, and a spool directory that cannot be used is reported at construction.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>

#include "pg_test_support.hpp"

// One namespace per file: the suite is compiled as a unity build (tests/postgres/CMakeLists.txt).
namespace spool_test {

using eventscope::pg::spool;
using eventscope::pg::spool_sync;

namespace {

std::string lines(int n, char c, std::size_t width = 40) {
    std::string out;
    for (int i = 0; i < n; ++i) out += "{\"k\":\"" + std::string(width, c) + "\"}\n";
    return out;
}

// Appends beyond `bytes` fail with EFBIG (a per-process stand-in for a full disk); restored on scope exit.
struct file_size_limit {
    rlimit before{};
    explicit file_size_limit(rlim_t bytes) {
        signal(SIGXFSZ, SIG_IGN);
        getrlimit(RLIMIT_FSIZE, &before);
        rlimit now = before;
        now.rlim_cur = bytes;
        setrlimit(RLIMIT_FSIZE, &now);
    }
    ~file_size_limit() { setrlimit(RLIMIT_FSIZE, &before); }
};

std::vector<std::string> replay_all(spool& s) {
    std::vector<std::string> seen;
    s.replay(1000, [&](const std::vector<std::string_view>& chunk, const std::string&) {
        for (auto l : chunk) seen.emplace_back(l);
        return true;
    });
    return seen;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spool_files)

BOOST_AUTO_TEST_CASE(a_failed_append_is_cut_back_to_the_last_complete_line) {
    auto dir = pg_test::temp_dir("spool-enospc");
    spool s(dir, 1 << 20, 1 << 20, spool_sync::none);
    BOOST_REQUIRE(!s.append(lines(3, 'a')));
    auto before = s.bytes();
    {
        file_size_limit limit(before + 50);  // the next 10 lines reach the file only in part
        auto error = s.append(lines(10, 'b'));
        BOOST_REQUIRE(error.has_value());
        BOOST_TEST(error->find("spool write failed") != std::string::npos, *error);
    }
    BOOST_TEST(s.bytes() == before);
    std::uintmax_t on_disk = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) on_disk += std::filesystem::file_size(e.path());
    BOOST_TEST(on_disk == before);  // nothing of the failed append is left in any file
    BOOST_REQUIRE(!s.append(lines(10, 'b')));  // the retried batch, once there is room
    auto seen = replay_all(s);
    BOOST_TEST(seen.size() == 13u);
    for (const auto& l : seen) BOOST_TEST(!nlohmann::json::parse(l, nullptr, false).is_discarded(), l);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(the_fsync_policy_is_followed) {
    auto dir = pg_test::temp_dir("spool-sync");
    {
        spool per_batch(dir + "/per", 1 << 20, 1 << 20, spool_sync::per_batch);
        for (int i = 0; i < 5; ++i) BOOST_REQUIRE(!per_batch.append(lines(2, 'c')));
        BOOST_TEST(per_batch.syncs() == 5u);
        spool interval(dir + "/interval", 1 << 20, 1 << 20, spool_sync::interval, std::chrono::hours(1));
        for (int i = 0; i < 5; ++i) BOOST_REQUIRE(!interval.append(lines(2, 'c')));
        BOOST_TEST(interval.syncs() == 1u);  // the first append; the next are within the hour
        spool none(dir + "/none", 1 << 20, 1 << 20, spool_sync::none);
        for (int i = 0; i < 5; ++i) BOOST_REQUIRE(!none.append(lines(2, 'c')));
        BOOST_TEST(none.syncs() == 0u);
    }
    std::filesystem::remove_all(dir);
}

// Files of several blocks (the replay reads 1 MiB at a time), a line longer than a block, and a writer that fails
// mid-file: every line comes back once, in order, a failed chunk is offered again from its first line, and a
// failed replay has read about one block, not the whole file.
BOOST_AUTO_TEST_CASE(a_replay_resumes_at_the_failed_chunk_across_blocks_and_files) {
    auto dir = pg_test::temp_dir("spool-resume");
    spool s(dir, 64u << 20, 4u << 20, spool_sync::none);
    std::vector<std::string> appended;
    auto add = [&](const std::string& line) {
        appended.push_back(line);
        BOOST_REQUIRE(!s.append(line + "\n"));
    };
    for (int i = 0; i < 30000; ++i) add("{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'p') + "\"}");
    add("{\"long\":\"" + std::string(3u << 20, 'L') + "\"}");  // 3 MiB: three blocks for one line
    for (int i = 30000; i < 40000; ++i) add("{\"n\":" + std::to_string(i) + "}");
    BOOST_REQUIRE(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator{}) >= 2);

    // The server is down: the first chunk fails, and only the start of the first file (over 4 MiB) was read.
    auto bytes_read = [] {
        std::ifstream io("/proc/self/io");
        std::string key;
        std::uint64_t value = 0;
        while (io >> key >> value)
            if (key == "rchar:") return value;
        return std::uint64_t{0};
    };
    auto read_before = bytes_read();
    BOOST_TEST(!s.replay(100, [](const std::vector<std::string_view>&, const std::string&) { return false; }));
    auto read = bytes_read() - read_before;
    BOOST_TEST(read < (std::uint64_t{2} << 20), read << " bytes read for a chunk of 100 lines");

    std::vector<std::string> seen;
    std::size_t calls = 0, offered_again = 0;
    std::string failed_first;
    auto writer = [&](const std::vector<std::string_view>& chunk, const std::string&) {
        ++calls;
        BOOST_REQUIRE(!chunk.empty());
        BOOST_TEST(chunk.size() <= 5000u);
        if (calls == 3 || calls == 7) {  // the server went away: this chunk is not written
            failed_first = std::string(chunk.front());
            return false;
        }
        if (!failed_first.empty()) {
            BOOST_TEST((std::string(chunk.front()) == failed_first));
            failed_first.clear();
            ++offered_again;
        }
        for (auto l : chunk) seen.emplace_back(l);
        return true;
    };
    while (!s.replay(5000, writer)) {
    }
    BOOST_TEST(offered_again == 2u);
    BOOST_TEST(seen.size() == appended.size());
    BOOST_TEST((seen == appended));
    BOOST_TEST(s.bytes() == 0u);
    BOOST_TEST(std::filesystem::is_empty(dir));
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(a_full_spool_refuses_with_a_reason) {
    auto dir = pg_test::temp_dir("spool-full");
    spool s(dir, 200, 100, spool_sync::none);
    BOOST_REQUIRE(!s.append(lines(2, 'd')));
    auto error = s.append(lines(4, 'd'));
    BOOST_REQUIRE(error.has_value());
    BOOST_TEST(error->find("spool full") != std::string::npos, *error);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(an_unusable_spool_directory_is_warned_about_at_construction) {
    auto dir = pg_test::temp_dir("spool-unusable");
    std::ofstream(dir + "/file") << "not a directory";
    std::vector<std::string> logged;
    eventscope::postgres_sink_options o;
    o.spool_directory = dir + "/file/spool";
    o.log = [&](const std::string& line) { logged.push_back(line); };
    eventscope::config cfg;
    eventscope::postgres_sink sink(cfg, o);
    BOOST_TEST(!sink.spool_problem().empty());
    BOOST_REQUIRE(!logged.empty());
    BOOST_TEST(logged.front().find("WARNING") != std::string::npos, logged.front());
    BOOST_TEST(logged.front().find(dir + "/file/spool") != std::string::npos, logged.front());
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace spool_test
