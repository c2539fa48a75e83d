// The body of the client protocol fuzz target, shared by the libFuzzer binary
// (client_protocol_fuzzer.cc; clang, TINYKV_BUILD_FUZZ) and the corpus replay
// test in the normal build (tests/fuzz_corpus_test.cc, ClientFuzzCorpus.*).
// Crashes (TINYKV_CHECK) on a broken invariant.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinykv::client::fuzz {

// Decodes `data` as every request and response of the client protocol
// (protocol.h) -- what a server reads from any client and a client from any
// server -- and as an error frame's payload, with the routing detail a
// client follows (common/routing_error.h). A failure must be Corruption;
// whatever decodes must re-encode to the same bytes (MemberAddRequest: the
// same bytes plus the optional `force` byte a shorter request lacks). A
// routing detail that decodes must round-trip too.
void FuzzClientProtocolBytes(const uint8_t* data, size_t size);

}  // namespace tinykv::client::fuzz
