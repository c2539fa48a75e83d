// CompareTxn: see compare_txn.h.
#include "tinykv/client/compare_txn.h"

#include <optional>
#include <set>
#include <utility>

namespace tinykv::client {
namespace {

template <typename T>
bool Compare(TxnCompare::Op op, const T& a, const T& b) {
  using Op = TxnCompare::Op;
  switch (op) {
    case Op::kEqual: return a == b;
    case Op::kNotEqual: return a != b;
    case Op::kLess: return a < b;
    case Op::kGreater: return a > b;
  }
  return false;
}

}  // namespace

// The metadata of an absent key is all zero (TxnRead), which is what etcd
// compares then.
bool CompareHolds(const TxnCompare& c, const TxnRead& r) {
  using Target = TxnCompare::Target;
  // Revisions, versions and lease ids stay below 2^63 (etcd's are int64), so
  // the casts keep their order.
  const auto as_int = [](uint64_t v) { return static_cast<int64_t>(v); };
  switch (c.target) {
    case Target::kValue:
      if (!r.value) return false;  // etcd: a value compare on an absent key fails
      // bytewise (char_traits<char>::compare: as unsigned char)
      return Compare(c.op, r.value->compare(c.value), 0);
    case Target::kVersion: return Compare(c.op, as_int(r.meta.version), c.number);
    case Target::kCreate: return Compare(c.op, as_int(r.meta.create_revision), c.number);
    case Target::kMod: return Compare(c.op, as_int(r.meta.mod_revision), c.number);
    case Target::kLease: return Compare(c.op, as_int(r.meta.lease), c.number);
  }
  return false;
}

Result<TxnOutcome> RunCompareTxn(Client& client, const CompareTxn& request,
                                 const TxnOptions& options) {
  TxnOutcome out;
  auto body = [&](Txn& t) -> Status {
    out = TxnOutcome{};  // a rerun starts over
    bool all = true;
    for (const TxnCompare& c : request.compares) {
      TINYKV_ASSIGN_OR_RETURN(TxnRead r, t.GetMeta(c.key));
      TINYKV_RETURN_IF_ERROR(t.Lock(c.key));
      all = all && CompareHolds(c, r);
    }
    out.succeeded = all;
    std::set<std::string> written;  // GetMeta refuses keys this transaction wrote
    for (const TxnOp& op : all ? request.success : request.failure) {
      TxnOpResult r;
      r.kind = op.kind;
      switch (op.kind) {
        case TxnOp::Kind::kGet: {
          if (written.count(op.key) == 0) {
            TINYKV_ASSIGN_OR_RETURN(TxnRead v, t.GetMeta(op.key));
            if (v.value) r.kvs.push_back(KeyValue{op.key, std::move(*v.value), v.meta});
          } else {
            TINYKV_ASSIGN_OR_RETURN(std::optional<std::string> v, t.Get(op.key));
            if (v) r.kvs.push_back(KeyValue{op.key, std::move(*v), {}});
          }
          TINYKV_RETURN_IF_ERROR(t.Lock(op.key));
          break;
        }
        case TxnOp::Kind::kPut:
          TINYKV_RETURN_IF_ERROR(t.Put(op.key, op.value));
          written.insert(op.key);
          break;
        case TxnOp::Kind::kDelete: {
          TINYKV_ASSIGN_OR_RETURN(std::optional<std::string> v, t.Get(op.key));
          if (v) {
            TINYKV_RETURN_IF_ERROR(t.Delete(op.key));
            written.insert(op.key);
            r.deleted = 1;
          } else {
            TINYKV_RETURN_IF_ERROR(t.Lock(op.key));  // "deleted 0" must stay true
          }
          break;
        }
      }
      out.responses.push_back(std::move(r));
    }
    return Status::OK();
  };
  TINYKV_ASSIGN_OR_RETURN(out.revision, RunTxn(client, body, 10, options));
  return out;
}

}  // namespace tinykv::client
