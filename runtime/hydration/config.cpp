// Loading hydration.json: nlohmann's parser (comments allowed) for the syntax, then one strict
// pass over the document that reports every problem with its JSON pointer.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/hydration/hydration.hpp"
#include "runtime/hydration/manifest.hpp"

namespace agentos::runtime::hydration {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t max_config_bytes = std::size_t{4} << 20;
constexpr std::size_t max_name_bytes = 200;  // leaves room for the temporary link's suffix under NAME_MAX

std::string pointer_token(std::string_view key) {
  std::string out;
  for (const char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string join(const std::string& pointer, std::string_view key) { return pointer + "/" + pointer_token(key); }
std::string join(const std::string& pointer, std::size_t index) { return pointer + "/" + std::to_string(index); }

// nlohmann reports the byte count read when it failed; line and column are computed from it.
void locate(std::string_view text, std::size_t byte, error& e) {
  std::size_t offset = byte == 0 ? 0 : byte - 1;
  offset = std::min(offset, text.size());
  const auto before = text.substr(0, offset);
  e.line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const auto last_newline = before.rfind('\n');
  e.column = last_newline == std::string_view::npos ? offset + 1 : offset - last_newline;
}

// "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." → "syntax error ..."
std::string parse_message(const char* what) {
  const std::string_view w(what);
  const auto at = w.find("parse error");
  if (at != std::string_view::npos) {
    const auto colon = w.find(": ", at);
    if (colon != std::string_view::npos) return std::string(w.substr(colon + 2));
  }
  return std::string(w);
}

class validator {
public:
  validator(fs::path file, std::vector<error>& errors) : m_file(std::move(file)), m_errors(errors) {
    m_dir = m_file.parent_path();
  }

  void fail(const std::string& pointer, std::string message, std::string code = "hydration.config_invalid") {
    m_errors.push_back({std::move(code), std::move(message), m_file, 0, 0, pointer});
  }

  void keys(const json& obj, const std::string& pointer, std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : obj.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string list;
      for (const auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(join(pointer, key), "unknown key `" + key + "` (expected " + list + ")");
    }
  }

  // A list of skill names: valid, not empty, none twice.
  std::vector<std::string> names(const json& v, const std::string& pointer) {
    std::vector<std::string> out;
    if (!v.is_array()) {
      fail(pointer, "expected an array of skill names, found " + std::string(v.type_name()));
      return out;
    }
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto at = join(pointer, i);
      if (!v[i].is_string()) {
        fail(at, "expected a skill name (a string), found " + std::string(v[i].type_name()));
        continue;
      }
      const auto& name = v[i].get_ref<const std::string&>();
      if (name.empty()) {
        fail(at, "empty skill name");
        continue;
      }
      if (!valid_skill_name(name)) {
        fail(at, "`" + name + "` is not a valid skill name (one path component: [A-Za-z0-9][A-Za-z0-9._-]*, at most " +
                     std::to_string(max_name_bytes) + " bytes)");
        continue;
      }
      if (const auto [it, fresh] = seen.emplace(name, i); !fresh) {
        fail(at, "`" + name + "` is listed twice (first at " + join(pointer, it->second) + ")");
        continue;
      }
      out.push_back(name);
    }
    return out;
  }

  std::optional<std::string> nonempty_string(const json& obj, std::string_view key, const std::string& pointer,
                                             bool required) {
    const auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(pointer, "missing key `" + std::string(key) + "`");
      return std::nullopt;
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      fail(join(pointer, key), "`" + std::string(key) + "` must be a non-empty string");
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  fs::path absolute(const std::string& written) const {
    const fs::path p(written);
    return (p.is_absolute() ? p : m_dir / p).lexically_normal();
  }

  void roots(const json& v, config& cfg) {
    if (!v.is_array() || v.empty()) {
      fail("/roots", "`roots` must be a non-empty array of directories");
      return;
    }
    std::map<fs::path, std::size_t> seen;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto at = join("/roots", i);
      if (!v[i].is_string() || v[i].get_ref<const std::string&>().empty()) {
        fail(at, "a root must be a non-empty string");
        continue;
      }
      const auto& written = v[i].get_ref<const std::string&>();
      const auto path = absolute(written);
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        fail(at,
             "source root `" + written + "` " +
                 (err == ENOENT ? std::string("does not exist") : "cannot be read: " + std::string(std::strerror(err))) +
                 " (" + path.string() + ")",
             "hydration.root_missing");
        continue;
      }
      if (!S_ISDIR(st.st_mode)) {
        fail(at, "source root `" + written + "` is not a directory (" + path.string() + ")", "hydration.root_missing");
        continue;
      }
      std::error_code ec;
      auto canonical = fs::canonical(path, ec);
      if (ec) {
        fail(at, "source root `" + written + "` cannot be resolved: " + ec.message(), "hydration.root_missing");
        continue;
      }
      if (const auto [it, fresh] = seen.emplace(canonical, i); !fresh) {
        fail(at, "source root `" + written + "` is listed twice (first at " + join("/roots", it->second) + ")");
        continue;
      }
      cfg.roots.push_back(std::move(canonical));
    }
  }

  void workspaces(const json& v, config& cfg) {
    if (!v.is_array()) {
      fail("/workspaces", "`workspaces` must be an array of objects");
      return;
    }
    std::map<fs::path, std::size_t> paths;               // weakly canonical path → index
    std::map<std::string, std::size_t> agent_workspace;  // agent → index
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto at = join("/workspaces", i);
      const auto& w = v[i];
      if (!w.is_object()) {
        fail(at, "a workspace must be an object with `path`, `project` and `agents`");
        continue;
      }
      keys(w, at, {"path", "project", "agents"});
      workspace ws;
      bool ok = true;
      if (const auto p = nonempty_string(w, "path", at, true)) {
        ws.path = absolute(*p);
        std::error_code ec;
        const auto key = fs::weakly_canonical(ws.path, ec);
        if (const auto [it, fresh] = paths.emplace(ec ? ws.path : key, i); !fresh) {
          fail(join(at, "path"), "workspace `" + *p + "` is listed twice (first at " +
                                     join("/workspaces", it->second) + ")");
          ok = false;
        }
      } else {
        ok = false;
      }
      if (const auto p = nonempty_string(w, "project", at, true)) {
        ws.project = *p;
        if (m_projects.count(ws.project) == 0) {
          fail(join(at, "project"), "project `" + ws.project + "` has no entry in `project_defaults` (add `\"" +
                                        ws.project + "\": []` if it has no project skills)");
          ok = false;
        }
      } else {
        ok = false;
      }
      if (const auto a = w.find("agents"); a != w.end()) {
        const auto agents_at = join(at, "agents");
        if (!a->is_array()) {
          fail(agents_at, "`agents` must be an array of agent names");
          ok = false;
        } else {
          for (std::size_t j = 0; j < a->size(); ++j) {
            const auto& agent = (*a)[j];
            if (!agent.is_string() || agent.get_ref<const std::string&>().empty()) {
              fail(join(agents_at, j), "an agent name must be a non-empty string");
              ok = false;
              continue;
            }
            const auto& name = agent.get_ref<const std::string&>();
            if (const auto [it, fresh] = agent_workspace.emplace(name, i); !fresh) {
              fail(join(agents_at, j), it->second == i ? "agent `" + name + "` is listed twice in this workspace"
                                                       : "agent `" + name + "` is already in workspace " +
                                                             join("/workspaces", it->second));
              ok = false;
              continue;
            }
            ws.agents.push_back(name);
          }
        }
      }
      if (ok) cfg.workspaces.push_back(std::move(ws));
    }
  }

