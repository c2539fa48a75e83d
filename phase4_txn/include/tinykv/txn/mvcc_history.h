// ReadHistory: the events a watch replays from the MVCC write family --
// every put and delete of the keys in a range with a revision (commit_ts)
// in (after_ts, upto_ts], in revision order, through MvccReader (which
// knows where a put's value lives: in its write record, or in the data
// record its prewrite staged).
//
// A page is bounded (max_events, max_bytes) and holds whole revisions: when
// the range has more, the page stops below the first revision that does
// not fit, and `reached` says how far it got -- every event of the range
// in (after_ts, reached] is in the page, none above. A page always holds at
// least one revision (a revision larger than the bounds comes whole).
//
// History below the GC safe point may be gone (txn_executor.h
// kGcSafePointKey): after_ts below it is a compacted error
// (watch_error.h), since the page could miss events.
//
// Cost: one seek per key of the range with any write record, plus one per
// version read; a page's events are held in memory until it is returned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/txn/mvcc_reader.h"
#include "tinykv/txn/watch_event.h"

namespace tinykv::txn {

struct HistoryQuery {
  std::string start;
  std::string end;        // empty: unbounded
  uint64_t after_ts = 0;  // exclusive
  uint64_t upto_ts = 0;   // inclusive
  bool prev_kv = false;   // fill WatchEvent::prev_value
  size_t max_events = 10000;
  size_t max_bytes = 4u << 20;
};

struct HistoryPage {
  std::vector<WatchEvent> events;  // revision order; key order within a revision
  uint64_t reached = 0;            // in [after_ts, upto_ts]; see the header comment
};

// Compacted (watch_error.h) when q.after_ts < the reader's GC safe point.
Result<HistoryPage> ReadHistory(MvccReader& reader, const HistoryQuery& q);

}  // namespace tinykv::txn
