#pragma once
// Small text helpers shared by the data readers: splitting a line into fields, parsing numbers
// strictly, and making text UTF-8. They never throw; the readers turn a failed parse into a
// tessera::Error with the file and line.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::data {

// `s` without leading and trailing spaces, tabs, '\r' and '\n'.
std::string_view trim(std::string_view s);

// Splits on every occurrence of `delimiter` (one or more characters); n delimiters give n + 1
// fields, empty ones included. `fields` is cleared first; the views point into `line`.
void split_on(std::string_view line, std::string_view delimiter, std::vector<std::string_view>& fields);

// Splits on runs of spaces and tabs; no empty fields.
void split_whitespace(std::string_view line, std::vector<std::string_view>& fields);

// Splits one CSV/TSV record on `delimiter`. A field that starts with '"' is quoted: it ends at
// the next lone '"', and "" inside it stands for one '"'. Returns false and sets *error for an
// unterminated quote or text after a closing quote. Records spanning lines are not supported.
bool split_quoted(std::string_view line, char delimiter, std::vector<std::string>& fields, std::string* error);

// The whole of `s` (after trim) as a base-10 integer / a floating-point number, or nullopt.
std::optional<std::int64_t> parse_int(std::string_view s);
std::optional<double> parse_double(std::string_view s);

// True if `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

// `s` if it is valid UTF-8; otherwise `s` read as ISO-8859-1 (Latin-1) and re-encoded as UTF-8.
// (MovieLens files are Latin-1; every Latin-1 byte string is valid Latin-1.)
std::string to_utf8(std::string_view s);

// The year in a trailing "(1995)" of a title, or 0 if there is none.
std::int32_t year_from_title(std::string_view title);

// "a, b, c" for error messages.
std::string join(const std::vector<std::string>& values, std::string_view separator);

// The file name part of a path, lower-cased ("/x/Beauty_item2attributes.JSON" -> "beauty_item2attributes.json").
std::string lower_file_name(const std::string& path);

// `name` with a trailing ".gz" removed.
std::string strip_gz(const std::string& name);

bool ends_with(std::string_view s, std::string_view suffix);

}  // namespace tessera::data
