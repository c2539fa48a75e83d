// `tinykv get/put/del/scan`: see kv_command.h.
#include "cli/kv_command.h"

#include <istream>
#include <iterator>
#include <ostream>

#include "cli/lease_command.h"

namespace tinykv::cli {
namespace {

// The revision a read reports (0: none, see RenderKvs).
std::optional<uint64_t> Known(uint64_t revision) {
  return revision == 0 ? std::nullopt : std::optional<uint64_t>(revision);
}

void AddRangeFlags(CLI::App* cmd, KvFlags& f, const char* verb) {
  cmd->add_flag("--prefix", f.prefix, std::string(verb) + " every key starting with KEY");
  cmd->add_flag("--from-key", f.from_key,
                std::string(verb) + " every key >= KEY (\"\" --from-key: every key)");
}

void AddReadFlags(CLI::App* cmd, KvFlags& f) {
  cmd->add_flag("--keys-only", f.keys_only, "print keys only");
  cmd->add_option("--limit", f.limit, "at most N results (0 = all)");
  cmd->add_option("--consistency", f.consistency,
                  "l = linearizable (leader, ReadIndex), s = serializable (any node, may be stale)")
      ->check(CLI::IsMember({"l", "s"}));
  cmd->add_option("--rev", f.rev,
                  "read at this revision (what writes and -w json reads report); 0 = now");
}

// get and scan: the pairs of `range`, or its count.
int RunRead(const KeyRange& range, const KvFlags& f, client::Client& cl,
            const client::CallOptions& call, OutputFormat format, BytesEncoding encoding,
            std::ostream& out, std::ostream& err) {
  auto fail = [&](const Status& s) {
    err << "Error: " << s.ToString() << "\n";
    return ExitCodeFor(s);
  };
  if (f.count_only) {
    const std::string end = range.single ? client::KeySuccessor(range.start) : range.end;
    auto r = cl.ScanWithRevision(range.start, end, 0, call, /*keys_only=*/true);
    if (!r.ok()) return fail(r.status());
    out << RenderCount(r->kvs.size(), format, Known(r->revision), r->header);
    return kExitOk;
  }
  KvsView view;
  view.keys_only = f.keys_only;
  view.values_only = f.print_value_only;
  if (range.single) {
    auto v = cl.GetWithRevision(range.start, call);
    if (!v.ok()) return fail(v.status());
    view.revision = Known(v->revision);
    view.header = v->header;
    if (!v->found) {
      if (format == OutputFormat::kJson || format == OutputFormat::kFields) {
        out << RenderKvs({}, format, encoding, view);
      }
      err << "Error: key not found: " << Printable(range.start) << "\n";
      return kExitNotFound;
    }
    out << RenderKvs({client::KeyValue{range.start, std::move(v->value), v->meta}}, format,
                     encoding, view);
    return kExitOk;
  }
  auto r = cl.ScanWithRevision(range.start, range.end, f.limit, call, f.keys_only);
  if (!r.ok()) return fail(r.status());
  view.revision = Known(r->revision);
  view.header = r->header;
  const bool counted = format == OutputFormat::kJson || format == OutputFormat::kFields;
  if (counted && f.limit != 0 && r->kvs.size() == f.limit) {
    // etcd's count is of the whole range: count it at the same revision.
    client::CallOptions at = call;
    if (r->revision != 0) at.revision = r->revision;
    auto all = cl.ScanWithRevision(range.start, range.end, 0, at, /*keys_only=*/true);
    if (!all.ok()) return fail(all.status());
    view.count = all->kvs.size();
    view.more = all->kvs.size() > f.limit;
  }
  out << RenderKvs(r->kvs, format, encoding, view);
  return kExitOk;
}

}  // namespace

KvCommands AddKvCommands(CLI::App& app, KvFlags& f) {
  KvCommands c;
  c.get = app.add_subcommand(
      "get", "get a key, the keys in [KEY, RANGE_END), with a prefix or from a key on");
  c.get->add_option("key", f.key, "the key (or range start, or prefix)")->required();
  c.get->add_option("range_end", f.range_end,
                    "get [KEY, RANGE_END) (\"\" or \\0: every key from KEY)");
  AddRangeFlags(c.get, f, "get");
  AddReadFlags(c.get, f);
  c.get->add_flag("--count-only", f.count_only, "print only the number of keys");
  c.get->add_flag("--print-value-only", f.print_value_only,
                  "print values only (simple output only)");

  c.put = app.add_subcommand("put", "put a key; the value is read from stdin when omitted");
  c.put->add_option("key", f.key)->required();
  c.put->add_option("value", f.value);
  c.put->add_flag("--prev-kv", f.prev_kv, "also print the key's value before the put");
  c.put->add_option("--lease", f.lease,
                    "attach the key to this lease (hex id, as lease grant prints)");

  c.del = app.add_subcommand(
      "del", "delete a key, the keys in [KEY, RANGE_END), with a prefix or from a key on");
  c.del->add_option("key", f.key, "the key (or range start, or prefix)")->required();
  c.del->add_option("range_end", f.range_end,
                    "delete [KEY, RANGE_END) (\"\" or \\0: every key from KEY)");
  AddRangeFlags(c.del, f, "delete");
  c.del->add_flag("--prev-kv", f.prev_kv, "also print the deleted keys and values");

  c.scan = app.add_subcommand(
      "scan", "pairs in [START, END) in key order (END \"\": to the end); as get START END");
  c.scan->add_option("start", f.key)->required();
  c.scan->add_option("end", f.range_end)->required();
  AddReadFlags(c.scan, f);
  return c;
}

Result<KeyRange> ResolveKeyRange(const std::string& key,
                                 const std::optional<std::string>& range_end, bool prefix,
                                 bool from_key) {
  if (prefix && from_key) {
    return Status::InvalidArgument(
        "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  }
  if (range_end && (prefix || from_key)) {
    return Status::InvalidArgument(
        "too many arguments, only accept one argument when `--prefix` or `--from-key` is set");
  }
  if (prefix) return KeyRange{key, client::PrefixEnd(key), false};
  if (from_key) return KeyRange{key, "", false};
  if (range_end) {
    // A NUL cannot travel in argv: "\0" spelled out is etcd's "\0" end.
    const std::string end = *range_end == "\\0" ? "" : *range_end;
    if (!end.empty() && end <= key) {
      return Status::InvalidArgument("range end '" + Printable(end) + "' is not above the key '" +
                                     Printable(key) + "'");
    }
    return KeyRange{key, end, false};
  }
  TINYKV_RETURN_IF_ERROR(client::CheckKey(key));
  return KeyRange{key, "", true};
}

std::optional<int> RunKvCommand(const KvCommands& c, const KvFlags& f, client::Client& cl,
                                const client::CallOptions& call, OutputFormat format,
                                BytesEncoding encoding, std::istream& in, std::ostream& out,
                                std::ostream& err) {
  auto fail = [&](const Status& s) {
    err << "Error: " << s.ToString() << "\n";
    return ExitCodeFor(s);
  };
  auto usage = [&](const std::string& why) {
    err << "Error: " << why << "\n";
    return static_cast<int>(kExitUsage);
  };
  if (c.get->parsed() || c.scan->parsed()) {
    if (f.print_value_only && format != OutputFormat::kSimple)
      return usage("print-value-only is only for `--write-out=simple`");
    if (f.keys_only && f.count_only)
      return usage("`--keys-only` and `--count-only` cannot be set at the same time, choose one");
    if (f.print_value_only && (f.keys_only || f.count_only))
      return usage("`--print-value-only` cannot be set with `--keys-only` or `--count-only`");
    Result<KeyRange> range = ResolveKeyRange(f.key, f.range_end, f.prefix, f.from_key);
    if (!range.ok()) return usage(std::string(range.status().message()));
    return RunRead(*range, f, cl, call, format, encoding, out, err);
  }
  if (c.put->parsed()) {
    std::string value;
    if (f.value) {
      value = *f.value;
    } else {
      value.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    uint64_t lease = 0;
    if (!f.lease.empty()) {
      Result<uint64_t> id = ParseLeaseId(f.lease);
      if (!id.ok()) return usage(std::string(id.status().message()));
      lease = *id;
    }
    auto w = cl.PutWith(f.key, value, client::WriteOptions{lease, f.prev_kv}, call);
    if (!w.ok()) return fail(w.status());
    out << RenderPut(format, Known(w->revision), w->prev_kvs, encoding, w->header);
    return kExitOk;
  }
  if (c.del->parsed()) {
    // `del "" --prefix` deletes every key (as etcdctl); one key must not be empty.
    Result<KeyRange> range = ResolveKeyRange(f.key, f.range_end, f.prefix, f.from_key);
    if (!range.ok()) return usage(std::string(range.status().message()));
    // Every form is a range delete, so the count of removed keys is exact.
    const std::string end = range->single ? client::KeySuccessor(range->start) : range->end;
    auto d = cl.DeleteRangeWith(range->start, end, client::WriteOptions{0, f.prev_kv}, call);
    if (!d.ok()) return fail(d.status());
    out << RenderDeleted(d->deleted, format, d->prev_kvs, encoding, Known(d->revision),
                         d->header);
    if (d->prev_kvs_truncated) {
      err << "Warning: " << d->deleted << " keys were deleted; only the first "
          << d->prev_kvs.size() << " are shown (the server answers at most 2 MiB of them)\n";
    }
    return kExitOk;
  }
  return std::nullopt;
}

}  // namespace tinykv::cli
