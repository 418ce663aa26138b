// The engine pass by pass: every pass fails once (through the after_pass seam) and libvirt must be
// left as it was, definitions and running state; a replaced running domain comes back defined and
// running (and the failure says it rebooted). libvirt's test driver, a private instance per test.
#include "lifecycle/engine.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <thread>

#include <fmt/format.h>

#include "common/host_lock.h"
#include "discovery/discover.h"
#include "host/host_fs.h"
#include "spec/load.h"
#include "tests/unit/engine_env.h"
#include "tests/unit/test_util.h"

namespace vnf {
inline void PrintTo(const FieldChange& c, std::ostream* os) { *os << c.field << ": " << c.before << " -> " << c.after; }
}  // namespace vnf

namespace vnf::lifecycle {
namespace {

// Readiness without a guest: READY at once, or a failure, or it waits until cancelled.
class FakeReadiness final : public ReadinessSource {
 public:
  enum class Mode { kReady, kGuestFails, kWaitForCancel } mode = Mode::kReady;
  int calls = 0;
  std::atomic<bool> waiting{false};
  Result<ReadyLine> waitReady(const Connection&, const std::string& name, const std::string&, std::chrono::seconds,
                              const CancelToken& cancel, const std::function<void(double)>&) override {
    ++calls;
    switch (mode) {
      case Mode::kReady: return ReadyLine{"VNF-READY name=" + name, 0.5};
      case Mode::kGuestFails:
        return fail(Errc::kGuestFailed, fmt::format("the guest of {} reported a failure: no ports", name));
      case Mode::kWaitForCancel:
        waiting = true;
        while (!cancel.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return fail(Errc::kInterrupted, "interrupted");
    }
    return fail(Errc::kIo, "?");
  }
};

class Engine : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::setUpTestDriver("engine", dir_, conn_, env_));
    env_.readiness = &ready_;
    env_.cancel = &cancel_;
    env_.lock_wait = std::chrono::milliseconds(200);
    env_.progress = [this](const Event& e) {
      events_.push_back(fmt::format("{} {}: {}", passName(e.pass), e.vnf, e.message));
    };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  LaunchRequest request(const std::string& yaml, bool start = true) {
    auto spec = parseSpecYaml(yaml, "test.yaml");
    EXPECT_TRUE(spec) << (spec ? "" : spec.error().message);
    LaunchRequest r;
    r.specs = expandCount(*spec);
    r.start = start;
    r.render.templates_dir = VNF_TEMPLATES;
    r.render.image_dir = dir_ / "image";
    r.render.log_dir = (dir_ / "logs").string();
    r.render.domain_type = DomainType::kQemu;
    return r;
  }

  // name -> "state|inactive XML" for every domain: what "libvirt as it was" compares.
  std::map<std::string, std::string> snapshot() {
    std::map<std::string, std::string> out;
    virDomainPtr* all = nullptr;
    int n = virConnectListAllDomains(conn_->get(), &all, 0);
    for (int i = 0; i < n; ++i) {
      char* xml = virDomainGetXMLDesc(all[i], VIR_DOMAIN_XML_INACTIVE);
      int state = 0, reason = 0;
      virDomainGetState(all[i], &state, &reason, 0);
      out[virDomainGetName(all[i])] = fmt::format("{}|{}", state, xml ? xml : "");
      free(xml);
      virDomainFree(all[i]);
    }
    free(all);
    return out;
  }

