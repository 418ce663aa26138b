// A private libvirt test-driver instance (test:///DIR/node.xml: its own state, gone with the
// process) and a lifecycle::Environment on it: the two-socket host tree for discovery, run and
// state folders under DIR, the boot files a launch hashes. For tests of the engine and of what
// calls it (the API service); the caller adds readiness, cancel, progress and lock_wait.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "discovery/discover.h"
#include "host/host_fs.h"
#include "lifecycle/engine.h"
#include "tests/unit/test_util.h"
#include "virt/connection.h"

namespace vnf::test {

inline ::testing::AssertionResult setUpTestDriver(const std::string& tag, std::filesystem::path& dir,
                                                  std::optional<Connection>& conn, lifecycle::Environment& env) {
  dir = makeTempDir(tag);
  writeFile(dir / "node.xml", "<node>\n</node>\n");
  auto c = Connection::open("test://" + (dir / "node.xml").string(), false);
  if (!c) return ::testing::AssertionFailure() << c.error().message;
  conn.emplace(std::move(*c));
  writeFile(dir / "image" / "vmlinuz", "kernel");
  writeFile(dir / "image" / "initrd.img", "initrd");
  env.conn = &*conn;
  env.discover = [] {
    auto fs = HostFs::open((dataDir() / "hosts" / "2socket-ht-x710-node1").string());
    if (!fs) return Result<HostTopology>(std::unexpected(fs.error()));
    return discoverHost(*fs);
  };
  env.run_dir = (dir / "run").string();
  env.state_dir = (dir / "state").string();
  return ::testing::AssertionSuccess();
}

}  // namespace vnf::test
