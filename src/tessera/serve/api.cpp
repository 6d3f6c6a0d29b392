#include "tessera/serve/api.h"

#include <fmt/format.h>

namespace tessera::serve {

namespace {

[[noreturn]] void bad_request(const std::string& message) { throw ApiError(400, message); }
[[noreturn]] void unprocessable(const std::string& message) { throw ApiError(422, message); }

// A short, safe rendering of a JSON value for an error message.
std::string shown(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

bool boolean_field(const nlohmann::json& body, const char* key, bool fallback) {
  if (!body.contains(key)) return fallback;
  const auto& value = body.at(key);
  if (!value.is_boolean()) bad_request(fmt::format("'{}' must be true or false, got {}", key, shown(value)));
  return value.get<bool>();
}

std::int32_t resolve_original(const std::string& original, const bundle::ItemCatalog& items, const std::string& where) {
  const auto item = items.find_original(original);
  if (item == 0) unprocessable(fmt::format("{}: unknown original item ID \"{}\"", where, original));
  return item;
}

std::vector<std::int32_t> parse_history(const nlohmann::json& value, const std::string& where, bool original_ids,
                                        const bundle::ItemCatalog& items, const ApiLimits& limits) {
  if (!value.is_array()) bad_request(fmt::format("'{}' must be an array of item IDs, got {}", where, shown(value)));
  if (value.empty()) unprocessable(fmt::format("'{}' is empty: give at least one item", where));
  if (value.size() > limits.max_history_length) {
    unprocessable(fmt::format("'{}' has {} items; at most {} are accepted", where, value.size(), limits.max_history_length));
  }
  std::vector<std::int32_t> history;
  history.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto& element = value[i];
    const std::string at = fmt::format("{}[{}]", where, i);
    if (element.is_string()) {
      history.push_back(resolve_original(element.get<std::string>(), items, at));
    } else if (element.is_number_integer()) {
      const auto id = element.get<std::int64_t>();
      if (original_ids) {
        history.push_back(resolve_original(std::to_string(id), items, at));
      } else {
        if (!items.contains(id)) {
          unprocessable(fmt::format("{}: unknown internal item ID {} (valid: 1..{}; send original IDs as strings)", at, id, items.num_items()));
        }
        history.push_back(static_cast<std::int32_t>(id));
      }
    } else {
      bad_request(fmt::format("{}: expected an item ID (integer internal ID or string original ID), got {}", at, shown(element)));
    }
  }
  return history;
}

// One history's "timestamps": integers, as many as its items, non-decreasing.
std::vector<std::int64_t> parse_timestamps(const nlohmann::json& value, const std::string& where, std::size_t expected) {
  if (!value.is_array()) bad_request(fmt::format("'{}' must be an array of integer times in seconds, got {}", where, shown(value)));
  if (value.size() != expected) {
    unprocessable(fmt::format("'{}' has {} entries but its history has {} items; give one time per item", where, value.size(), expected));
  }
  std::vector<std::int64_t> times;
  times.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_number_integer()) bad_request(fmt::format("{}[{}]: expected an integer time in seconds, got {}", where, i, shown(value[i])));
    times.push_back(value[i].get<std::int64_t>());
    if (i > 0 && times[i] < times[i - 1]) {
      unprocessable(fmt::format("{}[{}]: times must not decrease along the history ({} after {})", where, i, times[i], times[i - 1]));
    }
  }
  return times;
}

}  // namespace

RecommendRequest parse_recommend_request(std::string_view body, const bundle::ItemCatalog& items, const ApiLimits& limits) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) bad_request("body is not valid JSON");
  if (!json.is_object()) bad_request(fmt::format("body must be a JSON object, got {}", json.type_name()));
  for (const auto& [key, value] : json.items()) {
    if (key != "history" && key != "histories" && key != "timestamps" && key != "k" && key != "exclude_history" && key != "original_ids") {
      bad_request(fmt::format("unknown field '{}' (known: history, histories, timestamps, k, exclude_history, original_ids)", key));
    }
  }
  RecommendRequest request;
  if (json.contains("k")) {
    const auto& k = json.at("k");
    if (!k.is_number_integer()) bad_request(fmt::format("'k' must be an integer, got {}", shown(k)));
    request.k = k.get<std::int64_t>();
  }
  const std::int64_t max_k = std::min<std::int64_t>(limits.max_k, items.num_items());
  if (request.k < 1 || request.k > max_k) unprocessable(fmt::format("'k' must be in 1..{}, got {}", max_k, request.k));
  request.exclude_history = boolean_field(json, "exclude_history", false);
  const bool original_ids = boolean_field(json, "original_ids", false);

  const bool single = json.contains("history"), batch = json.contains("histories");
  if (single == batch) bad_request("give exactly one of 'history' (one list of item IDs) or 'histories' (a list of lists)");
  if (single) {
    request.histories.push_back(parse_history(json.at("history"), "history", original_ids, items, limits));
    if (json.contains("timestamps")) request.timestamps.push_back(parse_timestamps(json.at("timestamps"), "timestamps", request.histories[0].size()));
    return request;
  }
  request.batch_form = true;
  const auto& histories = json.at("histories");
  if (!histories.is_array()) bad_request(fmt::format("'histories' must be an array of arrays of item IDs, got {}", shown(histories)));
  if (histories.empty()) unprocessable("'histories' is empty: give at least one history");
  if (histories.size() > limits.max_histories) {
    unprocessable(fmt::format("'histories' has {} entries; at most {} are accepted per request", histories.size(), limits.max_histories));
  }
  for (std::size_t i = 0; i < histories.size(); ++i) {
    request.histories.push_back(parse_history(histories[i], fmt::format("histories[{}]", i), original_ids, items, limits));
  }
  if (json.contains("timestamps")) {
    const auto& times = json.at("timestamps");
    if (!times.is_array() || times.size() != histories.size()) {
      bad_request(fmt::format("'timestamps' must be an array with one list of times per history ({}), got {}", histories.size(), shown(times)));
    }
    for (std::size_t i = 0; i < times.size(); ++i) {
      request.timestamps.push_back(parse_timestamps(times[i], fmt::format("timestamps[{}]", i), request.histories[i].size()));
    }
  }
  return request;
}

nlohmann::json render_items(const std::vector<infer::ScoredItem>& list, const bundle::ItemCatalog& items,
                            const tokenize::SemanticIds* semantic_ids) {
  auto out = nlohmann::json::array();
  for (const auto& scored : list) {
    nlohmann::json item = {{"item", scored.item},
                           {"original_id", items.original_id(scored.item)},
                           {"title", items.title(scored.item)},
                           {"score", scored.score}};
    if (semantic_ids) {
      auto code = semantic_ids->code(scored.item);
      item["semantic_id"] = std::vector<std::int64_t>(code.begin(), code.end());
    }
    out.push_back(std::move(item));
  }
  return out;
}

std::string error_body(int status, std::string_view message) {
  return nlohmann::json{{"error", std::string(message)}, {"status", status}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tessera::serve
