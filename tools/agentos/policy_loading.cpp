#include "policy_loading.hpp"

#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "dsl/loader.hpp"
#include "dsl/render.hpp"
#include "engine/build.hpp"

namespace agentos::cli {

namespace fs = std::filesystem;

const loaded_policy& policy_loader::load(const fs::path& path) {
  std::error_code ec;
  fs::path key = fs::weakly_canonical(path, ec);
  if (ec) key = path;
  if (const auto it = m_cache.find(key.string()); it != m_cache.end()) return it->second;

  // A missing entry file is a usage error (exit 2), not a finding about a policy. Not cached:
  // the message names the path as this caller wrote it.
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status) || fs::is_directory(status)) {
    m_missing.exit_code = exit_usage;
    m_missing.problem = fs::is_directory(status) ? path.string() + " is a directory; give the policy's entry file"
                                                 : "no such file: " + path.string();
    return m_missing;
  }
  loaded_policy& out = m_cache[key.string()];

  dsl::diagnostics diags;
  dsl::disk_files disk;
  dsl::workspace ws(m_sources, diags, disk);
  auto loaded = ws.load(path);
  const bool read = loaded.has_value();
  out.graph = engine::check_and_compile(std::move(loaded), m_sources, diags);
  if (!out.graph) {
    const bool color = isatty(STDERR_FILENO) != 0;
    std::cerr << dsl::render_text(diags.items(), m_sources, {color});
    out.exit_code = read ? exit_findings : exit_usage;
    out.problem = read ? "policy " + path.string() + " has " + dsl::render_summary(diags.items())
                       : "cannot read " + path.string();
  }
  return out;
}

}  // namespace agentos::cli
