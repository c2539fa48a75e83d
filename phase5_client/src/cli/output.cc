// Rendering for the tinykv CLI (output.h).
#include "cli/output.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <fmt/format.h>
#include <sstream>
#include <utility>

namespace tinykv::cli {

int ExitCodeFor(const Status& s) {
  if (s.ok()) return kExitOk;
  if (s.IsNotFound()) return kExitNotFound;
  if (s.IsInvalidArgument()) return kExitUsage;
  if (s.IsUnavailable() || s.IsTimeout() || s.IsNotLeader() || s.IsCancelled() || s.IsAborted() ||
      s.IsBusy()) {
    return kExitUnavailable;
  }
  return kExitError;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string Base64Encode(std::string_view s) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(s[i]) << 16) |
                 (static_cast<unsigned char>(s[i + 1]) << 8) | static_cast<unsigned char>(s[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t v = static_cast<unsigned char>(s[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t v =
        (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

namespace {

// Printable's escaping; `quote_marks`: '"' too (Quoted).
std::string Escape(std::string_view s, bool quote_marks) {
  if (IsValidUtf8(s)) {
    bool plain = std::none_of(s.begin(), s.end(), [&](char ch) {
      unsigned char c = static_cast<unsigned char>(ch);
      return c < 0x20 || c == 0x7f || c == '\\' || (quote_marks && c == '"');
    });
    if (plain) return std::string(s);
  }
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (quote_marks && c == '"') {
      out += "\\\"";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

std::string Printable(std::string_view s) { return Escape(s, false); }

std::string Quoted(std::string_view s) { return "\"" + Escape(s, true) + "\""; }

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  // Width in code points, so UTF-8 text lines up.
  auto len = [](const std::string& s) {
    size_t n = 0;
    for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xc0) != 0x80;
    return n;
  };
  for (size_t i = 0; i < header.size(); ++i) width[i] = len(header[i]);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], len(row[i]));
    }
  }
  std::string rule = "+";
  for (size_t w : width) rule += std::string(w + 2, '-') + "+";
  rule += "\n";
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < cells.size() ? cells[i] : "";
      out += " " + cell + std::string(width[i] - len(cell), ' ') + " |";
    }
    return out + "\n";
  };
  std::string out = rule + line(header) + rule;
  for (const auto& row : rows) out += line(row);
  return out + rule;
}

namespace {

std::string JsonBytes(std::string_view field, std::string_view bytes, BytesEncoding enc) {
  if (enc == BytesEncoding::kAuto && IsValidUtf8(bytes)) {
    return JsonString(field) + ":" + JsonString(bytes);
  }
  return JsonString(std::string(field) + "_base64") + ":" + JsonString(Base64Encode(bytes));
}

std::string U(uint64_t v) { return std::to_string(v); }

const char* B(bool v) { return v ? "true" : "false"; }

// One line of -w fields: "Name" : value.
std::string Field(std::string_view name, std::string_view value) {
  return "\"" + std::string(name) + "\" : " + std::string(value) + "\n";
}

// Whether a pair carries metadata (a server with MVCC: every version has a
// mod revision).
bool HasMetadata(const client::KeyValue& kv) { return kv.meta.mod_revision != 0; }

// One pair as etcd's JSON KeyValue: key, the revisions and version, value,
// lease (the metadata only when the pair has it; no value when keys_only).
std::string KvJson(const client::KeyValue& kv, BytesEncoding encoding, bool keys_only) {
  std::string out = "{" + JsonBytes("key", kv.key, encoding);
  if (HasMetadata(kv)) {
    out += ",\"create_revision\":" + U(kv.meta.create_revision) +
           ",\"mod_revision\":" + U(kv.meta.mod_revision) + ",\"version\":" + U(kv.meta.version);
  }
  if (!keys_only) out += "," + JsonBytes("value", kv.value, encoding);
  if (HasMetadata(kv)) out += ",\"lease\":" + U(kv.meta.lease);
  return out + "}";
}

}  // namespace

std::string JsonHeader(const client::ResponseHeader& member, std::optional<uint64_t> revision) {
  const bool sent = member.member_id != 0;
  if (!sent && !revision) return "";
  std::string out = "\"header\":{";
  if (sent) {
    out += "\"cluster_id\":" + U(member.cluster_id) + ",\"member_id\":" + U(member.member_id);
  }
  if (revision) out += std::string(sent ? "," : "") + "\"revision\":" + U(*revision);
  if (sent) out += ",\"raft_term\":" + U(member.raft_term);
  return out + "},";
}

std::string RenderKvs(const std::vector<client::KeyValue>& kvs, OutputFormat format,
                      BytesEncoding encoding, const KvsView& view) {
  std::string out;
  const uint64_t count = view.count.value_or(kvs.size());
  switch (format) {
    case OutputFormat::kSimple:
      // etcdctl's layout: key line, value line. Bytes are written raw.
      for (const auto& kv : kvs) {
        if (!view.values_only) out += kv.key + "\n";
        if (!view.keys_only) out += kv.value + "\n";
      }
      return out;
    case OutputFormat::kJson: {
      out = "{" + JsonHeader(view.header, view.revision) + "\"count\":" + U(count) + ",\"kvs\":[";
      for (size_t i = 0; i < kvs.size(); ++i) {
        if (i) out += ",";
        out += KvJson(kvs[i], encoding, view.keys_only);
      }
      return out + "]" + (view.more ? ",\"more\":true" : "") + "}\n";
    }
    case OutputFormat::kTable: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& kv : kvs) {
        if (view.keys_only) {
          rows.push_back({Printable(kv.key)});
        } else {
          rows.push_back({Printable(kv.key), Printable(kv.value)});
        }
      }
      return view.keys_only ? RenderTable({"KEY"}, rows) : RenderTable({"KEY", "VALUE"}, rows);
    }
    case OutputFormat::kFields:
      if (view.revision) out += Field("Revision", U(*view.revision));
      for (const auto& kv : kvs) {
        out += Field("Key", Quoted(kv.key));
        if (HasMetadata(kv)) {
          out += Field("CreateRevision", U(kv.meta.create_revision));
          out += Field("ModRevision", U(kv.meta.mod_revision));
          out += Field("Version", U(kv.meta.version));
        }
        if (!view.keys_only) out += Field("Value", Quoted(kv.value));
        if (HasMetadata(kv)) out += Field("Lease", U(kv.meta.lease));
      }
      return out + Field("More", B(view.more)) + Field("Count", U(count));
  }
  return out;
}

