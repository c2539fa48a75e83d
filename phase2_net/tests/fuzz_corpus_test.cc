// Replays the fuzz corpus (phase2_net/fuzz/corpus) through the fuzzer's body
// in the normal GCC build, so every input the fuzzer ever kept keeps passing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "frame_fuzz_body.h"

namespace tinykv::net {
namespace {

TEST(FuzzCorpus, EveryCorpusInputDecodesWithoutCrashing) {
  const std::filesystem::path dir = TINYKV_NET_FUZZ_CORPUS;
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().filename().string());
    fuzz::FuzzFrameBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  EXPECT_GE(n, 8u) << "the corpus went missing";
}

}  // namespace
}  // namespace tinykv::net
