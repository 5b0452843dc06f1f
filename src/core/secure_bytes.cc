#include "core/secure_bytes.h"

#include <atomic>

namespace tessera {
namespace {

std::atomic<ZeroedBlockObserver> g_observer{nullptr};

}  // namespace

void SetZeroedBlockObserver(ZeroedBlockObserver observer) {
  g_observer.store(observer);
}

void NotifyZeroedBlock(const void* p, size_t n) {
  if (ZeroedBlockObserver o = g_observer.load(std::memory_order_relaxed)) o(p, n);
}

}  // namespace tessera
