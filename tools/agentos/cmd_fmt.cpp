// `agentos fmt [--check] [--diff] PATH...`: print policy files in the canonical layout
// (dsl/format.hpp). Without flags, files that would change are rewritten in place, atomically
// (a temporary file in the same directory, then rename); `--check` lists them and `--diff` shows
// a unified diff instead, both exiting 1 when anything would change. `-` formats stdin to stdout.
// A file that does not parse is never touched: its diagnostics are printed and the exit code is 1.
// Formatting is per file and does not follow imports.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "dsl/format.hpp"
#include "dsl/loader.hpp"
#include "dsl/parser.hpp"
#include "dsl/render.hpp"

namespace agentos::cli {

namespace fs = std::filesystem;

namespace {

struct fmt_options {
  std::vector<std::string> paths;
  bool check = false;
  bool diff = false;
  std::string color = "auto";
};

// ---------------------------------------------------------------------------------------------
// A unified line diff. The longest common subsequence of lines is found with Hirschberg's
// algorithm (quadratic time, linear space), after trimming the common prefix and suffix.

// Lines keep their terminator, so a missing final newline is a difference of its own.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

using line_ids = std::vector<std::uint32_t>;

// LCS lengths of `a` against every prefix of `b` (the last row of the DP table).
std::vector<std::uint32_t> lcs_row(const std::uint32_t* a, std::size_t n, const std::uint32_t* b, std::size_t m,
                                   bool reverse) {
  std::vector<std::uint32_t> prev(m + 1, 0), cur(m + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = reverse ? a[n - 1 - i] : a[i];
    for (std::size_t j = 0; j < m; ++j) {
      const auto y = reverse ? b[m - 1 - j] : b[j];
      cur[j + 1] = x == y ? prev[j] + 1 : std::max(prev[j + 1], cur[j]);
    }
    std::swap(prev, cur);
  }
  return prev;
}

// Appends the matched pairs (index in a, index in b) of an LCS of a[0,n) and b[0,m).
void lcs(const std::uint32_t* a, std::size_t n, std::size_t a_off, const std::uint32_t* b, std::size_t m,
         std::size_t b_off, std::vector<std::pair<std::size_t, std::size_t>>& out) {
  if (n == 0 || m == 0) return;
  if (n == 1) {
    for (std::size_t j = 0; j < m; ++j) {
      if (a[0] == b[j]) {
        out.emplace_back(a_off, b_off + j);
        return;
      }
    }
    return;
  }
  const std::size_t mid = n / 2;
  const auto left = lcs_row(a, mid, b, m, false);
  const auto right = lcs_row(a + mid, n - mid, b, m, true);
  std::size_t split = 0;
  std::uint32_t best = 0;
  for (std::size_t k = 0; k <= m; ++k) {
    const auto total = left[k] + right[m - k];
    if (total > best || k == 0) {
      best = total;
      split = k;
    }
  }
  lcs(a, mid, a_off, b, split, b_off, out);
  lcs(a + mid, n - mid, a_off + mid, b + split, m - split, b_off + split, out);
}

struct edit {
  char kind;  // ' ', '-', '+'
  std::size_t old_line, new_line;  // 0-based positions before this edit
  std::string_view text;
};

std::vector<edit> line_edits(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  // Number the distinct lines so the LCS compares integers.
  std::map<std::string_view, std::uint32_t> ids;
  line_ids x, y;
  for (const auto l : a) x.push_back(ids.emplace(l, static_cast<std::uint32_t>(ids.size())).first->second);
  for (const auto l : b) y.push_back(ids.emplace(l, static_cast<std::uint32_t>(ids.size())).first->second);
  std::size_t prefix = 0;
  while (prefix < x.size() && prefix < y.size() && x[prefix] == y[prefix]) ++prefix;
  std::size_t suffix = 0;
  while (suffix < x.size() - prefix && suffix < y.size() - prefix &&
         x[x.size() - 1 - suffix] == y[y.size() - 1 - suffix]) {
    ++suffix;
  }
  std::vector<std::pair<std::size_t, std::size_t>> matches;
  for (std::size_t i = 0; i < prefix; ++i) matches.emplace_back(i, i);
  lcs(x.data() + prefix, x.size() - prefix - suffix, prefix, y.data() + prefix, y.size() - prefix - suffix, prefix,
      matches);
  for (std::size_t k = suffix; k > 0; --k) matches.emplace_back(x.size() - k, y.size() - k);

  std::vector<edit> edits;
  std::size_t i = 0, j = 0;
  for (const auto& [mi, mj] : matches) {
    for (; i < mi; ++i) edits.push_back({'-', i, j, a[i]});
    for (; j < mj; ++j) edits.push_back({'+', i, j, b[j]});
    edits.push_back({' ', i, j, a[i]});
    ++i;
    ++j;
  }
  for (; i < a.size(); ++i) edits.push_back({'-', i, j, a[i]});
  for (; j < b.size(); ++j) edits.push_back({'+', i, j, b[j]});
  return edits;
}

std::string hunk_range(std::size_t start, std::size_t count) {
  // GNU style: 1-based start; a count of 1 is implied; an empty range names the line before it.
  if (count == 0) return std::to_string(start) + ",0";
  if (count == 1) return std::to_string(start + 1);
  return std::to_string(start + 1) + "," + std::to_string(count);
}

std::string unified_diff(std::string_view name, std::string_view before, std::string_view after) {
  constexpr std::size_t context = 3;
  const auto a = split_lines(before);
  const auto b = split_lines(after);
  const auto edits = line_edits(a, b);
  std::string out;
  std::size_t k = 0;
  while (k < edits.size()) {
    while (k < edits.size() && edits[k].kind == ' ') ++k;
    if (k == edits.size()) break;
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is no more than 2 * context unchanged lines from the previous one.
    std::size_t begin = k >= context ? k - context : 0;
    for (std::size_t c = begin; c < k; ++c) {
      if (edits[c].kind != ' ') begin = c + 1;
    }
    std::size_t end = k;
    std::size_t last_change = k;
    while (end < edits.size()) {
      if (edits[end].kind != ' ') {
        last_change = end;
      } else if (end - last_change > 2 * context) {
        break;
      }
      ++end;
    }
    end = std::min(edits.size(), last_change + 1 + context);
    std::size_t old_count = 0, new_count = 0;
    for (std::size_t c = begin; c < end; ++c) {
      if (edits[c].kind != '+') ++old_count;
      if (edits[c].kind != '-') ++new_count;
    }
    if (out.empty()) {
      out += "--- a/" + std::string(name) + "\n";
      out += "+++ b/" + std::string(name) + "\n";
    }
    out += "@@ -" + hunk_range(edits[begin].old_line, old_count) + " +" + hunk_range(edits[begin].new_line, new_count) +
           " @@\n";
    for (std::size_t c = begin; c < end; ++c) {
      out += edits[c].kind;
      out += edits[c].text;
      if (edits[c].text.empty() || edits[c].text.back() != '\n') out += "\n\\ No newline at end of file\n";
    }
    k = end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Files

bool read_file(const fs::path& path, std::string& text, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return false;
  }
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    error = "read error";
    return false;
  }
  return true;
}

// Replaces `path` with `text` through a temporary file in the same directory and a rename, so a
// reader sees either the old file or the new one. The file's permission bits are kept.
bool write_atomically(const fs::path& path, std::string_view text, std::string& error) {
  std::error_code ec;
  fs::path target = path;
  if (fs::is_symlink(path, ec)) target = fs::canonical(path, ec);  // rewrite the file, keep the link
  if (ec) {
    error = ec.message();
    return false;
  }
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string temp = (dir / ("." + target.filename().string() + ".fmt-XXXXXX")).string();
  const int fd = mkstemp(temp.data());
  if (fd < 0) {
    error = std::string("cannot create a temporary file: ") + std::strerror(errno);
    return false;
  }
  auto fail = [&](const char* what) {
    error = std::string(what) + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return false;
  };
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0 && ::fchmod(fd, st.st_mode & 07777) != 0) return fail("cannot set permissions");
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write failed");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync failed");
  if (::close(fd) != 0) {
    error = std::string("close failed: ") + std::strerror(errno);
    ::unlink(temp.c_str());
    return false;
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    error = std::string("rename failed: ") + std::strerror(errno);
    ::unlink(temp.c_str());
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

struct formatter_run {
  const fmt_options& opts;
  bool color = false;
  int exit_code = exit_ok;

  void raise(int code) { exit_code = std::max(exit_code, code); }

  // Formats one file's text. Returns nullopt (after printing its diagnostics) when it does not parse.
  std::optional<std::string> format(const std::string& name, std::string text) {
    dsl::source_manager sources;
    dsl::diagnostics diags;
    const auto id = sources.add(name, std::move(text));
    const auto module = dsl::parse(sources.get(id), id, diags);
    if (diags.has_errors()) {
      diags.finish();
      std::cerr << dsl::render_text(diags.items(), sources, {color});
      std::cerr << "agentos fmt: " << name << " was not formatted: " << dsl::render_summary(diags.items()) << "\n";
      raise(exit_findings);
      return std::nullopt;
    }
    return dsl::format_module(module, sources.get(id));
  }

  // Reports or applies a difference; `write` replaces the original when neither flag is given.
  template <typename Write>
  void apply(const std::string& name, const std::string& before, const std::string& after, Write write) {
    if (before == after) return;
    if (opts.diff) std::cout << unified_diff(name, before, after);
    if (opts.check) std::cout << "would reformat: " << name << "\n";
    if (opts.check || opts.diff) {
      raise(exit_findings);
      return;
    }
    write();
  }

  void run_stdin() {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    const std::string before = buffer.str();
    const auto after = format("<stdin>", before);
    if (!after) return;
    if (!opts.check && !opts.diff) {
      std::cout << *after;
      return;
    }
    apply("<stdin>", before, *after, [] {});
  }

  void run_file(const fs::path& path) {
    const std::string name = path.string();
    std::string before, error;
    if (!read_file(path, before, error)) {
      std::cerr << "agentos fmt: cannot read " << name << ": " << error << "\n";
      raise(exit_usage);
      return;
    }
    const auto after = format(name, before);
    if (!after) return;
    apply(name, before, *after, [&] {
      if (!write_atomically(path, *after, error)) {
        std::cerr << "agentos fmt: cannot write " << name << ": " << error << "\n";
        raise(exit_usage);
        return;
      }
      std::cout << "reformatted: " << name << "\n";
    });
  }
};

int run_fmt(const fmt_options& o) {
  if (o.color != "auto" && o.color != "always" && o.color != "never") {
    std::cerr << "agentos fmt: unknown color mode `" << o.color << "` (use auto, always or never)\n";
    return exit_usage;
  }
  std::vector<std::string> file_args;
  bool use_stdin = false;
  for (const auto& p : o.paths) {
    if (p == "-") use_stdin = true;
    else file_args.push_back(p);
  }
  std::vector<std::string> missing;
  const auto files = dsl::expand_paths(file_args, missing);
  for (const auto& m : missing) std::cerr << "agentos fmt: no such file or directory: " << m << "\n";
  if (!missing.empty()) return exit_usage;
  if (files.empty() && !use_stdin) {
    std::cerr << "agentos fmt: no .policy files found\n";
    return exit_usage;
  }

  formatter_run run{o};
  run.color = o.color == "always" || (o.color == "auto" && isatty(STDERR_FILENO) != 0);
  std::set<fs::path> seen;
  for (const auto& f : files) {
    std::error_code ec;
    auto key = fs::weakly_canonical(f, ec);
    if (ec) key = f;
    if (!seen.insert(key).second) continue;
    run.run_file(f);
  }
  if (use_stdin) run.run_stdin();
  return run.exit_code;
}

}  // namespace

void register_fmt(CLI::App& app, command_result& result) {
  auto opts = std::make_shared<fmt_options>();
  auto* cmd = app.add_subcommand("fmt", "Format policy files in the canonical layout, keeping comments");
  cmd->add_option("paths", opts->paths,
                  "Policy files or directories (searched recursively for *.policy); `-` reads stdin and writes stdout")
      ->required();
  cmd->add_flag("--check", opts->check, "Do not write; list the files that would change and exit 1 if any would");
  cmd->add_flag("--diff", opts->diff, "Do not write; print a unified diff of the changes and exit 1 if any");
  cmd->add_option("--color", opts->color, "Colour diagnostics: auto, always or never")->capture_default_str();
  cmd->footer(
      "Without --check or --diff, files are rewritten in place (atomically) when their layout changes.\n"
      "A file with syntax errors is never rewritten; its diagnostics are printed.\n"
      "Exit status: 0 when nothing changed or needs to, 1 when a file would change or does not parse,\n"
      "2 on usage or I/O errors.");
  cmd->callback([opts, &result] { result.exit_code = run_fmt(*opts); });
}

}  // namespace agentos::cli
