// Replays a committed fuzz corpus through a fuzz target's body in the normal
// build (the corpus replay tests of phases 3 and 5), so every input a fuzzer
// ever kept keeps passing without clang or libFuzzer. A body reports a broken
// invariant by aborting (TINYKV_CHECK), so the file being replayed is printed
// to stderr first when TINYKV_FUZZ_REPLAY_VERBOSE is set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace tinykv::testing {

// Runs every file of `dir` through `body`; returns how many there were.
inline size_t ReplayFuzzCorpus(const std::filesystem::path& dir,
                               void (*body)(const uint8_t*, size_t)) {
  const bool verbose = std::getenv("TINYKV_FUZZ_REPLAY_VERBOSE") != nullptr;
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (verbose) std::fprintf(stderr, "replaying %s\n", e.path().c_str());
    body(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  return n;
}

}  // namespace tinykv::testing