std::string RenderCount(uint64_t count, OutputFormat format, std::optional<uint64_t> revision,
                        const client::ResponseHeader& header) {
  switch (format) {
    case OutputFormat::kSimple:
      break;
    case OutputFormat::kJson:
      return "{" + JsonHeader(header, revision) + "\"count\":" + U(count) + "}\n";
    case OutputFormat::kTable:
      return RenderTable({"COUNT"}, {{U(count)}});
    case OutputFormat::kFields: {
      KvsView view;
      view.revision = revision;
      view.count = count;
      return RenderKvs({}, format, BytesEncoding::kAuto, view);
    }
  }
  return U(count) + "\n";
}

std::string RenderWatchBatch(const client::WatchBatch& batch, OutputFormat format,
                             BytesEncoding encoding) {
  std::string out;
  const bool json = format == OutputFormat::kJson;
  if (batch.kind == client::WatchBatch::Kind::kProgress) {
    return json ? "{\"type\":\"PROGRESS\",\"revision\":" + U(batch.revision) + "}\n"
                : "PROGRESS " + U(batch.revision) + "\n";
  }
  for (const client::WatchEvent& e : batch.events) {
    const bool put = e.type == client::WatchEvent::Type::kPut;
    if (json) {
      out += std::string("{\"type\":") + (put ? "\"PUT\"" : "\"DELETE\"") + "," +
             JsonBytes("key", e.key, encoding);
      if (put) out += "," + JsonBytes("value", e.value, encoding);
      if (e.prev_value) out += "," + JsonBytes("prev_value", *e.prev_value, encoding);
      out += ",\"revision\":" + U(e.revision) + "}\n";
      continue;
    }
    out += put ? "PUT\n" : "DELETE\n";
    if (e.prev_value) out += e.key + "\n" + *e.prev_value + "\n";
    out += e.key + "\n" + e.value + "\n";
  }
  return out;
}

std::string RenderPut(OutputFormat format, std::optional<uint64_t> revision,
                      const std::vector<client::KeyValue>& prev, BytesEncoding encoding,
                      const client::ResponseHeader& header) {
  if (format == OutputFormat::kFields) {
    std::string out = revision ? Field("Revision", U(*revision)) : "";
    for (const auto& kv : prev) out += Field("PrevKey", Quoted(kv.key)) + Field("PrevValue", Quoted(kv.value));
    return out;
  }
  if (format == OutputFormat::kJson) {
    return "{" + JsonHeader(header, revision) + "\"ok\":true" +
           (prev.empty() ? std::string() : ",\"prev_kv\":" + KvJson(prev.front(), encoding, false)) +
           "}\n";
  }
  std::string out = "OK\n";
  for (const auto& kv : prev) out += kv.key + "\n" + kv.value + "\n";
  return out;
}

