#include "audio/correlation.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "audio/fft.h"
#include "audio/levels.h"

namespace atende::audio {
namespace {

// A window whose variance is below this (about 1 LSB of RMS) is treated as silence: its
// correlation is noise divided by almost nothing and must not win the search.
constexpr double kMinWindowVariance = 1.0;

}  // namespace

ClipMatch find_clip(std::span<const int16_t> needle, std::span<const int16_t> haystack) {
  const size_t n = needle.size();
  const size_t m = haystack.size();
  if (n == 0 || m < n) return {};

  // Zero-mean needle: then the numerator ignores the window's mean, and the denominator
  // below removes it, which makes the score Pearson's r.
  double mean = 0.0;
  for (int16_t s : needle) mean += s;
  mean /= double(n);
  double needle_energy = 0.0;
  for (int16_t s : needle) needle_energy += (s - mean) * (s - mean);
  if (needle_energy / double(n) < kMinWindowVariance) return {};
  const double needle_norm = std::sqrt(needle_energy);

  // Exact integer prefix sums of the haystack and its square (int64 cannot overflow for
  // any haystack under 2^33 samples), so window energies do not lose precision.
  std::vector<int64_t> sum(m + 1, 0), sum_sq(m + 1, 0);
  for (size_t i = 0; i < m; ++i) {
    sum[i + 1] = sum[i] + haystack[i];
    sum_sq[i + 1] = sum_sq[i] + int64_t(haystack[i]) * haystack[i];
  }

  // Overlap-save: each block of B haystack samples yields B - n + 1 valid lags.
  const size_t block = next_power_of_two(std::max<size_t>(4 * n, 1024));
  const size_t lags_per_block = block - n + 1;
  const Fft fft(block);

  std::vector<std::complex<double>> needle_spectrum(block);
  for (size_t i = 0; i < n; ++i) needle_spectrum[i] = needle[i] - mean;
  fft.forward(needle_spectrum);
  for (auto& v : needle_spectrum) v = std::conj(v);

  ClipMatch best;
  best.score = -2.0;
  std::vector<std::complex<double>> work(block);
  const size_t last_lag = m - n;
  for (size_t start = 0; start <= last_lag; start += lags_per_block) {
    std::fill(work.begin(), work.end(), std::complex<double>{});
    const size_t take = std::min(block, m - start);
    for (size_t i = 0; i < take; ++i) work[i] = haystack[start + i];
    fft.forward(work);
    for (size_t i = 0; i < block; ++i) work[i] *= needle_spectrum[i];
    fft.inverse(work);

    const size_t lags = std::min(lags_per_block, last_lag - start + 1);
    for (size_t k = 0; k < lags; ++k) {
      const size_t lag = start + k;
      const double s = double(sum[lag + n] - sum[lag]);
      const double sq = double(sum_sq[lag + n] - sum_sq[lag]);
      const double variance_sum = sq - s * s / double(n);
      double score = 0.0;
      if (variance_sum / double(n) >= kMinWindowVariance) {
        score = work[k].real() / (needle_norm * std::sqrt(variance_sum));
      }
      if (score > best.score) best = {lag, score};
    }
  }
  best.score = std::clamp(best.score, -1.0, 1.0);
  return best;
}

std::vector<int16_t> rms_envelope(std::span<const int16_t> pcm, size_t hop) {
  std::vector<int16_t> env;
  if (hop == 0) return env;
  env.reserve(pcm.size() / hop);
  for (size_t i = 0; i + hop <= pcm.size(); i += hop) {
    env.push_back(static_cast<int16_t>(std::min(32767.0, rms(pcm.subspan(i, hop)))));
  }
  return env;
}

ClipMatch find_clip_envelope(std::span<const int16_t> needle, std::span<const int16_t> haystack,
                             size_t hop) {
  if (hop == 0) return {};
  ClipMatch match = find_clip(rms_envelope(needle, hop), rms_envelope(haystack, hop));
  match.offset *= hop;
  return match;
}

}  // namespace atende::audio
