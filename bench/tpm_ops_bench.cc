// TPM operations per second: quotes (RSA-2048 and ECDSA P-256 AKs at a
// persistent handle) and PCR extends, on the embedded TPM and, when
// TC_SWTPM_SPEC names one (bench/tpm_bench.sh starts it), on swtpm.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "tc/tpm/esys/open.h"

namespace {

namespace tpm = tc::tpm;
using tc::crypto::HashAlg;

std::unique_ptr<tpm::Tpm>& Embedded() {
  static std::unique_ptr<tpm::Tpm> t = [] {
    const auto dir = std::filesystem::temp_directory_path() / "tc-bench-tpm";
    std::filesystem::remove_all(dir);
    auto r = tpm::OpenTpm("embedded:" + dir.string());
    return r ? std::move(*r) : nullptr;
  }();
  return t;
}

std::unique_ptr<tpm::Tpm>& Swtpm() {
  static std::unique_ptr<tpm::Tpm> t = []() -> std::unique_ptr<tpm::Tpm> {
    const char* spec = std::getenv("TC_SWTPM_SPEC");
    if (spec == nullptr) return nullptr;
    auto r = tpm::OpenTpm(spec);
    return r ? std::move(*r) : nullptr;
  }();
  return t;
}

void Quote(benchmark::State& state, std::unique_ptr<tpm::Tpm>& t, tpm::KeyAlg alg,
           std::uint32_t handle) {
  if (!t) {
    state.SkipWithError("TPM not available (swtpm: run bench/tpm_bench.sh)");
    return;
  }
  // Google Benchmark calls this more than once: create the AK once per
  // handle (the benchmark's TPMs start empty).
  static std::map<std::uint32_t, tpm::AttestationKey> made;
  if (!made.contains(handle)) {
    auto created = t->CreateAk(alg, tpm::KeyAlg::kRsa2048, handle);
    if (!created) {
      state.SkipWithError(created.error().message().c_str());
      return;
    }
    made.emplace(handle, *created);
  }
  const tpm::AttestationKey* ak = &made.at(handle);
  const std::vector<tpm::PcrSelection> sel = {{HashAlg::kSha256, {0, 1, 2, 3, 4, 5, 6, 7, 10}}};
  const tc::Bytes nonce(20, 7);
  for (auto _ : state) {
    auto q = t->Quote(*ak, nonce, sel);
    if (!q) {
      state.SkipWithError(q.error().message().c_str());
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void Extend(benchmark::State& state, std::unique_ptr<tpm::Tpm>& t) {
  if (!t) {
    state.SkipWithError("TPM not available (swtpm: run bench/tpm_bench.sh)");
    return;
  }
  const std::vector<tc::crypto::Digest> d = {
      *tc::crypto::Hash(HashAlg::kSha256, tc::AsBytes("x"))};
  const std::vector<tpm::PcrSelection> sel = {{HashAlg::kSha256, {16}}};
  auto before = t->ReadPcrs(sel);
  for (auto _ : state) {
    if (!t->Extend(16, d)) {
      state.SkipWithError("extend failed");
      return;
    }
  }
  // Check (untimed, after the loop) that every extend reached the TPM.
  tc::crypto::Digest expect = *before->Find(HashAlg::kSha256, 16);
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(state.iterations()); ++i) {
    (void)tc::crypto::ExtendDigest(expect, d[0].bytes());
  }
  auto after = t->ReadPcrs(sel);
  if (!after || !(*after->Find(HashAlg::kSha256, 16) == expect)) {
    state.SkipWithError("PCR 16 does not hold every extend");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// What a measured launch does per record (launch/host_log.h): one
// TPM2_PCR_Extend carrying a digest for every active bank.
void ExtendAllBanks(benchmark::State& state, std::unique_ptr<tpm::Tpm>& t) {
  if (!t) {
    state.SkipWithError("TPM not available (swtpm: run bench/tpm_bench.sh)");
    return;
  }
  auto info = t->Info();
  if (!info) {
    state.SkipWithError(info.error().message().c_str());
    return;
  }
  std::vector<tc::crypto::Digest> d;
  for (HashAlg alg : info->active_banks) d.push_back(*tc::crypto::Hash(alg, tc::AsBytes("x")));
  for (auto _ : state) {
    if (!t->Extend(16, d)) {
      state.SkipWithError("extend failed");
      return;
    }
  }
  state.SetLabel(std::to_string(d.size()) + " banks");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_QuoteEmbeddedRsa(benchmark::State& s) { Quote(s, Embedded(), tpm::KeyAlg::kRsa2048, 0x81010011); }
void BM_QuoteEmbeddedEcc(benchmark::State& s) { Quote(s, Embedded(), tpm::KeyAlg::kEccP256, 0x81010012); }
void BM_QuoteSwtpmRsa(benchmark::State& s) { Quote(s, Swtpm(), tpm::KeyAlg::kRsa2048, 0x81010013); }
void BM_QuoteSwtpmEcc(benchmark::State& s) { Quote(s, Swtpm(), tpm::KeyAlg::kEccP256, 0x81010014); }
void BM_ExtendEmbedded(benchmark::State& s) { Extend(s, Embedded()); }
void BM_ExtendSwtpm(benchmark::State& s) { Extend(s, Swtpm()); }
BENCHMARK(BM_QuoteEmbeddedRsa)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_QuoteEmbeddedEcc)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_QuoteSwtpmRsa)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_QuoteSwtpmEcc)->Unit(benchmark::kMicrosecond);
void BM_ExtendAllBanksEmbedded(benchmark::State& s) { ExtendAllBanks(s, Embedded()); }
void BM_ExtendAllBanksSwtpm(benchmark::State& s) { ExtendAllBanks(s, Swtpm()); }
BENCHMARK(BM_ExtendEmbedded)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ExtendAllBanksEmbedded)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ExtendAllBanksSwtpm)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ExtendSwtpm)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