  std::filesystem::path dir_;
  std::optional<Connection> conn_;
  FakeReadiness ready_;
  CancelToken cancel_;
  Environment env_;
  std::vector<std::string> events_;
};

const char* kFw = "name: fw1\nvcpus: 4\nmemory: 4G\nhugepages: 1G\nnics:\n  - pf: ens2f0\n    vlan: 100\n";
const char* kFwChanged = "name: fw1\nvcpus: 4\nmemory: 4G\nhugepages: 1G\nnics:\n  - pf: ens2f0\n    vlan: 200\n";

TEST_F(Engine, LaunchDefinesStartsWaitsAndARerunChangesNothing) {
  auto r = launch(env_, request(kFw));
  ASSERT_TRUE(r) << r.error().error.message;
  ASSERT_EQ(r->vnfs.size(), 1u);
  const auto& o = r->vnfs[0];
  EXPECT_EQ(o.verdict, Verdict::kNew);
  EXPECT_TRUE(o.defined);
  EXPECT_TRUE(o.started);
  ASSERT_TRUE(o.ready);
  EXPECT_EQ(o.ready->line, "VNF-READY name=fw1");
  ASSERT_TRUE(o.placement);
  EXPECT_EQ(o.placement->node, 1);
  EXPECT_TRUE(r->changed());
  EXPECT_TRUE(r->notes.empty()) << "nothing to say without fast_boot: " << r->notes.front();
  EXPECT_EQ(domainState(*conn_, "fw1").value(), DomainState::kRunning);
  // The passes in order, each reported.
  std::vector<std::string> passes;
  for (const auto& e : events_) passes.push_back(e.substr(0, e.find(' ')));
  passes.erase(std::unique(passes.begin(), passes.end()), passes.end());
  EXPECT_EQ(passes, (std::vector<std::string>{"gather", "reconcile", "plan", "render", "define", "start", "ready"}));

  auto again = launch(env_, request(kFw));
  ASSERT_TRUE(again) << again.error().error.message;
  EXPECT_EQ(again->vnfs[0].verdict, Verdict::kUnchanged);
  EXPECT_FALSE(again->changed());
  EXPECT_EQ(ready_.calls, 1) << "an unchanged running VNF is not started or waited for again";
}

// guest.fast_boot weakens the guest kernel's hardening: the run says so, in its events and notes.
TEST_F(Engine, FastBootIsSaidInTheNotes) {
  auto r = launch(env_, request(std::string(kFw) + "guest:\n  fast_boot: true\n"));
  ASSERT_TRUE(r) << r.error().error.message;
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_EQ(r->notes[0],
            "fw1: guest.fast_boot is on: the guest kernel boots with init_on_alloc=0 cryptomgr.notests "
            "mitigations=off (faster, less hardened: pages not zeroed at allocation, no crypto self-tests, no CPU "
            "vulnerability mitigations); remove fast_boot for the hardened defaults");
  EXPECT_NE(std::find_if(events_.begin(), events_.end(),
                         [](const std::string& e) { return e.find("guest.fast_boot is on") != std::string::npos; }),
            events_.end());
}

TEST_F(Engine, AChangedSpecNeedsReplaceAndShowsTheFieldDiff) {
  ASSERT_TRUE(launch(env_, request(kFw)));
  const auto before = snapshot();
  auto r = launch(env_, request(kFwChanged));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, Errc::kNeedsReplace);
  EXPECT_EQ(exitCodeOf(r.error().error.code), 9);
  EXPECT_EQ(r.error().error.message,
            "fw1 is already defined from a different spec (running):\n    nics[0].vlan: 100 -> 200");
  EXPECT_EQ(r.error().error.fix,
            "add --replace to redefine it (the running guest is stopped and started again: it reboots); nothing was "
            "changed");
  EXPECT_EQ(r.error().rolled_back, std::vector<std::string>{"nothing had been changed"});
  EXPECT_EQ(snapshot(), before);
}

// Every pass of a fresh launch fails once: nothing of the run is left.
TEST_F(Engine, AFailureAfterAnyPassOfANewLaunchLeavesNothing) {
  for (Pass pass :
       {Pass::kGather, Pass::kReconcile, Pass::kPlan, Pass::kRender, Pass::kDefine, Pass::kStart, Pass::kReady}) {
    SCOPED_TRACE(passName(pass));
    const auto before = snapshot();
    env_.after_pass = [pass](Pass p, const std::string&) -> Result<void> {
      if (p == pass) return fail(Errc::kIo, fmt::format("injected after {}", passName(p)));
      return {};
    };
    auto r = launch(env_, request(kFw));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().error.message, fmt::format("injected after {}", passName(pass)));
    EXPECT_EQ(r.error().pass, pass);
    EXPECT_EQ(snapshot(), before);
  }
}

