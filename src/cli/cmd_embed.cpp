// `tessera embed`: item representations for the tokenizer (filled in by the item-features work).
#include "cli/commands.h"

namespace tessera::cli {
void add_embed_command(CLI::App& app) { app.add_subcommand("embed", "Build item vectors (content, collaborative, fused) for tokenization"); }
}  // namespace tessera::cli
