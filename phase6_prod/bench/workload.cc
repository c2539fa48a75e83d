// Workload: request generation and latency bookkeeping (workload.h).
//
// The only state clients share is the issued-request counter (one atomic
// increment per request); latencies and errors are kept per client and
// merged at the end, so recording costs no lock. Watched puts' send and
// ack tables are shared, but each request writes only its own slot.
#include "workload.h"

#include <algorithm>
#include <atomic>
#include <cctype>

namespace tinykv::bench {

std::string MakeKey(uint64_t i, int size) {
  std::string k = std::to_string(i);
  if (static_cast<int>(k.size()) < size) k.insert(0, size - k.size(), '0');
  return k;
}

std::string IncrementedValue(const std::optional<std::string>& read, int size) {
  uint64_t n = 0;
  if (read) {
    // At most 19 digits: any such number fits in 64 bits.
    for (size_t i = 0; i < read->size() && i < 19; ++i) {
      const unsigned char d = static_cast<unsigned char>((*read)[i]);
      if (!std::isdigit(d)) break;
      n = n * 10 + (d - '0');
    }
  }
  std::string v = std::to_string(n + 1);
  if (static_cast<int>(v.size()) < size) v.append(size - v.size(), 'v');
  return v;
}

double Outcome::AbortRate() const {
  const uint64_t answered = latency_ns.size() + aborts + errors;
  return answered == 0 ? 0 : static_cast<double>(aborts) / static_cast<double>(answered);
}

double Outcome::QuantileMs(double q) const {
  if (latency_ns.empty()) return 0;
  const size_t i = static_cast<size_t>(q * static_cast<double>(latency_ns.size() - 1) + 0.5);
  return static_cast<double>(latency_ns[std::min(i, latency_ns.size() - 1)]) / 1e6;
}

double Outcome::MeanMs() const {
  if (latency_ns.empty()) return 0;
  long double sum = 0;
  for (uint64_t v : latency_ns) sum += v;
  return static_cast<double>(sum / latency_ns.size() / 1e6);
}

std::unique_ptr<Workload> Workload::Measured(const WorkloadOptions& options) {
  return std::unique_ptr<Workload>(new Workload(options, false));
}

std::unique_ptr<Workload> Workload::Preload(const WorkloadOptions& options) {
  return std::unique_ptr<Workload>(new Workload(options, true));
}

Workload::Workload(const WorkloadOptions& options, bool preload)
    : options_(options),
      preload_(preload),
      value_(options.val_size, 'v'),
      schedule_(options.rate > 0 ? options.rate : 1, std::chrono::steady_clock::now()) {
  per_client_.reserve(options_.clients);
  for (int c = 0; c < options_.clients; ++c) {
    per_client_.emplace_back(options_.seed * 1000003 + static_cast<uint64_t>(c));
  }
  if (!preload_) {
    const uint64_t each = options_.total / std::max(1, options_.clients) + 1;
    for (PerClient& pc : per_client_) pc.latency_ns.reserve(each);
    if (options_.watched) {
      sent_ns_.assign(options_.total, 0);
      acked_ns_.assign(options_.total, 0);
    }
  }
}

void Workload::Start(std::chrono::steady_clock::time_point t0) {
  if (open_loop()) schedule_ = OpenLoopSchedule(options_.rate, t0);
}

bool Workload::Next(int c, Request* r) {
  const uint64_t n = issued_.fetch_add(1, std::memory_order_relaxed);
  if (preload_) {
    if (n >= options_.key_space) return false;
    r->key = MakeKey(n, options_.key_size);
    r->read = false;
    return true;
  }
  if (n >= options_.total) return false;
  PerClient& pc = per_client_[c];
  r->index = n;
  if (open_loop()) r->intended = schedule_.IntendedStart(n);
  if (options_.op == OpKind::kTxn) {
    // Floyd's sampling: txn_keys distinct indexes of [0, key_space), each
    // set of them equally likely, in txn_keys draws.
    std::vector<uint64_t> picked;
    const uint64_t k = static_cast<uint64_t>(options_.txn_keys);
    for (uint64_t j = options_.key_space - k; j < options_.key_space; ++j) {
      const uint64_t t = pc.rnd.Uniform(j + 1);
      picked.push_back(std::find(picked.begin(), picked.end(), t) == picked.end() ? t : j);
    }
    r->keys.clear();
    for (uint64_t i : picked) r->keys.push_back(MakeKey(i, options_.key_size));
    r->read = false;  // the backend reads first when read_modify_write()
    return true;
  }
  if (options_.op == OpKind::kLeaseKeepAlive) {
    r->lease = leases_[static_cast<size_t>(c)];
    r->read = false;
    return true;
  }
  if (options_.watched) {
    r->key = options_.key_prefix + MakeKey(n, options_.key_size);
    r->read = false;
    return true;
  }
  r->key = MakeKey(pc.rnd.Uniform(options_.key_space), options_.key_size);
  switch (options_.op) {
    case OpKind::kPut: r->read = false; break;
    case OpKind::kGet: r->read = true; break;
    case OpKind::kMixed: r->read = pc.rnd.NextDouble() < options_.read_ratio; break;
    case OpKind::kTxn:
    case OpKind::kLeaseKeepAlive: break;  // above
  }
  return true;
}

std::chrono::steady_clock::time_point Workload::Begin(int c, const Request& r,
                                                     std::chrono::steady_clock::time_point now) {
  PerClient& pc = per_client_[c];
  if (!sent_ns_.empty()) sent_ns_[r.index] = SteadyNs(now);
  pc.index = r.index;
  pc.begin = now;
  if (!open_loop()) return now;
  pc.lateness.Add(r.intended, now);
  pc.begin = r.intended;
  return r.intended;
}

void Workload::Record(int c, std::chrono::nanoseconds latency, const Status& s) {
  PerClient& pc = per_client_[c];
  if (s.ok()) {
    if (!preload_) pc.latency_ns.push_back(static_cast<uint64_t>(latency.count()));
    if (!acked_ns_.empty()) acked_ns_[pc.index] = SteadyNs(pc.begin + latency);
    return;
  }
  if (s.IsConflict()) {
    pc.aborts++;
    return;
  }
  pc.errors++;
  if (pc.first_error.empty()) pc.first_error = s.ToString();
}

Outcome Workload::Finish() {
  Outcome out;
  size_t n = 0;
  for (const PerClient& pc : per_client_) n += pc.latency_ns.size();
  out.latency_ns.reserve(n);
  for (PerClient& pc : per_client_) {
    out.latency_ns.insert(out.latency_ns.end(), pc.latency_ns.begin(), pc.latency_ns.end());
    out.errors += pc.errors;
    out.aborts += pc.aborts;
    out.lateness.Merge(pc.lateness);
    if (out.first_error.empty()) out.first_error = pc.first_error;
  }
  std::sort(out.latency_ns.begin(), out.latency_ns.end());
  out.sent_ns = std::move(sent_ns_);
  out.acked_ns = std::move(acked_ns_);
  return out;
}

}  // namespace tinykv::bench
