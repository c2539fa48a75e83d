// The body of the frame/message fuzzer, shared by the libFuzzer target
// (frame_fuzzer.cc, clang) and the corpus replay test (GCC, normal build).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinykv::net::fuzz {

// Feeds `data` to a FrameDecoder in chunks whose sizes come from the data
// itself, decodes every complete frame's payload as each message type the
// server knows, and checks the invariants (a decoded frame re-encodes to the
// same bytes; decoding never over-allocates — enforced by ASan's allocator
// limit in the fuzz build). Crashes (TINYKV_CHECK) on a broken invariant.
void FuzzFrameBytes(const uint8_t* data, size_t size);

}  // namespace tinykv::net::fuzz
