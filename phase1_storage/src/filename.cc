#include "filename.h"

#include <cinttypes>
#include <cstdio>

namespace tinykv::storage {

namespace {
std::string MakeFileName(const std::string& dbname, uint64_t number, const char* suffix) {
  char buf[100];
  std::snprintf(buf, sizeof(buf), "/%06" PRIu64 ".%s", number, suffix);
  return dbname + buf;
}

bool ConsumeDecimal(std::string_view* in, uint64_t* val) {
  uint64_t v = 0;
  size_t digits = 0;
  while (digits < in->size() && (*in)[digits] >= '0' && (*in)[digits] <= '9') {
    const uint64_t d = static_cast<uint64_t>((*in)[digits] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
    ++digits;
  }
  if (digits == 0) return false;
  in->remove_prefix(digits);
  *val = v;
  return true;
}
}  // namespace

std::string LogFileName(const std::string& dbname, uint64_t number) {
  return MakeFileName(dbname, number, "log");
}
std::string TableFileName(const std::string& dbname, uint64_t number) {
  return MakeFileName(dbname, number, "sst");
}
std::string DescriptorFileName(const std::string& dbname, uint64_t number) {
  char buf[100];
  std::snprintf(buf, sizeof(buf), "/MANIFEST-%06" PRIu64, number);
  return dbname + buf;
}
std::string CurrentFileName(const std::string& dbname) { return dbname + "/CURRENT"; }
std::string LockFileName(const std::string& dbname) { return dbname + "/LOCK"; }
std::string TempFileName(const std::string& dbname, uint64_t number) {
  return MakeFileName(dbname, number, "dbtmp");
}

bool ParseFileName(const std::string& filename, uint64_t* number, FileType* type) {
  std::string_view rest(filename);
  if (rest == "CURRENT") {
    *number = 0;
    *type = FileType::kCurrentFile;
  } else if (rest == "LOCK") {
    *number = 0;
    *type = FileType::kLockFile;
  } else if (rest.starts_with("MANIFEST-")) {
    rest.remove_prefix(9);
    uint64_t num;
    if (!ConsumeDecimal(&rest, &num) || !rest.empty()) return false;
    *type = FileType::kDescriptorFile;
    *number = num;
  } else {
    uint64_t num;
    if (!ConsumeDecimal(&rest, &num)) return false;
    if (rest == ".log") {
      *type = FileType::kLogFile;
    } else if (rest == ".sst") {
      *type = FileType::kTableFile;
    } else if (rest == ".dbtmp") {
      *type = FileType::kTempFile;
    } else {
      return false;
    }
    *number = num;
  }
  return true;
}

Status SetCurrentFile(Env* env, const std::string& dbname, uint64_t descriptor_number) {
  std::string manifest = DescriptorFileName(dbname, descriptor_number);
  manifest = manifest.substr(dbname.size() + 1) + "\n";
  const std::string tmp = TempFileName(dbname, descriptor_number);
  Status s = WriteStringToFile(env, manifest, tmp, /*sync=*/true);
  if (s.ok()) s = env->RenameFile(tmp, CurrentFileName(dbname));
  if (s.ok()) s = env->SyncDir(dbname);
  if (!s.ok()) env->RemoveFile(tmp).IgnoreError();
  return s;
}

}  // namespace tinykv::storage
