#include "tinykv/replica/data_dir.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <system_error>

#include "tinykv/common/crc32c.h"

namespace tinykv::replica {

namespace fs = std::filesystem;

bool IsSingleGroupLayout(const fs::path& data_dir) {
  std::error_code ec;
  return fs::is_directory(data_dir / "raft", ec);
}

fs::path GroupDir(const fs::path& data_dir, uint64_t group) {
  if (group == 1 && IsSingleGroupLayout(data_dir)) return data_dir;
  return data_dir / "groups" / std::to_string(group);
}

namespace {

constexpr char kIdentityFile[] = "identity";
constexpr char kHeader[] = "tinykv-identity 1\n";

std::string Hex(uint64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*" PRIx64, width, v);
  return buf;
}

std::string Body(const NodeIdentity& id) {
  return std::string(kHeader) + "member " + std::to_string(id.member_id) + "\ncluster " +
         ClusterIdString(id.cluster_id) + "\n";
}

}  // namespace

std::string ClusterIdString(uint64_t cluster_id) { return Hex(cluster_id, 16); }

uint64_t ComputeClusterId(std::vector<uint64_t> initial_member_ids, std::string_view token) {
  // FNV-1a over "token|id,id,..." (ids in order): stable across versions
  // and platforms, which is all an identity needs.
  std::sort(initial_member_ids.begin(), initial_member_ids.end());
  std::string text(token);
  text += '|';
  for (uint64_t id : initial_member_ids) text += std::to_string(id) + ",";
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h == 0 ? 1 : h;  // 0 means "unknown"
}

std::string ClusterIdSeed(std::string_view token, const std::map<uint64_t, std::string>& peers) {
  std::string seed(token);
  seed += '|';
  for (const auto& [id, addr] : peers) seed += std::to_string(id) + "=" + addr + ",";
  return seed;
}

Result<std::optional<NodeIdentity>> ReadIdentity(const fs::path& data_dir, Env* env) {
  if (env == nullptr) env = Env::Default();
  const fs::path p = data_dir / kIdentityFile;
  if (!env->FileExists(p.string())) return std::optional<NodeIdentity>();
  std::string text;
  TINYKV_RETURN_IF_ERROR(ReadFileToString(env, p.string(), &text));
  const size_t crc_at = text.rfind("crc ");
  NodeIdentity id;
  unsigned long long member = 0, cluster = 0;
  unsigned crc = 0;
  char tail = 0;
  if (crc_at == std::string::npos ||
      std::sscanf(text.c_str() + crc_at, "crc %8x%c", &crc, &tail) != 2 || tail != '\n' ||
      crc_at + 13 != text.size() || crc32c::Value(text.data(), crc_at) != crc ||
      std::sscanf(text.c_str(), "tinykv-identity 1\nmember %llu\ncluster %16llx\n", &member,
                  &cluster) != 2) {
    return Status::Corruption(p.string() + ": not a valid identity record");
  }
  id.member_id = member;
  id.cluster_id = cluster;
  if (Body(id) != text.substr(0, crc_at))
    return Status::Corruption(p.string() + ": not a valid identity record");
  return std::optional<NodeIdentity>(id);
}

Status WriteIdentity(const fs::path& data_dir, const NodeIdentity& id, Env* env) {
  if (env == nullptr) env = Env::Default();
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Status::IOError("create " + data_dir.string() + ": " + ec.message());
  std::string text = Body(id);
  text += "crc " + Hex(crc32c::Value(text.data(), text.size()), 8) + "\n";
  const std::string tmp = (data_dir / (std::string(kIdentityFile) + ".tmp")).string();
  TINYKV_RETURN_IF_ERROR(WriteStringToFile(env, Slice(text), tmp, /*sync=*/true));
  TINYKV_RETURN_IF_ERROR(env->RenameFile(tmp, (data_dir / kIdentityFile).string()));
  return env->SyncDir(data_dir.string());
}

Result<NodeIdentity> CheckIdentity(const fs::path& data_dir, uint64_t member_id,
                                   uint64_t cluster_id, Env* env) {
  TINYKV_ASSIGN_OR_RETURN(std::optional<NodeIdentity> have, ReadIdentity(data_dir, env));
  if (!have) {
    NodeIdentity id{member_id, cluster_id};
    TINYKV_RETURN_IF_ERROR(WriteIdentity(data_dir, id, env));
    return id;
  }
  if (have->member_id != member_id) {
    return Status::InvalidArgument("data dir " + data_dir.string() + " belongs to member " +
                                   std::to_string(have->member_id) + " of cluster " +
                                   ClusterIdString(have->cluster_id) + ", not to member " +
                                   std::to_string(member_id));
  }
  if (have->cluster_id != 0 && cluster_id != 0 && have->cluster_id != cluster_id) {
    return Status::InvalidArgument("data dir " + data_dir.string() + " belongs to cluster " +
                                   ClusterIdString(have->cluster_id) + ", not to cluster " +
                                   ClusterIdString(cluster_id) +
                                   " (a different --initial-cluster or --initial-cluster-token)");
  }
  return *have;
}

}  // namespace tinykv::replica
