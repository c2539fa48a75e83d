#include "memtable.h"

#include <cstring>

namespace tinykv::storage {

MemTable::MemTable(const InternalKeyComparator* cmp)
    : comparator_{cmp}, table_(comparator_, &arena_) {}

void MemTable::Add(uint64_t seq, ValueType type, Slice key, Slice value) {
  const size_t key_size = key.size();
  const size_t val_size = value.size();
  const size_t internal_key_size = key_size + 8;
  const size_t encoded_len = VarintLength(internal_key_size) + internal_key_size +
                             VarintLength(val_size) + val_size;
  // The entry lives right after its skiplist node (SkipList::AllocateKey).
  char* buf = table_.AllocateKey(encoded_len);
  char* p = EncodeVarint32(buf, static_cast<uint32_t>(internal_key_size));
  std::memcpy(p, key.data(), key_size);
  p += key_size;
  EncodeFixed64(p, PackSequenceAndType(seq, type));
  p += 8;
  p = EncodeVarint32(p, static_cast<uint32_t>(val_size));
  if (val_size > 0) std::memcpy(p, value.data(), val_size);
  table_.InsertAllocated();
  num_entries_.fetch_add(1, std::memory_order_relaxed);
}

bool MemTable::Get(const LookupKey& key, std::string* value, Status* s) const {
  Table::Iterator iter(&table_);
  iter.Seek(key.memtable_key().data());
  if (!iter.Valid()) return false;
  // The entry is the first with internal key >= (user_key, seq): check that
  // it belongs to the same user key.
  const Slice ikey = GetLengthPrefixedSliceUnchecked(iter.key());
  const char* key_ptr = ikey.data();
  const size_t key_length = ikey.size();
  if (Slice(key_ptr, key_length - 8) != key.user_key()) return false;
  const uint64_t tag = DecodeFixed64(key_ptr + key_length - 8);
  switch (static_cast<ValueType>(tag & 0xff)) {
    case kTypeValue: {
      Slice v = GetLengthPrefixedSliceUnchecked(key_ptr + key_length);
      value->assign(v.data(), v.size());
      return true;
    }
    case kTypeDeletion:
      *s = Status::NotFound("");
      return true;
  }
  return false;
}

class MemTableIterator final : public Iterator {
 public:
  explicit MemTableIterator(const MemTable::Table* table) : iter_(table) {}
  bool Valid() const override { return iter_.Valid(); }
  void Seek(Slice k) override {
    tmp_.clear();
    PutVarint32(&tmp_, static_cast<uint32_t>(k.size()));
    tmp_.append(k.data(), k.size());
    iter_.Seek(tmp_.data());
  }
  void SeekToFirst() override { iter_.SeekToFirst(); }
  void SeekToLast() override { iter_.SeekToLast(); }
  void Next() override { iter_.Next(); }
  void Prev() override { iter_.Prev(); }
  Slice key() const override { return GetLengthPrefixedSliceUnchecked(iter_.key()); }
  Slice value() const override {
    Slice k = GetLengthPrefixedSliceUnchecked(iter_.key());
    return GetLengthPrefixedSliceUnchecked(k.data() + k.size());
  }
  Status status() const override { return Status::OK(); }

 private:
  MemTable::Table::Iterator iter_;
  std::string tmp_;
};

std::unique_ptr<Iterator> MemTable::NewIterator() {
  return std::make_unique<MemTableIterator>(&table_);
}

}  // namespace tinykv::storage
