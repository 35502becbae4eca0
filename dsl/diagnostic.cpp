#include "dsl/diagnostic.hpp"

#include <algorithm>
#include <tuple>

#include "dsl/codes.hpp"

namespace agentos::dsl {

std::string_view to_string(severity s) {
  switch (s) {
    case severity::error: return "error";
    case severity::warning: return "warning";
    case severity::note: return "note";
  }
  return "error";
}

diagnostic& diagnostics::emplace(std::string code, span primary, std::string message) {
  diagnostic d;
  if (auto info = find_code(code)) d.level = info->default_level;
  d.code = std::move(code);
  d.primary = primary;
  d.message = std::move(message);
  m_items.push_back(std::move(d));
  return m_items.back();
}

namespace {
bool listed(const std::vector<std::string>& names, const code_info& info) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n == info.name || n == info.code; });
}
}  // namespace

void diagnostics::finish(const warning_options& options) {
  std::vector<diagnostic> kept;
  kept.reserve(m_items.size());
  for (auto& d : m_items) {
    if (d.level == severity::warning) {
      auto info = find_code(d.code);
      if (info && listed(options.allow, *info)) continue;
      if (options.deny_all_warnings || (info && listed(options.deny, *info))) d.level = severity::error;
    }
    kept.push_back(std::move(d));
  }
  auto key = [](const diagnostic& d) { return std::tie(d.primary.file, d.primary.begin, d.primary.end, d.code, d.message); };
  std::stable_sort(kept.begin(), kept.end(), [&](const diagnostic& a, const diagnostic& b) { return key(a) < key(b); });
  kept.erase(std::unique(kept.begin(), kept.end(), [&](const diagnostic& a, const diagnostic& b) { return key(a) == key(b); }),
             kept.end());
  m_items = std::move(kept);
}

std::size_t diagnostics::count(severity s) const {
  return static_cast<std::size_t>(std::count_if(m_items.begin(), m_items.end(), [s](const diagnostic& d) { return d.level == s; }));
}

namespace {
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string closest_name(std::string_view name, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = std::max<std::size_t>(1, name.size() / 3) + 1;
  for (auto c : candidates) {
    if (c == name) continue;
    const std::size_t d = edit_distance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return std::string(best);
}

}  // namespace agentos::dsl
