// ReadHistory: see mvcc_history.h.
#include "tinykv/txn/mvcc_history.h"

#include <map>

#include "tinykv/txn/txn_executor.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::txn {

Result<HistoryPage> ReadHistory(MvccReader& reader, const HistoryQuery& q) {
  TINYKV_ASSIGN_OR_RETURN(uint64_t safe_point, ReadGcSafePoint(reader));
  if (q.after_ts < safe_point) return CompactedError(q.after_ts + 1, safe_point);
  HistoryPage page;
  page.reached = std::max(q.after_ts, q.upto_ts);
  // Events by revision. Keys come in key order, revisions in any order, so
  // a page that grows past its bounds drops its highest revision and lowers
  // `reached` below it: what is kept is then every event up to there.
  std::map<uint64_t, std::vector<WatchEvent>> by_rev;
  size_t events = 0, bytes = 0;
  Status s = reader.ForEachVersion(
      Slice(q.start), Slice(q.end), q.after_ts, q.upto_ts,
      [&](Slice key, const CommitRecord& v, const std::optional<CommitRecord>& older) -> Status {
        if (v.commit_ts > page.reached) return Status::OK();
        WatchEvent e;
        e.key = key.ToString();
        e.revision = v.commit_ts;
        if (v.write.kind == WriteKind::kPut) {
          TINYKV_ASSIGN_OR_RETURN(e.value, reader.ValueOf(key, v));
        } else {
          e.type = WatchEvent::Type::kDelete;
        }
        if (q.prev_kv && older && older->write.kind == WriteKind::kPut) {
          TINYKV_ASSIGN_OR_RETURN(std::string prev, reader.ValueOf(key, *older));
          e.prev_value = std::move(prev);
        }
        ++events;
        bytes += WatchEventBytes(e);
        by_rev[e.revision].push_back(std::move(e));
        while (by_rev.size() > 1 && (events > q.max_events || bytes > q.max_bytes)) {
          auto last = std::prev(by_rev.end());
          for (const WatchEvent& dropped : last->second) bytes -= WatchEventBytes(dropped);
          events -= last->second.size();
          page.reached = last->first - 1;
          by_rev.erase(last);
        }
        return Status::OK();
      });
  TINYKV_RETURN_IF_ERROR(s);
  page.events.reserve(events);
  for (auto& [rev, group] : by_rev)
    for (WatchEvent& e : group) page.events.push_back(std::move(e));
  return page;
}

}  // namespace tinykv::txn
