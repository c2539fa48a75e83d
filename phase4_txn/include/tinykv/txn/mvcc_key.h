// The MVCC key layout (doc/mvcc_format.md): one engine, three families told
// apart by a one-byte prefix, plus the state machine's own metadata.
//
//   'l' | mem(key)              -> Lock   (mvcc_record.h)
//   'w' | mem(key) | BE64(~ts)  -> Write  (ts = commit_ts; a rollback record's ts is its start_ts)
//   'd' | mem(key) | BE64(~ts)  -> value  (ts = the writing transaction's start_ts)
//   'm' | name                  -> metadata (mvcc_state_machine.h)
//
// mem(key) is the memcomparable encoding TiKV uses for keys (its
// codec::bytes::encode_bytes): the key in groups of 8 bytes, the last one
// padded with 0x00, each group followed by a marker byte 0xFF - (pad bytes).
// A key whose length is a multiple of 8 ends with a group of 8 zero bytes
// and marker 0xF7. So mem() keeps byte order (a < b iff mem(a) < mem(b)) and
// is prefix-free (no mem(a) is a proper prefix of mem(b)), which makes
// mem(key) | suffix sort by key first, then by suffix: every version of a
// key is contiguous, and BE64(~ts) puts the newest version first.
// Length-prefixing the key instead would break the first property (it
// would sort "b" before "aa").
//
// Every decoder here is total: a malformed input is reported (false /
// nullopt), never read past its end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tinykv/common/bytes.h"

namespace tinykv::txn {

inline constexpr char kLockPrefix = 'l';
inline constexpr char kWritePrefix = 'w';
inline constexpr char kDataPrefix = 'd';
inline constexpr char kMetaPrefix = 'm';

// v as 8 big-endian bytes (BE64), appended to *dst: keys that sort by v.
void PutBigEndian64(std::string* dst, uint64_t v);

// mem(key), appended to *dst.
void EncodeMemcomparable(Slice key, std::string* dst);
// Consumes one mem() group sequence from the front of *in into *key.
bool DecodeMemcomparable(Slice* in, std::string* key);

std::string LockKey(Slice user_key);
std::string WriteKey(Slice user_key, uint64_t commit_ts);
std::string DataKey(Slice user_key, uint64_t start_ts);
// The first engine key of `family` for user keys >= user_key.
std::string FamilyStart(char family, Slice user_key);

// An engine key of the write or data family, split.
struct VersionedKey {
  std::string user_key;
  uint64_t ts = 0;
};
std::optional<VersionedKey> DecodeVersionedKey(Slice engine_key, char family);
std::optional<std::string> DecodeLockKey(Slice engine_key);

}  // namespace tinykv::txn