  void document(const json& doc, config& cfg) {
    if (!doc.is_object()) {
      fail("", "the configuration must be a JSON object");
      return;
    }
    keys(doc, "", {"roots", "global_defaults", "shared_integrations", "project_defaults", "workspaces"});
    if (const auto it = doc.find("roots"); it != doc.end())
      roots(*it, cfg);
    else
      fail("", "missing key `roots`");
    if (const auto it = doc.find("global_defaults"); it != doc.end()) cfg.global_defaults = names(*it, "/global_defaults");
    if (const auto it = doc.find("shared_integrations"); it != doc.end())
      cfg.shared_integrations = names(*it, "/shared_integrations");
    if (const auto it = doc.find("project_defaults"); it != doc.end()) {
      if (!it->is_object()) {
        fail("/project_defaults", "`project_defaults` must be an object: project name → array of skill names");
      } else {
        for (const auto& [project, list] : it->items()) {
          m_projects.insert(project);
          const auto at = join("/project_defaults", project);
          if (project.empty()) {
            fail(at, "empty project name");
            continue;
          }
          cfg.project_defaults[project] = names(list, at);
        }
      }
    }
    if (const auto it = doc.find("workspaces"); it != doc.end())
      workspaces(*it, cfg);
    else
      fail("", "missing key `workspaces`");
  }

private:
  fs::path m_file;
  fs::path m_dir;
  std::vector<error>& m_errors;
  std::set<std::string> m_projects;
};

}  // namespace

std::string location(const error& e) {
  std::string out = e.file.string();
  if (e.line != 0) return out + ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
  if (!e.pointer.empty()) return out + "#" + e.pointer;
  return out;
}

std::string to_text(const error& e) { return location(e) + ": error[" + e.code + "]: " + e.message; }

bool valid_skill_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_name_bytes) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

std::vector<std::string> effective_names(const config& cfg, std::string_view project) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  const auto add = [&](const std::vector<std::string>& list) {
    for (const auto& n : list)
      if (seen.insert(n).second) out.push_back(n);
  };
  add(cfg.global_defaults);
  add(cfg.shared_integrations);
  if (const auto it = cfg.project_defaults.find(std::string(project)); it != cfg.project_defaults.end()) add(it->second);
  return out;
}

load_result load_config(const fs::path& file) {
  load_result out;
  const auto absolute = fs::absolute(file).lexically_normal();
  std::string text;
  if (const int err = detail::read_small_file(absolute, max_config_bytes, text); err != 0) {
    out.errors.push_back({"hydration.io",
                          err == EFBIG ? "the configuration is larger than 4 MiB"
                                       : "cannot read the configuration: " + std::string(std::strerror(err)),
                          file, 0, 0, ""});
    return out;
  }
  json doc;
  try {
    doc = json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    error err{"hydration.config_syntax", parse_message(e.what()), file, 0, 0, ""};
    locate(text, e.byte, err);
    out.errors.push_back(std::move(err));
    return out;
  }
  config cfg;
  cfg.file = absolute;
  // Relative paths are taken from the absolute file's directory, so they do not depend on how
  // `file` was spelled; errors name `file` as the caller gave it.
  validator(absolute, out.errors).document(doc, cfg);
  for (auto& e : out.errors) e.file = file;
  if (out.errors.empty()) out.cfg = std::move(cfg);
  return out;
}

}  // namespace agentos::runtime::hydration
