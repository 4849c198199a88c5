// multipart/form-data bodies (RFC 7578) for uploads such as the OpenAI-compatible
// /v1/audio/transcriptions. Built in memory: the audio of one turn is small (a 30 s turn
// at 16 kHz is ~1 MB of WAV).
//
// Example:
//   net::Multipart form;
//   form.add_field("model", "whisper-1");
//   form.add_file("file", "audio.wav", "audio/wav", wav_bytes);
//   req.body = form.finish();
//   req.headers.push_back({"Content-Type", form.content_type()});   // after finish()
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace atende::net {

class Multipart {
 public:
  // Field names and file names are quoted; quotes, CR and LF in them are replaced by '_'.
  void add_field(std::string_view name, std::string_view value);
  void add_file(std::string_view name, std::string_view filename, std::string_view content_type,
                std::string_view data);
  // The complete body. Call once, after the last add_*. The boundary is chosen here: random,
  // and checked against every part so that no part can end the body early.
  std::string finish();
  // "multipart/form-data; boundary=..." — valid after finish().
  std::string content_type() const;

 private:
  struct Part {
    std::string headers;
    std::string data;
  };
  std::string boundary_;
  std::vector<Part> parts_;
};

}  // namespace atende::net
