// Sending a paced stream of test frames and counting what comes back: the engine
// behind vnf-traffic's send, recv and run commands.
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "frame.h"
#include "packet_socket.h"

namespace vnf::traffic {

struct SendOptions {
  FrameSpec frame;
  std::uint64_t count = 1000;
  double rate_pps = 1000;  // 0 = as fast as the socket takes them
  int retry_ms = 1000;     // how long one frame is retried while the device queue is full
};

struct SendResult {
  std::uint64_t sent = 0;     // frames the kernel accepted
  std::uint64_t errors = 0;   // frames refused (ENOBUFS: device queue full); these sequence numbers never left
  std::uint64_t retries = 0;  // sends repeated because the device queue was full
  int last_errno = 0;
  double seconds = 0;  // first send to last send
};

// Sends seq 0..count-1 at rate_pps (absolute deadlines, so the average rate holds
// even when the scheduler delays a wake-up: late frames go out in a burst).
SendResult sendStream(PacketSocket& socket, const SendOptions& options);

struct Expectation {
  std::uint16_t ethertype = kDefaultEthertype;
  std::uint32_t run_id = 0;
  std::uint64_t count = 0;  // sequence numbers 0..count-1 are expected
  std::optional<Mac> dst;   // MACs the forwarder must have written
  std::optional<Mac> src;
  std::optional<std::uint16_t> vlan;      // VLAN id the frames must still carry
  std::optional<std::size_t> size_bytes;  // length the frames must have, padding intact (byte for byte)
};

struct ReceiveCounters {
  std::uint64_t unique = 0;      // distinct expected sequence numbers seen
  std::uint64_t duplicates = 0;  // seen again
  std::uint64_t wrong_mac = 0;   // ours, but dst/src not the expected rewrite
  std::uint64_t wrong_vlan = 0;
  std::uint64_t wrong_payload = 0;   // ours, but not the length sent or the padding altered
  std::uint64_t stale = 0;           // ours, other run id or sequence number out of range
  std::uint64_t ignored = 0;         // not ours (host noise) or sent by this host
  std::optional<Mac> first_bad_dst;  // example for the error message
  std::optional<Mac> first_bad_src;
  std::string missing;  // "0-31,1500" style, first few ranges of lost sequence numbers
  double first_s = 0;   // arrival of the first and last expected frame, seconds
  double last_s = 0;    // since the receiver started
};

// Counts frames until count unique arrived, or stop becomes true and linger_ms passed
// without one, or max_seconds passed. Errors only when the socket fails.
std::expected<ReceiveCounters, Error> receiveStream(PacketSocket& socket, const Expectation& expect,
                                                    const std::atomic<bool>& stop, int linger_ms, double max_seconds);

struct Summary {
  std::uint64_t offered = 0;
  std::uint64_t forwarded = 0;
  std::uint64_t lost = 0;
  double offered_pps = 0;
  double forwarded_pps = 0;
};

Summary summarize(const SendResult& sent, const ReceiveCounters& received);

// "offered=N forwarded=N lost=N duplicates=N wrong_mac=N wrong_vlan=N wrong_payload=N stale=N ignored=N send_errors=N
//  send_retries=N offered_pps=X forwarded_pps=X": one line that scripts parse.
std::string summaryLine(const SendResult& sent, const ReceiveCounters& received);

}  // namespace vnf::traffic
