// AppendLogStateMachine: a second, tiny StateMachine -- an append-only log of
// opaque items -- that proves the replication layer is not KV-shaped. Each
// applied command is appended as one item; its result is the item's
// position (decimal). Its whole state is one file of checksummed records:
//
//   record := fixed32 crc32c(rest) | fixed32 length | byte kind | fixed64 index |
//             fixed64 term | payload
//   kind 1 = item (payload: the command), 2 = no-op, 3 = membership
//            (payload: EncodeMembership)
//
// Every Apply* appends one record (no sync: the Raft log is the durable
// source, and a record torn by a crash is dropped at open, so the applied
// index only ever goes back to an earlier complete record). Checkpoint
// copies the file; Install replaces it. Hash: the applied (index, term), the
// ConfState (not the addresses) and every item in order; the default
// PrepareHash (computed at once: the state is small).
//
// Test hook: TEST_AlterItem changes an item in memory only, as if the state
// had been damaged (no record is written).
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"
#include "tinykv/raft/codec.h"
#include "tinykv/replica/state_hash.h"
#include "tinykv/replica/state_machine.h"

namespace tinykv::replica::testing {

class AppendLogStateMachine final : public StateMachine {
 public:
  static Result<std::unique_ptr<AppendLogStateMachine>> Open(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError("create " + dir.string());
    std::unique_ptr<AppendLogStateMachine> sm(new AppendLogStateMachine(dir / "items"));
    TINYKV_RETURN_IF_ERROR(sm->Load());
    return sm;
  }

  uint64_t applied_index() const override { return applied_index_; }
  uint64_t applied_term() const override { return applied_term_; }
  std::optional<Membership> membership() const override { return membership_; }

  Result<CommandOutcome> Apply(uint64_t index, uint64_t term, Slice command) override {
    TINYKV_RETURN_IF_ERROR(Append(1, index, term, command));
    std::lock_guard<std::mutex> l(mu_);
    items_.push_back(command.ToString());
    return CommandOutcome{Status::OK(), std::to_string(items_.size())};
  }
  Status ApplyNoop(uint64_t index, uint64_t term) override { return Append(2, index, term, {}); }
  Status ApplyConfChange(uint64_t index, uint64_t term, const Membership& m) override {
    TINYKV_RETURN_IF_ERROR(Append(3, index, term, Slice(EncodeMembership(m))));
    membership_ = m;
    return Status::OK();
  }
  Status Checkpoint(const std::filesystem::path& dir) override {
    std::error_code ec;
    std::filesystem::create_directory(dir, ec);
    if (ec) return Status::IOError("create " + dir.string());
    out_.flush();
    std::filesystem::copy_file(path_, dir / "items", ec);
    return ec ? Status::IOError("copy " + path_.string()) : Status::OK();
  }
  Status Install(const std::filesystem::path& dir) override {
    out_.close();
    std::error_code ec;
    std::filesystem::rename(dir / "items", path_, ec);
    if (ec) return Status::IOError("install " + dir.string());
    return Load();
  }
  Status Reopen() override {
    out_.close();
    return Load();
  }

  Result<uint64_t> Hash() override {
    StateHasher h;
    h.AddFixed64(applied_index_);
    h.AddFixed64(applied_term_);
    std::string conf;
    if (membership_) raft::EncodeConfState(membership_->conf, &conf);
    h.AddField(conf);
    std::lock_guard<std::mutex> l(mu_);
    h.AddFixed64(items_.size());
    for (const std::string& item : items_) h.AddField(item);
    return h.Finish();
  }

  void TEST_AlterItem(size_t i, std::string value) {
    std::lock_guard<std::mutex> l(mu_);
    items_.at(i) = std::move(value);
  }

  std::vector<std::string> items() const {
    std::lock_guard<std::mutex> l(mu_);
    return items_;
  }

 private:
  explicit AppendLogStateMachine(std::filesystem::path path) : path_(std::move(path)) {}

  Status Append(uint8_t kind, uint64_t index, uint64_t term, Slice payload) {
    std::string rest;
    rest.push_back(static_cast<char>(kind));
    PutFixed64(&rest, index);
    PutFixed64(&rest, term);
    rest.append(payload.data(), payload.size());
    std::string rec;
    PutFixed32(&rec, crc32c::Value(rest.data(), rest.size()));
    PutFixed32(&rec, static_cast<uint32_t>(rest.size()));
    rec += rest;
    out_.write(rec.data(), static_cast<std::streamsize>(rec.size()));
    out_.flush();
    if (!out_) return Status::IOError("append to " + path_.string());
    applied_index_ = index;
    applied_term_ = term;
    return Status::OK();
  }

  // Replays the file; a torn or corrupt tail is cut off (see the header).
  Status Load() {
    std::string data;
    {
      std::ifstream in(path_, std::ios::binary);
      data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::vector<std::string> items;
    std::optional<Membership> membership;
    uint64_t index = 0, term = 0;
    Slice in(data);
    size_t good = 0;
    while (in.size() >= 8) {
      uint32_t crc = 0, len = 0;
      Slice h = in;
      GetFixed32(&h, &crc);
      GetFixed32(&h, &len);
      if (len < 17 || h.size() < len || crc32c::Value(h.data(), len) != crc) break;
      Slice rest(h.data(), len);
      const uint8_t kind = static_cast<uint8_t>(rest[0]);
      rest.remove_prefix(1);
      GetFixed64(&rest, &index);
      GetFixed64(&rest, &term);
      if (kind == 1) items.push_back(rest.ToString());
      if (kind == 3) {
        auto m = DecodeMembership(rest);
        if (!m.ok()) return m.status();
        membership = *m;
      }
      in = Slice(h.data() + len, h.size() - len);
      good = data.size() - in.size();
    }
    std::error_code ec;
    if (std::filesystem::exists(path_, ec)) std::filesystem::resize_file(path_, good, ec);  // drop a torn tail
    if (ec) return Status::IOError("truncate " + path_.string() + ": " + ec.message());
    {
      std::lock_guard<std::mutex> l(mu_);
      items_ = std::move(items);
    }
    membership_ = membership;
    applied_index_ = good == 0 ? 0 : index;
    applied_term_ = good == 0 ? 0 : term;
    out_.open(path_, std::ios::binary | std::ios::app);
    return out_ ? Status::OK() : Status::IOError("open " + path_.string());
  }

  const std::filesystem::path path_;
  std::ofstream out_;
  uint64_t applied_index_ = 0;
  uint64_t applied_term_ = 0;
  std::optional<Membership> membership_;
  mutable std::mutex mu_;
  std::vector<std::string> items_;
};

}  // namespace tinykv::replica::testing
