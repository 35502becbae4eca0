#include "dsl/loader.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace agentos::dsl {

namespace fs = std::filesystem;

file_provider::status disk_files::read(const fs::path& path, std::string& text, std::string& error) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) return status::not_found;
  if (ec) {  // exists but cannot be examined: a symlink loop, a permission denied on the way
    error = ec.message();
    return status::unreadable;
  }
  if (fs::is_directory(st)) return status::is_directory;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open file";
    return status::unreadable;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = "read error";
    return status::unreadable;
  }
  text = std::move(buffer).str();
  return status::ok;
}

workspace::workspace(source_manager& sources, diagnostics& out, file_provider& files, parse_limits limits)
    : m_sources(sources), m_out(out), m_files(files), m_limits(limits) {}

namespace {
std::string canonical_key(const fs::path& p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(p, ec);
  return (ec ? p.lexically_normal() : c).string();
}

std::string display_name(const fs::path& p) {
  // Keep names relative to the working directory when they are below it, as compilers do.
  std::error_code ec;
  const auto rel = fs::proximate(p, ec);
  if (!ec && !rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return p.generic_string();
}
}  // namespace

workspace::file_entry* workspace::open(const fs::path& canonical) {
  const std::string key = canonical.string();
  if (auto it = m_cache.find(key); it != m_cache.end()) return &it->second;
  std::string text, error;
  const auto st = m_files.read(canonical, text, error);
  if (st != file_provider::status::ok) return nullptr;
  file_entry f;
  f.id = m_sources.add(display_name(canonical), std::move(text));
  return &m_cache.emplace(key, std::move(f)).first->second;
}

ast::module workspace::take_module(file_entry& f) {
  if (f.parsed) {
    ast::module m = std::move(*f.parsed);
    f.parsed.reset();
    return m;
  }
  return parse(m_sources.get(f.id), f.id, m_out, m_limits);
}

std::optional<loaded_set> workspace::load(const fs::path& entry) {
  const fs::path canonical = canonical_key(entry);
  file_entry* f = open(canonical);
  if (f == nullptr) {
    std::string text, error;
    const auto st = m_files.read(canonical, text, error);
    const char* code = st == file_provider::status::is_directory ? "E2002"
                       : st == file_provider::status::not_found  ? "E2001"
                                                                 : "E2004";
    m_out.emplace(code, span{}, "cannot read `" + entry.generic_string() + "`" + (error.empty() ? "" : ": " + error));
    return std::nullopt;
  }
  loaded_set out;
  out.entry = f->id;
  std::vector<std::string> stack;
  std::map<std::string, bool> done;
  visit(canonical, take_module(*f), stack, out, done);
  return out;
}

std::optional<loaded_set> workspace::load_text(const std::string& name, std::string text) {
  const file_id id = m_sources.add(name, std::move(text));
  loaded_set out;
  out.entry = id;
  std::vector<std::string> stack;
  std::map<std::string, bool> done;
  visit(fs::absolute(name), parse(m_sources.get(id), id, m_out, m_limits), stack, out, done);
  return out;
}

void workspace::visit(const fs::path& canonical, ast::module m, std::vector<std::string>& stack, loaded_set& out,
                      std::map<std::string, bool>& done) {
  const std::string key = canonical.string();
  done[key] = false;  // in progress
  stack.push_back(key);
  std::map<std::string, span> seen_here;  // canonical target -> first import of it
  for (const auto& imp : m.imports) {
    const fs::path target = canonical_key(canonical.parent_path() / imp.path.value);
    const std::string tkey = target.string();
    if (const auto [first, inserted] = seen_here.try_emplace(tkey, imp.where); !inserted) {
      auto& d = m_out.emplace("W0101", imp.where, "`" + imp.path.value + "` is imported twice by this file");
      d.labels.push_back({first->second, "first imported here"});
      d.help = "remove this import; both name " + display_name(target);
      continue;
    }
    if (auto it = done.find(tkey); it != done.end()) {
      if (!it->second) {
        auto& d = m_out.emplace("E2003", imp.where,
                                tkey == key ? "this file imports itself" : "importing `" + imp.path.value + "` forms a cycle");
        if (tkey != key) {
          std::string chain;
          for (auto s = std::find(stack.begin(), stack.end(), tkey); s != stack.end(); ++s) {
            chain += display_name(*s) + " -> ";
          }
          d.notes.push_back("import chain: " + chain + display_name(tkey));
        }
        d.help = tkey == key ? "remove this import: a file's own declarations need no import"
                             : "move what both files need into a third file that both import";
      }
      continue;  // already loaded (diamond) or a cycle (reported)
    }
    file_entry* f = open(target);
    if (f == nullptr) {
      std::string text, error;
      const auto st = m_files.read(target, text, error);
      if (st == file_provider::status::is_directory) {
        m_out.emplace("E2002", imp.where, "`" + imp.path.value + "` is a directory, not a policy file").help =
            "an import names one `.policy` file; import the files of the directory one by one";
      } else if (st == file_provider::status::not_found) {
        auto& d = m_out.emplace("E2001", imp.where, "cannot find `" + imp.path.value + "`");
        d.notes.push_back("imports are resolved relative to the importing file: looked for " + display_name(target));
      } else {
        m_out.emplace("E2004", imp.where, "cannot read `" + imp.path.value + "`: " + error);
      }
      continue;
    }
    visit(target, take_module(*f), stack, out, done);
  }
  stack.pop_back();
  done[key] = true;
  out.modules.push_back(std::move(m));
}

std::vector<fs::path> workspace::entry_points(const std::vector<fs::path>& files) {
  std::set<std::string> imported;
  for (const auto& file : files) {
    const fs::path canonical = canonical_key(file);
    file_entry* f = open(canonical);
    if (f == nullptr) continue;
    if (!f->parsed) f->parsed = parse(m_sources.get(f->id), f->id, m_out, m_limits);
    for (const auto& imp : f->parsed->imports) {
      imported.insert(canonical_key(canonical.parent_path() / imp.path.value));
    }
  }
  std::vector<fs::path> entries;
  for (const auto& file : files) {
    if (!imported.contains(canonical_key(file))) entries.push_back(file);
  }
  // Files that import each other in a cycle (or a file that imports itself) are all imported, so
  // none would be an entry and the cycle would go unchecked and unreported. Every file that no
  // entry reaches makes the first such file (in the given order) an entry, until all are reached.
  std::set<std::string> reached;
  auto reach = [&](const fs::path& from) {
    std::vector<std::string> pending{canonical_key(from)};
    while (!pending.empty()) {
      const std::string key = std::move(pending.back());
      pending.pop_back();
      if (!reached.insert(key).second) continue;
      const auto it = m_cache.find(key);
      if (it == m_cache.end() || !it->second.parsed) continue;
      for (const auto& imp : it->second.parsed->imports) pending.push_back(canonical_key(fs::path(key).parent_path() / imp.path.value));
    }
  };
  for (const auto& e : entries) reach(e);
  for (const auto& file : files) {
    if (reached.contains(canonical_key(file))) continue;
    entries.push_back(file);
    reach(file);
  }
  return entries;
}

std::vector<fs::path> expand_paths(const std::vector<std::string>& args, std::vector<std::string>& missing,
                                   std::string_view suffix) {
  std::vector<fs::path> out;
  for (const auto& a : args) {
    std::error_code ec;
    const fs::path p(a);
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (it->is_regular_file(ec) && name.size() > suffix.size() && name.ends_with(suffix)) found.push_back(it->path());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.push_back(p);
    } else {
      missing.push_back(a);
    }
  }
  return out;
}

}  // namespace agentos::dsl
