#include "support/tear_harness.h"

#include <memory>
#include <random>
#include <vector>

namespace tessera::testing {
namespace {

using nvm::NvmDevice;
using nvm::RamNvm;

struct DurablePoint {
  uint64_t programs;  // program operations completed when the point was reached
  Bytes state;        // what `observe` returns for it
};

Status Fail(const TearScenario& s, const TearOptions& o, const std::string& what) {
  return Status(ErrorCode::kFailedPrecondition,
                "tear scenario '" + s.name + "' (" +
                    (o.mode == nvm::TearMode::kNormal ? "normal" : "harsh") + " mode, seed " +
                    std::to_string(o.seed) + "): " + what);
}

}  // namespace

Result<TearStats> RunAtEveryCutPoint(const TearScenario& scenario, const TearOptions& options) {
  TearStats stats;
  // 1. Reference run: record the device at every durable point.
  std::vector<std::unique_ptr<RamNvm>> snapshots;
  std::vector<uint64_t> snapshot_programs;
  {
    auto ref = RamNvm::CopyOf(*scenario.initial);
    NvmDevice& dev = ref->device();
    dev.set_durable_point_observer([&] {
      snapshots.push_back(RamNvm::CopyOf(dev));
      snapshot_programs.push_back(dev.programs());
    });
    Status s = scenario.run(dev);
    if (!s.ok()) return Fail(scenario, options, "reference run failed: " + s.ToString());
    stats.programs = dev.programs();
    stats.durable_points = snapshots.size();
    dev.set_durable_point_observer(nullptr);
    snapshots.push_back(RamNvm::CopyOf(dev));
    snapshot_programs.push_back(dev.programs());
  }
  std::vector<DurablePoint> points;
  {
    auto initial = RamNvm::CopyOf(*scenario.initial);
    auto st = scenario.observe(initial->device());
    if (!st.ok())
      return Fail(scenario, options, "initial state unreadable: " + st.status().ToString());
    points.push_back({0, *st});
  }
  for (size_t i = 0; i < snapshots.size(); ++i) {
    auto st = scenario.observe(snapshots[i]->device());
    if (!st.ok())
      return Fail(scenario, options, "durable state unreadable: " + st.status().ToString());
    points.push_back({snapshot_programs[i], *st});
  }

  std::mt19937_64 rng(options.seed);
  for (uint64_t k = 0; k <= stats.programs; ++k) {
    // Allowed: the last point completed before program k, or the next one.
    size_t j = 0;
    while (j + 1 < points.size() && points[j + 1].programs <= k) ++j;
    auto allowed = [&](const Bytes& state) {
      return state == points[j].state || (j + 1 < points.size() && state == points[j + 1].state);
    };

    auto run = RamNvm::CopyOf(*scenario.initial);
    NvmDevice& dev = run->device();
    const uint64_t tear_seed = rng();
    if (k < stats.programs) dev.ScheduleCut(k, options.mode, tear_seed);
    Status s = scenario.run(dev);
    if (k < stats.programs && s.code() != ErrorCode::kPowerLost) {
      return Fail(scenario, options,
                  "cut at program " + std::to_string(k) +
                      " did not surface as power loss: " + s.ToString());
    }
    dev.CancelCut();
    dev.PowerOn();
    ++stats.cut_points;

    if (options.cut_during_recovery) {
      auto probe = RamNvm::CopyOf(dev);
      (void)scenario.observe(probe->device());
      const uint64_t recovery_programs = probe->device().programs();
      if (recovery_programs > 0) {
        auto twice = RamNvm::CopyOf(dev);
        const uint64_t r = rng() % recovery_programs;
        twice->device().ScheduleCut(r, options.mode, rng());
        auto cut = scenario.observe(twice->device());
        twice->device().CancelCut();
        twice->device().PowerOn();
        auto st = scenario.observe(twice->device());
        if (!st.ok() || !allowed(*st)) {
          return Fail(
              scenario, options,
              "cut at program " + std::to_string(k) + " then at recovery program " +
                  std::to_string(r) + " left " +
                  (st.ok() ? "a state that is neither old nor new" : st.status().ToString()));
        }
        ++stats.recovery_cut_points;
      }
    }

    auto st = scenario.observe(dev);
    if (!st.ok()) {
      return Fail(scenario, options,
                  "cut at program " + std::to_string(k) + ": " + st.status().ToString());
    }
    if (!allowed(*st)) {
      return Fail(scenario, options,
                  "cut at program " + std::to_string(k) + " of " + std::to_string(stats.programs) +
                      " left a state that is neither old nor new");
    }
  }
  return stats;
}

}  // namespace tessera::testing
