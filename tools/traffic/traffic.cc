#include "traffic.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <thread>

#include <fmt/core.h>

namespace vnf::traffic {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The first max_ranges runs of unseen sequence numbers: shows whether loss is a burst at the
// start (a cold path in the guest), at the end (linger too short) or spread out (overload).
std::string missingRanges(const std::vector<bool>& seen, int max_ranges) {
  std::string text;
  int ranges = 0;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (seen[i]) continue;
    std::size_t end = i;
    while (end + 1 < seen.size() && !seen[end + 1]) ++end;
    if (ranges++ == max_ranges) return text + ",...";
    if (!text.empty()) text += ',';
    text += end == i ? fmt::format("{}", i) : fmt::format("{}-{}", i, end);
    i = end;
  }
  return text;
}

}  // namespace

SendResult sendStream(PacketSocket& socket, const SendOptions& options) {
  SendResult result;
  // One frame buffer, sequence number patched in place: no allocation per frame.
  std::vector<std::uint8_t> frame = buildFrame(options.frame, 0);
  const std::size_t seq_offset = (options.frame.vlan ? 18 : 14) + 8;
  const auto start = Clock::now();
  for (std::uint64_t seq = 0; seq < options.count; ++seq) {
    if (options.rate_pps > 0) {
      const auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * seq / options.rate_pps));
      if (Clock::now() < due) std::this_thread::sleep_until(due);
    }
    std::uint64_t v = seq;
    for (int i = 7; i >= 0; --i, v >>= 8) frame[seq_offset + static_cast<std::size_t>(i)] = v & 0xff;
    // ENOBUFS: the tap's queue is full because the guest is behind. Waiting keeps the
    // stream complete (functional tests); benchmarks set retry_ms 0 and count the refusals.
    auto sent = socket.send(frame);
    const auto give_up = Clock::now() + std::chrono::milliseconds(options.retry_ms);
    while (!sent && sent.error() == ENOBUFS && Clock::now() < give_up) {
      ++result.retries;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      sent = socket.send(frame);
    }
    if (sent) {
      ++result.sent;
    } else {
      ++result.errors;
      result.last_errno = sent.error();
    }
  }
  result.seconds = secondsSince(start);
  return result;
}

std::expected<ReceiveCounters, Error> receiveStream(PacketSocket& socket, const Expectation& expect,
                                                    const std::atomic<bool>& stop, int linger_ms, double max_seconds) {
  ReceiveCounters counters;
  std::vector<bool> seen(expect.count, false);
  std::vector<std::uint8_t> buffer(kMaxFrameBytes + 64);
  const auto start = Clock::now();
  std::optional<Clock::time_point> stop_seen;
  auto last_arrival = start;
  while (counters.unique < expect.count) {
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - start).count() >= max_seconds) break;
    if (stop.load()) {
      if (!stop_seen) stop_seen = now;
      const auto quiet_since = std::max(*stop_seen, last_arrival);
      if (now - quiet_since >= std::chrono::milliseconds(linger_ms)) break;
    }
    auto received = socket.receive(buffer, 20);
    if (!received) return std::unexpected(received.error());
    if (!*received) continue;
    const Received& r = **received;
    if (r.outgoing) {
      ++counters.ignored;
      continue;
    }
    const auto frame = parseFrame(std::span(buffer.data(), r.length), expect.ethertype, r.vlan);
    if (!frame) {
      ++counters.ignored;
      continue;
    }
    if (frame->run_id != expect.run_id || frame->seq >= expect.count) {
      ++counters.stale;
      continue;
    }
    last_arrival = Clock::now();
    const double at = secondsSince(start);
    if ((expect.dst && frame->dst != *expect.dst) || (expect.src && frame->src != *expect.src)) {
      if (counters.wrong_mac++ == 0) {
        counters.first_bad_dst = frame->dst;
        counters.first_bad_src = frame->src;
      }
    }
    if (expect.vlan != frame->vlan) ++counters.wrong_vlan;
    if (expect.size_bytes && (frame->size_bytes != *expect.size_bytes || !frame->padding_intact)) {
      ++counters.wrong_payload;
    }
    if (seen[frame->seq]) {
      ++counters.duplicates;
      continue;
    }
    seen[frame->seq] = true;
    if (counters.unique++ == 0) counters.first_s = at;
    counters.last_s = at;
  }
  counters.missing = missingRanges(seen, 5);
  return counters;
}

Summary summarize(const SendResult& sent, const ReceiveCounters& received) {
  Summary summary;
  summary.offered = sent.sent;
  summary.forwarded = received.unique;
  summary.lost = sent.sent > received.unique ? sent.sent - received.unique : 0;
  summary.offered_pps = sent.seconds > 0 ? static_cast<double>(sent.sent) / sent.seconds : 0;
  // Over the arrival window: what the forwarder delivered, not what the sender paced.
  const double window = received.last_s - received.first_s;
  summary.forwarded_pps = received.unique > 1 && window > 0 ? static_cast<double>(received.unique - 1) / window : 0;
  return summary;
}

std::string summaryLine(const SendResult& sent, const ReceiveCounters& received) {
  const Summary s = summarize(sent, received);
  return fmt::format(
      "offered={} forwarded={} lost={} duplicates={} wrong_mac={} wrong_vlan={} wrong_payload={} "
      "stale={} ignored={} send_errors={} send_retries={} offered_pps={:.1f} forwarded_pps={:.1f}",
      s.offered, s.forwarded, s.lost, received.duplicates, received.wrong_mac, received.wrong_vlan,
      received.wrong_payload, received.stale, received.ignored, sent.errors, sent.retries, s.offered_pps,
      s.forwarded_pps);
}

}  // namespace vnf::traffic
