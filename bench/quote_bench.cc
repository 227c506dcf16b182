// In-process TPM quote verification throughput on one core.
//   build/release/bench/quote_bench
// RSA-2048: the quote of ../shared/bench/gen_data.py when TC_QUOTE_DIR points
// at its output (bench/quote_vs_tpm2_checkquote.sh sets it up), else a quote
// signed here. ECDSA P-256: a quote signed here (gen_data.py makes RSA only).

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "tc/io/file.h"
#include "tc/tpm/quote.h"
#include "tc/tpm/testing/quote_builder.h"

namespace {

using tc::Bytes;
namespace tpm = tc::tpm;

struct Fixture {
  Bytes attest, sig, key;
  tpm::ToolsPcrFile pcrs;
  Bytes nonce;
  std::string source;
};

std::optional<Fixture> FromGenData() {
  const char* dir = std::getenv("TC_QUOTE_DIR");
  if (dir == nullptr) return std::nullopt;
  const std::string d = dir;
  const std::string tag = std::getenv("TC_QUOTE_TAG") ? std::getenv("TC_QUOTE_TAG") : "quote_1000";
  auto read = [&](const std::string& s) { return tc::io::ReadFile(d + "/" + tag + "_" + s, 1 << 20); };
  auto attest = read("attest.bin"), sig = read("sig.bin"), key = read("ak_tpm2b.bin"),
       pcr = read("pcr.bin");
  const char* nonce = std::getenv("TC_QUOTE_NONCE_HEX");
  if (!attest || !sig || !key || !pcr || nonce == nullptr) return std::nullopt;
  auto pcrs = tpm::ParseToolsPcrFile(*pcr);
  if (!pcrs) return std::nullopt;
  return Fixture{*attest, *sig, *key, *pcrs, *tc::ParseHex(nonce), "gen_data.py " + tag};
}

Fixture Signed(bool rsa) {
  auto key = rsa ? tpm::testing::TestKey::Rsa2048() : tpm::testing::TestKey::EccP256();
  tpm::testing::QuoteParts parts;
  parts.nonce = {'b', 'e', 'n', 'c', 'h'};
  parts.selection = {{tc::crypto::HashAlg::kSha256, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14}}};
  Fixture f;
  for (auto pcr : parts.selection[0].pcrs) {
    parts.values.push_back(Bytes(32, static_cast<std::uint8_t>(pcr)));
    f.pcrs.values.banks[tc::crypto::HashAlg::kSha256].emplace(
        pcr, tc::crypto::Digest(tc::crypto::HashAlg::kSha256, parts.values.back()));
  }
  f.pcrs.selection = parts.selection;
  f.attest = tpm::testing::MakeAttest(parts);
  f.sig = key.Sign(f.attest);
  f.key = key.Public2b();
  f.nonce = parts.nonce;
  f.source = rsa ? "signed here, RSA-2048" : "signed here, ECDSA P-256";
  return f;
}

void Verify(benchmark::State& state, const Fixture& f, bool load_key_each_time) {
  auto key = tpm::PublicKey::Load(f.key);
  if (!key) {
    state.SkipWithError(key.error().message().c_str());
    return;
  }
  tpm::QuoteExpectations e;
  e.nonce = f.nonce;
  e.pcr_values = &f.pcrs.values;
  e.pcr_selection = f.pcrs.selection;
  for (auto _ : state) {
    if (load_key_each_time) key = tpm::PublicKey::Load(f.key);
    auto v = tpm::VerifyQuote(f.attest, f.sig, *key, e);
    if (!v || !v->ok()) {
      state.SkipWithError("quote did not verify");
      return;
    }
  }
  state.SetLabel(f.source);
}

void BM_VerifyRsa2048(benchmark::State& s) {
  static const Fixture f = FromGenData().value_or(Signed(true));
  Verify(s, f, false);
}
void BM_VerifyRsa2048LoadingKey(benchmark::State& s) {
  static const Fixture f = FromGenData().value_or(Signed(true));
  Verify(s, f, true);
}
void BM_VerifyEcdsaP256(benchmark::State& s) {
  static const Fixture f = Signed(false);
  Verify(s, f, false);
}
void BM_VerifyEcdsaP256LoadingKey(benchmark::State& s) {
  static const Fixture f = Signed(false);
  Verify(s, f, true);
}
BENCHMARK(BM_VerifyRsa2048)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VerifyRsa2048LoadingKey)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VerifyEcdsaP256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VerifyEcdsaP256LoadingKey)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
