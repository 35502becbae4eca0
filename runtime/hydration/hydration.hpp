// Capability hydration: one declared configuration (hydration.json) defines the skills of every
// agent workspace, and hydrate() projects that set into <workspace>/.agents/skills as symlinks to
// the resolved source directories, reporting drift. docs/hydration.md is the full description.
//
// Promises: a user's mistake or an I/O failure is an `error` value, never an exception.
// make_plan() and hydrated_skills() only read. hydrate() serializes on an flock() of
// <workspace>/.agents/.hydrate.lock, so concurrent runs on one workspace (threads or processes)
// apply one after the other, and each link is created or replaced atomically. hydrate() only
// ever modifies the entries it manages (the names in the manifest
// .agents/skills/.agentos-hydration.json whose symlink still points where it wrote it).
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentos::runtime::hydration {

// A configuration, resolution or I/O problem. Codes are stable (docs/hydration.md lists them):
// hydration.io, hydration.config_syntax, hydration.config_invalid, hydration.root_missing,
// hydration.unknown_project, hydration.skill_not_found, hydration.source_loop,
// hydration.workspace_missing, hydration.manifest_invalid.
struct error {
  std::string code;
  std::string message;
  std::filesystem::path file;  // the configuration file, or the path the error is about
  std::size_t line = 0;        // 1-based line and byte column; only syntax errors have them
  std::size_t column = 0;
  std::string pointer;         // JSON pointer (RFC 6901) into `file` for a validation error
};

// "file:line:col", "file#/json/pointer" or "file", as printed before a diagnostic.
std::string location(const error& e);
// The one-line diagnostic: "LOCATION: error[CODE]: MESSAGE".
std::string to_text(const error& e);

struct workspace {
  std::filesystem::path path;  // absolute and lexically normal
  std::string project;
  std::vector<std::string> agents;
};

// A validated hydration.json. Roots are canonical absolute paths of existing directories,
// highest priority first.
struct config {
  std::filesystem::path file;
  std::vector<std::filesystem::path> roots;
  std::vector<std::string> global_defaults;
  std::vector<std::string> shared_integrations;
  std::map<std::string, std::vector<std::string>> project_defaults;
  std::vector<workspace> workspaces;
};

// Either a config or every error found (all of them, not only the first).
struct load_result {
  std::optional<config> cfg;
  std::vector<error> errors;
};

// Reads and validates `file` (JSON with // and /* */ comments). Relative paths in it are taken
// relative to the file's directory.
load_result load_config(const std::filesystem::path& file);

// [A-Za-z0-9][A-Za-z0-9._-]*, at most 200 bytes: a name that is one path component, never
// hidden, "." or "..".
bool valid_skill_name(std::string_view name) noexcept;

// global_defaults + shared_integrations + project_defaults[project], first occurrence kept.
std::vector<std::string> effective_names(const config& cfg, std::string_view project);

struct resolved_skill {
  std::string name;
  std::filesystem::path source;                // <root>/<name> in the highest-priority root that has it
  std::vector<std::filesystem::path> shadows;  // the same name in lower-priority roots
};

struct resolution {
  std::vector<resolved_skill> skills;  // in effective-set order
  std::vector<error> errors;           // unknown project, skill not found, source loop, I/O
};

// Resolves the effective set of `project` against the roots. Reads the roots, changes nothing.
resolution resolve(const config& cfg, std::string_view project);

enum class action_kind { create, replace, remove };

struct action {
  action_kind kind;
  std::string name;
  std::filesystem::path link;      // <workspace>/.agents/skills/<name>
  std::filesystem::path target;    // the new target (create, replace)
  std::filesystem::path previous;  // the old target (replace, remove)
};

// Drift kinds (docs/hydration.md defines each); `unmanaged` is information, not drift.
enum class finding_kind { missing, stale, dangling, shadowed, unmanaged_copy, unmanaged };

struct finding {
  finding_kind kind;
  std::string name;
  std::filesystem::path entry;  // <workspace>/.agents/skills/<name>
  std::string message;
};

std::string_view to_string(action_kind k) noexcept;
std::string_view to_string(finding_kind k) noexcept;
bool is_drift(finding_kind k) noexcept;

// One workspace: what hydrate would do (make_plan) or did (hydrate), and what it found.
struct plan {
  workspace ws;
  std::filesystem::path skills_dir;
  std::vector<resolved_skill> skills;
  std::vector<action> actions;
  std::vector<finding> findings;
  std::vector<error> errors;  // when not empty, no action was planned or carried out

  std::size_t drift() const noexcept;
};

// The actions that would bring `ws` to its effective set, and its drift (what `--check` and
// `--dry-run` report). Only reads; takes no lock, so a run in progress may show as drift.
plan make_plan(const config& cfg, const workspace& ws);

// Under the workspace lock: plans, carries the actions out, updates the manifest and plans again.
// The result lists the actions carried out and the findings left afterwards (drift that is not
// hydrate's to repair, and unmanaged entries). A second run with nothing changed carries out
// nothing and writes nothing.
plan hydrate(const config& cfg, const workspace& ws);

// The names of the skills hydrated in `workspace_dir`, sorted: managed links in .agents/skills
// that resolve to an existing directory. One small file read (the manifest), then a readlink and a
// stat per managed link; never throws (an unreadable workspace has no hydrated skills).
std::vector<std::string> hydrated_skills(const std::filesystem::path& workspace_dir) noexcept;

}  // namespace agentos::runtime::hydration