// Every pass of a --replace of a running VNF fails once: the old definition is back and runs.
TEST_F(Engine, AFailureAfterAnyPassOfAReplaceLeavesTheOldDomainDefinedAndRunning) {
  ASSERT_TRUE(launch(env_, request(kFw)));
  for (Pass pass :
       {Pass::kGather, Pass::kReconcile, Pass::kPlan, Pass::kRender, Pass::kDefine, Pass::kStart, Pass::kReady}) {
    SCOPED_TRACE(passName(pass));
    const auto before = snapshot();
    env_.after_pass = [pass](Pass p, const std::string&) -> Result<void> {
      if (p == pass) return fail(Errc::kIo, "injected");
      return {};
    };
    auto req = request(kFwChanged);
    req.replace = true;
    auto r = launch(env_, req);
    ASSERT_FALSE(r);
    EXPECT_EQ(snapshot(), before);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "state" / "undo" / "fw1.xml")) << "the kept definition is cleaned up";
    if (pass >= Pass::kDefine) {
      EXPECT_EQ(r.error().rolled_back.back(),
                "fw1: the previous definition is back and running again (the guest rebooted)");
    }
  }
  env_.after_pass = {};
  auto req = request(kFwChanged);
  req.replace = true;
  auto r = launch(env_, req);
  ASSERT_TRUE(r) << r.error().error.message;
  EXPECT_EQ(r->vnfs[0].verdict, Verdict::kChanged);
  EXPECT_TRUE(r->vnfs[0].rebooted);
  EXPECT_EQ(r->vnfs[0].diff, (std::vector<FieldChange>{{"nics[0].vlan", "100", "200"}}));
  EXPECT_NE(domainXml(*conn_, "fw1", true).value().find("<tag id='200'/>"), std::string::npos);
}

TEST_F(Engine, ASecondVnfThatFailsTakesTheFirstBackToo) {
  ready_.mode = FakeReadiness::Mode::kGuestFails;
  auto r = launch(env_, request("name: fw\nvcpus: 2\nmemory: 2G\nhugepages: 1G\ncount: 2\n"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, Errc::kGuestFailed);
  EXPECT_EQ(exitCodeOf(r.error().error.code), 7);
  EXPECT_EQ(r.error().vnf, "fw-1");
  EXPECT_EQ(r.error().rolled_back,
            (std::vector<std::string>{"fw-1: stopped again", "fw-2: the domain this run defined was removed",
                                      "fw-1: the domain this run defined was removed"}));
  EXPECT_TRUE(snapshot().empty());
}

TEST_F(Engine, CancellationWhileWaitingRollsBackAndSaysWhichSignal) {
  ready_.mode = FakeReadiness::Mode::kWaitForCancel;
  std::thread stopper([this] {
    while (!ready_.waiting) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    cancel_.cancel(SIGTERM);
  });
  auto r = launch(env_, request(kFw));
  stopper.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, Errc::kInterrupted);
  EXPECT_EQ(r.error().error.message, "interrupted by SIGTERM during ready");
  EXPECT_EQ(exitCodeOf(r.error().error.code), 130);
  EXPECT_TRUE(snapshot().empty());
}

TEST_F(Engine, ACancelledRunStopsAtTheNextPass) {
  cancel_.cancel(SIGHUP);
  auto r = launch(env_, request(kFw));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.message, "interrupted by SIGHUP during gather");
  EXPECT_TRUE(snapshot().empty());
}

TEST_F(Engine, DryRunDecidesAndPlansButChangesNothing) {
  auto req = request(kFw);
  req.dry_run = true;
  auto r = launch(env_, req);
  ASSERT_TRUE(r) << r.error().error.message;
  EXPECT_EQ(r->vnfs[0].verdict, Verdict::kNew);
  ASSERT_TRUE(r->vnfs[0].placement);
  EXPECT_FALSE(r->changed());
  EXPECT_TRUE(snapshot().empty());
}

TEST_F(Engine, AVnfThatDoesNotFitIsItsOwnKind) {
  auto r = launch(env_, request("name: big\nvcpus: 30\nmemory: 4G\nhugepages: 1G\n"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, Errc::kDoesNotFit);
  EXPECT_EQ(exitCodeOf(r.error().error.code), 4);
  EXPECT_EQ(r.error().pass, Pass::kPlan);
}

TEST_F(Engine, AnotherRunHoldingTheLockMakesThisOneBusyAndNamesIt) {
  auto held = HostLock::acquire(lockPathFor(env_.run_dir, conn_->uri()), std::chrono::milliseconds(0), "launch", {},
                                "vnfctl launch other.yaml");
  ASSERT_TRUE(held);
  auto r = launch(env_, request(kFw));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, Errc::kBusy);
  EXPECT_EQ(exitCodeOf(r.error().error.code), 8);
  const std::string holder = fmt::format("pid {} (vnfctl launch other.yaml)", ::getpid());
  EXPECT_EQ(r.error().error.message, fmt::format("another vnfctl launch holds the host lock {}: {}; waited 0 s",
                                                 lockPathFor(env_.run_dir, conn_->uri()), holder));
  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_.front(), fmt::format("gather : the host lock {} is held by {}; waiting up to 0 s",
                                         lockPathFor(env_.run_dir, conn_->uri()), holder))
      << "the wait is announced at once, with the holder and the time it will wait";
}

