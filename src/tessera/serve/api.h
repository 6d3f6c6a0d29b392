#pragma once
// The JSON API of `tessera serve`: parsing and validating POST /v1/recommend bodies against the
// served item catalog, and rendering answers and errors. No HTTP and no model in here, so every
// rule below is in one place (README.md "tessera serve" documents it for users).
//
// Request, single form:
//   {"history": [12, "B0001", ...], "k": 10, "exclude_history": true, "original_ids": false}
// Request, batch form (the same k and exclude_history for all):
//   {"histories": [[12, 40], ["B0001"]], "k": 10}
// History items, oldest first: a JSON integer is an internal item ID (1..num_items), a JSON
// string is the dataset's original ID; with "original_ids": true integers are original IDs too
// (ML-1M movie IDs, say). Defaults: k = 10, exclude_history = false, original_ids = false.
// "timestamps" (optional; required by models trained with time buckets, ignored by the others):
// the history's times in seconds, one integer per item, non-decreasing; in the batch form a list
// of such lists, one per history.
// Unknown fields are errors (a misspelt "exclude_histroy" must not be silently ignored).
//
// Answer, single form: {"items": [Item, ...], "model": ..., "model_version": ..., "latency_ms": ...}
// Answer, batch form:  {"results": [{"items": [Item, ...]}, ...], "model": ..., ...}
// Item: {"item": 17, "original_id": "B000X", "title": "...", "score": -1.23,
//        "semantic_id": [3, 140, 7, 0]}   (semantic_id only for TIGER models)
// Errors: {"error": "<what is wrong, naming the field>", "status": <HTTP status>}.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/bundle/item_catalog.h"
#include "tessera/core/error.h"
#include "tessera/infer/retrieval.h"
#include "tessera/tokenize/semantic_ids.h"

namespace tessera::serve {

// A request the client got wrong (status 4xx) or that the server cannot take now (503).
class ApiError : public Error {
 public:
  ApiError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct ApiLimits {
  std::int64_t max_k = 1000;               // k must be in 1..min(max_k, num_items)
  std::size_t max_histories = 256;         // histories in one batch-form request
  std::size_t max_history_length = 10000;  // items in one history (models read only the most recent max_len)
};

struct RecommendRequest {
  std::vector<std::vector<std::int32_t>> histories;  // internal item IDs, oldest first, none empty
  std::vector<std::vector<std::int64_t>> timestamps;  // one list per history, or empty when the client sent none
  std::int64_t k = 10;
  bool exclude_history = false;
  bool batch_form = false;  // the client used "histories": answer with "results"
};

// Parses and validates a request body. Throws ApiError: 400 for malformed JSON, a body that is
// not an object, unknown fields and wrong types; 422 for well-formed values the catalog or the
// limits reject (unknown item, empty history, k out of range, too many or too long histories).
RecommendRequest parse_recommend_request(std::string_view body, const bundle::ItemCatalog& items, const ApiLimits& limits);

// The "items" array for one answer list. semantic_ids: the TIGER model's IDs, or nullptr.
nlohmann::json render_items(const std::vector<infer::ScoredItem>& list, const bundle::ItemCatalog& items,
                            const tokenize::SemanticIds* semantic_ids);

// {"error": message, "status": status} as text.
std::string error_body(int status, std::string_view message);

}  // namespace tessera::serve
