#include "space/block_codec.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <sstream>

#include "common/error.h"

namespace mnas::space {

const char* to_string(ConvOp op) {
  switch (op) {
    case ConvOp::kMBConv: return "mbconv";
    case ConvOp::kSepConv: return "sepconv";
    case ConvOp::kConv: return "conv";
  }
  return "?";
}

const char* to_string(SkipOp skip) {
  switch (skip) {
    case SkipOp::kIdentity: return "identity";
    case SkipOp::kPool: return "pool";
    case SkipOp::kNone: return "none";
  }
  return "?";
}

namespace {

// Printable form of arbitrary bytes for error messages: control and non-ASCII
// bytes become \xNN so that a fuzzed string cannot garble the terminal.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// At most kShown bytes of `s`, printable; "..." marks a cut. Messages stay
// readable for a fuzzed or pasted block string of any length.
constexpr size_t kShown = 160;
std::string shown(std::string_view s) {
  return s.size() <= kShown ? printable(s) : printable(s.substr(0, kShown)) + "...";
}

[[noreturn]] void fail(std::string_view block, std::string_view token,
                       const std::string& what) {
  std::string msg = "block string '" + shown(block) + "': ";
  if (!token.empty()) msg += "token '" + shown(token) + "': ";
  throw ParseError(msg + what);
}

int parse_int(std::string_view block, std::string_view token, std::string_view value,
              const char* field, int lo, int hi) {
  int v = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, v);
  if (value.empty() || ec == std::errc::invalid_argument || ptr != end) {
    fail(block, token, std::string(field) + " should be an integer, got '" +
                           shown(value) + "'");
  }
  if (ec == std::errc::result_out_of_range || v < lo || v > hi) {
    fail(block, token, std::string(field) + " should be in " + std::to_string(lo) +
                           ".." + std::to_string(hi) + ", got " + shown(value));
  }
  return v;
}

double parse_se(std::string_view block, std::string_view token, std::string_view value) {
  double v = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, v, std::chars_format::fixed);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    // A well-formed decimal too small (0.000...01) or too large for a double.
    const bool tiny = value.front() == '0' || value.front() == '.';
    fail(block, token, "se_ratio '" + shown(value.substr(0, 24)) +
                           (value.size() > 24 ? "..." : "") + "' is out of range: " +
                           (tiny ? "too small to represent" : "too large") +
                           "; expected a value in (0, 1]");
  }
  if (value.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) {
    fail(block, token, "se_ratio should be a decimal number, got '" + shown(value) + "'");
  }
  if (!(v > 0.0 && v <= 1.0)) {
    fail(block, token, "se_ratio should be in (0, 1] (omit the token for no SE), got " +
                           shown(value));
  }
  return v;
}

std::string format_se(double v) {
  // NOTE: fixed, not the shortest general form: that writes 0.0001 as
  // "1e-04", which parse_se (fixed only) rejects, breaking the round trip.
  // The shortest fixed form still round-trips exactly; 512 chars hold any
  // finite double in fixed notation.
  char buf[512];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  (void)ec;
  return std::string(buf, ptr);
}

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

}  // namespace

