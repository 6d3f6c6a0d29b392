// tessera: the command-line front end. See README.md for every subcommand with examples.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "tessera/core/error.h"
#include "tessera/core/runtime.h"

int main(int argc, char** argv) {
  tessera::configure_thread_environment(argc, argv);
  tessera::init_runtime();
  CLI::App app{"tessera: generative recommendation engine (data, semantic IDs, models, evaluation, serving)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tessera 0.1.0");
  tessera::cli::add_synth_command(app);
  tessera::cli::add_prepare_command(app);
  tessera::cli::add_train_command(app);
  tessera::cli::add_eval_command(app);
  tessera::cli::add_recommend_command(app);
  tessera::cli::add_embed_command(app);
  tessera::cli::add_tokenize_command(app);
  tessera::cli::add_bench_command(app);
  tessera::cli::add_export_command(app);
  tessera::cli::add_serve_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tessera::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
