#define BOOST_TEST_MODULE eventscope postgres sink
#include <boost/test/unit_test.hpp>

#include "pg_test_support.hpp"

// Drops the suite's database (and stops its throwaway cluster) after the last test.
struct drop_shared_database {
    ~drop_shared_database() { pg_test::shared_db::instance().reset(); }
};
BOOST_TEST_GLOBAL_FIXTURE(drop_shared_database);
