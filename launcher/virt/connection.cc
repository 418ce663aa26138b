#include "virt/connection.h"

#include <libvirt/virterror.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

namespace vnf {
namespace {

// libvirt prints every error to stderr by default; the project reports them itself.
void silence(void*, virErrorPtr) {}

void initLibvirtOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    virInitialize();
    virSetErrorFunc(nullptr, silence);
  });
}

std::string versionText(unsigned long v) { return fmt::format("{}.{}.{}", v / 1000000, (v / 1000) % 1000, v % 1000); }

}  // namespace

std::string defaultUri() {
  if (const char* env = std::getenv("LIBVIRT_DEFAULT_URI"); env && *env) return env;
  return "qemu:///system";
}

Error lastLibvirtError(const std::string& action) {
  virErrorPtr err = virGetLastError();
  std::string text = err && err->message ? err->message : "unknown libvirt error";
  std::string fix;
  if (err && err->code == VIR_ERR_AUTH_FAILED) fix = "run as root or as a member of the libvirt group";
  return Error{Errc::kLibvirt, fmt::format("cannot {}: {}", action, text), fix};
}

namespace {

// Why a local URI could not be opened, from what is on disk: a socket path given in the URI that
// does not exist is the URI's fault, not the daemon's; a missing default socket means the daemon
// is not running; a socket that exists but refuses means it died or hangs.
Error connectError(const std::string& uri, bool read_only) {
  Error e = lastLibvirtError("connect to " + uri);
  virErrorPtr err = virGetLastError();
  const bool socket_error = err && (err->code == VIR_ERR_NO_CONNECT || err->code == VIR_ERR_SYSTEM_ERROR) &&
                            e.message.find("socket") != std::string::npos;
  if (!socket_error) {
    if (err && err->code != VIR_ERR_AUTH_FAILED) e.code = Errc::kUnreachable;
    return e;
  }
  e.code = Errc::kUnreachable;
  std::string socket;
  if (auto at = uri.find("socket="); at != std::string::npos) {
    socket =
        uri.substr(at + 7, uri.find('&', at) == std::string::npos ? std::string::npos : uri.find('&', at) - at - 7);
    std::error_code ec;
    if (!std::filesystem::exists(socket, ec)) {
      e.fix = fmt::format(
          "the socket {} named in the URI does not exist: check the URI (qemu:///system uses "
          "/var/run/libvirt/libvirt-sock)",
          socket);
      return e;
    }
  } else if (uri.starts_with("qemu:///system") || uri.starts_with("qemu+unix:///system")) {
    socket = read_only ? "/var/run/libvirt/libvirt-sock-ro" : "/var/run/libvirt/libvirt-sock";
  }
  std::error_code ec;
  if (socket.empty() || !std::filesystem::exists(socket, ec)) {
    e.fix =
        "libvirtd is not running: start it with 'systemctl start libvirtd', or without systemd "
        "'virtlogd --daemon && libvirtd --daemon' (scripts/libvirt start does this)";
  } else {
    e.fix = fmt::format(
        "libvirtd does not answer on {} (it may have died and left its socket): restart it "
        "('systemctl restart libvirtd' or scripts/libvirt stop && scripts/libvirt start)",
        socket);
  }
  return e;
}

}  // namespace

Result<Connection> Connection::open(const std::string& uri_in, bool read_only) {
  initLibvirtOnce();
  const std::string uri = uri_in.empty() ? defaultUri() : uri_in;
  virConnectPtr c =
      read_only ? virConnectOpenReadOnly(uri.c_str()) : virConnectOpenAuth(uri.c_str(), virConnectAuthPtrDefault, 0);
  if (!c) return std::unexpected(connectError(uri, read_only));
  return Connection(ConnectHandle(c), uri);
}

Result<std::string> Connection::versionString() const {
  unsigned long lib = 0, hv = 0;
  if (virConnectGetLibVersion(conn_.get(), &lib) != 0)
    return std::unexpected(lastLibvirtError("read libvirt's version"));
  std::string out = "libvirt " + versionText(lib);
  const char* type = virConnectGetType(conn_.get());
  if (virConnectGetVersion(conn_.get(), &hv) == 0 && hv != 0) {
    out += fmt::format(", {} {}", type ? type : "hypervisor", versionText(hv));
  }
  return out;
}

}  // namespace vnf
