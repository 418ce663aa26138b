// Boot files QEMU can read. libvirt runs QEMU as an unprivileged user (qemu.conf `user`, Debian's
// default libvirt-qemu); a kernel in a checkout under /root (mode 0700) makes the start fail with
// "could not open kernel file ... Permission denied". stageForQemu puts a copy where that user can
// read it, content-addressed so identical files share one copy and a changed file gets a new one.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/error.h"

namespace vnf {

// The user and group QEMU runs as.
struct QemuIdentity {
  std::string user;  // as written in qemu.conf ("libvirt-qemu", "+0")
  uid_t uid = 0;
  gid_t gid = 0;
};

// Reads `user` and `group` from libvirt's qemu.conf (a missing file or a commented-out setting means
// libvirt's default, user libvirt-qemu with its primary group). Names are looked up with
// getpwnam/getgrnam; "+N" is a numeric id. kNotFound when a named user or group does not exist.
Result<QemuIdentity> qemuIdentity(const std::string& qemu_conf = "/etc/libvirt/qemu.conf");

// Why `uid`/`gid` (and the user's supplementary groups) cannot read `path`: the first folder on the
// way without x for them, or the file without r ("folder /root is mode 0700, owner uid 0"); "" when
// they can. Checks the path as given and after resolving links, with the owner/group/other mode
// bits only (no ACLs). uid 0 reads everything.
std::string whyUnreadable(const std::string& path, uid_t uid, gid_t gid);

struct StagedFile {
  std::string path;  // what QEMU should open: the file itself, or its staged copy
  bool staged = false;
  std::string note;  // "" when not staged; else what was copied where, and why
};

// Returns `path` (made absolute) when QEMU's user can read it. Otherwise copies it to
// stage_root/<sha256 of the content>/<file name> (file 0644, folders 0755; an existing copy with the
// same content is reused, one that differs is replaced) and returns that path and a note. The copy
// is written like writeFileSafely (temporary file with O_EXCL|O_NOFOLLOW, fsync, rename). For files
// QEMU only reads (kernel, initrd): a disk image staged this way would take the guest's writes in
// the copy. Errors: kInvalidArgument when `path` is not a regular file; kIo when staging fails
// (stage_root not writable, a full disk) or stage_root itself is not readable for QEMU's user.
Result<StagedFile> stageForQemu(const std::string& path, uid_t qemu_uid, gid_t qemu_gid,
                                const std::string& stage_root = "/var/lib/vnfctl/boot");

}  // namespace vnf
