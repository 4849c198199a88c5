// Text for the say_time step: fills a template with the local time of day, written the way
// a speech engine reads naturally ("5 42 PM", not "17:42").
//
// Placeholders: {time}   12-hour English form: "5 42 PM", "5 oh 7 PM", "5 PM"
//               {hour}   0-23        {minute} 0-59
//               {hour12} 1-12        {ampm}   "AM" / "PM"
// Unknown placeholders are left as written (the loader rejects them in flow files).
#pragma once
#include <string>
#include <string_view>

namespace atende::flow {

std::string fill_time_template(std::string_view text, int hour, int minute);

// True if every {placeholder} in `text` is one of the above; `bad` gets the first other.
bool time_template_valid(std::string_view text, std::string* bad);

}  // namespace atende::flow