std::string RenderTxn(const TxnOutcome& outcome, OutputFormat format, BytesEncoding encoding) {
  // Each op as its own command renders it (JSON: without the newline).
  auto one = [&](const TxnOpResult& r) {
    switch (r.kind) {
      case TxnOp::Kind::kGet:
        return RenderKvs(r.kvs, format, encoding);
      case TxnOp::Kind::kPut:
        return RenderPut(format);
      case TxnOp::Kind::kDelete:
        break;
    }
    return RenderDeleted(r.deleted, format);
  };
  if (format == OutputFormat::kJson) {
    std::string out = "{" + JsonHeader({}, outcome.revision) +
                      "\"succeeded\":" + (outcome.succeeded ? "true" : "false") +
                      ",\"responses\":[";
    for (size_t i = 0; i < outcome.responses.size(); ++i) {
      const TxnOpResult& r = outcome.responses[i];
      const char* name = r.kind == TxnOp::Kind::kGet   ? "get"
                         : r.kind == TxnOp::Kind::kPut ? "put"
                                                       : "del";
      std::string body = one(r);
      body.pop_back();  // the newline
      out += std::string(i ? "," : "") + "{" + JsonString(name) + ":" + body + "}";
    }
    return out + "]}\n";
  }
  std::string out = outcome.succeeded ? "SUCCESS\n" : "FAILURE\n";
  for (const TxnOpResult& r : outcome.responses) out += "\n" + one(r);
  return out;
}

std::string RenderDeleted(uint64_t deleted, OutputFormat format,
                          const std::vector<client::KeyValue>& prev, BytesEncoding encoding,
                          std::optional<uint64_t> revision, const client::ResponseHeader& header) {
  std::string out;
  switch (format) {
    case OutputFormat::kJson:
      out = "{" + JsonHeader(header, revision) + "\"deleted\":" + U(deleted);
      if (!prev.empty()) {
        out += ",\"prev_kvs\":[";
        for (size_t i = 0; i < prev.size(); ++i) out += (i ? "," : "") + KvJson(prev[i], encoding, false);
        out += "]";
      }
      return out + "}\n";
    case OutputFormat::kTable:
      return RenderTable({"DELETED"}, {{U(deleted)}});
    case OutputFormat::kFields:
      out = Field("Deleted", U(deleted));
      for (const auto& kv : prev) out += Field("PrevKey", Quoted(kv.key)) + Field("PrevValue", Quoted(kv.value));
      return out;
    case OutputFormat::kSimple:
      break;
  }
  out = U(deleted) + "\n";
  for (const auto& kv : prev) out += kv.key + "\n" + kv.value + "\n";
  return out;
}

std::string VersionOf(const client::StatusResponse& s) {
  return s.version.empty() ? "unknown" : s.version;
}

