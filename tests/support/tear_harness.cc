#include "support/tear_harness.h"

#include <memory>
#include <random>
#include <vector>

namespace tessera::testing {
namespace {

using nvm::NvmDevice;
using nvm::RamNvm;

Status Fail(const TearScenario& s, const TearOptions& o, const std::string& what) {
  return Status(ErrorCode::kFailedPrecondition,
                "tear scenario '" + s.name + "' (" +
                    (o.mode == nvm::TearMode::kNormal ? "normal" : "harsh") + " mode, seed " +
                    std::to_string(o.seed) + "): " + what);
}

}  // namespace

Result<TearStats> RunAtEveryCutPoint(const TearScenario& scenario, const TearOptions& options) {
  TearStats stats;
  // 1. Reference run: the device at every step boundary, and the program count there.
  std::vector<std::unique_ptr<RamNvm>> snapshots;
  std::vector<uint64_t> boundary_programs{0};
  {
    auto ref = RamNvm::CopyOf(*scenario.initial);
    NvmDevice& dev = ref->device();
    Status s = scenario.run(dev, [&] {
      snapshots.push_back(RamNvm::CopyOf(dev));
      boundary_programs.push_back(dev.programs());
    });
    if (!s.ok()) return Fail(scenario, options, "reference run failed: " + s.ToString());
    stats.programs = dev.programs();
    stats.steps = snapshots.size();
    if (boundary_programs.back() != stats.programs) {
      return Fail(scenario, options,
                  "the scenario programmed NVM after its last step boundary (" +
                      std::to_string(stats.programs - boundary_programs.back()) +
                      " programs): every change must belong to a step");
    }
  }
  {
    auto initial = RamNvm::CopyOf(*scenario.initial);
    auto st = scenario.observe(initial->device());
    if (!st.ok())
      return Fail(scenario, options, "initial state unreadable: " + st.status().ToString());
    stats.states.push_back(*st);
  }
  for (auto& snap : snapshots) {
    auto st = scenario.observe(snap->device());
    if (!st.ok()) {
      return Fail(scenario, options,
                  "state at a step boundary unreadable: " + st.status().ToString());
    }
    stats.states.push_back(*st);
  }

  std::mt19937_64 rng(options.seed);
  for (uint64_t k = 0; k <= stats.programs; ++k) {
    // The step the cut falls into: the first one whose boundary lies after program k.
    size_t step = 0;
    while (step + 1 < boundary_programs.size() && boundary_programs[step + 1] <= k) ++step;
    const Bytes& before = stats.states[step];
    const Bytes* after = step + 1 < stats.states.size() ? &stats.states[step + 1] : nullptr;
    std::vector<Bytes> extra;
    if (scenario.also_allowed && after != nullptr) extra = scenario.also_allowed(step, before);
    auto allowed = [&](const Bytes& state) {
      if (state == before || (after != nullptr && state == *after)) return true;
      for (const Bytes& e : extra) {
        if (state == e) return true;
      }
      return false;
    };
    const std::string where = "cut at program " + std::to_string(k) + " of " +
                              std::to_string(stats.programs) + " (step " + std::to_string(step) +
                              ")";

    auto run = RamNvm::CopyOf(*scenario.initial);
    NvmDevice& dev = run->device();
    const uint64_t tear_seed = rng();
    if (k < stats.programs) dev.ScheduleCut(k, options.mode, tear_seed);
    Status s = scenario.run(dev, [] {});
    if (k < stats.programs && s.code() != ErrorCode::kPowerLost) {
      return Fail(scenario, options, where + " did not surface as power loss: " + s.ToString());
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
              where + " then at recovery program " + std::to_string(r) + " left " +
                  (st.ok() ? "a state that is neither old nor new" : st.status().ToString()));
        }
        ++stats.recovery_cut_points;
      }
    }

    auto st = scenario.observe(dev);
    if (!st.ok()) return Fail(scenario, options, where + ": " + st.status().ToString());
    if (!allowed(*st))
      return Fail(scenario, options, where + " left a state that is neither old nor new");
  }
  return stats;
}

}  // namespace tessera::testing
