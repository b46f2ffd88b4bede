#include "experiments/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>

namespace mnas::experiments {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

Range range_of(const std::vector<double>& v, double pad_frac) {
  Range r{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (double x : v) {
    if (std::isfinite(x)) r.lo = std::min(r.lo, x), r.hi = std::max(r.hi, x);
  }
  if (!std::isfinite(r.lo)) return {0, 1};
  if (r.hi - r.lo < 1e-12) r.lo -= 0.5, r.hi += 0.5;
  const double pad = (r.hi - r.lo) * pad_frac;
  return {r.lo - pad, r.hi + pad};
}

double nice_step(double span, int ticks) {
  const double raw = span / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

Plot::Plot(std::string title, Range x, Range y, std::string xlabel, std::string ylabel, int width,
           int height)
    : x_(x), y_(y), w_(width), h_(height) {
  os_ << "<h2>" << html_escape(title) << "</h2>\n<svg xmlns='http://www.w3.org/2000/svg' width='"
      << w_ << "' height='" << h_ << "' viewBox='0 0 " << w_ << " " << h_
      << "' font-family='sans-serif' font-size='12'>\n"
      << "<rect x='" << kL << "' y='" << kT << "' width='" << pw() << "' height='" << ph()
      << "' fill='#fafafa' stroke='#999'/>\n";
  const double xs = nice_step(x_.hi - x_.lo, 10), ys = nice_step(y_.hi - y_.lo, 6);
  for (double v = std::ceil(x_.lo / xs) * xs; v <= x_.hi; v += xs) {
    os_ << "<line x1='" << px(v) << "' y1='" << kT << "' x2='" << px(v) << "' y2='" << kT + ph()
        << "' stroke='#e4e4e4'/><text x='" << px(v) << "' y='" << kT + ph() + 16
        << "' text-anchor='middle'>" << label(v, xs) << "</text>\n";
  }
  for (double v = std::ceil(y_.lo / ys) * ys; v <= y_.hi; v += ys) {
    os_ << "<line x1='" << kL << "' y1='" << py(v) << "' x2='" << kL + pw() << "' y2='" << py(v)
        << "' stroke='#e4e4e4'/><text x='" << kL - 6 << "' y='" << py(v) + 4
        << "' text-anchor='end'>" << label(v, ys) << "</text>\n";
  }
  os_ << "<text x='" << kL + pw() / 2 << "' y='" << h_ - 6 << "' text-anchor='middle'>"
      << html_escape(xlabel) << "</text>\n<text transform='translate(14," << kT + ph() / 2
      << ") rotate(-90)' text-anchor='middle'>" << html_escape(ylabel) << "</text>\n";
}


double Plot::px(double x) const { return kL + (x - x_.lo) / (x_.hi - x_.lo) * pw(); }
double Plot::py(double y) const { return kT + ph() - (y - y_.lo) / (y_.hi - y_.lo) * ph(); }

void Plot::dot(double x, double y, const std::string& color, double r, const std::string& tip) {
  if (!std::isfinite(x) || !std::isfinite(y)) return;
  os_ << "<circle cx='" << px(x) << "' cy='" << py(y) << "' r='" << r << "' fill='" << color
      << "'>";
  if (!tip.empty()) os_ << "<title>" << html_escape(tip) << "</title>";
  os_ << "</circle>\n";
}
void Plot::polyline(const std::vector<std::pair<double, double>>& pts, const std::string& color,
                    double width, const std::string& dash) {
  if (pts.empty()) return;
  os_ << "<polyline fill='none' stroke='" << color << "' stroke-width='" << width << "'";
  if (!dash.empty()) os_ << " stroke-dasharray='" << dash << "'";
  os_ << " points='";
  for (const auto& [x, y] : pts) {
    if (std::isfinite(x) && std::isfinite(y)) os_ << px(x) << "," << py(y) << " ";
  }
  os_ << "'/>\n";
}
void Plot::text(double x, double y, const std::string& text, const std::string& color) {
  if (!std::isfinite(x) || !std::isfinite(y)) return;
  os_ << "<text x='" << px(x) + 7 << "' y='" << py(y) - 5 << "' font-size='11' fill='" << color
      << "'>" << html_escape(text) << "</text>\n";
}
void Plot::vline(double x, const std::string& color, const std::string& text) {
  if (x < x_.lo || x > x_.hi) return;
  os_ << "<line x1='" << px(x) << "' y1='" << kT << "' x2='" << px(x) << "' y2='" << kT + ph()
      << "' stroke='" << color << "' stroke-width='2' stroke-dasharray='6,4'/><text x='"
      << px(x) + 4 << "' y='" << kT + 14 << "' fill='" << color << "'>" << html_escape(text)
      << "</text>\n";
}
void Plot::legend(const std::vector<std::pair<std::string, std::string>>& items) {
  double x = kL + 10;
  for (const auto& [color, text] : items) {
    os_ << "<rect x='" << x << "' y='" << kT - 16 << "' width='12' height='12' fill='" << color
        << "'/><text x='" << x + 16 << "' y='" << kT - 6 << "'>" << html_escape(text)
        << "</text>\n";
    x += 30 + 7.0 * static_cast<double>(text.size());
  }
}
std::string Plot::finish() {
  os_ << "</svg>\n";
  return os_.str();
}


std::string Plot::label(double v, double step) {
  std::ostringstream os;
  const int digits = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  os << std::fixed << std::setprecision(digits) << (std::abs(v) < step * 1e-6 ? 0.0 : v);
  return os.str();
}

// Early trials light blue, late trials dark blue.
std::string trial_color(int64_t index, int64_t n) {
  const double f = n > 1 ? static_cast<double>(index) / static_cast<double>(n - 1) : 1.0;
  const int r = static_cast<int>(170 - 150 * f), g = static_cast<int>(200 - 130 * f),
            b = static_cast<int>(240 - 90 * f);
  std::ostringstream os;
  os << "rgb(" << r << "," << g << "," << b << ")";
  return os.str();
}

}  // namespace mnas::experiments
