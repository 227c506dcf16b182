#pragma once

// JSON text to a doc::Value tree, over the SAX reader (reader.h), for
// untrusted input.

#include <cstdint>
#include <functional>
#include <string_view>
#include <span>

#include "tc/base/error.h"
#include "tc/doc/value.h"
#include "tc/json/reader.h"

namespace tc::json {

// Builds a doc::Value tree from one JSON value (see Parse for the grammar,
// the limits and the error format).
//
// - Objects keep member order. A key that appears twice in one object is an
//   error "duplicate key \"k\"" at the second occurrence (RFC 8259 §4 leaves
//   duplicates undefined; for security input an ambiguous document is
//   refused). Duplicate checks cost O(1) per key, also for huge objects.
// - Numbers written without a fraction or exponent that fit int64 become
//   int64 ("-0" is 0); all others become double, rounded to nearest. A number
//   whose magnitude overflows double ("1e400") is an error ("number out of
//   range"); one that underflows becomes 0.0 (keeping its sign).
// - Strings are the decoded UTF-8 (always valid UTF-8).
//
// Errors: kMalformed, with "line L, column C (offset O): <what>".
// The tree owns all its data; it does not refer to `text`.
[[nodiscard]] Result<doc::Value> ParseDocument(
    std::span<const std::uint8_t> text, const Limits& limits = {});

// As ParseDocument, except that the value of each member of the root object
// for whose key `divert` returns a handler is not built: that value's events
// (from its first to its last) go to the handler, and the member is left out
// of the tree. For a huge member read straight into its own structure. The
// key still counts for duplicate detection. Errors of the handler come back
// with the position prefixed, as Parse does.
[[nodiscard]] Result<doc::Value> ParseDocumentDiverting(
    std::span<const std::uint8_t> text,
    const std::function<Handler*(std::string_view key)>& divert, const Limits& limits = {});

}  // namespace tc::json
