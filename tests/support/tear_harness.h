// The tear harness: runs a scenario once to count its N program operations and to record the
// states it passes through, then, for every k in 0..N, runs it again from the same initial image
// with power cut at program k, powers on, and checks that the state the layer above observes is
// exactly the last durable state before the cut or the one being committed at the cut.
// Optionally it also cuts power once more during the recovery that follows (a double fault).
//
// Every later layer reuses it: a scenario's `run` mounts and performs card operations, and its
// `observe` mounts (running recovery) and returns a canonical encoding of the state that must be
// old-or-new (a file's bytes, a record list, an application's life cycle...).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "nvm/nvm_device.h"

namespace tessera::testing {

struct TearScenario {
  std::string name;
  // The image every run starts from (copied; never modified).
  const nvm::NvmDevice* initial = nullptr;
  // Everything from power-on: mount, then the operation(s). Returns the first error; a cut
  // surfaces as kPowerLost.
  std::function<Status(nvm::NvmDevice&)> run;
  // Mounts (recovery included) and returns the observable state. Must fail loudly (non-OK)
  // when the image violates an invariant.
  std::function<Result<Bytes>(nvm::NvmDevice&)> observe;
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
  uint64_t durable_points = 0;       // commits the reference run made
};

// OK with statistics, or a failure naming the scenario, mode, seed and cut point to replay.
Result<TearStats> RunAtEveryCutPoint(const TearScenario& scenario, const TearOptions& options);

}  // namespace tessera::testing
