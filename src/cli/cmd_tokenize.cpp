// `tessera tokenize`: semantic IDs from item vectors (filled in by the tokenizer work).
#include "cli/commands.h"

namespace tessera::cli {
void add_tokenize_command(CLI::App& app) { app.add_subcommand("tokenize", "Assign semantic IDs to items (RQ-KMeans, RQ-VAE)"); }
}  // namespace tessera::cli
