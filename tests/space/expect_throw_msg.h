// EXPECT_THROW_MSG(statement, ExceptionType, "substring", ...): the statement
// throws exactly ExceptionType (or a subclass) and its what() contains every
// substring (fmt test/gtest-extra.h EXPECT_THROW_MSG, pytorch
// ASSERT_THROWS_WITH). A different exception type, no exception or a missing
// substring fails the test and prints the actual message.
#pragma once

#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace mnas::testing {

template <typename E, typename F>
::testing::AssertionResult throws_with_message(F&& f,
                                               std::initializer_list<std::string_view> parts) {
  try {
    f();
  } catch (const E& e) {
    const std::string what = e.what();
    for (std::string_view part : parts) {
      if (what.find(part) == std::string::npos) {
        return ::testing::AssertionFailure()
               << "message \"" << what << "\" does not contain \"" << part << "\"";
      }
    }
    return ::testing::AssertionSuccess() << what;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "threw another exception type: \"" << e.what() << "\"";
  } catch (...) {
    return ::testing::AssertionFailure() << "threw a non-std exception";
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace mnas::testing

#define EXPECT_THROW_MSG(statement, ExceptionType, ...)                        \
  EXPECT_TRUE(::mnas::testing::throws_with_message<ExceptionType>(             \
      [&] { (void)(statement); }, {__VA_ARGS__}))                              \
      << "statement: " #statement
