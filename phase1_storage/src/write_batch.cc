// WriteBatch encoding; see write_batch.h and doc/wal_format.md.
#include "tinykv/storage/write_batch.h"

#include "dbformat.h"
#include "memtable.h"
#include "tinykv/common/coding.h"
#include "write_batch_internal.h"

namespace tinykv::storage {

WriteBatch::WriteBatch() { Clear(); }

void WriteBatch::Clear() {
  rep_.clear();
  rep_.resize(kWriteBatchHeaderSize);
}

uint32_t WriteBatch::Count() const { return WriteBatchInternal::Count(*this); }

void WriteBatch::Put(Slice key, Slice value) {
  WriteBatchInternal::SetCount(this, Count() + 1);
  rep_.push_back(static_cast<char>(kTypeValue));
  PutLengthPrefixedSlice(&rep_, key);
  PutLengthPrefixedSlice(&rep_, value);
}

void WriteBatch::Delete(Slice key) {
  WriteBatchInternal::SetCount(this, Count() + 1);
  rep_.push_back(static_cast<char>(kTypeDeletion));
  PutLengthPrefixedSlice(&rep_, key);
}

void WriteBatch::Append(const WriteBatch& other) {
  WriteBatchInternal::SetCount(this, Count() + other.Count());
  rep_.append(other.rep_.data() + kWriteBatchHeaderSize,
              other.rep_.size() - kWriteBatchHeaderSize);
}

Status WriteBatch::Iterate(Handler* handler) const {
  Slice input(rep_);
  if (input.size() < kWriteBatchHeaderSize) {
    return Status::Corruption("write batch: shorter than its 12-byte header");
  }
  input.remove_prefix(kWriteBatchHeaderSize);
  uint32_t found = 0;
  Slice key;
  Slice value;
  while (!input.empty()) {
    ++found;
    const char tag = input[0];
    input.remove_prefix(1);
    switch (static_cast<ValueType>(tag)) {
      case kTypeValue:
        if (!GetLengthPrefixedSlice(&input, &key) || !GetLengthPrefixedSlice(&input, &value)) {
          return Status::Corruption("write batch: bad Put record");
        }
        handler->Put(key, value);
        break;
      case kTypeDeletion:
        if (!GetLengthPrefixedSlice(&input, &key)) {
          return Status::Corruption("write batch: bad Delete record");
        }
        handler->Delete(key);
        break;
      default:
        return Status::Corruption("write batch: unknown record tag");
    }
  }
  if (found != Count()) {
    return Status::Corruption("write batch: count in header does not match records");
  }
  return Status::OK();
}

Status WriteBatch::FromContents(Slice contents, WriteBatch* batch) {
  if (contents.size() < kWriteBatchHeaderSize) {
    return Status::Corruption("write batch: shorter than its 12-byte header");
  }
  WriteBatchInternal::SetContents(batch, contents);
  struct Validator : Handler {
    void Put(Slice, Slice) override {}
    void Delete(Slice) override {}
  } v;
  return batch->Iterate(&v);
}

uint32_t WriteBatchInternal::Count(const WriteBatch& b) { return DecodeFixed32(b.rep_.data() + 8); }
void WriteBatchInternal::SetCount(WriteBatch* b, uint32_t n) { EncodeFixed32(&b->rep_[8], n); }
uint64_t WriteBatchInternal::Sequence(const WriteBatch& b) { return DecodeFixed64(b.rep_.data()); }
void WriteBatchInternal::SetSequence(WriteBatch* b, uint64_t seq) { EncodeFixed64(&b->rep_[0], seq); }
void WriteBatchInternal::SetContents(WriteBatch* b, Slice contents) {
  b->rep_.assign(contents.data(), contents.size());
}

namespace {
class MemTableInserter : public WriteBatch::Handler {
 public:
  MemTableInserter(uint64_t seq, MemTable* mem) : seq_(seq), mem_(mem) {}
  void Put(Slice key, Slice value) override { mem_->Add(seq_++, kTypeValue, key, value); }
  void Delete(Slice key) override { mem_->Add(seq_++, kTypeDeletion, key, Slice()); }

 private:
  uint64_t seq_;
  MemTable* mem_;
};
}  // namespace

Status WriteBatchInternal::InsertInto(const WriteBatch& b, MemTable* mem) {
  MemTableInserter inserter(Sequence(b), mem);
  return b.Iterate(&inserter);
}

}  // namespace tinykv::storage
