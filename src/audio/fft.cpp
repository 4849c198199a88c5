#include "audio/fft.h"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <utility>

namespace atende::audio {

size_t next_power_of_two(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

Fft::Fft(size_t size) : size_(size) {
  if (size < 2 || (size & (size - 1)) != 0) {
    throw std::invalid_argument("fft size must be a power of two >= 2");
  }
  twiddles_.resize(size / 2);
  for (size_t k = 0; k < size / 2; ++k) {
    twiddles_[k] = std::polar(1.0, -2.0 * std::numbers::pi * double(k) / double(size));
  }
  bit_reverse_.resize(size);
  int bits = 0;
  while ((size_t{1} << bits) < size) ++bits;
  for (size_t i = 0; i < size; ++i) {
    size_t r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1u) << (bits - 1 - b);
    bit_reverse_[i] = r;
  }
}

void Fft::forward(std::span<std::complex<double>> data) const { transform(data, false); }

void Fft::inverse(std::span<std::complex<double>> data) const {
  transform(data, true);
  const double scale = 1.0 / double(size_);
  for (auto& v : data) v *= scale;
}

void Fft::transform(std::span<std::complex<double>> data, bool inverse) const {
  if (data.size() != size_) throw std::invalid_argument("fft: wrong data size");
  for (size_t i = 0; i < size_; ++i) {
    if (i < bit_reverse_[i]) std::swap(data[i], data[bit_reverse_[i]]);
  }
  for (size_t len = 2; len <= size_; len <<= 1) {
    const size_t half = len / 2;
    const size_t stride = size_ / len;
    for (size_t start = 0; start < size_; start += len) {
      for (size_t k = 0; k < half; ++k) {
        std::complex<double> w = twiddles_[k * stride];
        if (inverse) w = std::conj(w);
        const std::complex<double> odd = data[start + k + half] * w;
        data[start + k + half] = data[start + k] - odd;
        data[start + k] += odd;
      }
    }
  }
}

}  // namespace atende::audio
