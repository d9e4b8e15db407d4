#include "concierge/broker/metrics.h"

#include <cstdio>

namespace concierge::broker {
namespace {

// Label values are ours (TEE names, verdicts, endpoints), but escape anyway
// (exposition format: backslash, double quote and newline).
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void Metrics::attestation(const std::string& tee, const std::string& verdict) {
  std::lock_guard lock(mu_);
  ++attestations_[{tee, verdict}];
}

void Metrics::release() { ++releases_; }

void Metrics::refusal(const std::string& reason) {
  std::lock_guard lock(mu_);
  ++refusals_[reason];
}

void Metrics::request(const std::string& endpoint, int status, std::chrono::nanoseconds duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  std::lock_guard lock(mu_);
  ++requests_[{endpoint, status}];
  Histogram& h = durations_[endpoint];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::prometheus_text() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP concierge_attestations_total Completed appraisals by TEE and verdict.\n";
  out += "# TYPE concierge_attestations_total counter\n";
  for (const auto& [k, n] : attestations_) {
    out += "concierge_attestations_total{tee=\"" + label(k.first) + "\",verdict=\"" +
           label(k.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP concierge_releases_total Secrets released.\n";
  out += "# TYPE concierge_releases_total counter\n";
  out += "concierge_releases_total " + std::to_string(releases_.load()) + "\n";
  out += "# HELP concierge_refusals_total Requests for secrets that were refused, by reason.\n";
  out += "# TYPE concierge_refusals_total counter\n";
  for (const auto& [reason, n] : refusals_) {
    out += "concierge_refusals_total{reason=\"" + label(reason) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP concierge_requests_total HTTP requests by endpoint and status code.\n";
  out += "# TYPE concierge_requests_total counter\n";
  for (const auto& [k, n] : requests_) {
    out += "concierge_requests_total{endpoint=\"" + label(k.first) + "\",code=\"" +
           std::to_string(k.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP concierge_request_duration_seconds Request latency by endpoint.\n";
  out += "# TYPE concierge_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : durations_) {
    std::uint64_t cumulative = 0;
    const std::string e = label(endpoint);
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      out += "concierge_request_duration_seconds_bucket{endpoint=\"" + e + "\",le=\"" +
             number(kBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "concierge_request_duration_seconds_bucket{endpoint=\"" + e + "\",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "concierge_request_duration_seconds_sum{endpoint=\"" + e + "\"} " + number(h.sum) + "\n";
    out += "concierge_request_duration_seconds_count{endpoint=\"" + e + "\"} " +
           std::to_string(h.count) + "\n";
  }
  return out;
}

}  // namespace concierge::broker
