// vnf-traffic: sends a known stream of tagged Ethernet frames into one interface and
// counts what leaves another (AF_PACKET, root). Commands: send, recv, run (both).
// Exit codes: 0 every frame arrived once with the expected header, 1 traffic check
// failed (loss, duplicates, wrong MAC/VLAN), 2 usage or environment error.
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "frame.h"
#include "packet_socket.h"
#include "traffic.h"

namespace vt = vnf::traffic;

namespace {

struct Options {
  std::string tx_if;
  std::string rx_if;
  std::uint64_t count = 1000;
  double rate_pps = 1000;
  std::string src = "02:00:00:00:00:01";
  std::string dst = "02:00:00:00:00:02";
  std::string expect_src;
  std::string expect_dst;
  std::string ethertype = "0x88b5";
  int vlan = -1;
  int size_bytes = 64;
  std::uint32_t run_id = 0;
  int linger_ms = 2000;
  double max_seconds = 0;
  bool allow_loss = false;
  int retry_ms = 1000;
};

struct Parsed {
  vt::FrameSpec frame;
  vt::Expectation expect;
};

// Every problem at once, each with the fix.
std::optional<Parsed> validate(const Options& o, bool need_macs, std::string& problems) {
  Parsed p;
  auto mac = [&](const std::string& flag, const std::string& text) -> std::optional<vt::Mac> {
    if (text.empty()) return std::nullopt;
    auto parsed = vt::parseMac(text);
    if (!parsed)
      problems += fmt::format("  - {} '{}' is not a MAC address: write it as 52:54:00:12:34:56\n", flag, text);
    return parsed;
  };
  if (need_macs) {
    if (auto m = mac("--src", o.src)) p.frame.src = *m;
    if (auto m = mac("--dst", o.dst)) p.frame.dst = *m;
  }
  p.expect.src = mac("--expect-src", o.expect_src);
  p.expect.dst = mac("--expect-dst", o.expect_dst);
  char* end = nullptr;
  const unsigned long type = std::strtoul(o.ethertype.c_str(), &end, 0);
  if (end == o.ethertype.c_str() || *end != '\0' || type < 0x0600 || type > 0xffff || type == vt::kVlanTpid) {
    problems += fmt::format("  - --ethertype '{}' must be 0x0600-0xffff and not 0x8100, e.g. 0x88b5\n", o.ethertype);
  }
  p.frame.ethertype = p.expect.ethertype = static_cast<std::uint16_t>(type);
  if (o.vlan > 4095) problems += fmt::format("  - --vlan {} is above 4095: use 0-4095, or omit it\n", o.vlan);
  if (o.vlan >= 0) p.frame.vlan = p.expect.vlan = static_cast<std::uint16_t>(o.vlan);
  if (o.size_bytes < static_cast<int>(vt::kMinFrameBytes) || o.size_bytes > static_cast<int>(vt::kMaxFrameBytes)) {
    problems += fmt::format("  - --size {} is outside {}-{} bytes (frame without FCS)\n", o.size_bytes,
                            vt::kMinFrameBytes, vt::kMaxFrameBytes);
  }
  p.frame.size_bytes = static_cast<std::size_t>(o.size_bytes);
  if (o.count == 0 || o.count > 100'000'000) problems += fmt::format("  - --count {} must be 1-100000000\n", o.count);
  if (o.retry_ms < 0) problems += fmt::format("  - --retry-ms {} is negative: use 0 to never retry\n", o.retry_ms);
  if (o.rate_pps < 0)
    problems += fmt::format("  - --rate {} is negative: give pps, or 0 for as fast as possible\n", o.rate_pps);
  p.frame.run_id = p.expect.run_id = o.run_id;
  p.expect.count = o.count;
  if (!problems.empty()) return std::nullopt;
  return p;
}

void addFrameOptions(CLI::App* app, Options& o) {
  app->add_option("--count,-n", o.count, "Frames in the stream (sequence numbers 0..N-1)")->capture_default_str();
  app->add_option("--ethertype", o.ethertype, "Ethertype of the test frames")->capture_default_str();
  app->add_option("--vlan", o.vlan, "Send 802.1Q-tagged frames with this VLAN id (recv: expect it)");
  app->add_option("--run-id", o.run_id, "Tag telling this run's frames from stragglers of earlier runs")
      ->capture_default_str();
}

void addSendOptions(CLI::App* app, Options& o) {
  app->add_option("--rate,-r", o.rate_pps, "Offered rate in frames per second; 0 = as fast as possible")
      ->capture_default_str();
  app->add_option("--src", o.src, "Source MAC of the frames sent")->capture_default_str();
  app->add_option("--dst", o.dst, "Destination MAC of the frames sent")->capture_default_str();
  app->add_option("--retry-ms", o.retry_ms,
                  "Retry a frame this long while the device queue is full (guest behind); 0 = count it as "
                  "not sent (benchmarks: the offered load stays fixed)")
      ->capture_default_str();
  app->add_option("--size", o.size_bytes, "Frame size in bytes without FCS (60-9014)")->capture_default_str();
}

void addRecvOptions(CLI::App* app, Options& o) {
  app->add_option("--expect-src", o.expect_src, "Source MAC the forwarder must have written (checked when given)");
  app->add_option("--expect-dst", o.expect_dst, "Destination MAC the forwarder must have written");
  app->add_option("--linger-ms", o.linger_ms, "After the last frame is sent, wait this long for stragglers")
      ->capture_default_str();
  app->add_flag("--allow-loss", o.allow_loss, "Exit 0 despite loss (benchmarks); wrong MACs still fail");
}

int verdict(const vt::SendResult& sent, const vt::ReceiveCounters& got, bool allow_loss) {
  const auto s = vt::summarize(sent, got);
  std::string problems;
  if (s.lost > 0 && !allow_loss) {
    problems += fmt::format("; {} of {} frames lost (sequence numbers {})", s.lost, s.offered, got.missing);
  }
  if (sent.errors > 0 && !allow_loss) {
    problems += fmt::format("; {} frames not sent ({}): the device queue was full, lower --rate", sent.errors,
                            std::strerror(sent.last_errno));
  }
  if (got.duplicates > 0) problems += fmt::format("; {} duplicates", got.duplicates);
  if (got.wrong_mac > 0) {
    problems += fmt::format("; {} frames with unexpected MACs (first: dst {} src {})", got.wrong_mac,
                            vt::formatMac(*got.first_bad_dst), vt::formatMac(*got.first_bad_src));
  }
  if (got.wrong_vlan > 0) problems += fmt::format("; {} frames with an unexpected VLAN tag", got.wrong_vlan);
  if (got.wrong_payload > 0) {
    problems += fmt::format("; {} frames not byte for byte as sent (length or payload changed)", got.wrong_payload);
  }
  if (problems.empty()) return 0;
  std::fprintf(stderr, "vnf-traffic: FAILED%s\n", problems.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "vnf-traffic: send a known stream of test frames into one interface and count what leaves another "
      "(AF_PACKET, needs root)"};
  app.require_subcommand(1);
  Options o;
  auto* send = app.add_subcommand("send", "Send --count frames at --rate out of --tx-if");
  send->add_option("--tx-if", o.tx_if, "Interface to send on")->required();
  addFrameOptions(send, o);
  addSendOptions(send, o);
  auto* recv = app.add_subcommand("recv", "Count test frames arriving on --rx-if");
  recv->add_option("--rx-if", o.rx_if, "Interface to receive on")->required();
  addFrameOptions(recv, o);
  addRecvOptions(recv, o);
  recv->add_option("--duration-s", o.max_seconds, "Stop after this many seconds (default: until --count arrived)");
  auto* run = app.add_subcommand("run", "Send on --tx-if and count on --rx-if at once; prints one summary line");
  run->add_option("--tx-if", o.tx_if, "Interface to send on")->required();
  run->add_option("--rx-if", o.rx_if, "Interface to receive on")->required();
  addFrameOptions(run, o);
  addSendOptions(run, o);
  addRecvOptions(run, o);
  CLI11_PARSE(app, argc, argv);

  std::string problems;
  auto parsed = validate(o, !recv->parsed(), problems);
  if (!parsed) {
    std::fprintf(stderr, "vnf-traffic: problems in the options:\n%s", problems.c_str());
    return 2;
  }
  // run knows what it sent: every frame must come back with that length and its padding intact.
  if (run->parsed()) parsed->expect.size_bytes = parsed->frame.size_bytes;

  std::optional<vt::PacketSocket> tx;
  std::optional<vt::PacketSocket> rx;
  if (!o.tx_if.empty()) {
    auto opened = vt::PacketSocket::open(o.tx_if, vt::PacketSocket::Role::kSend);
    if (!opened) return std::fprintf(stderr, "vnf-traffic: %s\n", opened.error().message.c_str()), 2;
    tx.emplace(std::move(*opened));
  }
  if (!o.rx_if.empty()) {
    auto opened = vt::PacketSocket::open(o.rx_if, vt::PacketSocket::Role::kReceive);
    if (!opened) return std::fprintf(stderr, "vnf-traffic: %s\n", opened.error().message.c_str()), 2;
    rx.emplace(std::move(*opened));
  }
  const vt::SendOptions send_options{parsed->frame, o.count, o.rate_pps, o.retry_ms};

  if (send->parsed()) {
    const auto sent = vt::sendStream(*tx, send_options);
    std::printf("sent=%llu send_errors=%llu offered_pps=%.1f\n", static_cast<unsigned long long>(sent.sent),
                static_cast<unsigned long long>(sent.errors), sent.seconds > 0 ? sent.sent / sent.seconds : 0.0);
    return sent.errors == 0 ? 0 : 1;
  }
  if (recv->parsed()) {
    const std::atomic<bool> stop{false};
    const double limit = o.max_seconds > 0 ? o.max_seconds : 1e9;
    auto got = vt::receiveStream(*rx, parsed->expect, stop, o.linger_ms, limit);
    if (!got) return std::fprintf(stderr, "vnf-traffic: %s\n", got.error().message.c_str()), 2;
    const vt::SendResult assumed{o.count, 0, 0, 0, 0};
    std::printf("%s\n", vt::summaryLine(assumed, *got).c_str());
    return verdict(assumed, *got, o.allow_loss);
  }

  // run: the receiver listens before the first frame leaves.
  const double send_seconds = o.rate_pps > 0 ? static_cast<double>(o.count) / o.rate_pps : 10;
  const double limit = send_seconds * 2 + 30 + o.linger_ms / 1000.0;
  std::atomic<bool> sending_done{false};
  std::expected<vt::ReceiveCounters, vt::Error> got = vt::ReceiveCounters{};
  std::thread receiver([&] { got = vt::receiveStream(*rx, parsed->expect, sending_done, o.linger_ms, limit); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto sent = vt::sendStream(*tx, send_options);
  sending_done.store(true);
  receiver.join();
  if (!got) return std::fprintf(stderr, "vnf-traffic: %s\n", got.error().message.c_str()), 2;
  std::printf("%s\n", vt::summaryLine(sent, *got).c_str());
  std::fflush(stdout);
  return verdict(sent, *got, o.allow_loss);
}
