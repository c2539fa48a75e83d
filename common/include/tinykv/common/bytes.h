// Slice: a non-owning view of a byte string, as leveldb::Slice.
//
// Keys and values in TinyKV are arbitrary bytes (they may contain '\0' and
// '\xff'), so Slice compares bytes as unsigned and never assumes a NUL
// terminator. It converts implicitly from std::string, std::string_view and
// string literals, and to std::string_view.
//
// Lifetime: a Slice does not own its bytes; the caller keeps them alive for
// as long as the Slice is used. Thread safety: like a const pointer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tinykv {

class Slice {
 public:
  constexpr Slice() noexcept = default;
  constexpr Slice(const char* data, size_t size) noexcept : data_(data), size_(size) {}
  Slice(const std::string& s) noexcept : data_(s.data()), size_(s.size()) {}  // NOLINT
  constexpr Slice(std::string_view s) noexcept : data_(s.data()), size_(s.size()) {}  // NOLINT
  Slice(const char* s) noexcept : data_(s), size_(std::strlen(s)) {}  // NOLINT

  constexpr const char* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  const unsigned char* udata() const { return reinterpret_cast<const unsigned char*>(data_); }

  // REQUIRES: i < size().
  constexpr char operator[](size_t i) const { return data_[i]; }

  // REQUIRES: n <= size().
  constexpr void remove_prefix(size_t n) {
    data_ += n;
    size_ -= n;
  }
  constexpr void remove_suffix(size_t n) { size_ -= n; }

  std::string ToString() const { return std::string(data_, size_); }
  constexpr std::string_view view() const { return std::string_view(data_, size_); }
  constexpr operator std::string_view() const { return view(); }  // NOLINT

  // Printable form for logs and tool output: printable ASCII as is, other
  // bytes as \xHH.
  std::string ToEscaped() const;
  // Lower-case hexadecimal.
  std::string ToHex() const;

  // Three-way unsigned byte comparison: <0, 0, >0.
  //
  // Keys are usually short (tens of bytes) and this runs on every step of
  // every skiplist, block and merge search, where the call into libc's
  // memcmp costs more than the comparison. So short inputs compare 8 bytes
  // at a time inline (big-endian word order is byte order), and long ones
  // go to memcmp.
  int compare(const Slice& b) const {
    const size_t min_len = size_ < b.size_ ? size_ : b.size_;
    int r = 0;
    if (min_len <= kInlineCompareMax) {
      r = CompareShort(reinterpret_cast<const unsigned char*>(data_),
                       reinterpret_cast<const unsigned char*>(b.data_), min_len);
    } else {
      r = std::memcmp(data_, b.data_, min_len);
    }
    if (r == 0) r = size_ < b.size_ ? -1 : (size_ > b.size_ ? 1 : 0);
    return r;
  }
  bool starts_with(const Slice& p) const {
    return size_ >= p.size_ && (p.size_ == 0 || std::memcmp(data_, p.data_, p.size_) == 0);
  }

  friend bool operator==(const Slice& a, const Slice& b) {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_) == 0);
  }
  friend bool operator<(const Slice& a, const Slice& b) { return a.compare(b) < 0; }

 private:
  static constexpr size_t kInlineCompareMax = 64;
  static int CompareShort(const unsigned char* a, const unsigned char* b, size_t n) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; n >= 8; n -= 8, a += 8, b += 8) {
      uint64_t x;
      uint64_t y;
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
    }
#endif
    for (; n > 0; --n, ++a, ++b) {
      if (*a != *b) return *a < *b ? -1 : 1;
    }
    return 0;
  }

  const char* data_ = "";
  size_t size_ = 0;
};

}  // namespace tinykv
