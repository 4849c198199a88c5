// The recogniser of a host that has none (see FlowHost::recognizer()).
#include "flow/flow_host.h"

namespace atende::flow {

namespace {

class NullRecognizer final : public speech::Recognizer {
 public:
  void recognize(speech::RecognitionRequest, speech::RecognitionCallback done) override {
    speech::Recognition r;
    r.error = "no speech recogniser configured";
    r.engine = "none";
    done(std::move(r));
  }
  bool uses_grammar() const override { return false; }
};

}  // namespace

speech::Recognizer& FlowHost::recognizer() {
  static NullRecognizer none;
  return none;
}

}  // namespace atende::flow
