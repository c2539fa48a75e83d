// Message payloads: cereal binary serialization with a bounded input archive.
//
// Request and response types are plain structs with a cereal `serialize`
// member. EncodeMessage writes cereal's binary layout (little-endian,
// integers at native width, containers and strings prefixed by a u64 size)
// straight into a std::string; DecodeMessage reads it back.
//
// Why a custom input archive: cereal's BinaryInputArchive resizes a string or
// vector to the size read from the wire *before* reading its bytes, so a
// 20-byte payload could ask for a 2^60-byte allocation. BoundedInputArchive
// checks every size tag against the bytes that remain in the payload, so
// decoding never allocates more than the frame holds. (This relies on every
// element of a container encoding to at least one byte: do not put
// containers of empty structs in a message.) Decoding also fails if bytes are
// left over, so a payload cannot lie about its length in either direction.
//
// Thread safety: free functions, no shared state.
#pragma once

#include <cstring>
#include <string>
#include <type_traits>

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"

namespace tinykv::net {

// Writes into a std::string the caller owns.
class StringOutputArchive
    : public cereal::OutputArchive<StringOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit StringOutputArchive(std::string* out)
      : cereal::OutputArchive<StringOutputArchive, cereal::AllowEmptyClassElision>(this),
        out_(out) {}
  void saveBinary(const void* data, std::size_t size) {
    out_->append(static_cast<const char*>(data), size);
  }

 private:
  std::string* out_;
};

// Reads from a Slice; throws cereal::Exception on underflow or on a size tag
// larger than the remaining input (callers catch it: see DecodeMessage).
class BoundedInputArchive
    : public cereal::InputArchive<BoundedInputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit BoundedInputArchive(Slice in)
      : cereal::InputArchive<BoundedInputArchive, cereal::AllowEmptyClassElision>(this), in_(in) {}
  void loadBinary(void* data, std::size_t size) {
    if (size > in_.size()) {
      throw cereal::Exception("payload truncated: need " + std::to_string(size) + " bytes, have " +
                              std::to_string(in_.size()));
    }
    if (size > 0) std::memcpy(data, in_.data(), size);
    in_.remove_prefix(size);
  }
  void CheckSize(uint64_t size) const {
    if (size > in_.size()) {
      throw cereal::Exception("size " + std::to_string(size) + " exceeds the " +
                              std::to_string(in_.size()) + " bytes left in the payload");
    }
  }
  size_t remaining() const { return in_.size(); }

 private:
  Slice in_;
};

}  // namespace tinykv::net

namespace cereal {

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(
    tinykv::net::StringOutputArchive& ar, const T& t) {
  ar.saveBinary(std::addressof(t), sizeof(t));
}
template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>>
CEREAL_LOAD_FUNCTION_NAME(tinykv::net::BoundedInputArchive& ar, T& t) {
  ar.loadBinary(std::addressof(t), sizeof(t));
}
// A bool is one byte on the wire, 0 or 1. Any other byte is rejected: copying
// it into a bool would be undefined behaviour (found by the fuzzer + UBSan).
inline void CEREAL_LOAD_FUNCTION_NAME(tinykv::net::BoundedInputArchive& ar, bool& b) {
  uint8_t v = 0;
  ar.loadBinary(&v, 1);
  if (v > 1) throw cereal::Exception("invalid bool byte " + std::to_string(v));
  b = v != 0;
}
template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(tinykv::net::StringOutputArchive& ar,
                                      const NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(tinykv::net::BoundedInputArchive& ar, NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(tinykv::net::StringOutputArchive& ar, const SizeTag<T>& t) {
  ar(t.size);
}
template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(tinykv::net::BoundedInputArchive& ar, SizeTag<T>& t) {
  ar(t.size);
  ar.CheckSize(static_cast<uint64_t>(t.size));  // before the caller resizes anything
}
template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(tinykv::net::StringOutputArchive& ar,
                                      const BinaryData<T>& bd) {
  ar.saveBinary(bd.data, static_cast<std::size_t>(bd.size));
}
template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(tinykv::net::BoundedInputArchive& ar, BinaryData<T>& bd) {
  ar.loadBinary(bd.data, static_cast<std::size_t>(bd.size));
}

}  // namespace cereal

CEREAL_REGISTER_ARCHIVE(tinykv::net::StringOutputArchive)
CEREAL_REGISTER_ARCHIVE(tinykv::net::BoundedInputArchive)
CEREAL_SETUP_ARCHIVE_TRAITS(tinykv::net::BoundedInputArchive, tinykv::net::StringOutputArchive)

namespace tinykv::net {

template <typename T>
void AppendMessage(std::string* out, const T& message) {
  StringOutputArchive ar(out);
  ar(message);
}

template <typename T>
std::string EncodeMessage(const T& message) {
  std::string out;
  AppendMessage(&out, message);
  return out;
}

// A field appended to a message by a later version: always written, read only
// when the payload still has bytes, so a message from an older peer (which
// ends before it) decodes with the field at its default. Only a message's
// last fields can be trailing, and only in a message that is never followed
// by another inside a payload.
template <class Archive, class T>
void TrailingField(Archive& a, T& field) {
  if constexpr (std::is_same_v<Archive, BoundedInputArchive>) {
    if (a.remaining() == 0) return;
  }
  a(field);
}

// Decodes a whole payload into a T. Corruption if it is truncated, declares a
// size larger than itself, or has trailing bytes.
template <typename T>
Result<T> DecodeMessage(Slice payload) {
  static_assert(std::is_default_constructible_v<T>, "messages must be default-constructible");
  T message{};
  try {
    BoundedInputArchive ar(payload);
    ar(message);
    if (ar.remaining() != 0) {
      return Status::Corruption("payload has " + std::to_string(ar.remaining()) +
                                " trailing bytes");
    }
  } catch (const cereal::Exception& e) {
    return Status::Corruption(std::string("undecodable payload: ") + e.what());
  } catch (const std::bad_alloc&) {
    return Status::Corruption("undecodable payload: allocation failed");
  }
  return message;
}

}  // namespace tinykv::net
