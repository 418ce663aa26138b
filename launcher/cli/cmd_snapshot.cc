// `vnfctl snapshot OUT`: capture exactly the files discovery reads, for --host-root elsewhere.
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "discovery/discover.h"
#include "discovery/snapshot.h"

namespace vnf::cli {

void addSnapshotCommand(CLI::App& app, const GlobalOptions& global, Runner& run) {
  auto* cmd = app.add_subcommand("snapshot", "Capture the host files discovery reads into a new folder");
  auto out = std::make_shared<std::string>();
  cmd->add_option("OUT", *out, "Folder to create (must not exist)")->required();
  cmd->callback([&global, &run, out] {
    run = [&global, out]() -> int {
      auto fs = HostFs::open(global.host_root);
      if (!fs) {
        printError(fs.error());
        return exitCodeFor(fs.error());
      }
      fs->startRecording();
      auto host = discoverHost(*fs);
      if (!host) {
        printError(host.error());
        return exitCodeFor(host.error());
      }
      char name[256] = "unknown";
      ::gethostname(name, sizeof name - 1);
      std::string source =
          global.host_root == "/" ? fmt::format("live host {}", name) : fmt::format("host root {}", global.host_root);
      auto stats = writeSnapshot(*fs->accessLog(), *out, source);
      if (!stats) {
        printError(stats.error());
        return exitCodeFor(stats.error());
      }
      std::printf("snapshot of %s written to %s: %zu files, %zu links, %zu folders\n", source.c_str(), out->c_str(),
                  stats->files, stats->links, stats->dirs);
      std::printf("use it with: vnfctl --host-root %s host\n", out->c_str());
      return kExitOk;
    };
  });
}

}  // namespace vnf::cli
