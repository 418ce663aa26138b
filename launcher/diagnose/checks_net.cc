// VLAN and MTU along the path, and the forwarding chain (nftables, iptables-nft, br_netfilter).
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diagnose/context.h"
#include "host/parse.h"

namespace vnf::diagnose {

namespace {

// What the forwarder counted on one guest port: frames per VLAN id and untagged.
struct SeenVlans {
  std::uint64_t untagged = 0;
  std::vector<std::pair<int, std::uint64_t>> tagged;  // most frames first
  std::uint64_t of(int vlan) const {
    for (const auto& [id, n] : tagged)
      if (id == vlan) return n;
    return 0;
  }
  std::string text() const {
    std::string out = fmt::format("untagged {}", untagged);
    std::size_t shown = 0;
    for (const auto& [id, n] : tagged) {
      if (shown++ == 8) {
        out += fmt::format(", ... {} more VLANs", tagged.size() - 8);
        break;
      }
      out += fmt::format(", VLAN {} {}", id, n);
    }
    return out;
  }
};

// nullopt when the forwarder does not count VLANs (an image older than these counters).
std::optional<SeenVlans> seenVlans(const nlohmann::json& port) {
  if (!port.contains("vlans") || !port["vlans"].is_array() || !port.contains("untagged") ||
      !port["untagged"].is_number_unsigned())
    return std::nullopt;
  SeenVlans s;
  s.untagged = port["untagged"].get<std::uint64_t>();
  for (const auto& e : port["vlans"]) {
    if (!e.is_object() || !e.contains("vlan") || !e.contains("frames") || !e["vlan"].is_number_unsigned() ||
        !e["frames"].is_number_unsigned())
      continue;
    const auto id = e["vlan"].get<std::uint64_t>();
    if (id > 4095) continue;
    s.tagged.emplace_back(static_cast<int>(id), e["frames"].get<std::uint64_t>());
  }
  std::stable_sort(s.tagged.begin(), s.tagged.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return s;
}

// The VLAN tags the forwarder sees on each guest port against the VF's VLAN (IFLA_VF_VLAN) and the spec.
void checkGuestVlans(Ctx& c, const VnfPath& v, const nlohmann::json* fwd) {
  for (const auto& gp : guestPorts(v)) {
    const nlohmann::json* port = forwarderPort(fwd, gp.index);
    if (!port) continue;
    auto seen = seenVlans(*port);
    if (!seen) continue;
    Finding f{"vlan.guest", v.name, Severity::kOk, "", c.via(fmt::format("VNF-FWD STATS in {}", v.serial_log)), "", ""};
    if (gp.tap) {
      f.seen = fmt::format("guest port {} (tap {}) received: {}", gp.index, gp.tap->dev, seen->text());
      if (!seen->tagged.empty()) {
        f.severity = Severity::kInfo;
        f.meaning = "tagged frames reach the VNF through the tap (a trunk): vnf-fwd forwards them with their tags";
      }
      c.add(std::move(f));
      continue;
    }
    const VfMetadata& vf = *gp.vf;
    const int want = vf.vlan.value_or(0);
    std::optional<int> set;
    std::string pf = c.netdevOf(vf.pf.str());
    if (!pf.empty()) {
      if (auto states = c.probe.vfVlans(pf)) {
        for (const auto& s : *states)
          if (s.index == vf.vf_index) set = s.vlan;
      }
      f.where += ", " + c.via(fmt::format("RTM_GETLINK {} IFLA_VF_VLAN", pf));
    }
    f.seen = fmt::format("guest port {} (VF {}) received: {}; the VF's VLAN (IFLA_VF_VLAN) {}, the spec's {}", gp.index,
                         vf.vf.str(), seen->text(), set ? std::to_string(*set) : std::string("unknown"),
                         want == 0 ? std::string("none") : std::to_string(want));
    const std::uint64_t spec_tagged = want == 0 ? 0 : seen->of(want);
    if (want != 0 && spec_tagged > 0 && set.value_or(-1) != want) {
      f.severity = Severity::kFail;
      f.meaning = fmt::format(
          "{} frames arrive still tagged with the spec's VLAN {}: the NIC does not tag and strip it for this VF "
          "(its VLAN is {}), so the VNF sees tags it does not expect and sends untagged frames out",
          spec_tagged, want, set ? std::to_string(*set) : std::string("unknown"));
      f.fix = pf.empty() ? fmt::format("vnfctl stop {} && vnfctl start {} (vnfctl sets the VF's VLAN at start)", v.name,
                                       v.name)
                         : fmt::format(
                               "ip link set dev {} vf {} vlan {} (vnfctl sets it at start: vnfctl stop {} && "
                               "vnfctl start {})",
                               pf, vf.vf_index, want, v.name, v.name);
    } else if (want != 0 && !seen->tagged.empty()) {
      f.severity = Severity::kWarn;
      f.meaning = fmt::format(
          "the VF's port VLAN {} is stripped by the NIC, yet frames arrive with another tag inside it: the switch "
          "or the peer tags them twice (Q-in-Q), or sends a trunk to a port the spec sets to one VLAN",
          want);
      f.fix = fmt::format(
          "drop the VF's VLAN from the spec (nics[{}].vlan) if the VNF should see the trunk, or have the switch send "
          "VLAN {} untagged to it",
          vf.nic_index, want);
    } else if (want == 0 && !seen->tagged.empty()) {
      f.severity = Severity::kInfo;
      f.meaning = "the VF passes tags through (no port VLAN): the VNF receives a trunk and forwards tags unchanged";
    }
    c.add(std::move(f));
  }
}

}  // namespace

void checkVlan(Ctx& c, const VnfPath& v, const nlohmann::json* fwd) {
  checkGuestVlans(c, v, fwd);
  for (const auto& vf : v.meta.vfs) {
    std::string pf = c.netdevOf(vf.pf.str());
    int want = vf.vlan.value_or(0);
    Finding f{"vlan.vf", v.name, Severity::kOk, "", "", "", ""};
    if (pf.empty()) {
      f.severity = Severity::kWarn;
      f.seen = fmt::format("PF {} of VF {} has no netdev", vf.pf.str(), vf.vf.str());
      f.where = c.file(fmt::format("/sys/bus/pci/devices/{}/net", vf.pf.str()));
      f.meaning = "the VF's VLAN cannot be read (the PF is unbound, or bound to vfio-pci itself)";
      f.fix = fmt::format("bind the PF to its network driver; vnfctl doctor lists {}", vf.pf.str());
      c.add(std::move(f));
      continue;
    }
    f.where = c.via(fmt::format("RTM_GETLINK {} IFLA_VF_VLAN", pf));
    auto states = c.probe.vfVlans(pf);
    auto it =
        states ? std::find_if(states->begin(), states->end(), [&](const VfVlan& s) { return s.index == vf.vf_index; })
               : std::vector<VfVlan>::iterator{};
    if (!states || it == states->end()) {
      f.severity = Severity::kWarn;
      f.seen = states ? fmt::format("{} reports no VF {}", pf, vf.vf_index) : states.error().message;
      f.meaning = "the VF's VLAN filter is unknown: tagged traffic may not reach the VNF";
      f.fix = fmt::format("ip -d link show dev {}", pf);
    } else if (it->vlan != want) {
      f.severity = Severity::kFail;
      f.seen = fmt::format("VF {} ({}) of {} has VLAN {}, the spec says {}", vf.vf_index, vf.vf.str(), pf, it->vlan,
                           want == 0 ? std::string("none") : std::to_string(want));
      f.meaning =
          want == 0 ? fmt::format("the NIC tags and strips VLAN {}: the VNF's own tags are dropped", it->vlan)
          : it->vlan == 0
              ? fmt::format(
                    "the VF has no VLAN: the NIC neither tags nor strips VLAN {}, so the VNF receives "
                    "the switch port's frames tagged and its untagged frames leave on the native VLAN",
                    want)
              : fmt::format("the NIC delivers only VLAN {} to the VF: VLAN {} traffic never arrives", it->vlan, want);
      f.fix = fmt::format(
          "ip link set dev {} vf {} vlan {} (vnfctl sets it at start: vnfctl stop {} && vnfctl "
          "start {})",
          pf, vf.vf_index, want, v.name, v.name);
    } else {
      f.seen = fmt::format("VF {} of {}: VLAN {} as the spec says", vf.vf_index, pf, want);
    }
    c.add(std::move(f));
  }
}

void checkMtu(Ctx& c, const VnfPath& v, const nlohmann::json* fwd) {
  for (const auto& vf : v.meta.vfs) {
    if (!vf.mtu) continue;
    std::string pf = c.netdevOf(vf.pf.str());
    if (pf.empty()) continue;
    std::string path = fmt::format("/sys/class/net/{}/mtu", pf);
    auto mtu = c.readInt(path);
    Finding f{"mtu.pf", v.name, Severity::kOk, "", c.file(path), "", ""};
    if (!mtu) {
      f.severity = Severity::kWarn;
      f.seen = fmt::format("{} unreadable", path);
      f.meaning = "the PF's MTU, which caps its VFs', is unknown";
    } else if (*mtu < *vf.mtu) {
      f.severity = Severity::kFail;
      f.seen = fmt::format("PF {} MTU {}, the spec wants {} on VF {}", pf, *mtu, *vf.mtu, vf.vf.str());
      f.meaning = fmt::format("the PF's MTU caps its VFs': frames over {} bytes are dropped by the NIC", *mtu);
      f.fix = fmt::format("ip link set dev {} mtu {}", pf, *vf.mtu);
    } else {
      f.seen = fmt::format("PF {} MTU {} >= spec {}", pf, *mtu, *vf.mtu);
    }
    c.add(std::move(f));
  }
  for (std::size_t i = 0; i < v.taps.size(); ++i) {
    const auto& t = v.taps[i];
    int want = t.mtu.value_or(1500);
    std::string path = fmt::format("/sys/class/net/{}/mtu", t.dev);
    auto mtu = c.readInt(path);
    Finding f{"mtu.tap", v.name, Severity::kOk, "", c.file(path), "", ""};
    if (!mtu) {
      f.severity = v.running() ? Severity::kFail : Severity::kInfo;
      f.seen = fmt::format("tap {} does not exist", t.dev);
      f.meaning = v.running() ? "the guest port has no host side: nothing reaches it"
                              : "the tap is created when the VNF starts";
      if (v.running()) f.fix = fmt::format("vnfctl stop {} && vnfctl start {}", v.name, v.name);
      c.add(std::move(f));
      continue;
    }
    if (*mtu < want) {
      f.severity = Severity::kFail;
      f.seen = fmt::format("tap {} MTU {}, the spec wants {}", t.dev, *mtu, want);
      f.meaning = fmt::format("frames over {} bytes from the guest are dropped at the tap", *mtu);
      f.fix = fmt::format("ip link set dev {} mtu {}", t.dev, want);
    } else {
      f.seen = fmt::format("tap {} MTU {} (spec {})", t.dev, *mtu, want);
    }
    c.add(std::move(f));
    // The bridge the tap is on, and every other port of it: the smallest MTU on the path wins.
    auto master = c.fs.readLinkTarget(fmt::format("/sys/class/net/{}/master", t.dev));
    if (!master) continue;
    std::string bridge = master->substr(master->rfind('/') + 1);
    std::vector<std::string> hops{bridge};
    if (auto ports = c.fs.listDir(fmt::format("/sys/class/net/{}/brif", bridge)))
      for (const auto& p : *ports)
        if (p != t.dev) hops.push_back(p);
    for (const auto& hop : hops) {
      std::string hp = fmt::format("/sys/class/net/{}/mtu", hop);
      auto hm = c.readInt(hp);
      if (!hm) continue;
      Finding b{"mtu.path", v.name, Severity::kOk, "", c.file(hp), "", ""};
      if (*hm < want) {
        b.severity = Severity::kFail;
        b.seen = fmt::format("{} {} (on the path of tap {} via bridge {}) has MTU {}, the spec wants {}",
                             hop == bridge ? "bridge" : "port", hop, t.dev, bridge, *hm, want);
        b.meaning = fmt::format("a {}-byte hop in a {}-byte path: larger frames are dropped there", *hm, want);
        b.fix = fmt::format("ip link set dev {} mtu {}", hop, want);
      } else {
        b.seen = fmt::format("{} MTU {} >= {}", hop, *hm, want);
      }
      c.add(std::move(b));
    }
  }
  if (!fwd) return;
  for (const auto& p : fwd->value("ports", nlohmann::json::array())) {
    if (!p.is_object()) continue;
    std::uint64_t drops = p.value("mtu_drops", 0ull);
    int port_mtu = p.value("mtu", 0);
    // Frames of 1519 bytes and more (RFC 2819's last class, FCS counted) the forwarder received.
    std::uint64_t big = 0;
    if (p.contains("sizes") && p["sizes"].is_array()) {
      for (const auto& e : p["sizes"])
        if (e.is_object() && e.value("class", "") == "1519-max" && e.contains("frames") &&
            e["frames"].is_number_unsigned())
          big = e["frames"].get<std::uint64_t>();
    }
    const std::string big_text =
        big > 0 ? fmt::format("; {} received frame{} of 1519 bytes or more", big, big == 1 ? "" : "s") : "";
    Finding f{"mtu.guest", v.name, Severity::kOk, "", c.via(fmt::format("VNF-FWD STATS in {}", v.serial_log)), "", ""};
    if (drops > 0) {
      f.severity = Severity::kWarn;
      f.seen = fmt::format("guest port {} (MTU {}) dropped {} frame{} over the MTU of its RX or TX port{}",
                           p.value("index", 0), port_mtu, drops, drops == 1 ? "" : "s", big_text);
      f.meaning =
          "frames larger than the guest ports' MTU are offered (vnf-fwd forwards a frame only if it fits the "
          "smaller MTU of the port it arrives on and the port it leaves by)";
      f.fix =
          "raise the spec's mtu (nics[].mtu / taps[].mtu, up to 9216) and every hop's (see mtu.* findings), "
          "or send smaller frames";
    } else {
      f.seen = fmt::format("guest port {} MTU {}, no frame over it{}", p.value("index", 0), port_mtu, big_text);
    }
    c.add(std::move(f));
  }
}

namespace {

// The interfaces a VNF's traffic crosses on the host: its taps and their bridges.
struct Ifaces {
  std::set<std::string> taps;
  std::set<std::string> bridges;
  bool has(const std::string& n) const { return taps.count(n) || bridges.count(n); }
};

// Interface names a rule matches (iifname/oifname/iif/oif ==), with wildcards "vnf*".
std::vector<std::string> matchedIfaces(const nlohmann::json& expr) {
  std::vector<std::string> out;
  for (const auto& e : expr) {
    if (!e.is_object() || !e.contains("match")) continue;
    const auto& m = e["match"];
    if (!m.is_object() || !m.contains("left") || !m["left"].is_object() || !m["left"].contains("meta")) continue;
    std::string key = m["left"]["meta"].value("key", "");
    if (key != "iifname" && key != "oifname" && key != "iif" && key != "oif") continue;
    if (m.value("op", "==") != "==" && m.value("op", "==") != "in") continue;
    const auto& r = m["right"];
    if (r.is_string()) out.push_back(r.get<std::string>());
    if (r.is_object() && r.contains("set") && r["set"].is_array())
      for (const auto& s : r["set"])
        if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

bool nameMatches(const std::string& pattern, const std::string& name) {
  if (!pattern.empty() && pattern.back() == '*') return name.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  return pattern == name;
}

// An iptables-nft target libnftables cannot express natively: {"xt": {"type": "target", "name": "REJECT"}}
// (nftables src/json.c xt_stmt_json); "" when `e` is no xt statement of that type.
std::string xtName(const nlohmann::json& e, const char* type) {
  if (!e.contains("xt") || !e["xt"].is_object()) return "";
  const auto& x = e["xt"];
  if (x.value("type", "") != type || !x.contains("name") || !x["name"].is_string()) return "";
  return x["name"].get<std::string>();
}

std::string verdictOf(const nlohmann::json& expr) {
  for (const auto& e : expr) {
    if (!e.is_object()) continue;
    for (const char* v : {"drop", "reject", "accept"})
      if (e.contains(v)) return v;
    // iptables-nft's -j REJECT is an xtables target in the ruleset; -j DROP/ACCEPT are native.
    if (xtName(e, "target") == "REJECT") return "reject";
  }
  return "";
}

// A rule with no match at all (only counter, log and its verdict): it applies to every packet that
// reaches it. A match diagnose cannot read (an xt match such as physdev, ct state, a payload
// match) makes a rule specific, never a catch-all.
bool isCatchAll(const nlohmann::json& expr) {
  for (const auto& e : expr) {
    if (!e.is_object() || e.size() != 1) return false;
    const std::string key = e.begin().key();
    if (key == "xt" && !xtName(e, "target").empty()) continue;  // a target (REJECT), not a match
    if (key != "counter" && key != "log" && key != "accept" && key != "drop" && key != "reject") return false;
  }
  return true;
}

std::optional<std::uint64_t> counterOf(const nlohmann::json& expr) {
  for (const auto& e : expr)
    if (e.is_object() && e.contains("counter") && e["counter"].is_object()) return e["counter"].value("packets", 0ull);
  return std::nullopt;
}

std::vector<std::string> jumpsOf(const nlohmann::json& expr) {
  std::vector<std::string> out;
  for (const auto& e : expr) {
    if (!e.is_object()) continue;
    for (const char* k : {"jump", "goto"})
      if (e.contains(k) && e[k].is_object() && e[k].contains("target") && e[k]["target"].is_string())
        out.push_back(e[k]["target"].get<std::string>());
  }
  return out;
}

std::string chainKey(const nlohmann::json& o) {
  return fmt::format("{} {} {}", o.value("family", ""), o.value("table", ""), o.value("chain", o.value("name", "")));
}

}  // namespace

void checkForwarding(Ctx& c, const VnfPath& v) {
  Ifaces ifs;
  for (const auto& t : v.taps) {
    ifs.taps.insert(t.dev);
    if (auto m = c.fs.readLinkTarget(fmt::format("/sys/class/net/{}/master", t.dev)))
      ifs.bridges.insert(m->substr(m->rfind('/') + 1));
  }
  if (ifs.taps.empty()) return;  // VFs bypass the host's forwarding path
  // br_netfilter: bridged frames go through iptables' FORWARD when this is 1.
  std::string nf = "/proc/sys/net/bridge/bridge-nf-call-iptables";
  bool br_nf = c.readInt(nf).value_or(0) == 1;
  if (!ifs.bridges.empty()) {
    Finding f{"forward.br_netfilter", v.name, Severity::kOk, "", c.file(nf), "", ""};
    if (br_nf) {
      f.severity = Severity::kWarn;
      f.seen =
          fmt::format("bridge-nf-call-iptables = 1 and the taps of {} are on bridge {}", v.name, *ifs.bridges.begin());
      f.meaning =
          "bridged frames of the VNF pass through iptables' FORWARD chain (and its drop policy) and "
          "conntrack: slower, and dropped by rules written for routed traffic";
      f.fix = "sysctl -w net.bridge.bridge-nf-call-iptables=0 (unless Docker or Kubernetes on this host need it)";
    } else {
      f.seen = "bridged frames do not pass iptables (bridge-nf-call-iptables is 0 or br_netfilter is not loaded)";
    }
    c.add(std::move(f));
  }
  const auto& rs = c.ruleset();
  if (!rs) {
    c.add({"forward.rules", v.name, Severity::kInfo, rs.error().message, c.via("libnftables list ruleset"),
           "rules that drop the VNF's forwarded traffic cannot be checked", rs.error().fix});
    return;
  }
  const auto& items = rs->contains("nftables") ? (*rs)["nftables"] : nlohmann::json::array();
  // Base chains on the forward hook that see this VNF's frames: the bridge family always; ip, ip6 and
  // inet when the tap is routed, or bridged with br_netfilter on.
  std::set<std::string> reach;
  std::map<std::string, std::string> policy;  // chain key -> policy of forward base chains
  for (const auto& it : items) {
    if (!it.is_object() || !it.contains("chain")) continue;
    const auto& ch = it["chain"];
    if (ch.value("hook", "") != "forward") continue;
    std::string fam = ch.value("family", "");
    bool sees = fam == "bridge" || ifs.bridges.empty() || br_nf;
    if (fam == "netdev" || !sees) continue;
    reach.insert(chainKey(ch));
    policy[chainKey(ch)] = ch.value("policy", "accept");
  }
  // Chains jumped to from those (iptables-nft's DOCKER-USER, FORWARD -> f2b-..., ...), to a fixpoint.
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& it : items) {
      if (!it.is_object() || !it.contains("rule")) continue;
      const auto& r = it["rule"];
      if (!reach.count(chainKey(r))) continue;
      for (const auto& target : jumpsOf(r.value("expr", nlohmann::json::array()))) {
        std::string k = fmt::format("{} {} {}", r.value("family", ""), r.value("table", ""), target);
        if (reach.insert(k).second) grew = true;
      }
    }
  }
  int drops = 0;
  std::set<std::string> accepted_in;  // base chains with an accept for one of the VNF's interfaces
  for (const auto& it : items) {
    if (!it.is_object() || !it.contains("rule")) continue;
    const auto& r = it["rule"];
    std::string key = chainKey(r);
    if (!reach.count(key)) continue;
    const auto& expr = r.value("expr", nlohmann::json::array());
    auto names = matchedIfaces(expr);
    std::string hit;
    for (const auto& n : names)
      for (const auto& mine : ifs.taps)
        if (nameMatches(n, mine)) hit = mine;
    for (const auto& n : names)
      for (const auto& mine : ifs.bridges)
        if (hit.empty() && nameMatches(n, mine)) hit = mine;
    std::string verdict = verdictOf(expr);
    const bool catch_all = isCatchAll(expr);
    // Only an accept for the VNF's tap or bridge, or one for everything, lets its traffic past a drop
    // policy: "ct state established,related accept" (ufw, Docker) accepts no new flow of the VNF.
    if (verdict == "accept" && (!hit.empty() || catch_all)) accepted_in.insert(key);
    if (verdict != "drop" && verdict != "reject") continue;
    auto packets = counterOf(expr);
    if (hit.empty() && !names.empty()) continue;  // another interface's rule
    const bool generic_only = catch_all;          // "counter drop": everything forwarded
    if (hit.empty() && !generic_only && packets.value_or(0) == 0) continue;
    ++drops;
    Finding f{"forward.rule", v.name, hit.empty() && !generic_only ? Severity::kWarn : Severity::kFail, "", "", "", ""};
    std::string counter = packets ? fmt::format("counter {} packets", *packets) : "no counter";
    f.seen = fmt::format("rule handle {} in chain {} {}s {} ({})", r.value("handle", 0), key, verdict,
                         hit.empty() ? "forwarded traffic" : "traffic on " + hit, counter);
    f.where = c.via("libnftables list ruleset (JSON)");
    f.meaning = hit.empty() ? fmt::format(
                                  "a forward-hook rule {}s some forwarded traffic, the VNF's included when it "
                                  "matches",
                                  verdict)
                            : fmt::format("the host {}s the VNF's forwarded traffic on {}", verdict, hit);
    f.fix = fmt::format("nft delete rule {} handle {} (or add an accept for {} before it)", key, r.value("handle", 0),
                        hit.empty() ? *ifs.taps.begin() : hit);
    c.add(std::move(f));
  }
  for (const auto& [key, pol] : policy) {
    if (pol != "drop" || accepted_in.count(key)) continue;
    // A jump target that accepts counts for its base chain too; be conservative: any accept for our
    // interfaces in a reachable chain of the same table.
    bool accepted = std::any_of(accepted_in.begin(), accepted_in.end(), [&](const std::string& a) {
      return a.substr(0, a.rfind(' ')) == key.substr(0, key.rfind(' '));
    });
    if (accepted) continue;
    ++drops;
    c.add({"forward.policy", v.name, Severity::kFail,
           fmt::format("chain {} (hook forward) has policy drop and no accept for {}", key, *ifs.taps.begin()),
           c.via("libnftables list ruleset (JSON)"),
           "forwarded traffic of the VNF is dropped by the chain's policy (Docker installs FORWARD policy drop)",
           fmt::format("nft insert rule {1} iifname \"{0}\" accept && nft insert rule {1} oifname \"{0}\" accept "
                       "(Docker: iptables -I DOCKER-USER -i {0} -j ACCEPT)",
                       ifs.bridges.empty() ? *ifs.taps.begin() : *ifs.bridges.begin(), key)});
  }
  if (drops == 0) {
    c.add({"forward.rules", v.name, Severity::kOk,
           fmt::format("{} forward-hook chain{} checked, none drops the VNF's traffic", reach.size(),
                       reach.size() == 1 ? "" : "s"),
           c.via("libnftables list ruleset (JSON)"), "", ""});
  }
}

void checkLegacyIptables(Ctx& c) {
  const auto& tables = c.legacyTables();
  if (tables.empty()) return;
  const bool filter =
      std::any_of(tables.begin(), tables.end(), [](const std::string& t) { return t.ends_with(" filter"); });
  c.add({"forward.legacy", "", filter ? Severity::kWarn : Severity::kInfo,
         fmt::format("legacy (xtables) iptables tables exist: {}", fmt::join(tables, ", ")),
         fmt::format("{}, {}", c.file("/proc/net/ip_tables_names"), c.file("/proc/net/ip6_tables_names")),
         filter ? "diagnose reads the nftables ruleset only: rules in these legacy tables (a FORWARD chain in "
                  "filter may drop or reject the VNFs' bridged or routed traffic) are not checked"
                : "diagnose reads the nftables ruleset only: rules in these legacy tables are not checked (no "
                  "filter table: they do not filter forwarded traffic)",
         "inspect them with iptables-legacy-save and ip6tables-legacy-save (FORWARD rules on the VNFs' taps and "
         "bridges), or migrate them to nftables (iptables-legacy-save | iptables-restore-translate)"});
}

}  // namespace vnf::diagnose
