// Minimal in-place radix-2 complex FFT, enough for correlation searches over recordings.
// Not for the media path: it allocates its tables at construction.
#pragma once
#include <complex>
#include <cstddef>
#include <span>
#include <vector>

namespace atende::audio {

class Fft {
 public:
  // `size` must be a power of two (>= 2); throws std::invalid_argument otherwise.
  explicit Fft(size_t size);
  size_t size() const { return size_; }
  // data.size() must equal size(). inverse() includes the 1/N scaling.
  void forward(std::span<std::complex<double>> data) const;
  void inverse(std::span<std::complex<double>> data) const;

 private:
  void transform(std::span<std::complex<double>> data, bool inverse) const;
  size_t size_;
  std::vector<std::complex<double>> twiddles_;  // e^{-2 pi i k / N}, k < N/2
  std::vector<size_t> bit_reverse_;
};

size_t next_power_of_two(size_t n);

}  // namespace atende::audio
