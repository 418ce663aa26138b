// doctor's checks that virt-host-validate qemu also makes: /dev/vhost-net, /dev/net/tun, cgroup
// cpuset and memory controllers (v1 and v2), read through HostFs from fake trees.
#include <gtest/gtest.h>

#include "doctor/doctor.h"
#include "tests/unit/test_util.h"

namespace vnf {
namespace {

std::map<std::string, Check> devicesOf(const DoctorInputs::Devices& d) {
  DoctorInputs in;
  in.devices = d;
  std::map<std::string, Check> out;
  for (auto& c : runDoctor(HostTopology{}, in))
    if (c.id.rfind("dev.", 0) == 0 || c.id.rfind("cgroup.", 0) == 0) out[c.id] = c;
  return out;
}

TEST(DoctorDevices, CgroupV2Tree) {
  auto root = test::makeTempDir("doctor-dev2");
  test::writeFile(root / "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  test::writeFile(root / "dev/net/tun", "");
  std::filesystem::create_directories(root / "dev");
  auto fs = HostFs::open(root);
  ASSERT_TRUE(fs);
  auto d = readHostDevices(*fs);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->cgroup_version, "v2");
  EXPECT_EQ(d->controllers, (std::set<std::string>{"cpuset", "cpu", "io", "memory", "pids"}));
  EXPECT_TRUE(d->tun);
  EXPECT_FALSE(d->vhost_net);
  auto c = devicesOf(*d);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c["dev.vhost_net"].verdict, Verdict::kWarn);
  EXPECT_EQ(c["dev.vhost_net"].fix, "modprobe vhost_net && echo vhost_net > /etc/modules-load.d/vhost_net.conf");
  EXPECT_EQ(c["dev.tun"].verdict, Verdict::kPass);
  EXPECT_EQ(c["cgroup.cpuset"].verdict, Verdict::kPass);
  EXPECT_EQ(c["cgroup.cpuset"].detail, "enabled (cgroup v2)");
  std::filesystem::remove_all(root);
}

TEST(DoctorDevices, CgroupV1WithoutCpusetFailsWithTheMountCommand) {
  auto root = test::makeTempDir("doctor-dev1");
  test::writeFile(root / "proc/cgroups",
                  "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t1\t1\nmemory\t4\t90\t1\ncpu\t3\t90\t1\n");
  std::filesystem::create_directories(root / "dev");
  auto fs = HostFs::open(root);
  ASSERT_TRUE(fs);
  auto d = readHostDevices(*fs);
  ASSERT_TRUE(d);
  auto c = devicesOf(*d);
  EXPECT_EQ(c["cgroup.cpuset"].verdict, Verdict::kFail);
  EXPECT_EQ(c["cgroup.cpuset"].detail,
            "not enabled (cgroup v1): libvirt cannot confine the emulator threads and numatune memory (cpuset.mems) "
            "to the planned node");
  EXPECT_EQ(c["cgroup.cpuset"].fix,
            "mount the cpuset controller: mkdir -p /sys/fs/cgroup/cpuset && mount -t cgroup -o cpuset cgroup "
            "/sys/fs/cgroup/cpuset; for memory on some kernels add cgroup_enable=memory to the kernel command line");
  EXPECT_EQ(c["cgroup.memory"].verdict, Verdict::kPass);
  EXPECT_EQ(c["dev.tun"].verdict, Verdict::kFail);
  EXPECT_EQ(c["dev.tun"].fix, "modprobe tun && echo tun > /etc/modules-load.d/tun.conf");
  std::filesystem::remove_all(root);
}

TEST(DoctorDevices, SnapshotWithoutThemAddsNoChecks) {
  auto fs = HostFs::open(test::dataDir() / "hosts" / "2socket-ht-x710-node1");
  ASSERT_TRUE(fs);
  EXPECT_FALSE(readHostDevices(*fs));
  EXPECT_TRUE(devicesOf(DoctorInputs::Devices{}).size() == 4u);  // with devices given, all four are judged
}

}  // namespace
}  // namespace vnf
