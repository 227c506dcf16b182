// IMA list verification, stage by stage, on one core (docs/benchmarks.md):
//   ima_bench LIST POLICY
// LIST and POLICY come from ../shared/bench/gen_data.py ima (bench/ima_bench.sh).
// Prints, per stage, the best of 3 runs: the bare hashes (the floor: SHA-1
// template digest, SHA-256 template digest, SHA-256 extend, on the same
// template data, already in memory), parsing alone, parsing + template check
// + replay, loading the Keylime policy, and the whole verification.

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/ima/keylime_policy.h"
#include "tc/ima/parser.h"
#include "tc/ima/replay.h"
#include "tc/ima/verify.h"
#include "tc/io/file.h"

namespace {

using Clock = std::chrono::steady_clock;

double Best(const std::function<void()>& f, int runs = 3) {
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

void Report(const char* stage, double seconds, std::size_t entries) {
  std::printf("%-44s %8.3f s  %7.1f ns/entry\n", stage, seconds,
              seconds * 1e9 / static_cast<double>(entries));
}

[[noreturn]] void Die(const tc::Error& e) {
  std::fprintf(stderr, "ima_bench: %s\n", e.message().c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ima_bench LIST POLICY\n");
    return 2;
  }
  tc::crypto::InitForProcess();
  const std::string list = argv[1], policy_path = argv[2];
  using tc::crypto::HashAlg;

  // The template data of every entry, in memory, for the hash floor.
  std::vector<tc::Bytes> data;
  {
    auto src = tc::io::OpenFileSource(list);
    if (!src) Die(src.error());
    tc::ima::EntryStream s(**src, {});
    tc::ima::ImaEntry e;
    while (true) {
      auto more = s.Next(&e);
      if (!more) Die(more.error());
      if (!*more) break;
      data.emplace_back(e.hash_input.begin(), e.hash_input.end());
    }
  }
  const std::size_t n = data.size();
  std::printf("%zu entries\n", n);

  Report("hashes only (sha1 + sha256 + sha256 extend)", Best([&] {
           tc::crypto::Digest pcr(HashAlg::kSha256);
           for (const auto& d : data) {
             auto h1 = tc::crypto::Hash(HashAlg::kSha1, d);
             auto h2 = tc::crypto::Hash(HashAlg::kSha256, d);
             if (!h1 || !h2 || !tc::crypto::ExtendDigest(pcr, h2->bytes())) std::exit(3);
           }
         }),
         n);
  data.clear();
  data.shrink_to_fit();

  Report("parse", Best([&] {
           auto src = tc::io::OpenFileSource(list);
           tc::ima::EntryStream s(**src, {});
           tc::ima::ImaEntry e;
           while (true) {
             auto more = s.Next(&e);
             if (!more || !*more) break;
           }
         }),
         n);

  Report("parse + template check + replay sha1,sha256", Best([&] {
           auto src = tc::io::OpenFileSource(list);
           tc::ima::VerifyOptions o;
           o.banks = {HashAlg::kSha1, HashAlg::kSha256};
           auto r = tc::ima::Verify(**src, o);
           if (!r || !r->ok()) std::exit(3);
         }),
         n);

  std::optional<tc::ima::KeylimePolicy> policy;
  Report("load Keylime policy", Best([&] {
           auto file = tc::io::MappedFile::Open(policy_path, std::size_t{4} << 30);
           if (!file) Die(file.error());
           auto p = tc::ima::LoadKeylimePolicy(file->bytes());
           if (!p) Die(p.error());
           policy.emplace(std::move(*p));
         }),
         n);

  Report("verify: everything above, policy loaded", Best([&] {
           auto src = tc::io::OpenFileSource(list);
           tc::ima::VerifyOptions o;
           o.banks = {HashAlg::kSha1, HashAlg::kSha256};
           o.allowlist = &policy->allowlist;
           auto r = tc::ima::Verify(**src, o);
           if (!r) Die(r.error());
         }),
         n);
  std::printf("allowlist: %zu paths, %.1f MB\n", policy->allowlist.path_count(),
              static_cast<double>(policy->allowlist.memory_bytes()) / 1e6);
  return 0;
}
