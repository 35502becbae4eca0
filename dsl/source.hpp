// A policy source file held in memory: its name, its bytes and a line table. Spans everywhere in
// the front end are byte offsets into one of these; line and column are computed only for display,
// so a diagnostic never re-reads a file. A source_manager owns every source of one check run and
// hands out stable ids. Not thread safe; sources are immutable once added.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace agentos::dsl {

using file_id = std::uint32_t;
inline constexpr file_id no_file = 0xffffffffu;

// A half-open byte range [begin, end) in one source file.
struct span {
  file_id file = no_file;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;

  [[nodiscard]] bool valid() const { return file != no_file; }
  friend bool operator==(const span&, const span&) = default;
};

struct line_col {
  std::uint32_t line = 1;    // 1-based
  std::uint32_t column = 1;  // 1-based, in bytes
};

class source {
 public:
  source(std::string name, std::string text);

  [[nodiscard]] const std::string& name() const { return m_name; }
  [[nodiscard]] std::string_view text() const { return m_text; }
  [[nodiscard]] line_col position(std::uint32_t offset) const;
  // The text of a 1-based line, without its line terminator.
  [[nodiscard]] std::string_view line_text(std::uint32_t line) const;
  [[nodiscard]] std::uint32_t line_count() const { return static_cast<std::uint32_t>(m_line_starts.size()); }

 private:
  std::string m_name;
  std::string m_text;
  std::vector<std::uint32_t> m_line_starts;
};

class source_manager {
 public:
  file_id add(std::string name, std::string text);
  [[nodiscard]] const source& get(file_id id) const { return *m_sources.at(id); }
  [[nodiscard]] std::size_t size() const { return m_sources.size(); }

 private:
  std::vector<std::unique_ptr<source>> m_sources;
};

}  // namespace agentos::dsl
