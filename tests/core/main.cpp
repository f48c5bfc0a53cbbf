#define BOOST_TEST_MODULE eventscope core
#include <boost/test/unit_test.hpp>
