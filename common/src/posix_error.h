// PosixError: an errno as the Status the Env reports (the mapping env.h
// documents). Internal to the common library; declared here so that the
// mapping can be tested for errnos a test cannot provoke (ENOSPC, EIO).
#pragma once

#include <string>

#include "tinykv/common/status.h"

namespace tinykv {

// "<fname>: <op>: <strerror>" (no "<op>: " part if op is null), coded:
// ENOENT NotFound; ENOSPC and EDQUOT ResourceExhausted, whose message is
// exactly "<fname>: <strerror>" whatever the operation; anything else
// IOError.
Status PosixError(const std::string& fname, const char* op, int err);

}  // namespace tinykv
