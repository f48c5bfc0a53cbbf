// The opt-in throw capture (eventscope/throw_capture.hpp) for a test program whose own files do not include
// it: the tests assert on the type, message and stack of exceptions that leave scopes.
#include <eventscope/throw_capture.hpp>
