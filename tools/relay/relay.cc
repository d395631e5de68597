// reel-relay: a TCP relay that delays what it forwards, so that network tests on one
// machine can have latency and jitter (the kernel of the test machines has no netem).
//
// It listens on --listen; for each connection it accepts, it connects to --connect and
// copies bytes both ways. Each chunk read in one direction is written after --delay-ms
// plus a jitter in [0, --jitter-ms] that wanders over time (delay_model.h: the same
// distribution at any load, mean delay + jitter / 2, and never reordering the bytes of
// a TCP stream). Each direction of each connection is delayed on its own: a request
// and its answer take two one-way delays.
//
// What it forwards is opaque (TLS passes through; the peers authenticate each other
// by certificate, not by address). A direction holds at most --buffer-bytes-max
// bytes waiting for their time; beyond that it stops reading, and TCP flow control
// slows the sender. End of stream is passed on (shutdown of the sending side) after
// what was read before it; an error on either side closes both.
//
// One thread; SIGINT or SIGTERM stop it. Exit 0 after a signal, 1 when it cannot
// listen or resolve the target, 2 on a malformed command line.
#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tools/relay/delay_model.h"

namespace reel::relay {

// Ten minutes: more is no network, and the delay model's arithmetic stays in range.
constexpr uint32_t kDelayMsMax = 600000;

namespace {

using Clock = std::chrono::steady_clock;
using asio::ip::tcp;

constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

struct Options {
  std::string listen;
  std::string connect;
  uint32_t delay_ms = 0;
  uint32_t jitter_ms = 0;
  uint64_t seed = 0;  // 0: from std::random_device
  size_t buffer_bytes_max = 4 * 1024 * 1024;
};

// "HOST:PORT", "[V6]:PORT" -> host and port; false when malformed.
bool SplitHostPort(const std::string& s, std::string* host, std::string* port) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  *host = s.substr(0, colon);
  *port = s.substr(colon + 1);
  if (host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  return true;
}

// Each direction's delays walk on their own, seeded from --seed (or the system) in turn.
class Seeds {
 public:
  explicit Seeds(uint64_t seed) : next_(seed != 0 ? seed : std::random_device{}()) {}
  DelayModel Model(const Options& o) {
    return DelayModel(std::chrono::milliseconds(o.delay_ms), std::chrono::milliseconds(o.jitter_ms),
                      next_++);
  }

 private:
  uint64_t next_;
};

class Connection;

// One direction of a connection: reads `from`, writes each chunk to `to` when it is due.
class Direction {
 public:
  Direction(Connection* owner, tcp::socket* from, tcp::socket* to, asio::io_context* io,
            DelayModel delays)
      : owner_(owner),
        from_(from),
        to_(to),
        timer_(*io),
        buffer_(kReadChunkBytes),
        delays_(std::move(delays)) {}

  void Start() { Read(); }
  void Cancel() { timer_.cancel(); }
  bool finished() const { return read_done_ && queue_.empty() && !writing_; }

 private:
  struct Chunk {
    Clock::time_point due;
    std::vector<char> bytes;
  };

  void Read();
  void OnRead(const asio::error_code& error, size_t n);
  void WriteNext();
  void OnWritten(const asio::error_code& error, size_t n);

  Connection* const owner_;
  tcp::socket* const from_;
  tcp::socket* const to_;
  asio::steady_timer timer_;
  std::vector<char> buffer_;
  std::deque<Chunk> queue_;
  size_t queued_bytes_ = 0;
  DelayModel delays_;
  bool reading_ = false, read_done_ = false, writing_ = false;
};

// An accepted connection and the one it opened to the target. Owned by the
// shared_ptrs its pending operations hold.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket client, asio::io_context* io, const Options& o, Seeds* seeds)
      : client_(std::move(client)),
        server_(*io),
        buffer_bytes_max_(o.buffer_bytes_max),
        upstream_(this, &client_, &server_, io, seeds->Model(o)),
        downstream_(this, &server_, &client_, io, seeds->Model(o)) {}

  void Start(const tcp::resolver::results_type& target) {
    asio::async_connect(server_, target,
                        [self = shared_from_this()](const asio::error_code& error, const auto&) {
                          if (error) return self->Close();
                          asio::error_code ignored;
                          self->client_.set_option(tcp::no_delay(true), ignored);
                          self->server_.set_option(tcp::no_delay(true), ignored);
                          self->upstream_.Start();
                          self->downstream_.Start();
                        });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    upstream_.Cancel();
    downstream_.Cancel();
    asio::error_code ignored;
    client_.close(ignored);
    server_.close(ignored);
  }

  // Both directions have passed on their end of stream: nothing is left to do.
  void MaybeDone() {
    if (upstream_.finished() && downstream_.finished()) Close();
  }

  bool closed() const { return closed_; }
  size_t buffer_bytes_max() const { return buffer_bytes_max_; }
  std::shared_ptr<Connection> Keep() { return shared_from_this(); }

