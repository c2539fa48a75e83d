// Reading the `tinykv` CLI's -w json answers in tests, without a JSON
// parser: a KV answer is one object whose first member, when there is one,
// is etcd's header, "header":{"cluster_id":C,"member_id":M,"revision":R,
// "raft_term":T} (output.h JsonHeader), with no object nested in it.
#pragma once

#include <cstdint>
#include <string>

namespace tinykv::cli {

// The number after the first "name": of `json` (0: none). The header's
// fields are the first of their names: the pairs' revisions are
// "create_revision" and "mod_revision".
inline uint64_t JsonNumber(const std::string& json, const std::string& name) {
  const std::string field = "\"" + name + "\":";
  const size_t at = json.find(field);
  return at == std::string::npos ? 0 : std::stoull(json.substr(at + field.size()));
}

// The header's revision (0: none).
inline uint64_t RevisionOf(const std::string& json) { return JsonNumber(json, "revision"); }

// `json` without its leading "header":{...}, member (as it is when it has none).
inline std::string WithoutHeader(const std::string& json) {
  const std::string field = "{\"header\":{";
  if (json.rfind(field, 0) != 0) return json;
  return "{" + json.substr(json.find("},", field.size()) + 2);
}

}  // namespace tinykv::cli
