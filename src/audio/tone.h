// Tone generator: one or two summed sine waves (a test tone, ringback 440+480 Hz, a DTMF
// pair), phase-continuous across calls so a tone can be produced frame by frame on the
// media path without clicks and without allocating.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace atende::audio {

class ToneGenerator {
 public:
  // `amplitude` is the peak of the summed signal as a fraction of full scale (0..1).
  // `freq2_hz` 0 means a single tone.
  ToneGenerator(int sample_rate, double freq1_hz, double freq2_hz = 0.0, double amplitude = 0.5);

  // Writes the next out.size() samples.
  void fill(std::span<int16_t> out);

 private:
  double step1_;
  double step2_;
  double phase1_ = 0.0;
  double phase2_ = 0.0;
  double scale_;
  bool dual_;
};

// A whole tone clip of `seconds` (allocates; for tests and prompts).
std::vector<int16_t> make_tone(int sample_rate, double freq_hz, double seconds,
                               double amplitude = 0.5);

}  // namespace atende::audio
