// `tinykv txn`: the grammar and the run (txn_command.h).
#include "cli/txn_command.h"

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string_view>
#include <utility>

#include "tinykv/client/protocol.h"

namespace tinykv::cli {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

void SkipBlanks(std::string_view s, size_t& pos) {
  while (pos < s.size() && IsBlank(s[pos])) ++pos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The quoted string at s[pos] ('"' with Go's escapes, or '`' raw, as
// etcdctl's %q reads them); pos ends past the closing quote.
Result<std::string> ReadQuoted(std::string_view s, size_t& pos) {
  const char quote = s[pos++];
  std::string out;
  while (pos < s.size() && s[pos] != quote) {
    const char c = s[pos++];
    if (quote == '`' || c != '\\') {
      out += c;
      continue;
    }
    if (pos == s.size()) break;
    const char e = s[pos++];
    switch (e) {
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case 'x': {
        const int hi = pos + 1 < s.size() ? HexValue(s[pos]) : -1;
        const int lo = hi >= 0 ? HexValue(s[pos + 1]) : -1;
        if (lo < 0) return Status::InvalidArgument("\\x wants two hex digits");
        out += static_cast<char>(hi * 16 + lo);
        pos += 2;
        break;
      }
      default:
        return Status::InvalidArgument(std::string("unknown escape \\") + e);
    }
  }
  if (pos == s.size()) return Status::InvalidArgument(std::string("unterminated ") + quote + " string");
  ++pos;
  return out;
}

bool IsQuote(char c) { return c == '"' || c == '`'; }

struct Word {
  std::string text;
  bool quoted = false;
};

// An op line's words: quoted strings, or runs of non-blanks.
Result<std::vector<Word>> Words(std::string_view s) {
  std::vector<Word> out;
  size_t pos = 0;
  for (SkipBlanks(s, pos); pos < s.size(); SkipBlanks(s, pos)) {
    Word w;
    if (IsQuote(s[pos])) {
      TINYKV_ASSIGN_OR_RETURN(w.text, ReadQuoted(s, pos));
      w.quoted = true;
    } else {
      const size_t from = pos;
      while (pos < s.size() && !IsBlank(s[pos])) ++pos;
      w.text = std::string(s.substr(from, pos - from));
    }
    out.push_back(std::move(w));
  }
  return out;
}

Status Malformed(std::string_view line, const std::string& why) {
  return Status::InvalidArgument("malformed comparison '" + std::string(line) + "': " + why);
}

