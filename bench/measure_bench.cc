// Measuring a directory tree (tc::measure::MeasureTree), wall time:
//   measure_bench DIR... [--threads N] [--no-authenticode] [--print]
// Prints files, skipped entries, bytes, wall seconds and MB/s on stderr, and
// a digest of the whole result (sha256 over "sha256  path\n" lines) so that
// runs with different thread counts can be compared. --print writes
// sha256sum-style lines ("<hex>  <path>") on stdout, to diff against
// `sha256sum` (bench/measure_bench.sh).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/measure/file_measure.h"

int main(int argc, char** argv) {
  tc::crypto::InitForProcess();
  std::vector<std::string> roots;
  tc::measure::MeasureOptions options;
  bool print = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) {
      options.threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--no-authenticode") {
      options.authenticode = false;
    } else if (arg == "--print") {
      print = true;
    } else if (!arg.empty() && arg[0] != '-') {
      roots.push_back(arg);
    } else {
      roots.clear();
      break;
    }
  }
  if (roots.empty()) {
    std::fprintf(stderr,
                 "usage: measure_bench DIR... [--threads N] [--no-authenticode] [--print]\n");
    return 2;
  }

  const auto t0 = std::chrono::steady_clock::now();
  auto tree = tc::measure::MeasureTree(roots, options);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!tree.has_value()) {
    std::fprintf(stderr, "measure_bench: %s\n", tree.error().message().c_str());
    return 1;
  }

  auto hasher = tc::crypto::Hasher::Create(tc::crypto::HashAlg::kSha256);
  if (!hasher.has_value()) return 1;
  std::size_t pe = 0;
  for (const tc::measure::FileMeasurement& f : tree->files) {
    const std::string line = f.sha256.Hex() + "  " + f.path + "\n";
    hasher->Update(tc::AsBytes(line));
    if (print) std::fputs(line.c_str(), stdout);
    if (f.authenticode) ++pe;
  }
  const unsigned threads = options.threads;
  std::fprintf(stderr,
               "measure_bench: threads %u%s  files %zu  skipped %zu  PE %zu  bytes %llu  "
               "wall %.3f s  %.1f MB/s  result %s\n",
               threads, threads == 0 ? " (all cores)" : "", tree->files.size(),
               tree->skipped.size(), pe, static_cast<unsigned long long>(tree->bytes), secs,
               static_cast<double>(tree->bytes) / 1e6 / secs, hasher->Final().Hex().c_str());
  return 0;
}
