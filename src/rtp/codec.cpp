#include "rtp/codec.h"

#include <array>
#include <cctype>

#include "core/ascii.h"
#include "rtp/builtin_codecs.h"

namespace atende::rtp {
namespace {

constexpr size_t kMaxCodecs = 16;

struct Registry {
  std::array<const Codec*, kMaxCodecs> list{&detail::kPcmu, &detail::kPcma, &detail::kG722};
  size_t size = 3;
};

// Function-local so registration from other translation units' static init is safe.
Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void Decoder::conceal(AudioFrame& frame) {
  frame.pcm.fill(0);
  if (frame.samples <= 0 || frame.samples > kMaxFrameSamples)
    frame.samples = samples_per_frame(frame.sample_rate);
}

const Codec* find_codec(std::string_view name) {
  const Registry& r = registry();
  for (size_t i = 0; i < r.size; ++i)
    if (ascii_iequals(r.list[i]->name, name)) return r.list[i];
  return nullptr;
}

const Codec* find_codec_by_payload_type(int payload_type) {
  if (payload_type == kDynamicPayloadType) return nullptr;
  const Registry& r = registry();
  for (size_t i = 0; i < r.size; ++i)
    if (r.list[i]->payload_type == payload_type) return r.list[i];
  return nullptr;
}

std::span<const Codec* const> codecs() {
  const Registry& r = registry();
  return {r.list.data(), r.size};
}

bool register_codec(const Codec& codec) {
  Registry& r = registry();
  if (r.size == kMaxCodecs || find_codec(codec.name) != nullptr) return false;
  if (!codec.make_encoder || !codec.make_decoder) return false;
  r.list[r.size++] = &codec;
  return true;
}

}  // namespace atende::rtp
