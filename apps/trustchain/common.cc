#include "common.h"

#include <cstdio>
#include <map>

#include <fmt/format.h>

namespace tc::app {

void AddFormatOption(CLI::App* cmd, Format* format, bool with_yaml) {
  std::map<std::string, Format> names = {{"text", Format::kText}, {"json", Format::kJson}};
  if (with_yaml) names["yaml"] = Format::kYaml;
  cmd->add_option("--format", *format,
                  with_yaml ? "Output: text (default, for people), json or yaml"
                            : "Output: text (default, for people) or json")
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case))
      ->option_text("text|json" + std::string(with_yaml ? "|yaml" : ""));
}

void Emit(Format format, const doc::Value& document, const std::string& text) {
  std::string out;
  switch (format) {
    case Format::kText: out = text; break;
    case Format::kJson: out = doc::ToJson(document); break;
    case Format::kYaml: out = doc::ToYaml(document); break;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

namespace {
std::string_view Hint(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound: return "check the path or name";
    case ErrorCode::kMalformed:
      return "the input is damaged or not this kind of file; the offset above says where";
    case ErrorCode::kUnsupported: return "this input uses something trustchain does not handle yet";
    case ErrorCode::kInvalidArgument: return "see --help for the expected form";
    case ErrorCode::kIo: return "check permissions and the device";
    default: return "";
  }
}
}  // namespace

int ReportError(const Error& error, std::string_view context) {
  const std::string_view hint = Hint(error.code());
  std::string line = fmt::format("trustchain: {}: {}", context, error.message());
  if (!hint.empty()) line += fmt::format(" ({})", hint);
  std::fprintf(stderr, "%s\n", line.c_str());
  return kExitUndecided;
}

}  // namespace tc::app
