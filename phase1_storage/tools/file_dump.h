// Human-readable dumps and checksum verification of the engine's files, for
// the tinykv-storage tool (`dump FILE`, `check`).
//
// File kinds are recognised by name (filename.h): NNNNNN.log is a write-ahead
// log of WriteBatch records, MANIFEST-NNNNNN a log of VersionEdit records,
// NNNNNN.sst an SSTable. Every function reads the file once, verifies every
// checksum on the way, and returns Corruption naming the file and offset at
// the first bad byte (after printing what came before it).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "tinykv/common/status.h"

namespace tinykv::storage::tool {

struct DumpOptions {
  bool hex = false;          // print keys and values as hex instead of escaped text
  bool print_entries = true;  // false: verify only, print nothing per record
};

// What a verification pass saw.
struct FileSummary {
  uint64_t records = 0;  // WAL/MANIFEST records or SSTable entries
  uint64_t bytes = 0;    // file size
  bool torn_tail = false;  // a WAL ended in a torn (incomplete) record: not corruption
};

// Dumps (or only verifies) the file at `path`, whatever its kind.
Status DumpFile(const std::string& path, const DumpOptions& options, std::ostream& out,
                FileSummary* summary);

// Verifies every file of the database in `dir` (CURRENT, MANIFESTs, WALs,
// SSTables). Writes one line per file to `out` ("OK" or the error) and returns
// the first error, or OK.
Status CheckDatabase(const std::string& dir, std::ostream& out);

}  // namespace tinykv::storage::tool