std::string RenderStatus(const std::vector<EndpointStatusRow>& rows, OutputFormat format) {
  std::string out;
  if (format == OutputFormat::kJson) {
    out = "[";
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i) out += ",";
      const auto& r = rows[i];
      out += "{\"endpoint\":" + JsonString(r.endpoint);
      if (r.status.ok()) {
        const auto& s = *r.status;
        out += ",\"cluster_id\":" + U(s.cluster_id) + ",\"id\":" + U(s.id) +
               ",\"leader\":" + U(s.leader) + ",\"term\":" + U(s.term) +
               ",\"role\":" + JsonString(s.role) + ",\"commit_index\":" + U(s.commit_index) +
               ",\"applied_index\":" + U(s.applied_index) + ",\"first_index\":" + U(s.first_index) +
               ",\"last_index\":" + U(s.last_index) +
               ",\"client_address\":" + JsonString(s.client_address) +
               ",\"version\":" + JsonString(VersionOf(s));
        if (!s.alarm.empty()) out += ",\"alarm\":" + JsonString("CORRUPT: " + s.alarm);
      } else {
        out += ",\"error\":" + JsonString(r.status.status().ToString());
      }
      out += "}";
    }
    return out + "]\n";
  }
  if (format == OutputFormat::kFields) {
    for (const auto& r : rows) {
      if (!r.status.ok()) {
        out += Field("Endpoint", Quoted(r.endpoint)) +
               Field("Errors", "[" + r.status.status().ToString() + "]") + "\n";
        continue;
      }
      const auto& s = *r.status;
      out += Field("ClusterID", U(s.cluster_id)) + Field("MemberID", U(s.id)) +
             Field("RaftTerm", U(s.term)) + Field("Version", Quoted(VersionOf(s))) +
             Field("Leader", U(s.leader)) + Field("RaftIndex", U(s.commit_index)) +
             Field("RaftTerm", U(s.term)) + Field("RaftAppliedIndex", U(s.applied_index)) +
             Field("Errors", s.alarm.empty() ? "[]" : "[CORRUPT: " + s.alarm + "]") +
             Field("Endpoint", Quoted(r.endpoint)) + "\n";
    }
    return out;
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    if (!r.status.ok()) {
      if (format == OutputFormat::kSimple) {
        out += r.endpoint + ", error: " + r.status.status().ToString() + "\n";
      } else {
        table.push_back(
            {r.endpoint, "", "", "", "", "", "", "", "", r.status.status().ToString()});
      }
      continue;
    }
    const auto& s = *r.status;
    std::string range = U(s.first_index) + ".." + U(s.last_index);
    if (format == OutputFormat::kSimple) {
      out += r.endpoint + ", " + U(s.id) + ", " + VersionOf(s) + ", " + s.role +
             ", leader=" + U(s.leader) +
             ", term=" + U(s.term) + ", commit=" + U(s.commit_index) +
             ", applied=" + U(s.applied_index) + ", log=" + range +
             (s.alarm.empty() ? "" : ", alarm: CORRUPT: " + s.alarm) + "\n";
    } else {
      table.push_back({r.endpoint, U(s.id), VersionOf(s), s.role, U(s.leader), U(s.term),
                       U(s.commit_index),
                       U(s.applied_index), range,
                       s.alarm.empty() ? "" : "alarm: CORRUPT: " + s.alarm});
    }
  }
  if (format == OutputFormat::kTable) {
    return RenderTable({"ENDPOINT", "ID", "VERSION", "ROLE", "LEADER", "TERM", "COMMIT INDEX",
                        "APPLIED INDEX", "RAFT LOG", "ERRORS"},
                       table);
  }
  return out;
}

std::string RenderMembers(const client::MemberListResponse& members, OutputFormat format) {
  std::string out;
  auto status_of = [&](const client::Member& m) {
    if (m.id == members.leader) return std::string("leader");
    return std::string(m.learner ? "learner" : "voter");
  };
  if (format == OutputFormat::kJson) {
    out = "{\"leader\":" + U(members.leader) + ",\"members\":[";
    for (size_t i = 0; i < members.members.size(); ++i) {
      const auto& m = members.members[i];
      if (i) out += ",";
      out += "{\"id\":" + U(m.id) + ",\"peer_address\":" + JsonString(m.peer_address) +
             ",\"client_address\":" + JsonString(m.client_address) +
             ",\"is_learner\":" + (m.learner ? "true" : "false") + "}";
    }
    return out + "]}\n";
  }
  if (format == OutputFormat::kFields) {
    for (const auto& m : members.members) {
      out += Field("ID", U(m.id)) + Field("PeerURL", Quoted(m.peer_address));
      if (!m.client_address.empty()) out += Field("ClientURL", Quoted(m.client_address));
      out += Field("IsLearner", B(m.learner)) + "\n";
    }
    return out;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : members.members) {
    std::vector<std::string> row = {U(m.id), status_of(m), m.peer_address, m.client_address,
                                    m.learner ? "true" : "false"};
    if (format == OutputFormat::kSimple) {
      out += row[0] + ", " + row[1] + ", " + row[2] + ", " + row[3] + ", " + row[4] + "\n";
    } else {
      rows.push_back(std::move(row));
    }
  }
  if (format == OutputFormat::kTable) {
    return RenderTable({"ID", "STATUS", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"}, rows);
  }
  return out;
}

std::string RenderMemberChange(const std::string& verb, uint64_t id,
                               const client::MemberChangeResponse& resp, OutputFormat format) {
  client::MemberListResponse list;
  list.members = resp.members;
  list.leader = resp.leader;
  if (format == OutputFormat::kJson) {
    std::string members = RenderMembers(list, format);  // {"leader":L,"members":[...]}\n
    return "{\"index\":" + U(resp.index) + ",\"id\":" + U(id) + "," + members.substr(1);
  }
  return "Member " + U(id) + " " + verb + " cluster\n" + RenderMembers(list, format);
}

std::string RenderMemberStart(uint64_t id, const client::MemberChangeResponse& resp) {
  std::vector<client::Member> members = resp.members;
  std::sort(members.begin(), members.end(),
            [](const client::Member& a, const client::Member& b) { return a.id < b.id; });
  std::string peers, clients, peer, client;
  for (const client::Member& m : members) {
    if (!m.peer_address.empty()) {
      peers += (peers.empty() ? "" : ",") + U(m.id) + "=" + m.peer_address;
    }
    if (!m.client_address.empty()) {
      clients += (clients.empty() ? "" : ",") + U(m.id) + "=" + m.client_address;
    }
    if (m.id == id) {
      peer = m.peer_address;
      client = m.client_address;
    }
  }
  // (flag, value) in the order printed; empty values are left out.
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"id", U(id)},
      {"listen-peer", peer},
      {"listen-client", client},
      {"initial-cluster", peers},
      {"initial-cluster-client", clients},
      {"initial-cluster-state", "existing"},
  };
  std::string env, flags = "tinykv-server --data-dir DATA_DIR";
  for (const auto& [flag, value] : settings) {
    if (value.empty()) continue;
    std::string name = "TINYKV_";
    for (char c : flag)
      name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    env += name + "=\"" + value + "\"\n";
    flags += " --" + flag + " " + value;
  }
  return env + "\nStart member " + U(id) +
         " with these variables and its own --data-dir, or with the same flags:\n" + flags + "\n";
}

