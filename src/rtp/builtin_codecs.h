// The codecs compiled into atende_rtp; codec.cpp puts them in the registry. Internal.
#pragma once
#include "rtp/codec.h"

namespace atende::rtp::detail {

extern const Codec kPcmu;
extern const Codec kPcma;
extern const Codec kG722;

}  // namespace atende::rtp::detail
