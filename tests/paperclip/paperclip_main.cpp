// The Paperclip tests' main: exit 77 (skipped) without the Paperclip install, otherwise one
// Paperclip for all the tests (paperclip_env.hpp).
#include <gtest/gtest.h>

#include <iostream>

#include "paperclip_env.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!agentos::testing::paperclip_server::installed()) {
    std::cout << "skip: Paperclip is not installed (scripts/paperclip.sh install)\n";
    return 77;
  }
  if (::testing::GTEST_FLAG(list_tests)) return RUN_ALL_TESTS();
  // Started here rather than in the environment's SetUp, whose failure would only mark every
  // test skipped: a Paperclip that is installed but does not start is a failure.
  if (!agentos::testing::paperclip_server::get().start()) {
    std::cerr << "Paperclip is installed but did not start\n";
    agentos::testing::paperclip_server::get().release();
    return 1;
  }
  ::testing::AddGlobalTestEnvironment(new agentos::testing::paperclip_environment);
  return RUN_ALL_TESTS();
}