std::string RenderAlarms(const std::vector<MemberAlarm>& alarms, OutputFormat format) {
  std::string out;
  if (format == OutputFormat::kJson) {
    out = "{\"alarms\":[";
    for (size_t i = 0; i < alarms.size(); ++i) {
      if (i) out += ",";
      out += "{\"memberID\":" + U(alarms[i].member_id) +
             ",\"alarm\":" + JsonString(alarms[i].alarm) + "}";
    }
    return out + "]}\n";
  }
  if (format == OutputFormat::kTable) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : alarms) rows.push_back({U(a.member_id), a.alarm});
    return RenderTable({"MEMBER ID", "ALARM"}, rows);
  }
  for (const auto& a : alarms)
    out += "memberID:" + U(a.member_id) + " alarm:" + a.alarm + "\n";
  return out;
}

std::string RenderHealth(const std::vector<client::HealthReport>& reports, OutputFormat format) {
  std::string out;
  auto took = [](std::chrono::microseconds us) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3fms", static_cast<double>(us.count()) / 1000.0);
    return std::string(buf);
  };
  if (format == OutputFormat::kJson) {
    out = "[";
    for (size_t i = 0; i < reports.size(); ++i) {
      const auto& r = reports[i];
      if (i) out += ",";
      out += "{\"endpoint\":" + JsonString(r.endpoint) +
             ",\"health\":" + (r.healthy ? "true" : "false") +
             ",\"took\":" + JsonString(took(r.took));
      if (!r.healthy) out += ",\"error\":" + JsonString(r.error);
      out += "}";
    }
    return out + "]\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : reports) {
    if (format == OutputFormat::kSimple) {
      if (r.healthy) {
        out += r.endpoint + " is healthy: took = " + took(r.took) + "\n";
      } else {
        out += r.endpoint + " is unhealthy: " + r.error + "\n";
      }
    } else {
      rows.push_back({r.endpoint, r.healthy ? "true" : "false", took(r.took), r.error});
    }
  }
  if (format == OutputFormat::kTable) {
    return RenderTable({"ENDPOINT", "HEALTH", "TOOK", "ERROR"}, rows);
  }
  return out;
}

std::string RenderSnapshotStatus(uint64_t hash, uint64_t index, uint64_t term, uint64_t keys,
                                 uint64_t bytes, uint64_t cluster_id, OutputFormat format) {
  const std::string h = fmt::format("{:016x}", hash);
  const std::string cluster = fmt::format("{:016x}", cluster_id);
  if (format == OutputFormat::kJson) {
    return fmt::format(
        "{{\"hash\":{},\"revision\":{},\"term\":{},\"totalKey\":{},\"totalSize\":{},"
        "\"cluster\":{}}}\n",
        JsonString(h), index, term, keys, bytes, JsonString(cluster));
  }
  if (format == OutputFormat::kTable) {
    return RenderTable({"HASH", "REVISION", "TERM", "TOTAL KEYS", "TOTAL SIZE", "CLUSTER"},
                       {{h, std::to_string(index), std::to_string(term), std::to_string(keys),
                         std::to_string(bytes), cluster}});
  }
  return fmt::format("{}, {}, {}, {}, {}, {}\n", h, index, term, keys, bytes, cluster);
}

}  // namespace tinykv::cli
