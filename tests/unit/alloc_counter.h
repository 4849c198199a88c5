// Counts heap allocations while switched on, to test the media-path promise "no allocation
// per frame". Replaces the global operator new/delete, so include it from exactly one
// translation unit per test binary (each tests/unit/test_*.cpp is its own binary).
#pragma once
#include <atomic>
#include <cstdlib>
#include <new>

// operator new/delete are replaced with malloc/free, which GCC's mismatch check cannot see.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace alloc_counter {
inline std::atomic<bool> counting{false};
inline std::atomic<long> allocations{0};

}  // namespace alloc_counter

void* operator new(std::size_t size) {
  if (alloc_counter::counting.load(std::memory_order_relaxed)) alloc_counter::allocations++;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
