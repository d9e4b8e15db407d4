// The key broker's counters and latency histograms, written in the
// Prometheus text exposition format (version 0.0.4) for GET /metrics:
//
//   concierge_attestations_total{tee="snp",verdict="affirming"}
//   concierge_releases_total
//   concierge_refusals_total{reason="policy"|"unauthenticated"|...}
//   concierge_requests_total{endpoint="auth",code="200"}
//   concierge_request_duration_seconds_bucket{endpoint="attest",le="0.005"}
//     (with _sum and _count)
//
// Thread-safe: every member may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace concierge::broker {

class Metrics {
 public:
  void attestation(const std::string& tee, const std::string& verdict);
  void release();
  void refusal(const std::string& reason);
  void request(const std::string& endpoint, int status, std::chrono::nanoseconds duration);
  std::string prometheus_text() const;

  std::uint64_t releases() const { return releases_.load(); }

 private:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};  // per bucket, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> attestations_;
  std::map<std::string, std::uint64_t> refusals_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> durations_;
  std::atomic<std::uint64_t> releases_{0};
};

}  // namespace concierge::broker
