#include "tinykv/replica/kv_command.h"

#include "tinykv/common/coding.h"

namespace tinykv::replica {
namespace {
constexpr uint8_t kCmdVersion = 1;
}  // namespace

std::string EncodeKvCommand(const KvCommand& cmd) {
  std::string s;
  s.push_back(static_cast<char>(kCmdVersion));
  s.push_back(static_cast<char>(cmd.op));
  PutLengthPrefixedSlice(&s, Slice(cmd.key));
  PutLengthPrefixedSlice(&s, Slice(cmd.value));
  s.push_back(cmd.expected ? 1 : 0);
  if (cmd.expected) PutLengthPrefixedSlice(&s, Slice(*cmd.expected));
  PutVarint64(&s, cmd.client_id);
  PutVarint64(&s, cmd.request_seq);
  return s;
}

Result<KvCommand> DecodeKvCommand(Slice in) {
  KvCommand c;
  if (in.size() < 2 || static_cast<uint8_t>(in[0]) != kCmdVersion)
    return Status::Corruption("kv command: bad version");
  const uint8_t op = static_cast<uint8_t>(in[1]);
  if (op < 1 || op > 4) return Status::Corruption("kv command: bad op");
  c.op = static_cast<KvCommand::Op>(op);
  in.remove_prefix(2);
  Slice k, v;
  if (!GetLengthPrefixedSlice(&in, &k) || !GetLengthPrefixedSlice(&in, &v) || in.empty())
    return Status::Corruption("kv command: truncated");
  c.key = k.ToString();
  c.value = v.ToString();
  const uint8_t has = static_cast<uint8_t>(in[0]);
  if (has > 1) return Status::Corruption("kv command: bad expected flag");
  in.remove_prefix(1);
  if (has) {
    Slice e;
    if (!GetLengthPrefixedSlice(&in, &e)) return Status::Corruption("kv command: truncated");
    c.expected = e.ToString();
  }
  if (!GetVarint64(&in, &c.client_id) || !GetVarint64(&in, &c.request_seq) || !in.empty())
    return Status::Corruption("kv command: truncated or trailing bytes");
  return c;
}

void EncodeKvCommandResult(const KvCommandResult& r, std::string* dst) {
  dst->push_back(r.succeeded ? 1 : 0);
  PutVarint64(dst, r.index);
  dst->push_back(r.current ? 1 : 0);
  if (r.current) PutLengthPrefixedSlice(dst, Slice(*r.current));
  PutVarint64(dst, r.deleted);
}

bool DecodeKvCommandResult(Slice* in, KvCommandResult* r) {
  if (in->empty()) return false;
  r->succeeded = (*in)[0] != 0;
  in->remove_prefix(1);
  if (!GetVarint64(in, &r->index) || in->empty()) return false;
  const bool has = (*in)[0] != 0;
  in->remove_prefix(1);
  r->current.reset();
  if (has) {
    Slice cur;
    if (!GetLengthPrefixedSlice(in, &cur)) return false;
    r->current = cur.ToString();
  }
  return GetVarint64(in, &r->deleted);
}

}  // namespace tinykv::replica
