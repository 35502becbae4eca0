// Resolution, planning and hydration of one workspace. Planning reads the tree once (one
// directory read, an lstat and for links a readlink and a stat per entry) and classifies each
// entry; hydrate() does the same under the workspace lock and then carries the actions out.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "runtime/hydration/hydration.hpp"
#include "runtime/hydration/manifest.hpp"

namespace agentos::runtime::hydration {

namespace fs = std::filesystem;

namespace {

error io_error(const fs::path& path, const std::string& what, int err) {
  return {"hydration.io", what + ": " + std::strerror(err), path, 0, 0, ""};
}

std::string declaration_pointer(const config& cfg, std::string_view project, const std::string& name) {
  const auto index = [&](const std::vector<std::string>& list) -> std::optional<std::size_t> {
    const auto it = std::find(list.begin(), list.end(), name);
    if (it == list.end()) return std::nullopt;
    return static_cast<std::size_t>(it - list.begin());
  };
  if (const auto i = index(cfg.global_defaults)) return "/global_defaults/" + std::to_string(*i);
  if (const auto i = index(cfg.shared_integrations)) return "/shared_integrations/" + std::to_string(*i);
  if (const auto it = cfg.project_defaults.find(std::string(project)); it != cfg.project_defaults.end()) {
    if (const auto i = index(it->second)) return "/project_defaults/" + std::string(project) + "/" + std::to_string(*i);
  }
  return "";
}

struct entry {
  enum class type { symlink, directory, other } kind = type::other;
  std::string target;          // a symlink's target
  bool target_is_dir = false;  // a symlink that resolves to an existing directory
  bool managed = false;
};

struct listing {
  std::map<std::string, entry> entries;  // skill-like names (not starting with '.')
  std::vector<std::string> leftovers;    // temporary names of an interrupted run
};

// Exactly the temporary names hydrate makes: ".<skill>.tmp.<pid>.<16 hex>" (a link) and
// ".agentos-hydration.json.tmp.<pid>.<16 hex>" (the manifest). A person's hidden file that merely
// looks similar is not one of them.
bool is_leftover(const std::string& name) {
  constexpr std::size_t hex_digits = 16;
  if (name.size() < 2 + hex_digits || name[0] != '.') return false;
  const auto last_dot = name.size() - hex_digits - 1;
  if (name[last_dot] != '.') return false;
  if (!std::all_of(name.begin() + static_cast<std::ptrdiff_t>(last_dot) + 1, name.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return false;
  const auto pid_dot = name.rfind('.', last_dot - 1);
  if (pid_dot == std::string::npos || pid_dot + 1 == last_dot ||
      !std::all_of(name.begin() + static_cast<std::ptrdiff_t>(pid_dot) + 1,
                   name.begin() + static_cast<std::ptrdiff_t>(last_dot), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  constexpr std::string_view tmp = ".tmp";
  if (pid_dot < 1 + tmp.size() || name.compare(pid_dot - tmp.size(), tmp.size(), tmp) != 0) return false;
  const auto base = std::string_view(name).substr(1, pid_dot - tmp.size() - 1);
  return base == detail::manifest_name + 1 || valid_skill_name(base);
}

// One read of `skills_dir`. A missing directory is an empty listing.
std::optional<error> list_entries(const fs::path& skills_dir, listing& out) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(skills_dir.c_str()), &::closedir);
  if (!dir) {
    if (errno == ENOENT) return std::nullopt;
    return io_error(skills_dir, "cannot read the skills directory", errno);
  }
  for (;;) {
    errno = 0;
    const dirent* d = ::readdir(dir.get());
    if (d == nullptr) {
      if (errno != 0) return io_error(skills_dir, "cannot read the skills directory", errno);
      return std::nullopt;
    }
    const std::string name = d->d_name;
    if (name == "." || name == "..") continue;
    if (name[0] == '.') {
      if (is_leftover(name)) out.leftovers.push_back(name);
      continue;
    }
    const auto path = skills_dir / name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // removed since the directory was read
      return io_error(path, "cannot inspect the entry", errno);
    }
    entry e;
    if (S_ISLNK(st.st_mode)) {
      e.kind = entry::type::symlink;
      int err = 0;
      auto target = detail::read_link(path, err);
      if (!target) {
        if (err == ENOENT) continue;
        return io_error(path, "cannot read the link", err);
      }
      e.target = std::move(*target);
      struct stat resolved {};
      e.target_is_dir = ::stat(path.c_str(), &resolved) == 0 && S_ISDIR(resolved.st_mode);
    } else if (S_ISDIR(st.st_mode)) {
      e.kind = entry::type::directory;
    }
    out.entries.emplace(name, std::move(e));
  }
}

struct scan {
  plan p;
  detail::manifest before;
  detail::manifest after;  // the manifest once the planned actions are carried out
  std::vector<std::string> leftovers;
};

// Classifies every entry of the workspace's skills directory against its resolved skills.
void scan_workspace(scan& s) {
  plan& p = s.p;
  std::string problem;
  auto before = detail::read_manifest(p.skills_dir, problem);
  if (!before) {
    p.errors.push_back({"hydration.manifest_invalid", problem, p.skills_dir / detail::manifest_name, 0, 0, ""});
    return;
  }
  s.before = std::move(*before);
  listing l;
  if (auto e = list_entries(p.skills_dir, l)) {
    p.errors.push_back(std::move(*e));
    return;
  }
  s.leftovers = std::move(l.leftovers);
  for (auto& [name, e] : l.entries) {
    const auto it = s.before.find(name);
    e.managed = e.kind == entry::type::symlink && it != s.before.end() && it->second.count(e.target) != 0;
  }

  std::set<std::string> expected;
  for (const auto& skill : p.skills) {
    expected.insert(skill.name);
    const auto link = p.skills_dir / skill.name;
    const auto source = skill.source.string();
    const auto it = l.entries.find(skill.name);
    if (it == l.entries.end()) {
      p.findings.push_back({finding_kind::missing, skill.name, link, "no entry; expected a link to " + source});
      p.actions.push_back({action_kind::create, skill.name, link, skill.source, {}});
      s.after[skill.name] = {source};
      continue;
    }
    const entry& e = it->second;
    if (e.managed) {
      s.after[skill.name] = {source};
      if (!e.target_is_dir) {
        p.findings.push_back({finding_kind::dangling, skill.name, link,
                              "links to " + e.target + ", which no longer exists; the source is " + source});
        p.actions.push_back({action_kind::replace, skill.name, link, skill.source, e.target});
      } else if (e.target != source) {
        p.findings.push_back({finding_kind::stale, skill.name, link,
                              "links to " + e.target + "; the resolved source is " + source});
        p.actions.push_back({action_kind::replace, skill.name, link, skill.source, e.target});
      }
    } else if (e.kind == entry::type::symlink) {
      p.findings.push_back({finding_kind::shadowed, skill.name, link,
                            "a symlink hydrate does not manage (to " + e.target + ") occupies the name; expected a link to " +
                                source + ". hydrate leaves it: remove it and run hydrate to replace it"});
    } else {
      p.findings.push_back({finding_kind::unmanaged_copy, skill.name, link,
                            std::string("a ") + (e.kind == entry::type::directory ? "directory" : "file") +
                                " hydrate does not manage (a hand copy?) occupies the name; expected a link to " + source +
                                ". hydrate leaves it: remove it and run hydrate to replace it"});
    }
  }
  for (const auto& [name, e] : l.entries) {
    if (expected.count(name) != 0) continue;
    const auto link = p.skills_dir / name;
    if (e.managed) {
      if (!e.target_is_dir)
        p.findings.push_back({finding_kind::dangling, name, link,
                              "links to " + e.target + ", which no longer exists, and is not in the effective set"});
      else
        p.findings.push_back({finding_kind::stale, name, link, "links to " + e.target + " but is no longer in the effective set"});
      p.actions.push_back({action_kind::remove, name, link, {}, e.target});
    } else {
      p.findings.push_back({finding_kind::unmanaged, name, link,
                            "not in the effective set and not managed by hydrate; left alone"});
    }
  }
}

// The workspace directory and the resolved skills, shared by make_plan and hydrate.
plan prepare(const config& cfg, const workspace& ws) {
  plan p;
  p.ws = ws;
  p.skills_dir = ws.path / ".agents" / "skills";
  struct stat st {};
  if (::stat(ws.path.c_str(), &st) != 0) {
    const int err = errno;
    p.errors.push_back({"hydration.workspace_missing",
                        err == ENOENT ? std::string("the workspace directory does not exist")
                                      : "cannot reach the workspace directory: " + std::string(std::strerror(err)),
                        ws.path, 0, 0, ""});
    return p;
  }
  if (!S_ISDIR(st.st_mode)) {
    p.errors.push_back({"hydration.workspace_missing", "the workspace is not a directory", ws.path, 0, 0, ""});
    return p;
  }
  auto r = resolve(cfg, ws.project);
  p.skills = std::move(r.skills);
  p.errors = std::move(r.errors);
  return p;
}

// Which of the recorded names still are our links, each with the one target it now has.
detail::manifest reconcile(const fs::path& skills_dir, const detail::manifest& recorded) {
  detail::manifest out;
  for (const auto& [name, targets] : recorded) {
    int err = 0;
    const auto target = detail::read_link(skills_dir / name, err);
    if (target && targets.count(*target) != 0) out[name] = {*target};
  }
  return out;
}

std::optional<error> carry_out(const action& a) {
  switch (a.kind) {
    case action_kind::create:
      // symlink() is atomic on its own and, unlike a rename, never replaces an entry that
      // appeared since the plan was made.
      if (::symlink(a.target.c_str(), a.link.c_str()) != 0) return io_error(a.link, "cannot create the link", errno);
      return std::nullopt;
    case action_kind::replace: {
      const auto temp = a.link.parent_path() / ("." + a.name + ".tmp" + detail::unique_suffix());
      if (::symlink(a.target.c_str(), temp.c_str()) != 0) return io_error(temp, "cannot create the link", errno);
      if (::rename(temp.c_str(), a.link.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return io_error(a.link, "cannot replace the link", err);
      }
      return std::nullopt;
    }
    case action_kind::remove:
      if (::unlink(a.link.c_str()) != 0 && errno != ENOENT) return io_error(a.link, "cannot remove the link", errno);
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<error> make_directory(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return std::nullopt;
  const int err = errno;
  struct stat st {};
  if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return std::nullopt;
  return io_error(dir, "cannot create the directory", err == EEXIST ? ENOTDIR : err);
}

std::optional<error> write_manifest(const fs::path& skills_dir, const detail::manifest& m) {
  const auto file = skills_dir / detail::manifest_name;
  if (const int err = detail::write_atomically(file, detail::manifest_text(m)); err != 0)
    return io_error(file, "cannot write the manifest", err);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(action_kind k) noexcept {
  switch (k) {
    case action_kind::create: return "create";
    case action_kind::replace: return "replace";
    case action_kind::remove: return "remove";
  }
  return "?";
}

std::string_view to_string(finding_kind k) noexcept {
  switch (k) {
    case finding_kind::missing: return "missing";
    case finding_kind::stale: return "stale";
    case finding_kind::dangling: return "dangling";
    case finding_kind::shadowed: return "shadowed";
    case finding_kind::unmanaged_copy: return "unmanaged_copy";
    case finding_kind::unmanaged: return "unmanaged";
  }
  return "?";
}

bool is_drift(finding_kind k) noexcept { return k != finding_kind::unmanaged; }

std::size_t plan::drift() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(findings.begin(), findings.end(), [](const finding& f) { return is_drift(f.kind); }));
}

resolution resolve(const config& cfg, std::string_view project) {
  resolution out;
  if (cfg.project_defaults.count(std::string(project)) == 0) {
    out.errors.push_back({"hydration.unknown_project",
                          "project `" + std::string(project) + "` has no entry in `project_defaults`", cfg.file, 0, 0,
                          "/project_defaults"});
    return out;
  }
  for (const auto& name : effective_names(cfg, project)) {
    resolved_skill skill{name, {}, {}};
    bool found = false;
    bool failed = false;
    for (const auto& root : cfg.roots) {
      const auto path = root / name;
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) continue;  // a file of that name is not a skill
        if (!found)
          skill.source = path;
        else
          skill.shadows.push_back(path);
        found = true;
        continue;
      }
      const int err = errno;
      if (err == ENOENT || err == ENOTDIR || found) continue;  // a broken lower-priority entry is shadowed anyway
      if (err == ELOOP)
        out.errors.push_back({"hydration.source_loop",
                              "the source of skill `" + name + "` is a symlink loop: " + path.string(), path, 0, 0, ""});
      else
        out.errors.push_back(io_error(path, "cannot read the source of skill `" + name + "`", err));
      failed = true;
      break;
    }
    if (failed) continue;
    if (!found) {
      std::string searched;
      for (const auto& root : cfg.roots) searched += (searched.empty() ? "" : ", ") + root.string();
      out.errors.push_back({"hydration.skill_not_found",
                            "skill `" + name + "` (project `" + std::string(project) +
                                "`) is in no source root; searched " + searched,
                            cfg.file, 0, 0, declaration_pointer(cfg, project, name)});
      continue;
    }
    out.skills.push_back(std::move(skill));
  }
  return out;
}

plan make_plan(const config& cfg, const workspace& ws) {
  scan s{prepare(cfg, ws), {}, {}, {}};
  if (s.p.errors.empty()) scan_workspace(s);
  if (!s.p.errors.empty()) s.p.actions.clear();
  return std::move(s.p);
}

plan hydrate(const config& cfg, const workspace& ws) {
  plan out = prepare(cfg, ws);
  if (!out.errors.empty()) return out;
  const auto agents_dir = ws.path / ".agents";
  if (auto e = make_directory(agents_dir)) {
    out.errors.push_back(std::move(*e));
    return out;
  }
  detail::file_lock lock;
  if (const int err = lock.acquire(agents_dir / detail::lock_name); err != 0) {
    out.errors.push_back(io_error(agents_dir / detail::lock_name, "cannot lock the workspace", err));
    return out;
  }
  if (auto e = make_directory(out.skills_dir)) {
    out.errors.push_back(std::move(*e));
    return out;
  }

  scan s{out, {}, {}, {}};
  scan_workspace(s);
  if (!s.p.errors.empty()) {
    s.p.actions.clear();
    return std::move(s.p);
  }
  // Under the lock no other run is in progress: temporary names are an interrupted run's.
  for (const auto& name : s.leftovers) {
    const auto path = out.skills_dir / name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && (S_ISLNK(st.st_mode) || S_ISREG(st.st_mode))) ::unlink(path.c_str());
  }
  if (s.p.actions.empty()) {
    // Nothing to do but, perhaps, forget names whose entries were removed or taken over by hand.
    if (detail::manifest_text(s.after) != detail::manifest_text(s.before)) {
      if (auto e = write_manifest(out.skills_dir, s.after)) s.p.errors.push_back(std::move(*e));
    }
    return std::move(s.p);
  }

  // Record the new targets next to the old ones before touching a link, so an interruption at any
  // point leaves every link of ours recognisable; then narrow the record to what is on disk.
  detail::manifest intent = s.before;
  for (const auto& [name, targets] : s.after) intent[name].insert(targets.begin(), targets.end());
  if (auto e = write_manifest(out.skills_dir, intent)) {
    out.errors.push_back(std::move(*e));
    return out;
  }
  for (const auto& a : s.p.actions) {
    if (auto e = carry_out(a))
      out.errors.push_back(std::move(*e));
    else
      out.actions.push_back(a);
  }
  const auto settled = reconcile(out.skills_dir, intent);
  if (detail::manifest_text(settled) != detail::manifest_text(intent)) {
    if (auto e = write_manifest(out.skills_dir, settled)) out.errors.push_back(std::move(*e));
  }
  if (const int err = detail::sync_directory(out.skills_dir); err != 0)
    out.errors.push_back(io_error(out.skills_dir, "cannot sync the skills directory", err));

  scan after{prepare(cfg, ws), {}, {}, {}};
  if (after.p.errors.empty()) scan_workspace(after);
  out.findings = std::move(after.p.findings);
  out.errors.insert(out.errors.end(), after.p.errors.begin(), after.p.errors.end());
  return out;
}

std::vector<std::string> hydrated_skills(const fs::path& workspace_dir) noexcept {
  try {
    const auto skills_dir = workspace_dir / ".agents" / "skills";
    std::string problem;
    const auto m = detail::read_manifest(skills_dir, problem);
    std::vector<std::string> out;
    if (!m) return out;
    for (const auto& [name, targets] : *m) {
      const auto link = skills_dir / name;
      int err = 0;
      const auto target = detail::read_link(link, err);
      struct stat st {};
      if (target && targets.count(*target) != 0 && ::stat(link.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        out.push_back(name);
    }
    return out;  // the manifest is a sorted map
  } catch (...) {
    return {};
  }
}

}  // namespace agentos::runtime::hydration
