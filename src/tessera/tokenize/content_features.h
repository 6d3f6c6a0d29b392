#pragma once
// Content features: item vectors from what the dataset knows about each item besides its
// interactions (data::Dataset::item_metadata), optionally with extra text per item.
//
// Encoder (one document per item):
//   tokens   "attr:<attribute>"   each attribute string as one whole token, lower-cased
//                                 (MovieLens genres; Beauty brand and category-path entries;
//                                 Yelp categories). ItemMetadata does not say which field an
//                                 attribute came from, so all share the "attr:" prefix.
//            "word:<w>"           title words: maximal runs of ASCII letters/digits and non-ASCII
//                                 (UTF-8) bytes, ASCII lower-cased, at least 2 bytes; a word equal
//                                 to the item's year is dropped (the year has its own token).
//                                 Extra-text words (below) are the same kind of token.
//            "decade:<1990>"      the release decade, when the year is known.
//   filter   tokens found in fewer than `min_document_frequency` items are dropped (a token
//            only one item has cannot make it similar to any other item; this also drops
//            identifiers used as titles, e.g. Beauty's ASINs).
//   weights  TF-IDF: tf = 1 + ln(count), idf = ln((1 + N) / (1 + df)) + 1 (smoothed; N = number
//            of items), each item's TF-IDF row L2-normalised.
//   reduce   truncated SVD of the sparse [N + 1, vocabulary] matrix (features_svd.h, seeded),
//            item vector = row of U * diag(S) (the projection A V), then L2-normalised.
// Items with no tokens (no metadata, or only filtered tokens) get an all-zero row, before and
// after normalisation; the builder reports how many items have content. If the SVD rank
// min(N + 1, vocabulary) is below `dim`, the trailing columns are zero.
//
// Extra text (`extra_text_path`): a text file of `KEY<space or tab>free text` lines, e.g.
// Beauty's item_generative_indexing_phase_0.txt (`ASIN title fragment words`). KEY is matched
// to the item's original ID (Dataset::item_ids), else to its metadata title when that is the
// bare key (Beauty_item_info.tsv has no titles, so `prepare` stores each item's ASIN as its
// title). The text's words become "word:" tokens of that item. Lines whose key matches no item
// are counted, not fatal; a file where no line matches is an error. Blank lines are skipped; a
// key repeated on several lines gets all their words.
//
// Deterministic by seed (and thread count). Thread-safe (no shared state).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/data/dataset.h"
#include "tessera/tokenize/item_matrix.h"

namespace tessera::tokenize {

struct ContentOptions {
  std::int64_t dim = 64;
  std::uint64_t seed = 0;
  std::int64_t min_document_frequency = 2;
  std::string extra_text_path;  // empty = none
};

struct ContentReport {
  std::int64_t items_with_content = 0;   // items 1..N with a non-zero row
  std::int64_t vocabulary_size = 0;      // tokens kept after the document-frequency filter
  std::int64_t extra_text_matched = 0;   // extra-text lines matched to an item
  std::int64_t extra_text_unmatched = 0; // extra-text lines whose key matched no item
};

// Lower-cased words of free text, as defined above ("Toy Story (1995)" -> toy, story, 1995).
std::vector<std::string> text_words(std::string_view text);

// The tokens of one item (with repeats; order: attributes, title words, decade).
std::vector<std::string> content_tokens(const data::ItemMetadata& metadata);

// Reads an extra-text file for `dataset`: result[i] = the words for item i (size num_items + 1).
// Throws tessera::Error naming the file when it cannot be read or no line matches an item. Counts go to `report` if given.
std::vector<std::vector<std::string>> read_extra_text(const std::string& path, const data::Dataset& dataset,
                                                      ContentReport* report = nullptr);

// kind "content". Throws tessera::Error if dim < 1, or if no item has any token (no metadata
// and no extra text: nothing to encode).
ItemMatrix build_content_matrix(const data::Dataset& dataset, const ContentOptions& options, ContentReport* report = nullptr);

}  // namespace tessera::tokenize
