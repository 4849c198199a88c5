// "{name}" placeholders in flow texts: the say_time clock ({time}, {hour}, ...) and digits
// a collect step stored ({account}). One scanner so both agree on the syntax: a name runs
// from '{' to the next '}'; a '{' without a closing '}' is plain text.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace atende::flow {

// Replaces each {name} for which `lookup` returns true with what it wrote to `value`;
// other placeholders are left as written.
using PlaceholderLookup = std::function<bool(std::string_view name, std::string* value)>;
std::string fill_template(std::string_view text, const PlaceholderLookup& lookup);

// The placeholder names in `text`, in order (repeats included).
std::vector<std::string> template_names(std::string_view text);

// A text cut at its "{name:audio}" placeholders (recorded clips, played in their place):
// [text, clip, text, ...]. A text part keeps its other placeholders as written; a clip
// part's `text` is the slot name. Without such placeholders: one text part.
struct TemplatePart {
  std::string text;
  bool clip = false;
};
std::vector<TemplatePart> split_clip_placeholders(std::string_view text);
// True for "name:audio".
bool is_clip_placeholder(std::string_view placeholder);

// Digits as a speech engine should read them one by one: "1234" -> "1 2 3 4".
std::string spell_digits(std::string_view digits);

}  // namespace atende::flow
