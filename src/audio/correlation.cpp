#include "audio/correlation.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <iterator>
#include <numbers>
#include <vector>

#include "audio/fft.h"

namespace atende::audio {
namespace {

// A window whose variance is below this (about 1 LSB of RMS) is treated as silence: its
// correlation is noise divided by almost nothing and must not win the search.
constexpr double kMinWindowVariance = 1.0;

// Pearson's r of the needle against the haystack window starting at every lag
// (haystack.size() - needle.size() + 1 of them); empty if the needle is empty, longer than
// the haystack, or silent.
std::vector<double> correlation_scores(std::span<const int16_t> needle,
                                       std::span<const int16_t> haystack) {
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

  std::vector<double> scores(m - n + 1, 0.0);
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
      if (variance_sum / double(n) >= kMinWindowVariance) {
        scores[lag] =
            std::clamp(work[k].real() / (needle_norm * std::sqrt(variance_sum)), -1.0, 1.0);
      }
    }
  }
  return scores;
}

ClipMatch best_of(const std::vector<double>& scores) {
  if (scores.empty()) return {};
  const auto it = std::max_element(scores.begin(), scores.end());
  return {static_cast<size_t>(it - scores.begin()), *it};
}

// Telephone-band split for the envelope search: each band's loudness over time is one
// envelope. Several bands tell apart words with the same rhythm but different sounds
// (vowels low, fricatives high), which one broadband envelope cannot.
constexpr double kBandEdgesHz[] = {100, 400, 800, 1500, 2500, 4000};
constexpr size_t kBands = std::size(kBandEdgesHz) - 1;

// RMS of each band in each `hop`-sample frame (an FFT of the frame, Hann-windowed).
std::vector<std::vector<int16_t>> band_envelopes(std::span<const int16_t> pcm, size_t hop,
                                                 int sample_rate) {
  std::vector<std::vector<int16_t>> bands(kBands);
  const size_t frames = pcm.size() / hop;
  for (auto& b : bands) b.reserve(frames);
  const size_t size = next_power_of_two(std::max<size_t>(hop, 2));
  const Fft fft(size);
  std::vector<std::complex<double>> work(size);
  for (size_t f = 0; f < frames; ++f) {
    std::fill(work.begin(), work.end(), std::complex<double>{});
    for (size_t i = 0; i < hop; ++i) {
      const double w = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * double(i) / double(hop));
      work[i] = w * pcm[f * hop + i];
    }
    fft.forward(work);
    for (size_t b = 0; b < kBands; ++b) {
      const auto lo = static_cast<size_t>(kBandEdgesHz[b] * size / sample_rate);
      const auto hi =
          std::min(size / 2, static_cast<size_t>(kBandEdgesHz[b + 1] * size / sample_rate));
      double energy = 0.0;
      for (size_t k = lo; k < hi; ++k) energy += std::norm(work[k]);
      bands[b].push_back(static_cast<int16_t>(std::min(32767.0, std::sqrt(energy / double(size)))));
    }
  }
  return bands;
}

}  // namespace

ClipMatch find_clip(std::span<const int16_t> needle, std::span<const int16_t> haystack) {
  return best_of(correlation_scores(needle, haystack));
}

ClipMatch find_clip_envelope(std::span<const int16_t> needle, std::span<const int16_t> haystack,
                             int sample_rate) {
  const size_t hop = static_cast<size_t>(std::max(sample_rate, 0)) / 100;  // 10 ms
  if (hop == 0) return {};
  // Average, lag by lag, the correlations of every band's envelope; a silent band (in
  // the needle or the haystack) is left out.
  const auto needle_bands = band_envelopes(needle, hop, sample_rate);
  const auto haystack_bands = band_envelopes(haystack, hop, sample_rate);
  std::vector<double> loud;
  int used = 0;
  for (size_t b = 0; b < kBands; ++b) {
    const std::vector<double> scores = correlation_scores(needle_bands[b], haystack_bands[b]);
    if (scores.empty()) continue;
    if (loud.empty()) loud.assign(scores.size(), 0.0);
    for (size_t i = 0; i < scores.size(); ++i) loud[i] += scores[i];
    ++used;
  }
  for (double& v : loud) v /= std::max(used, 1);
  ClipMatch match = best_of(loud);
  match.offset *= hop;
  return match;
}

}  // namespace atende::audio
