#pragma once
// Each subcommand lives in its own cmd_<name>.cpp and registers itself on the root app.
// Subcommands only parse arguments and call the library; no pipeline logic lives in src/cli.

#include <CLI/CLI.hpp>

namespace tessera::cli {

void add_synth_command(CLI::App& app);
void add_prepare_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_recommend_command(CLI::App& app);
void add_embed_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_serve_command(CLI::App& app);
// `tessera bench serve`, registered on the bench subcommand (cmd_bench_serve.cpp).
void add_bench_serve_command(CLI::App& bench);

}  // namespace tessera::cli
