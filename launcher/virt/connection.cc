#include "virt/connection.h"

#include <libvirt/virterror.h>

#include <cstdlib>
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

std::string versionText(unsigned long v) {
  return fmt::format("{}.{}.{}", v / 1000000, (v / 1000) % 1000, v % 1000);
}

}  // namespace

std::string defaultUri() {
  if (const char* env = std::getenv("LIBVIRT_DEFAULT_URI"); env && *env) return env;
  return "qemu:///system";
}

Error lastLibvirtError(const std::string& action) {
  virErrorPtr err = virGetLastError();
  std::string text = err && err->message ? err->message : "unknown libvirt error";
  std::string fix;
  if (err && (err->code == VIR_ERR_NO_CONNECT || err->code == VIR_ERR_SYSTEM_ERROR) &&
      text.find("socket") != std::string::npos) {
    fix = "libvirtd is not running: start it with 'systemctl start libvirtd', or without systemd "
          "'virtlogd --daemon && libvirtd --daemon' (scripts/start-libvirt does this)";
  } else if (err && err->code == VIR_ERR_AUTH_FAILED) {
    fix = "run as root or as a member of the libvirt group";
  }
  return Error{Errc::kLibvirt, fmt::format("cannot {}: {}", action, text), fix};
}

Result<Connection> Connection::open(const std::string& uri_in, bool read_only) {
  initLibvirtOnce();
  const std::string uri = uri_in.empty() ? defaultUri() : uri_in;
  virConnectPtr c = read_only ? virConnectOpenReadOnly(uri.c_str())
                              : virConnectOpenAuth(uri.c_str(), virConnectAuthPtrDefault, 0);
  if (!c) return std::unexpected(lastLibvirtError("connect to " + uri));
  return Connection(ConnectHandle(c), uri);
}

Result<std::string> Connection::versionString() const {
  unsigned long lib = 0, hv = 0;
  if (virConnectGetLibVersion(conn_.get(), &lib) != 0) return std::unexpected(lastLibvirtError("read libvirt's version"));
  std::string out = "libvirt " + versionText(lib);
  const char* type = virConnectGetType(conn_.get());
  if (virConnectGetVersion(conn_.get(), &hv) == 0 && hv != 0) {
    out += fmt::format(", {} {}", type ? type : "hypervisor", versionText(hv));
  }
  return out;
}

}  // namespace vnf
