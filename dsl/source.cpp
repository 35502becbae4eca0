#include "dsl/source.hpp"

#include <algorithm>

namespace agentos::dsl {

source::source(std::string name, std::string text) : m_name(std::move(name)), m_text(std::move(text)) {
  m_line_starts.push_back(0);
  for (std::uint32_t i = 0; i < m_text.size(); ++i) {
    if (m_text[i] == '\n') m_line_starts.push_back(i + 1);
  }
}

line_col source::position(std::uint32_t offset) const {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(m_text.size()));
  auto it = std::upper_bound(m_line_starts.begin(), m_line_starts.end(), offset);
  const auto line = static_cast<std::uint32_t>(it - m_line_starts.begin());
  return {line, offset - m_line_starts[line - 1] + 1};
}

std::string_view source::line_text(std::uint32_t line) const {
  if (line == 0 || line > m_line_starts.size()) return {};
  const std::uint32_t begin = m_line_starts[line - 1];
  std::uint32_t end = line < m_line_starts.size() ? m_line_starts[line] - 1 : static_cast<std::uint32_t>(m_text.size());
  if (end > begin && m_text[end - 1] == '\r') --end;
  return std::string_view(m_text).substr(begin, end - begin);
}

file_id source_manager::add(std::string name, std::string text) {
  m_sources.push_back(std::make_unique<source>(std::move(name), std::move(text)));
  return static_cast<file_id>(m_sources.size() - 1);
}

}  // namespace agentos::dsl