// A signed 64-bit integer in `base` (10 or 16), as Go's strconv.ParseInt
// takes it: an optional sign, then digits only (no 0x, no blanks).
Result<int64_t> ParseInt64(const std::string& text, int base) {
  const char* what = base == 16 ? "a hex" : "a decimal";
  auto bad = [&] {
    return Status::InvalidArgument("'" + text + "' is not " + what + " 64-bit integer");
  };
  size_t pos = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) pos = 1;
  if (pos == text.size()) return bad();
  // Accumulated as a magnitude; int64's range is [-2^63, 2^63 - 1].
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  uint64_t magnitude = 0;
  for (; pos < text.size(); ++pos) {
    const int d = HexValue(text[pos]);
    if (d < 0 || d >= base) return bad();
    if (magnitude > (limit - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return bad();
    magnitude = magnitude * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (negative) return magnitude == (uint64_t{1} << 63) ? INT64_MIN : -static_cast<int64_t>(magnitude);
  return static_cast<int64_t>(magnitude);
}

Result<TxnCompare> ParseCompare(std::string_view s) {
  using Target = TxnCompare::Target;
  TxnCompare c;
  const size_t paren = s.find('(');
  if (paren == std::string_view::npos) return Malformed(s, "want TARGET(\"key\") OP \"value\"");
  const std::string_view target = Trim(s.substr(0, paren));
  if (target == "val" || target == "value") {
    c.target = Target::kValue;
  } else if (target == "ver" || target == "version") {
    c.target = Target::kVersion;
  } else if (target == "c" || target == "create") {
    c.target = Target::kCreate;
  } else if (target == "m" || target == "mod") {
    c.target = Target::kMod;
  } else if (target == "lease") {
    c.target = Target::kLease;
  } else {
    return Malformed(s, "unknown target '" + std::string(target) +
                            "' (value, version, create, mod or lease)");
  }
  size_t pos = paren + 1;
  SkipBlanks(s, pos);
  if (pos == s.size() || !IsQuote(s[pos])) return Malformed(s, "the key must be quoted");
  Result<std::string> key = ReadQuoted(s, pos);
  if (!key.ok()) return Malformed(s, std::string(key.status().message()));
  c.key = std::move(key).value();
  SkipBlanks(s, pos);
  if (pos == s.size() || s[pos] != ')') return Malformed(s, "')' expected after the key");
  ++pos;
  SkipBlanks(s, pos);
  const size_t op_from = pos;
  while (pos < s.size() && std::string_view("=!<>").find(s[pos]) != std::string_view::npos) ++pos;
  const std::string_view op = s.substr(op_from, pos - op_from);
  if (op == "=") {
    c.op = TxnCompare::Op::kEqual;
  } else if (op == "!=") {
    c.op = TxnCompare::Op::kNotEqual;
  } else if (op == "<") {
    c.op = TxnCompare::Op::kLess;
  } else if (op == ">") {
    c.op = TxnCompare::Op::kGreater;
  } else {
    return Malformed(s, "the operator must be =, !=, < or >");
  }
  SkipBlanks(s, pos);
  std::string value;
  if (pos < s.size() && IsQuote(s[pos])) {
    Result<std::string> v = ReadQuoted(s, pos);
    if (!v.ok()) return Malformed(s, std::string(v.status().message()));
    value = std::move(v).value();
  } else if (c.target != Target::kValue) {
    const size_t from = pos;
    while (pos < s.size() && !IsBlank(s[pos])) ++pos;
    value = std::string(s.substr(from, pos - from));
  } else {
    return Malformed(s, "the value must be quoted");
  }
  SkipBlanks(s, pos);
  if (pos != s.size()) return Malformed(s, "unexpected text after the value");
  if (c.target == Target::kValue) {
    c.value = std::move(value);
  } else {
    Result<int64_t> n = ParseInt64(value, c.target == Target::kLease ? 16 : 10);
    if (!n.ok()) return Malformed(s, std::string(n.status().message()));
    c.number = *n;
  }
  if (Status k = client::CheckKey(c.key); !k.ok()) return Malformed(s, std::string(k.message()));
  return c;
}

Result<TxnOp> ParseOp(std::string_view s) {
  TINYKV_ASSIGN_OR_RETURN(std::vector<Word> words, Words(s));
  TxnOp op;
  const std::string& verb = words.front().text;
  size_t args = 1;
  if (!words.front().quoted && verb == "get") {
    op.kind = TxnOp::Kind::kGet;
  } else if (!words.front().quoted && verb == "put") {
    op.kind = TxnOp::Kind::kPut;
    args = 2;
  } else if (!words.front().quoted && verb == "del") {
    op.kind = TxnOp::Kind::kDelete;
  } else {
    return Status::InvalidArgument("unknown request '" + verb + "' (get, put or del)");
  }
  for (size_t i = 1; i < words.size(); ++i) {
    if (!words[i].quoted && words[i].text.rfind("--", 0) == 0) {
      return Status::InvalidArgument("flags are not supported in txn requests (" + words[i].text +
                                     ")");
    }
  }
  if (words.size() != args + 1) {
    return Status::InvalidArgument(args == 2 ? std::string("put takes KEY VALUE")
                                             : verb + " takes one KEY (no ranges in txn)");
  }
  op.key = words[1].text;
  if (op.kind == TxnOp::Kind::kPut) op.value = words[2].text;
  TINYKV_RETURN_IF_ERROR(client::CheckKey(op.key));
  return op;
}

// The input's lines, trimmed, numbered from 1; a block ends at a blank line
// or the end of the input.
class Lines {
 public:
  explicit Lines(std::istream& in) : in_(in) {}
  // The next line of the current block; false at its end.
  bool Next(std::string& line) {
    if (eof_) return false;
    std::string raw;
    if (!std::getline(in_, raw)) {
      eof_ = true;
      return false;
    }
    ++number_;
    line = std::string(Trim(raw));
    return !line.empty();
  }
  int number() const { return number_; }

 private:
  std::istream& in_;
  bool eof_ = false;
  int number_ = 0;
};

template <typename T, typename Parse>
Result<std::vector<T>> ReadBlock(Lines& lines, std::ostream* prompts, const char* prompt,
                                 Parse parse) {
  if (prompts) *prompts << prompt << "\n" << std::flush;
  std::vector<T> out;
  std::string line;
  while (lines.Next(line)) {
    Result<T> item = parse(line);
    if (!item.ok()) {
      return Status::InvalidArgument("txn: line " + std::to_string(lines.number()) + ": " +
                                     std::string(item.status().message()));
    }
    out.push_back(std::move(item).value());
  }
  return out;
}

}  // namespace

Result<TxnRequest> ParseTxn(std::istream& in, std::ostream* prompts) {
  Lines lines(in);
  TxnRequest r;
  TINYKV_ASSIGN_OR_RETURN(r.compares,
                          ReadBlock<TxnCompare>(lines, prompts, "compares:", ParseCompare));
  TINYKV_ASSIGN_OR_RETURN(
      r.success, ReadBlock<TxnOp>(lines, prompts, "success requests (get, put, del):", ParseOp));
  TINYKV_ASSIGN_OR_RETURN(
      r.failure, ReadBlock<TxnOp>(lines, prompts, "failure requests (get, put, del):", ParseOp));
  return r;
}

}  // namespace tinykv::cli