 private:
  tcp::socket client_;
  tcp::socket server_;
  const size_t buffer_bytes_max_;
  Direction upstream_;    // client -> server
  Direction downstream_;  // server -> client
  bool closed_ = false;
};

void Direction::Read() {
  if (reading_ || read_done_ || owner_->closed()) return;
  if (queued_bytes_ >= owner_->buffer_bytes_max()) return;  // resumed by OnWritten
  reading_ = true;
  from_->async_read_some(
      asio::buffer(buffer_),
      [this, keep = owner_->Keep()](const asio::error_code& error, size_t n) { OnRead(error, n); });
}

void Direction::OnRead(const asio::error_code& error, size_t n) {
  reading_ = false;
  if (owner_->closed()) return;
  if (error) {
    if (error != asio::error::eof) return owner_->Close();
    read_done_ = true;
    if (!writing_) WriteNext();  // passes the end of stream on once the queue is empty
    return;
  }
  const Clock::time_point due = delays_.DueFor(Clock::now());
  queue_.push_back(Chunk{due, std::vector<char>(buffer_.begin(), buffer_.begin() + n)});
  queued_bytes_ += n;
  if (!writing_) WriteNext();
  Read();
}

void Direction::WriteNext() {
  if (owner_->closed()) return;
  if (queue_.empty()) {
    writing_ = false;
    if (read_done_) {
      asio::error_code ignored;
      to_->shutdown(tcp::socket::shutdown_send, ignored);
      owner_->MaybeDone();
    }
    return;
  }
  writing_ = true;
  timer_.expires_at(queue_.front().due);
  timer_.async_wait([this, keep = owner_->Keep()](const asio::error_code& error) {
    if (error || owner_->closed()) return;
    asio::async_write(*to_, asio::buffer(queue_.front().bytes),
                      [this, keep](const asio::error_code& e, size_t n) { OnWritten(e, n); });
  });
}

void Direction::OnWritten(const asio::error_code& error, size_t n) {
  if (owner_->closed()) return;
  if (error) return owner_->Close();
  queued_bytes_ -= n;
  queue_.pop_front();
  Read();  // in case it had stopped at buffer_bytes_max
  WriteNext();
}

class Relay {
 public:
  Relay(asio::io_context* io, const Options& o, tcp::endpoint listen,
        tcp::resolver::results_type target)
      : io_(io), o_(o), acceptor_(*io), retry_(*io), target_(std::move(target)), seeds_(o.seed) {
    acceptor_.open(listen.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(listen);
    acceptor_.listen();
  }

  void Accept() {
    acceptor_.async_accept([this](const asio::error_code& error, tcp::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (error) {
        // Out of descriptors, say: try again a little later rather than spin.
        retry_.expires_after(kAcceptRetry);
        retry_.async_wait([this](const asio::error_code& e) {
          if (!e) Accept();
        });
        return;
      }
      std::make_shared<Connection>(std::move(socket), io_, o_, &seeds_)->Start(target_);
      Accept();
    });
  }

  void Stop() {
    asio::error_code ignored;
    retry_.cancel();
    acceptor_.close(ignored);
  }

 private:
  asio::io_context* const io_;
  const Options o_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  const tcp::resolver::results_type target_;
  Seeds seeds_;
};

int Run(const Options& o) {
  std::string listen_host, listen_port, target_host, target_port;
  if (!SplitHostPort(o.listen, &listen_host, &listen_port)) {
    std::cerr << "reel-relay: --listen: expected HOST:PORT, got \"" << o.listen << "\"\n";
    return 2;
  }
  if (!SplitHostPort(o.connect, &target_host, &target_port)) {
    std::cerr << "reel-relay: --connect: expected HOST:PORT, got \"" << o.connect << "\"\n";
    return 2;
  }
  asio::io_context io;
  tcp::resolver resolver(io);
  asio::error_code error;
  const auto listen = resolver.resolve(listen_host, listen_port, error);
  if (error || listen.empty()) {
    std::cerr << "reel-relay: --listen " << o.listen << ": " << error.message() << "\n";
    return 1;
  }
  auto target = resolver.resolve(target_host, target_port, error);
  if (error || target.empty()) {
    std::cerr << "reel-relay: --connect " << o.connect << ": " << error.message() << "\n";
    return 1;
  }
  std::unique_ptr<Relay> relay;
  try {
    relay = std::make_unique<Relay>(&io, o, listen.begin()->endpoint(), target);
  } catch (const std::system_error& e) {
    std::cerr << "reel-relay: cannot listen on " << o.listen << ": " << e.what() << "\n";
    return 1;
  }
  relay->Accept();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int) {
    relay->Stop();
    io.stop();
  });
  std::cerr << "reel-relay: " << o.listen << " -> " << o.connect << ", delay " << o.delay_ms
            << " ms + a jitter wandering in [0, " << o.jitter_ms << "] ms\n";
  io.run();
  return 0;
}

}  // namespace
}  // namespace reel::relay

int main(int argc, char** argv) {
  reel::relay::Options o;
  CLI::App app{
      "reel-relay: forwards TCP connections from --listen to --connect, delaying each chunk "
      "by --delay-ms plus up to --jitter-ms, in order"};
  app.add_option("--listen", o.listen, "HOST:PORT to accept connections on")->required();
  app.add_option("--connect", o.connect, "HOST:PORT to forward each connection to")->required();
  app.add_option("--delay-ms", o.delay_ms, "Base one-way delay of each chunk, in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{0}, reel::relay::kDelayMsMax));
  app.add_option("--jitter-ms", o.jitter_ms,
                 "Extra delay in [0, this], wandering to a new uniform target every this many "
                 "milliseconds (the same at any load; never reorders a stream)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{0}, reel::relay::kDelayMsMax));
  app.add_option("--seed", o.seed, "Seed of the jitter's random numbers; 0 = random")
      ->capture_default_str();
  app.add_option("--buffer-bytes-max", o.buffer_bytes_max,
                 "Bytes one direction holds waiting for their time before it stops reading")
      ->capture_default_str()
      ->check(CLI::Range(size_t{64 * 1024}, size_t{1} << 30));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is 0; anything malformed is 2, as promised
  }
  return reel::relay::Run(o);
}
