// `tinykv get`, `put`, `del` and `scan`: etcdctl's key-value commands.
//
//   get KEY [RANGE_END] [--prefix | --from-key] [--keys-only | --count-only]
//       [--print-value-only] [--limit N] [--rev N] [--consistency l|s]
//   put KEY [VALUE] [--lease ID]          (VALUE from stdin when omitted)
//   del KEY [RANGE_END] [--prefix | --from-key]
//   scan START END [--limit N] [--keys-only] [--rev N] [--consistency l|s]
//                                         (TinyKV's own: get START END)
//
// The keys a get or del names (ResolveKeyRange): KEY alone; [KEY, RANGE_END)
// (RANGE_END "" or "\0" spelled out: every key from KEY, as --from-key);
// every key starting with KEY (--prefix; "" --prefix: every key); every key
// >= KEY (--from-key; "" --from-key: every key). Refused as etcdctl refuses
// them: --prefix with --from-key, a RANGE_END with either, --keys-only with
// --count-only, --print-value-only with an output format other than simple;
// also (TinyKV's own) --print-value-only with --keys-only or --count-only, a
// RANGE_END not above KEY, and an empty KEY alone.
//
// Output (output.h RenderKvs, RenderCount): get a key that does not exist
// exits 1 (kExitNotFound; -w json and fields still print the empty
// answer); a range, a prefix, a count never do. --count-only prints the
// number of keys named (all of them: --limit does not cap it). JSON and
// fields report etcd's "count", the keys in the range however many --limit
// let through, with "more" when some were left out (a second, keys-only read
// at the same revision counts them when the limit is reached).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "cli/output.h"
#include "tinykv/client/client.h"
#include "tinykv/common/result.h"

namespace tinykv::cli {

struct KvFlags {
  std::string key;                       // get, put, del: KEY; scan: START
  std::optional<std::string> range_end;  // get, del: RANGE_END; scan: END
  bool prefix = false;
  bool from_key = false;
  bool keys_only = false;
  bool count_only = false;
  bool print_value_only = false;
  uint64_t limit = 0;  // 0: all
  uint64_t rev = 0;    // read at this revision (0: now)
  std::string consistency = "l";
  std::optional<std::string> value;  // put
  std::string lease;                 // put --lease ID (hex)
  bool prev_kv = false;              // put, del: print the keys as they were
};

struct KvCommands {
  CLI::App* get = nullptr;
  CLI::App* put = nullptr;
  CLI::App* del = nullptr;
  CLI::App* scan = nullptr;
};
KvCommands AddKvCommands(CLI::App& app, KvFlags& f);

// The keys of a get or del: [start, end), end "" = no upper bound; or just
// `start` when `single`.
struct KeyRange {
  std::string start;
  std::string end;
  bool single = false;
};
// InvalidArgument, in etcdctl's words where it has them, for the
// combinations refused above.
[[nodiscard]] Result<KeyRange> ResolveKeyRange(const std::string& key,
                                               const std::optional<std::string>& range_end,
                                               bool prefix, bool from_key);

// The exit code, or nullopt when no key-value command was given. `call`
// carries --rev and --consistency (KvFlags) already.
std::optional<int> RunKvCommand(const KvCommands& cmds, const KvFlags& f, client::Client& cl,
                                const client::CallOptions& call, OutputFormat format,
                                BytesEncoding encoding, std::istream& in, std::ostream& out,
                                std::ostream& err);

}  // namespace tinykv::cli
