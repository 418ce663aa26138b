// The libvirt connection: RAII handles over libvirt's C API, and libvirt errors turned into the
// project's Error with a fix. Everything that talks to libvirt goes through here.
#pragma once

#include <libvirt/libvirt.h>

#include <memory>
#include <string>

#include "common/error.h"

namespace vnf {

struct ConnectDeleter {
  void operator()(virConnectPtr c) const { virConnectClose(c); }
};
using ConnectHandle = std::unique_ptr<virConnect, ConnectDeleter>;

// The URI used when none is given: $LIBVIRT_DEFAULT_URI, else qemu:///system (as virsh).
std::string defaultUri();

class Connection {
 public:
  // Opens `uri` ("" means defaultUri()). Read-only connections need no write permission.
  static Result<Connection> open(const std::string& uri, bool read_only);

  virConnectPtr get() const { return conn_.get(); }
  const std::string& uri() const { return uri_; }
  // "libvirt 11.3.0, QEMU 10.0.2" (library and hypervisor versions).
  Result<std::string> versionString() const;

 private:
  Connection(ConnectHandle conn, std::string uri) : conn_(std::move(conn)), uri_(std::move(uri)) {}
  ConnectHandle conn_;
  std::string uri_;
};

// The last libvirt error as an Error, with `action` ("connect to qemu:///system") leading the message.
Error lastLibvirtError(const std::string& action);

}  // namespace vnf
