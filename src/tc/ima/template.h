#pragma once

// IMA template descriptors and their fields (Linux
// Documentation/security/IMA-templates.rst; security/integrity/ima/
// ima_template.c and ima_template_lib.c). A template is a list of fields
// ("d-ng|n-ng|sig"); the measurement list names the template, and a custom
// template (ima_template_fmt=) is named by its field list.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tc/base/error.h"

namespace tc::ima {

enum class Field {
  kDigest,        // d: SHA-1 (or MD5 padded) file digest, legacy "ima"
  kEventName,     // n: file name, legacy "ima" (at most 255 bytes)
  kDigestNg,      // d-ng: "alg:" NUL digest
  kDigestNgV2,    // d-ngv2: "type:alg:" NUL digest
  kEventNameNg,   // n-ng: NUL-terminated name
  kSignature,     // sig
  kBuffer,        // buf
  kModsigDigest,  // d-modsig: like d-ng
  kModsig,        // modsig
  kEvmSig,        // evmsig
  kXattrNames,    // xattrnames
  kXattrLengths,  // xattrlengths
  kXattrValues,   // xattrvalues
  kInodeUid,      // iuid
  kInodeGid,      // igid
  kInodeMode,     // imode
};

// The field id as the kernel writes it ("d-ng").
std::string_view FieldName(Field f);
std::optional<Field> FieldFromName(std::string_view id);

// The name of the legacy template, whose binary and hash forms differ.
inline constexpr std::string_view kLegacyTemplate = "ima";
// Linux IMA_EVENT_NAME_LEN_MAX: the legacy template's name field length.
inline constexpr std::size_t kLegacyNameMax = 255;
// A template (field list) has at most this many fields (Linux
// IMA_TEMPLATE_NUM_FIELDS_MAX).
inline constexpr std::size_t kMaxTemplateFields = 15;

// The fields of a template name: a built-in template ("ima", "ima-ng",
// "ima-ngv2", "ima-sig", "ima-sigv2", "ima-buf", "ima-modsig", "evm-sig") or
// a field list ("d-ng|n-ng|buf"). kUnsupported naming the template when it
// is neither.
[[nodiscard]] Result<std::vector<Field>> TemplateFields(std::string_view name);

}  // namespace tc::ima
