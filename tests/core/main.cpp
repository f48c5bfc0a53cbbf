#define BOOST_TEST_MODULE eventscope core
#include <boost/test/unit_test.hpp>

// The opt-in throw capture (type, message and stack of exceptions leaving a scope), in one file of the program.
#include <eventscope/throw_capture.hpp>
