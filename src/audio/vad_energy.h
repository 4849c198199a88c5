// A VAD from frame level alone: speech is a frame clearly louder than the noise floor it
// has tracked so far. Cheap and predictable, so tests can reason about it; it cannot tell
// a loud noise from a voice (the WebRTC detector can, partly), so in production it is a
// second opinion, not the judge.
//
// The floor follows quieter frames quickly and louder ones slowly (10 dB/s), so a steady
// hum or hiss is learnt within a few seconds and stops counting as speech, while a
// sentence (speech ~40 dB over a quiet line) stays far above floor + margin.
#pragma once
#include "audio/vad.h"

namespace atende::audio {

struct EnergyVadOptions {
  int sample_rate = 8000;
  // Never speech below this, whatever the floor (the quietest telephone speech is ~-45).
  double min_speech_dbfs = -45.0;
  // Speech is this many dB above the tracked noise floor.
  double margin_db = 12.0;
  // Floor tracking per second: how fast it falls to a quieter frame and rises to a louder.
  double floor_fall_db_per_s = 60.0;
  double floor_rise_db_per_s = 10.0;
  // Where the floor starts (a quiet line) and the lowest it may go (digital silence would
  // otherwise drag it to -120 and make any click "speech").
  double initial_floor_dbfs = -60.0;
  double lowest_floor_dbfs = -70.0;
};

class EnergyVad : public Vad {
 public:
  explicit EnergyVad(EnergyVadOptions options = {});
  int sample_rate() const override { return options_.sample_rate; }
  void reset() override;
  double noise_floor_dbfs() const { return floor_; }

 protected:
  Verdict detect(std::span<const int16_t> pcm, double level_dbfs) override;

 private:
  EnergyVadOptions options_;
  double floor_;
};

}  // namespace atende::audio
