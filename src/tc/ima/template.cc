#include "tc/ima/template.h"

#include <array>
#include <utility>

#include <fmt/format.h>

namespace tc::ima {
namespace {

constexpr std::array<std::pair<Field, std::string_view>, 16> kFieldNames = {{
    {Field::kDigest, "d"},
    {Field::kEventName, "n"},
    {Field::kDigestNg, "d-ng"},
    {Field::kDigestNgV2, "d-ngv2"},
    {Field::kEventNameNg, "n-ng"},
    {Field::kSignature, "sig"},
    {Field::kBuffer, "buf"},
    {Field::kModsigDigest, "d-modsig"},
    {Field::kModsig, "modsig"},
    {Field::kEvmSig, "evmsig"},
    {Field::kXattrNames, "xattrnames"},
    {Field::kXattrLengths, "xattrlengths"},
    {Field::kXattrValues, "xattrvalues"},
    {Field::kInodeUid, "iuid"},
    {Field::kInodeGid, "igid"},
    {Field::kInodeMode, "imode"},
}};

// The built-in templates (Linux ima_template.c builtin_templates[]).
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kBuiltin = {{
    {"ima", "d|n"},
    {"ima-ng", "d-ng|n-ng"},
    {"ima-ngv2", "d-ngv2|n-ng"},
    {"ima-sig", "d-ng|n-ng|sig"},
    {"ima-sigv2", "d-ngv2|n-ng|sig"},
    {"ima-buf", "d-ng|n-ng|buf"},
    {"ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig"},
    {"evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode"},
}};

}  // namespace

std::string_view FieldName(Field f) {
  for (const auto& [field, name] : kFieldNames) {
    if (field == f) return name;
  }
  return "?";
}

std::optional<Field> FieldFromName(std::string_view id) {
  for (const auto& [field, name] : kFieldNames) {
    if (name == id) return field;
  }
  return std::nullopt;
}

Result<std::vector<Field>> TemplateFields(std::string_view name) {
  std::string_view format = name;
  bool builtin = false;
  for (const auto& [n, fmt] : kBuiltin) {
    if (n == name) {
      format = fmt;
      builtin = true;
      break;
    }
  }
  std::vector<Field> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t bar = format.find('|', start);
    const std::string_view id = format.substr(start, bar == std::string_view::npos
                                                         ? std::string_view::npos
                                                         : bar - start);
    const auto field = FieldFromName(id);
    if (!field || fields.size() == kMaxTemplateFields) {
      if (builtin) TC_CHECK(false);
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("unknown template '{}' (neither a built-in template nor a "
                              "list of known fields)",
                              name));
    }
    fields.push_back(*field);
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return fields;
}

}  // namespace tc::ima
