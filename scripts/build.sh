#!/usr/bin/env bash
# Configures and builds one flavour of trustchain.
#   scripts/build.sh release    -> build/release   (g++, -O2, tests and benchmarks)
#   scripts/build.sh sanitize   -> build/sanitize  (clang, ASan+UBSan, tests and libFuzzer targets)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=${TC_JOBS:-$(nproc)}
case "$flavour" in
  release)
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null ;;
  sanitize)
    CC=clang CXX=clang++ cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DTC_SANITIZE=ON -DTC_FUZZ=ON -DTC_BUILD_BENCH=OFF >/dev/null ;;
  *) echo "usage: scripts/build.sh release|sanitize" >&2; exit 2 ;;
esac
ninja -C "build/$flavour" -j "$jobs"
