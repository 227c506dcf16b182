// In-process parse + replay throughput over every corpus event log.
//   build/release/bench/eventlog_bench [--benchmark_filter=...]
// Needs ../shared/corpus (or TC_SHARED_DIR); reports events/s and bytes/s.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "tc/eventlog/integrity.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"

namespace {

namespace fs = std::filesystem;

std::vector<tc::Bytes> LoadCorpus() {
  const char* env = std::getenv("TC_SHARED_DIR");
  const fs::path dir = fs::path(env != nullptr ? env : TC_SHARED_DIR) / "corpus" / "eventlog";
  std::vector<tc::Bytes> out;
  if (!fs::is_directory(dir)) return out;
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".bin" && name.find(".quote.") == std::string::npos) {
      paths.push_back(e.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::ifstream f(p, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return out;
}

const std::vector<tc::Bytes>& Corpus() {
  static const std::vector<tc::Bytes> corpus = LoadCorpus();
  return corpus;
}

void Run(benchmark::State& state, bool replay, bool integrity) {
  if (Corpus().empty()) {
    state.SkipWithError("missing ../shared/corpus/eventlog (set TC_SHARED_DIR)");
    return;
  }
  std::int64_t events = 0, bytes = 0;
  for (auto _ : state) {
    for (const tc::Bytes& b : Corpus()) {
      auto log = tc::eventlog::EventLog::Parse(b);
      if (!log) {
        state.SkipWithError(log.error().message().c_str());
        return;
      }
      events += static_cast<std::int64_t>(log->events().size());
      bytes += static_cast<std::int64_t>(b.size());
      if (replay) benchmark::DoNotOptimize(tc::eventlog::Replay(*log));
      if (integrity) benchmark::DoNotOptimize(tc::eventlog::FindDigestMismatches(*log));
    }
  }
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(bytes);
  state.counters["logs"] = static_cast<double>(Corpus().size());
}

void BM_Parse(benchmark::State& s) { Run(s, false, false); }
void BM_ParseReplay(benchmark::State& s) { Run(s, true, false); }
void BM_ParseReplayIntegrity(benchmark::State& s) { Run(s, true, true); }
BENCHMARK(BM_Parse)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ParseReplay)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ParseReplayIntegrity)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
