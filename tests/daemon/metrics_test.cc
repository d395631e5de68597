// The metrics registry and its Prometheus text, the status server in process, the
// log line format, and the store identity check.
#include "node/daemon/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "node/daemon/log.h"
#include "node/daemon/node.h"
#include "node/daemon/status_server.h"
#include "node/storage/keys.h"
#include "node/storage/memory_store.h"
#include "tests/daemon/daemon_test_util.h"

namespace reel::daemon {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersPrometheusText) {
  MetricsRegistry registry;
  Counter& counter = registry.AddCounter("reel_things_total", "Things.\nMore");
  Gauge& gauge = registry.AddGauge("reel_level", "Level.");
  Histogram& histogram = registry.AddHistogram("reel_latency_ms", "Latency.", {10, 100});
  counter.Increment(3);
  gauge.Set(-7);
  histogram.Observe(5);
  histogram.Observe(10);  // a bound is inclusive: le="10"
  histogram.Observe(50);
  histogram.Observe(1000);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP reel_things_total Things.\\nMore\n"
            "# TYPE reel_things_total counter\n"
            "reel_things_total 3\n"
            "# HELP reel_level Level.\n"
            "# TYPE reel_level gauge\n"
            "reel_level -7\n"
            "# HELP reel_latency_ms Latency.\n"
            "# TYPE reel_latency_ms histogram\n"
            "reel_latency_ms_bucket{le=\"10\"} 2\n"
            "reel_latency_ms_bucket{le=\"100\"} 3\n"
            "reel_latency_ms_bucket{le=\"+Inf\"} 4\n"
            "reel_latency_ms_sum 1065\n"
            "reel_latency_ms_count 4\n");
}

TEST(MetricsTest, RegisteringTwiceReturnsTheSameMetric) {
  MetricsRegistry registry;
  Gauge& first = registry.AddGauge("reel_x", "x");
  Gauge& second = registry.AddGauge("reel_x", "x");
  EXPECT_EQ(&first, &second);
  EXPECT_DEATH(registry.AddCounter("reel_x", "x"), "");
  EXPECT_DEATH(registry.AddGauge("bad name", "x"), "");
}

TEST(MetricsTest, UpdatesFromManyThreadsAddUp) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        metrics.view_changes.Increment();
        metrics.commit_latency.Observe(static_cast<uint64_t>(i % 200));
        if (i % 1000 == 0) registry.RenderPrometheus();  // renders alongside updates
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(metrics.view_changes.value(), 40000u);
  EXPECT_EQ(metrics.commit_latency.cumulative_count(metrics.commit_latency.bounds().size()),
            40000u);
}

TEST(MetricsTest, NodeMetricsHaveTheAgreedNames) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  metrics.height.Set(42);
  std::string text = registry.RenderPrometheus();
  for (std::string_view name :
       {"reel_height 42", "reel_round 0", "reel_view_changes_total 0", "reel_mempool_size 0",
        "reel_peers 0", "reel_commit_latency_ms_bucket{le=\"1000\"} 0",
        "reel_commit_latency_ms_count 0", "reel_verify_per_second 0", "reel_prepared_commits 0"}) {
    EXPECT_THAT(text, HasSubstr(std::string("\n") + std::string(name) + "\n")) << name;
  }
}

TEST(StatusServerTest, ServesHealthAndMetrics) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  std::atomic<NodeState> state{NodeState::kStarting};
  StatusServer server("n1", registry, metrics, state);
  ASSERT_OK(server.Start({"127.0.0.1", 0}));
  ASSERT_NE(server.port(), 0);
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(5, 0);

  auto starting = client.Get("/healthz");
  ASSERT_TRUE(starting);
  EXPECT_EQ(starting->status, 503);
  EXPECT_THAT(starting->body, HasSubstr("\"status\":\"starting\""));

  state = NodeState::kServing;
  metrics.height.Set(7);
  metrics.peers.Set(3);
  auto serving = client.Get("/healthz");
  ASSERT_TRUE(serving);
  EXPECT_EQ(serving->status, 200);
  nlohmann::json body = nlohmann::json::parse(serving->body);
  EXPECT_EQ(body["status"], "serving");
  EXPECT_EQ(body["height"], 7);
  EXPECT_EQ(body["peers"], 3);
  EXPECT_EQ(body["round"], 0);
  EXPECT_EQ(body["moniker"], "n1");
  EXPECT_EQ(body["consensus"], "running");

  auto scraped = client.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_EQ(scraped->status, 200);
  EXPECT_THAT(scraped->body, HasSubstr("\nreel_height 7\n"));
  EXPECT_THAT(scraped->get_header_value("Content-Type"), HasSubstr("text/plain; version=0.0.4"));

  auto missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  state = NodeState::kStopping;
  EXPECT_EQ(client.Get("/healthz")->status, 503);
  server.Stop();
  EXPECT_FALSE(client.Get("/healthz"));
}

