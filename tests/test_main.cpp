// Shared main() of every test binary: same runtime setup as the CLI, quiet progress output.
#include <gtest/gtest.h>

#include "tessera/core/progress.h"
#include "tessera/core/runtime.h"

int main(int argc, char** argv) {
  tessera::configure_thread_environment(argc, argv);
  tessera::init_runtime();
  tessera::Progress::set_quiet(true);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
