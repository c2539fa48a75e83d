// libFuzzer target: the MVCC state machine's command and result decoders
// (txn_command_fuzz_body.h).
//   cmake --preset fuzz
//   cmake --build build/fuzz -j2 --target tinykv_txn_command_fuzzer
//   build/fuzz/phase4_txn/fuzz/tinykv_txn_command_fuzzer <workdir> phase4_txn/fuzz/corpus/txn_command
#include <cstddef>
#include <cstdint>

#include "txn_command_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinykv::txn::fuzz::FuzzTxnCommandBytes(data, size);
  return 0;
}
