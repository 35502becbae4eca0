// `agentos hydrate`: project each workspace's declared skills (hydration.json) into
// <workspace>/.agents/skills as symlinks, or with --check report the drift, or with --dry-run show
// what would change. The work is runtime/hydration's; this file selects workspaces and prints.
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "runtime/hydration/hydration.hpp"

namespace agentos::cli {

namespace {

namespace fs = std::filesystem;
namespace hy = runtime::hydration;
using nlohmann::json;

struct hydrate_options {
  std::string config = "policies/hydration.json";
  std::string project;
  std::string workspace;
  bool check = false;
  bool dry_run = false;
  bool create_workspaces = false;
  std::string format = "text";
};

enum class mode { hydrate, check, dry_run };

std::string_view mode_name(mode m) {
  switch (m) {
    case mode::hydrate: return "hydrate";
    case mode::check: return "check";
    case mode::dry_run: return "dry-run";
  }
  return "hydrate";
}

fs::path comparable(const fs::path& p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal() : c;
}

void print_error_text(const hy::error& e) { std::cerr << hy::to_text(e) << "\n"; }

json error_json(const hy::error& e) {
  return {{"code", e.code},
          {"message", e.message},
          {"location", hy::location(e)},
          {"file", e.file.string()},
          {"line", e.line == 0 ? json(nullptr) : json(e.line)},
          {"column", e.column == 0 ? json(nullptr) : json(e.column)},
          {"pointer", e.pointer.empty() ? json(nullptr) : json(e.pointer)}};
}

std::string dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

struct totals {
  std::size_t created = 0, replaced = 0, removed = 0, drift = 0, unmanaged = 0, errors = 0;
};

void count(const hy::plan& p, totals& t) {
  for (const auto& a : p.actions) {
    if (a.kind == hy::action_kind::create) ++t.created;
    if (a.kind == hy::action_kind::replace) ++t.replaced;
    if (a.kind == hy::action_kind::remove) ++t.removed;
  }
  t.drift += p.drift();
  for (const auto& f : p.findings)
    if (f.kind == hy::finding_kind::unmanaged) ++t.unmanaged;
  t.errors += p.errors.size();
}

// Drift that hydrate repairs itself (missing, stale, dangling) is shown as the action that repairs
// it; what is left for a person (shadowed, unmanaged_copy) and unmanaged entries are shown as such.
bool repaired_by_hydrate(hy::finding_kind k) {
  return k == hy::finding_kind::missing || k == hy::finding_kind::stale || k == hy::finding_kind::dangling;
}

void print_finding(const hy::finding& f) {
  std::cout << f.entry.string() << ": " << (hy::is_drift(f.kind) ? "drift" : "note") << "[" << hy::to_string(f.kind)
            << "]: " << f.message << "\n";
}

void print_action(const hy::action& a, mode m) {
  const bool would = m != mode::hydrate;
  switch (a.kind) {
    case hy::action_kind::create:
      std::cout << (would ? "would create " : "created ") << a.link.string() << " -> " << a.target.string() << "\n";
      break;
    case hy::action_kind::replace:
      std::cout << (would ? "would replace " : "replaced ") << a.link.string() << " -> " << a.target.string()
                << " (was " << a.previous.string() << ")\n";
      break;
    case hy::action_kind::remove:
      std::cout << (would ? "would remove " : "removed ") << a.link.string() << " (was -> " << a.previous.string()
                << ")\n";
      break;
  }
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void print_text(const std::vector<hy::plan>& plans, mode m, const totals& t) {
  for (const auto& p : plans) {
    for (const auto& e : p.errors) print_error_text(e);
    if (m == mode::check) {
      for (const auto& f : p.findings) print_finding(f);
      continue;
    }
    for (const auto& a : p.actions) print_action(a, m);
    for (const auto& f : p.findings)
      if (m == mode::hydrate || !repaired_by_hydrate(f.kind)) print_finding(f);
  }
  const auto ws = plural(plans.size(), "workspace", "workspaces");
  switch (m) {
    case mode::hydrate:
      std::cout << "hydrate: " << ws << ", " << plural(t.created, "link created", "links created") << ", " << t.replaced
                << " replaced, " << t.removed << " removed, " << t.drift << " drift left";
      break;
    case mode::dry_run: {
      std::size_t left = 0;
      for (const auto& p : plans)
        for (const auto& f : p.findings)
          if (hy::is_drift(f.kind) && !repaired_by_hydrate(f.kind)) ++left;
      std::cout << "hydrate --dry-run: " << ws << ", " << plural(t.created, "link", "links") << " to create, "
                << t.replaced << " to replace, " << t.removed << " to remove, " << left << " drift would be left";
      break;
    }
    case mode::check:
      std::cout << "hydrate --check: " << ws << ", " << plural(t.drift, "drift finding", "drift findings");
      break;
  }
  if (t.unmanaged != 0) std::cout << ", " << plural(t.unmanaged, "unmanaged entry", "unmanaged entries");
  if (t.errors != 0) std::cout << ", " << plural(t.errors, "error", "errors");
  std::cout << "\n";
}

json plans_json(const std::vector<hy::plan>& plans, mode m, const std::string& config_file, const totals& t) {
  json out = {{"version", 1}, {"mode", mode_name(m)}, {"config", config_file}};
  json workspaces = json::array(), actions = json::array(), findings = json::array(), errors = json::array();
  for (const auto& p : plans) {
    const auto ws = p.ws.path.string();
    json skills = json::array();
    for (const auto& s : p.skills) {
      json shadows = json::array();
      for (const auto& sh : s.shadows) shadows.push_back(sh.string());
      skills.push_back({{"name", s.name}, {"source", s.source.string()}, {"shadows", shadows}});
    }
    workspaces.push_back({{"path", ws},
                          {"project", p.ws.project},
                          {"agents", p.ws.agents},
                          {"skills_dir", p.skills_dir.string()},
                          {"skills", skills},
                          {"ok", p.errors.empty()},
                          {"drift", p.drift()}});
    for (const auto& a : p.actions) {
      actions.push_back({{"workspace", ws},
                         {"kind", hy::to_string(a.kind)},
                         {"name", a.name},
                         {"link", a.link.string()},
                         {"target", a.target.empty() ? json(nullptr) : json(a.target.string())},
                         {"previous", a.previous.empty() ? json(nullptr) : json(a.previous.string())}});
    }
    for (const auto& f : p.findings) {
      findings.push_back({{"workspace", ws},
                          {"kind", hy::to_string(f.kind)},
                          {"drift", hy::is_drift(f.kind)},
                          {"name", f.name},
                          {"entry", f.entry.string()},
                          {"message", f.message}});
    }
    for (const auto& e : p.errors) {
      auto j = error_json(e);
      j["workspace"] = ws;
      errors.push_back(std::move(j));
    }
  }
  out["workspaces"] = std::move(workspaces);
  out["actions"] = std::move(actions);
  out["findings"] = std::move(findings);
  out["errors"] = std::move(errors);
  out["summary"] = {{"workspaces", plans.size()}, {"created", t.created}, {"replaced", t.replaced},
                    {"removed", t.removed},        {"drift", t.drift},      {"unmanaged", t.unmanaged},
                    {"errors", t.errors}};
  return out;
}

int config_errors(const std::vector<hy::error>& errors, const hydrate_options& o, mode m) {
  if (o.format == "json") {
    json list = json::array();
    for (const auto& e : errors) list.push_back(error_json(e));
    std::cout << dump({{"version", 1},
                       {"mode", mode_name(m)},
                       {"config", o.config},
                       {"workspaces", json::array()},
                       {"actions", json::array()},
                       {"findings", json::array()},
                       {"errors", list}})
              << "\n";
  } else {
    for (const auto& e : errors) print_error_text(e);
  }
  return exit_usage;
}

int run_hydrate(const hydrate_options& o) {
  const mode m = o.check ? mode::check : o.dry_run ? mode::dry_run : mode::hydrate;
  const auto loaded = hy::load_config(o.config);
  if (!loaded.cfg) return config_errors(loaded.errors, o, m);
  const auto& cfg = *loaded.cfg;

  if (!o.project.empty() && cfg.project_defaults.count(o.project) == 0) {
    std::string known;
    for (const auto& [name, skills] : cfg.project_defaults) known += (known.empty() ? "" : ", ") + name;
    std::cerr << "agentos hydrate: project `" << o.project << "` is not in " << o.config
              << " (projects: " << (known.empty() ? "none" : known) << ")\n";
    return exit_usage;
  }
  std::vector<hy::workspace> selected;
  if (!o.workspace.empty()) {
    const auto wanted = comparable(o.workspace);
    for (const auto& ws : cfg.workspaces)
      if (comparable(ws.path) == wanted) selected.push_back(ws);
    if (selected.empty()) {
      if (o.project.empty()) {
        std::cerr << "agentos hydrate: workspace " << o.workspace << " is not in " << o.config
                  << "; pass --project P to hydrate it with project P's skills\n";
        return exit_usage;
      }
      selected.push_back({fs::absolute(o.workspace).lexically_normal(), o.project, {}});
    } else if (!o.project.empty() && selected.front().project != o.project) {
      std::cerr << "agentos hydrate: workspace " << o.workspace << " belongs to project `" << selected.front().project
                << "` in " << o.config << ", not `" << o.project << "`\n";
      return exit_usage;
    }
  } else {
    for (const auto& ws : cfg.workspaces)
      if (o.project.empty() || ws.project == o.project) selected.push_back(ws);
  }

  if (o.create_workspaces && m == mode::hydrate) {
    for (const auto& ws : selected) {
      std::error_code ec;
      if (fs::create_directories(ws.path, ec); ec) {
        std::cerr << "agentos hydrate: cannot create workspace " << ws.path << ": " << ec.message() << "\n";
        return exit_usage;
      }
    }
  }
  std::vector<hy::plan> plans;
  totals t;
  for (const auto& ws : selected) {
    plans.push_back(m == mode::hydrate ? hy::hydrate(cfg, ws) : hy::make_plan(cfg, ws));
    count(plans.back(), t);
  }
  if (o.format == "json")
    std::cout << dump(plans_json(plans, m, o.config, t)) << "\n";
  else
    print_text(plans, m, t);

  if (t.errors != 0) return exit_usage;
  if (m != mode::dry_run && t.drift != 0) return exit_findings;
  return exit_ok;
}

}  // namespace

void register_hydrate(CLI::App& app, command_result& result) {
  auto o = std::make_shared<hydrate_options>();
  auto* cmd = app.add_subcommand("hydrate", "Link each workspace's declared skills into <workspace>/.agents/skills");
  cmd->description(
      "Link each workspace's declared skills into <workspace>/.agents/skills.\n\n"
      "The configuration names the source roots (highest priority first) and the skills every workspace\n"
      "gets: global_defaults + shared_integrations + project_defaults[project]. Each skill is linked\n"
      "(an absolute symlink, replaced atomically) to <root>/<name> in the first root that has it.\n"
      "hydrate changes only the links it manages (listed in .agents/skills/.agentos-hydration.json);\n"
      "directories, files and links made by hand are reported and left alone.");
  cmd->add_option("--config", o->config, "The hydration configuration, JSON with comments (default policies/hydration.json)")
      ->option_text("FILE");
  cmd->add_option("--project", o->project,
                  "Only the workspaces of project P; with --workspace DIR not in the configuration, the\n"
                  "project whose skills DIR gets")
      ->option_text("P");
  cmd->add_option("--workspace", o->workspace, "Only this workspace directory")->option_text("DIR");
  auto* check = cmd->add_flag("--check", o->check, "Report drift and change nothing; exit 1 if there is any");
  auto* dry = cmd->add_flag("--dry-run", o->dry_run, "Print what would be created, replaced or removed; change nothing");
  check->excludes(dry);
  cmd->add_flag("--create-workspaces", o->create_workspaces,
                "Create a selected workspace directory that does not exist yet (by default that is an error)");
  cmd->add_option("--format", o->format, "Output: text, or json (one object: workspaces, actions, findings, errors, summary)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->footer(
      "Drift (--check): missing (no entry for an expected skill), stale (our link points elsewhere than the\n"
      "resolved source, or names a skill no longer in the set), dangling (our link's target is gone),\n"
      "shadowed (a link hydrate does not manage holds an expected name), unmanaged_copy (a directory or\n"
      "file holds an expected name). hydrate repairs the first three; the last two are for you to remove.\n\n"
      "Examples:\n"
      "  agentos hydrate                                  hydrate every workspace in policies/hydration.json\n"
      "  agentos hydrate --check --format json            drift of every workspace, for a script\n"
      "  agentos hydrate --workspace var/ws/new --project agent_os --dry-run\n\n"
      "Exit status: 0 when every workspace has its set (or --dry-run ran); 1 when drift is found (--check)\n"
      "or left that hydrate may not repair; 2 on usage, configuration and I/O errors. See docs/hydration.md.");
  cmd->callback([o, &result] { result.exit_code = run_hydrate(*o); });
}

}  // namespace agentos::cli
