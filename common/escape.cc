#include "common/escape.h"

#include "absl/strings/str_format.h"

namespace tracectl {

void AppendEscaped(std::string_view bytes, std::string* out) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    const unsigned char c = bytes[i];
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\v':
        out->append("\\v");
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out->push_back(static_cast<char>(c));
        } else if (i + 1 < bytes.size() && bytes[i + 1] >= '0' &&
                   bytes[i + 1] <= '7') {
          absl::StrAppendFormat(out, "\\%03o", c);
        } else {
          absl::StrAppendFormat(out, "\\%o", c);
        }
    }
  }
}

std::string Escaped(std::string_view bytes) {
  std::string out;
  AppendEscaped(bytes, &out);
  return out;
}

std::string EscapedText(std::string_view text, size_t max_bytes) {
  const bool cut = text.size() > max_bytes;
  if (cut) text = text.substr(0, max_bytes);
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\%03o", c);
    } else if (c == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      absl::StrAppendFormat(&out, "\\302\\%03o",
                            static_cast<unsigned char>(text[++i]));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace tracectl
