// See txn_command_fuzz_body.h.
#include "txn_command_fuzz_body.h"

#include "tinykv/common/check.h"
#include "tinykv/txn/txn_command.h"

namespace tinykv::txn::fuzz {

void FuzzTxnCommandBytes(const uint8_t* data, size_t size) {
  const Slice in(reinterpret_cast<const char*>(data), size);
  Result<TxnCommand> cmd = DecodeTxnCommand(in);
  if (!cmd.ok()) {
    TINYKV_CHECK(cmd.status().IsCorruption()) << cmd.status().ToString();
  } else {
    const Status valid = ValidateTxnCommand(*cmd);
    TINYKV_CHECK(valid.ok() || valid.IsInvalidArgument()) << valid.ToString();
    Result<TxnCommand> again = DecodeTxnCommand(Slice(EncodeTxnCommand(*cmd)));
    TINYKV_CHECK(again.ok()) << again.status().ToString();
    TINYKV_CHECK(*again == *cmd) << "a command changed in its round trip";
  }
  Result<TxnCommandResult> result = DecodeTxnCommandResult(in);
  if (!result.ok()) {
    TINYKV_CHECK(result.status().IsCorruption()) << result.status().ToString();
  } else {
    Result<TxnCommandResult> again = DecodeTxnCommandResult(Slice(EncodeTxnCommandResult(*result)));
    TINYKV_CHECK(again.ok()) << again.status().ToString();
    TINYKV_CHECK(*again == *result) << "a result changed in its round trip";
  }
}

}  // namespace tinykv::txn::fuzz
