#include "flow/template_text.h"

namespace atende::flow {
namespace {

// Calls literal(text) and placeholder(name, raw) in order over `text`.
template <typename Literal, typename Placeholder>
void scan(std::string_view text, Literal literal, Placeholder placeholder) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    size_t close = open == std::string_view::npos ? open : text.find('}', open);
    if (close == std::string_view::npos) {
      literal(text.substr(pos));
      return;
    }
    literal(text.substr(pos, open - pos));
    placeholder(text.substr(open + 1, close - open - 1), text.substr(open, close - open + 1));
    pos = close + 1;
  }
}

}  // namespace

std::string fill_template(std::string_view text, const PlaceholderLookup& lookup) {
  std::string out;
  scan(
      text, [&](std::string_view lit) { out += lit; },
      [&](std::string_view name, std::string_view raw) {
        std::string value;
        if (lookup(name, &value)) {
          out += value;
        } else {
          out += raw;
        }
      });
  return out;
}

std::vector<std::string> template_names(std::string_view text) {
  std::vector<std::string> out;
  scan(
      text, [](std::string_view) {},
      [&](std::string_view name, std::string_view) { out.emplace_back(name); });
  return out;
}

bool is_clip_placeholder(std::string_view placeholder) {
  constexpr std::string_view kSuffix = ":audio";
  return placeholder.size() > kSuffix.size() &&
         placeholder.substr(placeholder.size() - kSuffix.size()) == kSuffix;
}

std::vector<TemplatePart> split_clip_placeholders(std::string_view text) {
  std::vector<TemplatePart> out(1);
  scan(
      text, [&](std::string_view lit) { out.back().text += lit; },
      [&](std::string_view name, std::string_view raw) {
        if (!is_clip_placeholder(name)) {
          out.back().text += raw;
          return;
        }
        out.push_back({std::string(name.substr(0, name.size() - 6)), true});
        out.emplace_back();
      });
  return out;
}

std::string spell_digits(std::string_view digits) {
  std::string out;
  for (char d : digits) {
    if (!out.empty()) out += ' ';
    out += d;
  }
  return out;
}

}  // namespace atende::flow
