// NotLeader hint formatting and key-range helpers (protocol.h).
#include "tinykv/client/protocol.h"

#include <charconv>
#include <string>

namespace tinykv::client {

std::string FormatNotLeader(const LeaderHint& hint) {
  std::string s = "leader=" + std::to_string(hint.leader);
  if (!hint.address.empty()) s += " addr=" + hint.address;
  return s;
}

namespace {
// The value of `name=` in a space-separated message, or empty.
std::string_view Field(std::string_view msg, std::string_view name) {
  size_t pos = 0;
  while (pos < msg.size()) {
    size_t end = msg.find_first_of(" ,;", pos);
    if (end == std::string_view::npos) end = msg.size();
    std::string_view word = msg.substr(pos, end - pos);
    if (word.size() > name.size() && word.substr(0, name.size()) == name &&
        word[name.size()] == '=') {
      return word.substr(name.size() + 1);
    }
    pos = end + 1;
  }
  return {};
}
}  // namespace

LeaderHint ParseNotLeader(std::string_view message) {
  LeaderHint hint;
  std::string_view id = Field(message, "leader");
  if (!id.empty()) {
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
    if (ec == std::errc() && ptr == id.data() + id.size()) hint.leader = v;
  }
  hint.address = std::string(Field(message, "addr"));
  return hint;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;  // empty: no upper bound
}

}  // namespace tinykv::client