BlockArgs decode_block(std::string_view s) {
  if (s.empty()) fail(s, "", "empty block string (expected e.g. r1_k3_s11_e1_i32_o16)");
  BlockArgs b;
  std::optional<int> r, k, e, i, o;
  std::optional<std::array<int, 2>> strides;
  std::optional<double> se;
  bool skip_seen = false;
  bool first = true;
  size_t pos = 0;
  while (true) {
    const size_t next = s.find('_', pos);
    const std::string_view tok =
        s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    if (tok.empty()) {
      fail(s, "", "empty token at offset " + std::to_string(pos) +
                      " (tokens are separated by single underscores)");
    }
    size_t key_len = 0;
    while (key_len < tok.size() && is_lower(tok[key_len])) ++key_len;
    const std::string_view key = tok.substr(0, key_len);
    const std::string_view value = tok.substr(key_len);

    auto once = [&](bool seen) {
      if (seen) fail(s, tok, "duplicate key '" + std::string(key) + "'");
    };
    auto flag = [&]() {
      if (!value.empty()) fail(s, tok, "'" + std::string(key) + "' takes no value");
    };

    if (key == "ds" || key == "cn") {
      flag();
      if (!first) {
        fail(s, tok, "the op prefix '" + std::string(key) +
                         "' must be the first token (e.g. ds_r1_k3_s11_i32_o16)");
      }
      b.op = key == "ds" ? ConvOp::kSepConv : ConvOp::kConv;
    } else if (key == "r") {
      once(r.has_value());
      r = parse_int(s, tok, value, "num_repeat (r)", 1, kMaxRepeat);
    } else if (key == "k") {
      once(k.has_value());
      const int v = parse_int(s, tok, value, "kernel_size (k)", 1, kMaxKernelSize);
      if (v % 2 == 0) fail(s, tok, "kernel_size (k) should be odd in 1..9, got " + std::to_string(v));
      k = v;
    } else if (key == "s") {
      once(strides.has_value());
      if (value.size() != 2 || value[0] < '1' || value[0] > '9' || value[1] < '1' ||
          value[1] > '9') {
        fail(s, tok, "strides (s) should be two digits 1..9 for H and W (e.g. s22), got '" +
                         shown(value) + "'");
      }
      strides = std::array<int, 2>{value[0] - '0', value[1] - '0'};
    } else if (key == "e") {
      once(e.has_value());
      e = parse_int(s, tok, value, "expand_ratio (e)", 1, kMaxExpandRatio);
    } else if (key == "i") {
      once(i.has_value());
      i = parse_int(s, tok, value, "input_filters (i)", 1, kMaxFilters);
    } else if (key == "o") {
      once(o.has_value());
      o = parse_int(s, tok, value, "output_filters (o)", 1, kMaxFilters);
    } else if (key == "se") {
      once(se.has_value());
      se = parse_se(s, tok, value);
    } else if (key == "noskip" || key == "poolskip") {
      flag();
      if (skip_seen) fail(s, tok, "more than one skip flag (noskip, poolskip)");
      skip_seen = true;
      b.skip = key == "noskip" ? SkipOp::kNone : SkipOp::kPool;
    } else if (key.empty()) {
      fail(s, tok, "expected a key (r, k, s, e, i, o, se, noskip, poolskip) before '" +
                       shown(value) + "'");
    } else {
      fail(s, tok, "unknown key '" + printable(key) +
                       "' (expected r, k, s, e, i, o, se, noskip, poolskip; "
                       "ds or cn as the first token)");
    }
    first = false;
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }

  auto require = [&](bool present, const char* what) {
    if (!present) fail(s, "", std::string("missing ") + what);
  };
  require(r.has_value(), "num_repeat (r<int>)");
  require(k.has_value(), "kernel_size (k<int>)");
  require(strides.has_value(), "strides (s<digit><digit>)");
  require(i.has_value(), "input_filters (i<int>)");
  require(o.has_value(), "output_filters (o<int>)");
  if (b.op == ConvOp::kMBConv) {
    require(e.has_value(), "expand_ratio (e<int>; MBConv blocks need it)");
  } else if (e && *e != 1) {
    fail(s, "", std::string("expand_ratio must be 1 (or absent) for the ") +
                    (b.op == ConvOp::kSepConv ? "ds" : "cn") + " op, got " +
                    std::to_string(*e));
  }
  b.num_repeat = *r;
  b.kernel_size = *k;
  b.strides = *strides;
  b.expand_ratio = e.value_or(1);
  b.input_filters = *i;
  b.output_filters = *o;
  b.se_ratio = se.value_or(0.0);
  return b;
}

std::string encode_block(const BlockArgs& b) {
  std::ostringstream out;
  if (b.op == ConvOp::kSepConv) out << "ds_";
  if (b.op == ConvOp::kConv) out << "cn_";
  out << 'r' << b.num_repeat << "_k" << b.kernel_size << "_s" << b.strides[0]
      << b.strides[1];
  if (b.op == ConvOp::kMBConv) out << "_e" << b.expand_ratio;
  out << "_i" << b.input_filters << "_o" << b.output_filters;
  if (b.has_se()) out << "_se" << format_se(b.se_ratio);
  if (b.skip == SkipOp::kNone) out << "_noskip";
  if (b.skip == SkipOp::kPool) out << "_poolskip";
  std::string text = out.str();
  // Validate by decoding: a BlockArgs built by hand may hold values the grammar
  // rejects (even kernel, stride 0, se 1.5, ds with expansion, ...).
  if (decode_block(text) != b) {
    throw ParseError("block '" + text + "' does not encode its BlockArgs exactly");
  }
  return text;
}

ArchSpec decode_arch(const std::vector<std::string>& block_strings) {
  if (block_strings.empty()) {
    throw ParseError("architecture has no block strings (expected one per stage)");
  }
  ArchSpec arch;
  arch.blocks.reserve(block_strings.size());
  for (size_t n = 0; n < block_strings.size(); ++n) {
    try {
      arch.blocks.push_back(decode_block(block_strings[n]));
    } catch (const ParseError& e) {
      throw ParseError("stage " + std::to_string(n) + ": " + e.what());
    }
  }
  return arch;
}

std::vector<std::string> encode_arch(const ArchSpec& arch) {
  std::vector<std::string> out;
  out.reserve(arch.blocks.size());
  for (const auto& b : arch.blocks) out.push_back(encode_block(b));
  return out;
}

std::vector<std::string> split_block_strings(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string arch_to_string(const ArchSpec& arch) {
  std::string out;
  for (const auto& s : encode_arch(arch)) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace mnas::space
