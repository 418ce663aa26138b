// Error type of the guest forwarder: one message a person can act on
// (what failed, the value seen, the limit, the fix).
#pragma once

#include <string>
#include <utility>

namespace vnf::fwd {

struct Error {
  std::string message;

  explicit Error(std::string text) : message(std::move(text)) {}
};

}  // namespace vnf::fwd