// The engine hashes boot files without an image.json: a FIFO or /dev/zero there must not hang.
TEST_F(Engine, ABootFileThatIsNotARegularFileIsRefusedAtOnce) {
  std::filesystem::remove(dir_ / "image" / "vmlinuz");
  ASSERT_EQ(::mkfifo((dir_ / "image" / "vmlinuz").c_str(), 0600), 0);
  auto r = launch(env_, request(kFw));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, Errc::kInvalidArgument);
  EXPECT_EQ(r.error().error.message, fmt::format("guest.kernel {} is a FIFO (named pipe), not a regular file",
                                                 (dir_ / "image" / "vmlinuz").string()));
  std::filesystem::remove(dir_ / "image" / "vmlinuz");
  std::filesystem::create_symlink("/dev/zero", dir_ / "image" / "vmlinuz");
  auto zero = launch(env_, request(kFw));
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().error.message.find("is a character device, not a regular file"), std::string::npos)
      << zero.error().error.message;
  EXPECT_TRUE(snapshot().empty());
}

TEST_F(Engine, SingleOperationsAreIdempotent) {
  ASSERT_TRUE(launch(env_, request(kFw)));
  auto stop = apply(env_, Op::kDestroy, "fw1");
  ASSERT_TRUE(stop);
  EXPECT_TRUE(stop->changed);
  EXPECT_EQ(stop->state_after, "shut off");
  auto again = apply(env_, Op::kDestroy, "fw1");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
  auto gone = apply(env_, Op::kUndefine, "fw1");
  ASSERT_TRUE(gone);
  auto missing = apply(env_, Op::kStart, "fw1");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNoSuchVnf);
  EXPECT_EQ(exitCodeOf(missing.error().code), 5);
}

// --dry-run on the single operations: the same answer the real one gives (changed, the states,
// errors), and libvirt exactly as before.
TEST_F(Engine, SingleOperationsInDryRunAnswerAsTheRealOnesAndChangeNothing) {
  ASSERT_TRUE(launch(env_, request(kFw)));
  const auto before = snapshot();
  const std::chrono::seconds grace(30);
  auto destroy = apply(env_, Op::kDestroy, "fw1", grace, true);
  ASSERT_TRUE(destroy);
  EXPECT_TRUE(destroy->dry_run);
  EXPECT_TRUE(destroy->changed);
  EXPECT_EQ(destroy->state_before, "running");
  EXPECT_EQ(destroy->state_after, "shut off");
  auto start = apply(env_, Op::kStart, "fw1", grace, true);
  ASSERT_TRUE(start);
  EXPECT_FALSE(start->changed);
  EXPECT_EQ(start->state_after, "running");
  auto undefine = apply(env_, Op::kUndefine, "fw1", grace, true);
  ASSERT_FALSE(undefine) << "a running VNF cannot be undefined, in a dry run either";
  EXPECT_EQ(undefine.error().code, Errc::kConflict);
  EXPECT_EQ(undefine.error().fix, "stop it first: vnfctl destroy fw1");
  auto missing = apply(env_, Op::kStop, "nope", grace, true);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNoSuchVnf);
  EXPECT_EQ(snapshot(), before);

  // Against the real operation from the same state.
  auto real = apply(env_, Op::kDestroy, "fw1");
  ASSERT_TRUE(real);
  EXPECT_EQ(real->changed, destroy->changed);
  EXPECT_EQ(real->state_after, destroy->state_after);
  const auto stopped = snapshot();
  auto undefine_stopped = apply(env_, Op::kUndefine, "fw1", grace, true);
  ASSERT_TRUE(undefine_stopped);
  EXPECT_TRUE(undefine_stopped->changed);
  EXPECT_EQ(undefine_stopped->state_after, "absent");
  auto start_stopped = apply(env_, Op::kStart, "fw1", grace, true);
  ASSERT_TRUE(start_stopped);
  EXPECT_TRUE(start_stopped->changed);
  EXPECT_EQ(start_stopped->state_after, "running");
  EXPECT_EQ(snapshot(), stopped);
}

}  // namespace
}  // namespace vnf::lifecycle
