// The tear harness: runs a scenario once to count its N program operations and to record the
// state at every step boundary the scenario itself marks (after each APDU, or each internal
// command: the units that must be atomic), then, for every k in 0..N, runs it again from the
// same initial image with power cut at program k, powers on, and checks that the state the
// layer above observes is exactly the state before the step the cut fell into or the state
// after it, or one of the extra states the scenario allows for that step (the committed retry
// counter of a PIN or key check). Optionally it also cuts power once more during the recovery
// that follows (a double fault).
//
// The oracle never asks the code under test what it made durable: a regression that split one
// step into two commits leaves, at a cut between them, a state that is neither before nor
// after the step, and the harness rejects it (card_tear_test.cc, HarnessRejectsACommand...).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "nvm/nvm_device.h"

namespace tessera::testing {

struct TearScenario {
  std::string name;
  // The image every run starts from (copied; never modified).
  const nvm::NvmDevice* initial = nullptr;
  // Everything from power-on: mount, then the steps, calling `step_done()` after each step
  // (each APDU) completes. Returns the first error; a cut surfaces as kPowerLost.
  std::function<Status(nvm::NvmDevice&, const std::function<void()>& step_done)> run;
  // Mounts (recovery included) and returns the observable state. Must fail loudly (non-OK)
  // when the image violates an invariant.
  std::function<Result<Bytes>(nvm::NvmDevice&)> observe;
  // Optional: states besides before/after that a cut during step `step` (0-based) may leave,
  // given the state before it (e.g. `before` with one retry counter spent).
  std::function<std::vector<Bytes>(size_t step, const Bytes& before)> also_allowed;
};

struct TearOptions {
  nvm::TearMode mode = nvm::TearMode::kNormal;
  uint64_t seed = 1;
  bool cut_during_recovery = true;
};

struct TearStats {
  uint64_t cut_points = 0;           // runs cut during the scenario (k in 0..N)
  uint64_t recovery_cut_points = 0;  // additional cuts during recovery
  uint64_t programs = 0;             // N
  uint64_t steps = 0;                // step boundaries the reference run marked
  std::vector<Bytes> states;         // the observed state before step 0 and after each step
};

// OK with statistics, or a failure naming the scenario, mode, seed and cut point to replay.
Result<TearStats> RunAtEveryCutPoint(const TearScenario& scenario, const TearOptions& options);

}  // namespace tessera::testing
