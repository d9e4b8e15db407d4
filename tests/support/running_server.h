// Test helper: a key broker (a BrokerHarness's) served over HTTP on a
// loopback port chosen by the system, on a thread of its own, stopped when
// the object goes away. Not thread-safe; one object per server.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "concierge/server/http_server.h"
#include "support/broker_harness.h"

namespace concierge::testing {

class RunningServer {
 public:
  RunningServer(BrokerHarness& h, server::ServerOptions o = {}) {
    o.port = 0;
    auto s = server::HttpServer::create(h.broker(), o);
    EXPECT_TRUE(s) << s.error().to_string();
    server_ = std::move(*s);
    port_ = server_->bind().value();
    thread_ = std::thread([this] { (void)server_->run(); });
  }
  ~RunningServer() {
    server_->stop();
    thread_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  std::string url(const char* scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_);
  }
  int port() const { return port_; }

 private:
  std::unique_ptr<server::HttpServer> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace concierge::testing