TEST(StatusServerTest, PortInUseIsRefused) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  std::atomic<NodeState> state{NodeState::kStarting};
  StatusServer first("n1", registry, metrics, state);
  ASSERT_OK(first.Start({"127.0.0.1", 0}));
  StatusServer second("n1", registry, metrics, state);
  Status status = second.Start({"127.0.0.1", first.port()});
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("127.0.0.1:" + std::to_string(first.port())));
}

TEST(LogTest, TextLinesAreKeyValue) {
  EXPECT_EQ(FormatLogBody(config::LogFormat::kText, "started",
                          {{"moniker", "n1"}, {"height", 12}, {"path", "/a b"}, {"q", "x=\"y\""}}),
            "started moniker=n1 height=12 path=\"/a b\" q=\"x=\\\"y\\\"\"");
  EXPECT_EQ(FormatLogBody(config::LogFormat::kText, "m", {{"empty", ""}}), "m empty=\"\"");
}

TEST(LogTest, JsonLinesAreJson) {
  std::string body = FormatLogBody(config::LogFormat::kJson, "said \"hi\"\n",
                                   {{"moniker", "n1"}, {"height", uint64_t{12}}, {"c", "\x01"}});
  nlohmann::json parsed = nlohmann::json::parse("{" + body + "}");
  EXPECT_EQ(parsed["msg"], "said \"hi\"\n");
  EXPECT_EQ(parsed["moniker"], "n1");
  EXPECT_EQ(parsed["height"], 12);  // a number, not a string
  EXPECT_EQ(parsed["c"], "\x01");
}

TEST(LogTest, JsonEscapesAreTheUsualOnes) {
  EXPECT_EQ(
      FormatLogBody(config::LogFormat::kJson, "q\"b\\n\nr\rt\tc\x01\x1f \xc3\xa9", {{"k", "v"}}),
      R"("msg":"q\"b\\n\nr\rt\tc\u0001\u001f é","k":"v")");
  // Bytes that are not UTF-8 would make the line unreadable as JSON: replaced.
  const std::string body = FormatLogBody(config::LogFormat::kJson, "bad \xff byte", {});
  EXPECT_EQ(body, "\"msg\":\"bad \xef\xbf\xbd byte\"");
  EXPECT_EQ(nlohmann::json::parse("{" + body + "}")["msg"], "bad \xef\xbf\xbd byte");
}

TEST(StoreIdentityTest, RefusesAnotherChainOrSchema) {
  std::unique_ptr<storage::KvStore> store = storage::NewMemoryStore();
  ASSERT_OK(CheckStoreIdentity(*store, "reel-test", "/d"));  // fresh

  storage::WriteBatch batch;
  batch.Put(storage::keys::ChainIdKey(), "reel-test");
  ASSERT_OK(store->Write(batch, false));
  EXPECT_EQ(CheckStoreIdentity(*store, "reel-test", "/d").code(), Code::kCorruption);

  std::string schema;
  AppendU32BE(schema, storage::keys::kSchemaVersion);
  batch.Clear();
  batch.Put(storage::keys::SchemaVersionKey(), schema);
  ASSERT_OK(store->Write(batch, false));
  ASSERT_OK(CheckStoreIdentity(*store, "reel-test", "/d"));

  Status other = CheckStoreIdentity(*store, "reel-prod", "/d");
  EXPECT_EQ(other.code(), Code::kFailedPrecondition);
  EXPECT_THAT(other.message(), HasSubstr("/d belongs to chain \"reel-test\""));
  EXPECT_THAT(other.message(), HasSubstr("genesis says \"reel-prod\""));

  schema.clear();
  AppendU32BE(schema, storage::keys::kSchemaVersion + 1);
  batch.Clear();
  batch.Put(storage::keys::SchemaVersionKey(), schema);
  ASSERT_OK(store->Write(batch, false));
  EXPECT_THAT(CheckStoreIdentity(*store, "reel-test", "/d").message(),
              HasSubstr("schema version " + std::to_string(storage::keys::kSchemaVersion + 1)));
}

}  // namespace
}  // namespace reel::daemon
