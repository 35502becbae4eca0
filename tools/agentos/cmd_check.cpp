// `agentos check PATH...`: lint policy files and directories. Every file given (or found under a
// directory) that no other file imports is an entry point; each entry and its imports form one
// policy set, checked as a whole.
#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "dsl/checker.hpp"
#include "dsl/codes.hpp"
#include "dsl/loader.hpp"
#include "dsl/render.hpp"
#include "engine/lint/lint.hpp"

namespace agentos::cli {

namespace {

struct check_options {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string color = "auto";
  std::vector<std::string> allow;
  std::vector<std::string> deny;
};

int run_check(const check_options& o) {
  const auto format = dsl::parse_output_format(o.format);
  if (!format) {
    std::cerr << "agentos check: unknown format `" << o.format << "` (use text, json or sarif)\n";
    return exit_usage;
  }
  dsl::warning_options warnings;
  warnings.allow = o.allow;
  for (const auto& d : o.deny) {
    if (d == "warnings") warnings.deny_all_warnings = true;
    else warnings.deny.push_back(d);
  }
  for (const auto* list : {&o.allow, &o.deny}) {
    for (const auto& name : *list) {
      if (name == "warnings") continue;
      const auto info = dsl::find_code(name);
      if (!info || info->default_level != dsl::severity::warning) {
        std::cerr << "agentos check: `" << name << "` is not the name or code of a warning\n";
        return exit_usage;
      }
    }
  }
  std::vector<std::string> missing;
  const auto files = dsl::expand_paths(o.paths, missing);
  for (const auto& m : missing) std::cerr << "agentos check: no such file or directory: " << m << "\n";
  if (!missing.empty()) return exit_usage;
  if (files.empty()) {
    std::cerr << "agentos check: no .policy files found\n";
    return exit_usage;
  }

  dsl::source_manager sources;
  dsl::diagnostics diags;
  dsl::disk_files disk;
  dsl::workspace ws(sources, diags, disk);
  const auto entries = ws.entry_points(files);
  for (const auto& entry : entries) {
    auto loaded = ws.load(entry);
    if (!loaded) continue;
    auto result = dsl::check(std::move(*loaded), sources, diags);
    // Graph lints need a policy set whose names and types all resolved.
    if (result.ok) {
      for (auto& d : engine::lint::run_all(*result.set)) diags.add(std::move(d));
    }
  }
  diags.finish(warnings);

  const auto& items = diags.items();
  switch (*format) {
    case dsl::output_format::json: std::cout << dsl::render_json(items, sources); break;
    case dsl::output_format::sarif: std::cout << dsl::render_sarif(items, sources, AGENTOS_VERSION); break;
    case dsl::output_format::text: {
      const bool color = o.color == "always" || (o.color == "auto" && isatty(STDOUT_FILENO) != 0);
      std::cout << dsl::render_text(items, sources, {color});
      if (!items.empty()) std::cout << "\n";
      std::cout << "checked " << files.size() << (files.size() == 1 ? " file" : " files") << " (" << entries.size()
                << (entries.size() == 1 ? " policy set" : " policy sets") << "): " << dsl::render_summary(items) << "\n";
      break;
    }
  }
  return diags.has_errors() ? exit_findings : exit_ok;
}

}  // namespace

void register_check(CLI::App& app, command_result& result) {
  auto opts = std::make_shared<check_options>();
  auto* cmd = app.add_subcommand("check", "Check policy files: syntax, names, types, layering and graph lints");
  cmd->add_option("paths", opts->paths, "Policy files or directories (searched recursively for *.policy)")->required();
  cmd->add_option("--format", opts->format, "Output format: text, json or sarif")->capture_default_str();
  cmd->add_option("--color", opts->color, "Colour text output: auto, always or never")->capture_default_str();
  cmd->add_option("--allow", opts->allow, "Silence a warning (by name or code); repeatable");
  cmd->add_option("--deny", opts->deny, "Turn a warning into an error (by name or code, or `warnings` for all); repeatable");
  cmd->footer(
      "Exit status: 0 when no errors were found, 1 when there are errors, 2 on usage errors.\n"
      "Every diagnostic code is documented in docs/diagnostics.md.");
  cmd->callback([opts, &result] { result.exit_code = run_check(*opts); });
}

}  // namespace agentos::cli
