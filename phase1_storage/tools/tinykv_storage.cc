// tinykv-storage: inspect and operate on a TinyKV storage directory, in the
// manner of RocksDB's ldb.
//
//   tinykv-storage --db DIR put KEY VALUE [--sync]
//   tinykv-storage --db DIR get KEY
//   tinykv-storage --db DIR del KEY
//   tinykv-storage --db DIR scan [--start K] [--end K] [--limit N]
//   tinykv-storage --db DIR stats
//   tinykv-storage --db DIR compact [--start K] [--end K]
//   tinykv-storage --db DIR check          verify every checksum of every file
//   tinykv-storage dump FILE               an SSTable, WAL or MANIFEST, readable
//
// Keys and values are taken literally, or as hex with --hex (which also
// prints them as hex). Exit codes: 0 success, 1 operation failed (one line on
// stderr: "tinykv-storage: <error>"), 2 usage error, 3 `get` found no key,
// 4 `check` found corruption.
#include <cctype>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "file_dump.h"
#include "tinykv/storage/db.h"

namespace tinykv::storage::tool {
namespace {

struct Args {
  std::string db;
  bool hex = false;
  bool create_if_missing = false;
  std::string key, value, start, end;
  bool has_start = false, has_end = false;
  uint64_t limit = 0;
  bool sync = false;
  std::string file;
};

[[noreturn]] void Fail(const Status& s, int code = 1) {
  std::fprintf(stderr, "tinykv-storage: %s\n", s.ToString().c_str());
  std::exit(code);
}

// Decodes a command-line key or value (hex with --hex).
std::string Decode(const Args& a, const std::string& text, const char* what) {
  if (!a.hex) return text;
  std::string s = text;
  if (s.rfind("0x", 0) == 0 || s.rfind("0X", 0) == 0) s = s.substr(2);
  if (s.size() % 2 != 0) Fail(Status::InvalidArgument(std::string(what) + ": odd hex length"), 2);
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = std::isxdigit(static_cast<unsigned char>(s[i])) ? std::stoi(s.substr(i, 1), nullptr, 16) : -1;
    int lo = std::isxdigit(static_cast<unsigned char>(s[i + 1])) ? std::stoi(s.substr(i + 1, 1), nullptr, 16) : -1;
    if (hi < 0 || lo < 0) Fail(Status::InvalidArgument(std::string(what) + ": not hex: " + text), 2);
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string Show(const Args& a, Slice s) { return a.hex ? "0x" + s.ToHex() : s.ToEscaped(); }

std::unique_ptr<DB> OpenDb(const Args& a) {
  if (a.db.empty()) Fail(Status::InvalidArgument("--db DIR is required for this command"), 2);
  Options o;
  o.create_if_missing = a.create_if_missing;
  auto r = DB::Open(o, a.db);
  if (!r.ok()) Fail(r.status());
  return std::move(r).value();
}

int Run(int argc, char** argv) {
  Args a;
  CLI::App app{"tinykv-storage: inspect and operate on a TinyKV storage directory (like ldb)"};
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success, 1 operation failed, 2 usage error, 3 get: key not found, "
      "4 corruption found (check, dump).\nExamples:\n"
      "  tinykv-storage --db /data/kv --create_if_missing put user1 alice\n"
      "  tinykv-storage --db /data/kv scan --start user --end uses --limit 10\n"
      "  tinykv-storage --db /data/kv check\n"
      "  tinykv-storage dump /data/kv/000012.sst");
  app.add_option("--db", a.db, "Database directory");
  app.add_flag("--hex", a.hex, "Keys and values are hex on input and output");
  app.add_flag("--create_if_missing", a.create_if_missing, "Create the database if absent");

  auto* put = app.add_subcommand("put", "Store KEY => VALUE");
  put->add_option("key", a.key)->required();
  put->add_option("value", a.value)->required();
  put->add_flag("--sync", a.sync, "fsync the WAL before returning");
  auto* get = app.add_subcommand("get", "Print the value of KEY (exit 3 if absent)");
  get->add_option("key", a.key)->required();
  auto* del = app.add_subcommand("del", "Delete KEY");
  del->add_option("key", a.key)->required();
  del->add_flag("--sync", a.sync, "fsync the WAL before returning");
  auto* scan = app.add_subcommand("scan", "Print KEY ==> VALUE for keys in [start, end)");
  scan->add_option("--start", a.start, "First key (inclusive)");
  scan->add_option("--end", a.end, "Last key (exclusive)");
  scan->add_option("--limit", a.limit, "Print at most this many (0: all)");
  auto* stats = app.add_subcommand("stats", "Print levels, files and counters");
  auto* compact = app.add_subcommand("compact", "Compact [start, end) down the levels");
  compact->add_option("--start", a.start, "First key (inclusive)");
  compact->add_option("--end", a.end, "Last key (exclusive)");
  auto* check = app.add_subcommand(
      "check", "Verify every checksum of every file; exit 4 on corruption (no need to open)");
  auto* dump = app.add_subcommand("dump", "Print an SSTable, WAL or MANIFEST file");
  dump->add_option("file", a.file, "The file")->required()->check(CLI::ExistingFile);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  a.has_start = scan->count("--start") + compact->count("--start") > 0;
  a.has_end = scan->count("--end") + compact->count("--end") > 0;

  if (*put) {
    auto db = OpenDb(a);
    WriteOptions wo;
    wo.sync = a.sync;
    Status s = db->Put(wo, Decode(a, a.key, "key"), Decode(a, a.value, "value"));
    if (!s.ok()) Fail(s);
    std::puts("OK");
  } else if (*get) {
    auto db = OpenDb(a);
    auto r = db->Get(ReadOptions(), Decode(a, a.key, "key"));
    if (r.status().IsNotFound()) {
      std::fprintf(stderr, "tinykv-storage: NotFound: %s\n", Show(a, Decode(a, a.key, "key")).c_str());
      return 3;
    }
    if (!r.ok()) Fail(r.status());
    std::cout << Show(a, r.value()) << "\n";
  } else if (*del) {
    auto db = OpenDb(a);
    WriteOptions wo;
    wo.sync = a.sync;
    Status s = db->Delete(wo, Decode(a, a.key, "key"));
    if (!s.ok()) Fail(s);
    std::puts("OK");
  } else if (*scan) {
    auto db = OpenDb(a);
    const std::string start = Decode(a, a.start, "--start");
    const std::string end = Decode(a, a.end, "--end");
    auto it = db->NewIterator(ReadOptions());
    uint64_t n = 0;
    for (it->Seek(start); it->Valid(); it->Next()) {
      if (a.has_end && it->key().compare(Slice(end)) >= 0) break;
      if (a.limit != 0 && n >= a.limit) break;
      std::cout << Show(a, it->key()) << " ==> " << Show(a, it->value()) << "\n";
      n++;
    }
    if (!it->status().ok()) Fail(it->status());
  } else if (*stats) {
    auto db = OpenDb(a);
    std::cout << db->StatsString();
    for (const auto& [k, v] : db->Stats()) std::cout << k << " " << v << "\n";
  } else if (*compact) {
    auto db = OpenDb(a);
    const std::string start = Decode(a, a.start, "--start");
    const std::string end = Decode(a, a.end, "--end");
    std::optional<Slice> b, e;
    if (a.has_start) b = Slice(start);
    if (a.has_end) e = Slice(end);
    Status s = db->CompactRange(b, e);
    if (!s.ok()) Fail(s);
    std::cout << db->StatsString();
  } else if (*check) {
    if (a.db.empty()) Fail(Status::InvalidArgument("--db DIR is required for check"), 2);
    Status s = CheckDatabase(a.db, std::cout);
    std::cout.flush();
    if (s.IsCorruption()) Fail(s, 4);
    if (!s.ok()) Fail(s);
    std::puts("all checksums OK");
  } else if (*dump) {
    DumpOptions o;
    o.hex = a.hex;
    FileSummary summary;
    Status s = DumpFile(a.file, o, std::cout, &summary);
    std::cout.flush();
    if (!s.ok()) Fail(s, s.IsCorruption() ? 4 : 1);
    std::cout << "# " << summary.records << " records, " << summary.bytes << " bytes\n";
  }
  return 0;
}

}  // namespace
}  // namespace tinykv::storage::tool

int main(int argc, char** argv) { return tinykv::storage::tool::Run(argc, argv); }
