#include "dsl/render.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>

#include "dsl/codes.hpp"

namespace agentos::dsl {

std::optional<output_format> parse_output_format(std::string_view name) {
  if (name == "text") return output_format::text;
  if (name == "json") return output_format::json;
  if (name == "sarif") return output_format::sarif;
  return std::nullopt;
}

std::string render_summary(const std::vector<diagnostic>& items) {
  std::size_t counts[3] = {0, 0, 0};
  for (const auto& d : items) ++counts[static_cast<int>(d.level)];
  const std::string_view nouns[3] = {"error", "warning", "note"};
  std::string out;
  for (int i = 0; i < 3; ++i) {
    if (counts[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(counts[i]);
    out += ' ';
    out += nouns[i];
    if (counts[i] != 1) out += 's';
  }
  return out.empty() ? "no problems" : out;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Spans

// A span whose file the manager actually holds. A hand-built or stale span with a bad id is shown
// without a location rather than aborting the whole report.
bool locatable(const source_manager& sources, span s) { return s.valid() && s.file < sources.size(); }

// A span clamped to its file's text, so a span past the end (or reversed) cannot index out of range.
struct located {
  const source* src;
  std::uint32_t begin;
  std::uint32_t end;
  line_col start;
  line_col stop;
};

located locate(const source_manager& sources, span s) {
  const source& src = sources.get(s.file);
  const auto size = static_cast<std::uint32_t>(src.text().size());
  const std::uint32_t begin = std::min(s.begin, size);
  const std::uint32_t end = std::clamp(s.end, begin, size);
  return {&src, begin, end, src.position(begin), src.position(end)};
}

// ---------------------------------------------------------------------------------------------
// Making bytes safe to show

// The length of the well-formed UTF-8 sequence at s[i] (and its code point), or 0 if the bytes
// there are not one: overlong forms, surrogates and values past U+10FFFF are all rejected.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  std::size_t len = 0;
  char32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2, cp = lead & 0x1F, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3, cp = lead & 0x0F, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Whether a decoded non-ASCII code point may be echoed to a terminal as itself. C1 controls can
// drive the terminal; zero-width and bidi format characters take no column (so the caret would
// drift) and can make the shown line differ from what the parser read ("Trojan Source").
bool shown_as_is(char32_t cp) {
  if (cp >= 0x80 && cp <= 0x9F) return false;
  if (cp == 0x061C || cp == 0xFEFF) return false;
  if (cp >= 0x200B && cp <= 0x200F) return false;
  if (cp >= 0x202A && cp <= 0x202E) return false;
  if (cp >= 0x2060 && cp <= 0x2069) return false;
  return true;
}

// A line as shown: every character takes exactly one column (tab -> space, anything unsafe ->
// `?`), and `starts` maps each column back to the byte where it begins so spans can be placed.
// Wide (East Asian) characters still count as one column; policy names are ASCII in practice.
struct display_line {
  std::string text;
  std::vector<std::uint32_t> starts;

  std::uint32_t bytes = 0;  // length of the original line

  // The 0-based column holding `byte`; one past the last column for a byte at or past the end.
  [[nodiscard]] std::uint32_t column_of(std::uint32_t byte) const {
    if (byte >= bytes) return static_cast<std::uint32_t>(starts.size());
    return static_cast<std::uint32_t>(std::upper_bound(starts.begin(), starts.end(), byte) - starts.begin()) - 1;
  }
  // How many columns begin before `byte`: the exclusive end column of a span ending there.
  [[nodiscard]] std::uint32_t columns_before(std::uint32_t byte) const {
    return static_cast<std::uint32_t>(std::lower_bound(starts.begin(), starts.end(), byte) - starts.begin());
  }
};

display_line sanitize(std::string_view line) {
  display_line out;
  out.bytes = static_cast<std::uint32_t>(line.size());
  out.text.reserve(line.size());
  out.starts.reserve(line.size());
  std::size_t i = 0;
  while (i < line.size()) {
    out.starts.push_back(static_cast<std::uint32_t>(i));
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == '\t') {
      out.text += ' ';
      ++i;
    } else if (c < 0x80) {
      out.text += (c >= 0x20 && c != 0x7F) ? static_cast<char>(c) : '?';
      ++i;
    } else {
      char32_t cp = 0;
      const std::size_t len = decode_utf8(line, i, cp);
      if (len != 0 && shown_as_is(cp)) {
        out.text += line.substr(i, len);
      } else {
        out.text += '?';
      }
      i += len != 0 ? len : 1;  // a bad byte is one `?` each; a well-formed but unsafe character is one
    }
  }
  return out;
}

// Messages, notes and file names can quote user input; they get the same treatment as source lines.
std::string safe(std::string_view s) { return sanitize(s).text; }

// ---------------------------------------------------------------------------------------------
// Text

constexpr std::string_view ansi_reset = "\x1b[0m";
constexpr std::string_view ansi_bold = "\x1b[1m";
constexpr std::string_view ansi_cyan = "\x1b[1;36m";

std::string_view severity_color(severity s) {
  switch (s) {
    case severity::error: return "\x1b[1;31m";
    case severity::warning: return "\x1b[1;33m";
    case severity::note: return ansi_cyan;
  }
  return ansi_bold;
}

// One underlined span under one shown line.
struct annotation {
  std::uint32_t line;
  std::uint32_t begin;  // byte offsets within the file, clamped
  std::uint32_t end;
  line_col start;
  line_col stop;
  std::string_view message;
  bool primary;
};

// All annotations in one file. The primary's file comes first; other files follow in the order
// their labels were given, each introduced by a `:::` line at its first label.
struct file_group {
  file_id file;
  line_col anchor;
  std::vector<annotation> items;
};

class text_renderer {
 public:
  text_renderer(const source_manager& sources, const render_options& options)
      : m_sources(sources), m_color(options.color) {}

  void render(const diagnostic& d, std::string& out) const {
    const bool has_primary = locatable(m_sources, d.primary);
    std::vector<std::string_view> orphan_labels;  // labels with no usable span become notes
    std::vector<file_group> groups = collect(d, has_primary, orphan_labels);

    header(d, has_primary, out);

    std::uint32_t max_line = 1;
    for (const auto& g : groups) {
      for (const auto& a : g.items) max_line = std::max(max_line, a.line);
    }
    const std::size_t width = std::to_string(max_line).size();
    const std::string pad(width, ' ');

    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      const auto& g = groups[gi];
      if (!has_primary || g.file != d.primary.file) {
        if (gi != 0) out += pad + " |\n";
        out += pad + "::: " + safe(m_sources.get(g.file).name()) + ':' + std::to_string(g.anchor.line) + ':' +
               std::to_string(g.anchor.column) + '\n';
      }
      out += pad + " |\n";
      snippet(g, d.level, width, out);
    }

    const bool has_trailer = !d.notes.empty() || !orphan_labels.empty() || !d.help.empty();
    if (has_trailer && !groups.empty()) out += pad + " |\n";
    for (auto note : orphan_labels) trailer(width, "note", note, out);
    for (const auto& note : d.notes) trailer(width, "note", note, out);
    if (!d.help.empty()) trailer(width, "help", d.help, out);
  }

 private:
  std::string paint(std::string_view color, std::string_view text) const {
    if (!m_color) return std::string(text);
    return std::string(color) + std::string(text) + std::string(ansi_reset);
  }

  annotation make(span s, std::string_view message, bool primary) const {
    const located l = locate(m_sources, s);
    return {l.start.line, l.begin, l.end, l.start, l.stop, message, primary};
  }

  std::vector<file_group> collect(const diagnostic& d, bool has_primary, std::vector<std::string_view>& orphans) const {
    std::vector<file_group> groups;
    auto group_for = [&](file_id file, line_col anchor) -> file_group& {
      for (auto& g : groups) {
        if (g.file == file) return g;
      }
      groups.push_back({file, anchor, {}});
      return groups.back();
    };

    // The first label on exactly the primary span is the caret's own text rather than a second
    // underline of the same characters.
    const label* caret_label = nullptr;
    if (has_primary) {
      for (const auto& l : d.labels) {
        if (l.where == d.primary) {
          caret_label = &l;
          break;
        }
      }
      const annotation a = make(d.primary, caret_label ? std::string_view(caret_label->message) : "", true);
      group_for(d.primary.file, a.start).items.push_back(a);
    }
    for (const auto& l : d.labels) {
      if (&l == caret_label) continue;
      if (!locatable(m_sources, l.where)) {
        if (!l.message.empty()) orphans.push_back(l.message);
        continue;
      }
      const annotation a = make(l.where, l.message, false);
      group_for(l.where.file, a.start).items.push_back(a);
    }
    // Lines in file order; on one line the primary first, then labels as given.
    for (auto& g : groups) {
      std::stable_sort(g.items.begin(), g.items.end(), [](const annotation& a, const annotation& b) { return a.line < b.line; });
    }
    return groups;
  }

  void header(const diagnostic& d, bool has_primary, std::string& out) const {
    if (has_primary) {
      const located l = locate(m_sources, d.primary);
      out += safe(l.src->name()) + ':' + std::to_string(l.start.line) + ':' + std::to_string(l.start.column);
    } else {
      out += "agentos";
    }
    out += ": ";
    std::string tag(to_string(d.level));
    if (!d.code.empty()) tag += '[' + safe(d.code) + ']';
    out += paint(severity_color(d.level), tag);
    out += ": ";
    out += paint(ansi_bold, safe(d.message));
    out += '\n';
  }

  void snippet(const file_group& g, severity level, std::size_t width, std::string& out) const {
    const source& src = m_sources.get(g.file);
    const std::string pad(width, ' ');
    std::uint32_t previous = 0;
    for (std::size_t i = 0; i < g.items.size();) {
      const std::uint32_t line = g.items[i].line;
      if (previous != 0 && line > previous + 1) out += "...\n";
      previous = line;

      const std::string_view raw = src.line_text(line);
      const display_line shown = sanitize(raw);
      std::string number = std::to_string(line);
      out += std::string(width - number.size(), ' ') + number + " |";
      if (!shown.text.empty()) out += ' ' + shown.text;
      out += '\n';

      const std::uint32_t line_begin = g.items[i].begin - (g.items[i].start.column - 1);
      for (; i < g.items.size() && g.items[i].line == line; ++i) {
        const annotation& a = g.items[i];
        const std::uint32_t first = a.begin - line_begin;
        // A span running onto later lines is underlined to the end of its first line.
        const std::uint32_t last = a.stop.line == a.start.line ? a.end - line_begin : static_cast<std::uint32_t>(raw.size());
        const std::uint32_t column = shown.column_of(first);
        const std::uint32_t end_column = shown.columns_before(last);
        const std::uint32_t marks = std::max<std::uint32_t>(1, end_column > column ? end_column - column : 0);

        std::string underline = a.primary ? '^' + std::string(marks - 1, '~') : std::string(marks, '-');
        if (!a.message.empty()) underline += ' ' + safe(a.message);
        out += pad + " | " + std::string(column, ' ');
        out += paint(a.primary ? severity_color(level) : ansi_cyan, underline);
        out += '\n';
      }
    }
  }

  // `= note: ...`; a multi-line note keeps its later lines aligned under the first.
  void trailer(std::size_t width, std::string_view kind, std::string_view text, std::string& out) const {
    const std::string indent(width + 1, ' ');
    out += indent + "= " + paint(ansi_cyan, kind) + ": ";
    const std::string continuation = indent + std::string(2 + kind.size() + 2, ' ');
    bool first = true;
    while (true) {
      const auto newline = text.find('\n');
      if (!first) out += continuation;
      out += safe(text.substr(0, newline));
      out += '\n';
      if (newline == std::string_view::npos) break;
      text.remove_prefix(newline + 1);
      first = false;
    }
  }

  const source_manager& m_sources;
  bool m_color;
};

// ---------------------------------------------------------------------------------------------
// JSON and SARIF

// Keys stay in the documented order, which makes the output easier to read and diff.
using json = nlohmann::ordered_json;

std::string dump(const json& j) {
  // Invalid UTF-8 (from a file name, say) is replaced rather than thrown: a report must not fail.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + '\n';
}

std::string_view sarif_level(severity s) {
  switch (s) {
    case severity::error: return "error";
    case severity::warning: return "warning";
    case severity::note: return "note";
  }
  return "error";
}

// A file name as a URI reference: forward slashes, and everything outside RFC 3986's unreserved
// set and `/` percent-encoded (spaces, `%`, `#`, non-ASCII bytes...). A `:` is encoded too, so a
// relative name like `a:b.policy` cannot be mistaken for a URI with scheme `a`.
std::string to_uri(std::string_view name) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += '/';
    } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

// Code points in text[from, to): every byte that does not continue a UTF-8 sequence starts one.
std::uint32_t code_points(std::string_view text, std::uint32_t from, std::uint32_t to) {
  std::uint32_t n = 0;
  for (std::uint32_t i = from; i < to; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

json json_position(const source_manager& sources, span s) {
  json j;
  if (!locatable(sources, s)) {
    j["file"] = nullptr;
    j["line"] = nullptr;
    j["column"] = nullptr;
    j["end_line"] = nullptr;
    j["end_column"] = nullptr;
    return j;
  }
  const located l = locate(sources, s);
  j["file"] = l.src->name();
  j["line"] = l.start.line;
  j["column"] = l.start.column;
  j["end_line"] = l.stop.line;
  j["end_column"] = l.stop.column;
  return j;
}

// Code points before each line of a file, counted once per file, so a result's charOffset costs a
// count within its line rather than from the start of the file (which made a SARIF log of many
// diagnostics quadratic in the file's size).
class code_point_index {
 public:
  std::uint32_t before_line(const source& src, std::uint32_t line) {
    auto& counts = m_counts[&src];
    if (counts.empty()) {
      const std::string_view text = src.text();
      counts.push_back(0);
      std::uint32_t n = 0;
      for (const char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
        if (c == '\n') counts.push_back(n);
      }
    }
    return counts.at(line - 1);
  }

 private:
  std::map<const source*, std::vector<std::uint32_t>> m_counts;
};

json sarif_region(const source_manager& sources, span s, code_point_index& index) {
  const located l = locate(sources, s);
  const std::string_view text = l.src->text();
  const std::uint32_t start_line_begin = l.begin - (l.start.column - 1);
  const std::uint32_t stop_line_begin = l.end - (l.stop.column - 1);
  const std::uint32_t char_offset = index.before_line(*l.src, l.start.line) + code_points(text, start_line_begin, l.begin);
  json region;
  region["startLine"] = l.start.line;
  region["startColumn"] = code_points(text, start_line_begin, l.begin) + 1;
  region["endLine"] = l.stop.line;
  region["endColumn"] = code_points(text, stop_line_begin, l.end) + 1;
  region["charOffset"] = char_offset;
  region["charLength"] = code_points(text, l.begin, l.end);
  region["byteOffset"] = l.begin;
  region["byteLength"] = l.end - l.begin;
  return region;
}

// Artifacts are keyed by URI, not file id: the same file loaded twice is still one artifact
// (SARIF requires the artifacts array to hold unique items).
class artifact_table {
 public:
  std::size_t index_of(const std::string& uri) {
    const auto [it, inserted] = m_index.try_emplace(uri, m_uris.size());
    if (inserted) m_uris.push_back(uri);
    return it->second;
  }
  [[nodiscard]] json to_json() const {
    json artifacts = json::array();
    for (const auto& uri : m_uris) artifacts.push_back({{"location", {{"uri", uri}}}});
    return artifacts;
  }

 private:
  std::map<std::string, std::size_t> m_index;
  std::vector<std::string> m_uris;
};

json sarif_location(const source_manager& sources, span s, artifact_table& artifacts, code_point_index& index) {
  const std::string uri = to_uri(sources.get(s.file).name());
  json location;
  location["physicalLocation"]["artifactLocation"] = {{"uri", uri}, {"index", artifacts.index_of(uri)}};
  location["physicalLocation"]["region"] = sarif_region(sources, s, index);
  return location;
}

constexpr std::string_view information_uri = "https://github.com/agentic-os/agentic-os";

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

json sarif_rule(std::string_view id, std::string_view name, std::string_view summary, severity level) {
  json rule;
  rule["id"] = id;
  rule["name"] = name;
  rule["shortDescription"]["text"] = summary;
  rule["defaultConfiguration"]["level"] = sarif_level(level);
  // SARIF requires helpUri to be absolute, so the docs anchor is given under the repository.
  rule["helpUri"] = std::string(information_uri) + "/blob/main/docs/diagnostics.md#" + lowercase(id);
  return rule;
}

}  // namespace

std::string render_text(const std::vector<diagnostic>& items, const source_manager& sources, const render_options& options) {
  text_renderer renderer(sources, options);
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += '\n';
    renderer.render(items[i], out);
  }
  return out;
}

std::string render_json(const std::vector<diagnostic>& items, const source_manager& sources) {
  json diagnostics = json::array();
  std::size_t errors = 0;
  std::size_t warnings = 0;
  std::size_t notes = 0;
  for (const auto& d : items) {
    switch (d.level) {
      case severity::error: ++errors; break;
      case severity::warning: ++warnings; break;
      case severity::note: ++notes; break;
    }
    json j;
    j["code"] = d.code;
    j["severity"] = to_string(d.level);
    j["message"] = d.message;
    j.update(json_position(sources, d.primary));
    if (locatable(sources, d.primary)) {
      const located l = locate(sources, d.primary);
      j["begin_offset"] = l.begin;
      j["end_offset"] = l.end;
    } else {
      j["begin_offset"] = nullptr;
      j["end_offset"] = nullptr;
    }
    json labels = json::array();
    for (const auto& l : d.labels) {
      json label = json_position(sources, l.where);
      label["message"] = l.message;
      labels.push_back(std::move(label));
    }
    j["labels"] = std::move(labels);
    j["notes"] = d.notes;
    j["help"] = d.help.empty() ? json(nullptr) : json(d.help);
    diagnostics.push_back(std::move(j));
  }
  json root;
  root["version"] = 1;
  root["diagnostics"] = std::move(diagnostics);
  root["summary"] = {{"errors", errors}, {"warnings", warnings}, {"notes", notes}};
  return dump(root);
}

std::string render_sarif(const std::vector<diagnostic>& items, const source_manager& sources, std::string_view tool_version) {
  json rules = json::array();
  std::map<std::string, std::size_t, std::less<>> rule_index;
  for (const auto& info : all_codes()) {
    rule_index.emplace(std::string(info.code), rules.size());
    rules.push_back(sarif_rule(info.code, info.name, info.summary, info.default_level));
  }

  artifact_table artifacts;
  code_point_index code_points_before;
  json results = json::array();
  for (const auto& d : items) {
    // A code missing from the table still gets a rule, so every ruleIndex points at its ruleId.
    const std::string rule_id = d.code.empty() ? "unknown" : d.code;
    auto it = rule_index.find(rule_id);
    if (it == rule_index.end()) {
      it = rule_index.emplace(rule_id, rules.size()).first;
      rules.push_back(sarif_rule(rule_id, rule_id, "unregistered diagnostic code", d.level));
    }

    json result;
    result["ruleId"] = rule_id;
    result["ruleIndex"] = it->second;
    result["level"] = sarif_level(d.level);
    result["message"]["text"] = d.help.empty() ? d.message : d.message + " help: " + d.help;
    json locations = json::array();
    if (locatable(sources, d.primary)) locations.push_back(sarif_location(sources, d.primary, artifacts, code_points_before));
    result["locations"] = std::move(locations);

    json related = json::array();
    for (const auto& l : d.labels) {
      if (l.message.empty() || !locatable(sources, l.where)) continue;
      json location = sarif_location(sources, l.where, artifacts, code_points_before);
      location["id"] = related.size();  // also keeps the array's items unique, as SARIF requires
      location["message"]["text"] = l.message;
      related.push_back(std::move(location));
    }
    if (!related.empty()) result["relatedLocations"] = std::move(related);
    if (!d.notes.empty()) result["properties"]["notes"] = d.notes;
    results.push_back(std::move(result));
  }

  json driver;
  driver["name"] = "agentos";
  driver["version"] = tool_version;
  driver["informationUri"] = information_uri;
  driver["rules"] = std::move(rules);

  json run;
  run["tool"]["driver"] = std::move(driver);
  run["artifacts"] = artifacts.to_json();
  run["results"] = std::move(results);
  run["columnKind"] = "unicodeCodePoints";

  json root;
  root["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  root["version"] = "2.1.0";
  root["runs"] = json::array({std::move(run)});
  return dump(root);
}

}  // namespace agentos::dsl
