// SVG plots for the HTML report: a plot area with data -> pixel mapping,
// "nice" tick steps, axes, dots with tooltips, polylines, a vertical marker
// and a legend. Self-contained (no LibTorch, no database); the report
// composes them.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace mnas::experiments {

// Escapes &, <, >, " for HTML text and attribute values.
std::string html_escape(const std::string& s);

struct Range {
  double lo = 0, hi = 1;
};

// The finite span of `v` padded by `pad_frac` on each side; {0, 1} when
// nothing is finite, +-0.5 around a single value.
Range range_of(const std::vector<double>& v, double pad_frac = 0.05);

// A 1-2-5 x 10^k step that divides `span` into about `ticks` intervals.
double nice_step(double span, int ticks);

// Early trials light blue, late trials dark blue.
std::string trial_color(int64_t index, int64_t n);

// A plot area with data->pixel mapping and axes; finish() returns the
// <h2> title and the <svg> element.
class Plot {
 public:
  Plot(std::string title, Range x, Range y, std::string xlabel, std::string ylabel,
       int width = 1080, int height = 360);

  double px(double x) const;
  double py(double y) const;

  // Non-finite points are skipped.
  void dot(double x, double y, const std::string& color, double r = 3, const std::string& tip = "");
  void polyline(const std::vector<std::pair<double, double>>& pts, const std::string& color,
                double width = 2, const std::string& dash = "");
  // A small label to the right of the data point (x, y); nothing when it is
  // not finite.
  void text(double x, double y, const std::string& text, const std::string& color);
  // A dashed vertical line with a label; nothing when x is outside the range.
  void vline(double x, const std::string& color, const std::string& text);
  void legend(const std::vector<std::pair<std::string, std::string>>& items);
  std::string finish();

 private:
  static constexpr int kL = 70, kR = 20, kT = 30, kB = 42;
  double pw() const { return w_ - kL - kR; }
  double ph() const { return h_ - kT - kB; }
  static std::string label(double v, double step);
  Range x_, y_;
  int w_, h_;
  std::ostringstream os_;
};

}  // namespace mnas::experiments
