// File names inside a database directory:
//   dbname/CURRENT            name of the current MANIFEST, one line
//   dbname/LOCK               advisory lock held by the open DB
//   dbname/MANIFEST-NNNNNN    version edits (wal framing)
//   dbname/NNNNNN.log         write-ahead log
//   dbname/NNNNNN.sst         SSTable
//   dbname/NNNNNN.dbtmp       temporary file (CURRENT being replaced)
#pragma once

#include <cstdint>
#include <string>

#include "tinykv/common/env.h"

namespace tinykv::storage {

enum class FileType { kLogFile, kLockFile, kTableFile, kDescriptorFile, kCurrentFile, kTempFile };

std::string LogFileName(const std::string& dbname, uint64_t number);
std::string TableFileName(const std::string& dbname, uint64_t number);
std::string DescriptorFileName(const std::string& dbname, uint64_t number);
std::string CurrentFileName(const std::string& dbname);
std::string LockFileName(const std::string& dbname);
std::string TempFileName(const std::string& dbname, uint64_t number);

// Parses a file name (without directory); false if it is not one of ours.
bool ParseFileName(const std::string& filename, uint64_t* number, FileType* type);

// Points CURRENT at MANIFEST-descriptor_number: write temp, fsync, rename,
// fsync the directory.
Status SetCurrentFile(Env* env, const std::string& dbname, uint64_t descriptor_number);

}  // namespace tinykv::storage
