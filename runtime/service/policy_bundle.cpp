#include "runtime/service/policy_bundle.hpp"

#include "dsl/loader.hpp"
#include "dsl/render.hpp"
#include "engine/build.hpp"

namespace agentos::runtime {

namespace fs = std::filesystem;
using nlohmann::json;

json policy_bundle::to_json() const {
  json j;
  j["entry"] = entry;
  j["files"] = json::object();
  for (const auto& [path, text] : files) j["files"][path] = text;
  return j;
}

std::optional<policy_bundle> policy_bundle::from_json(const json& j) {
  if (!j.is_object() || !j.contains("entry") || !j["entry"].is_string() || !j.contains("files") ||
      !j["files"].is_object())
    return std::nullopt;
  policy_bundle b;
  b.entry = j["entry"].get<std::string>();
  for (const auto& [path, text] : j["files"].items()) {
    if (!text.is_string()) return std::nullopt;
    b.files[path] = text.get<std::string>();
  }
  if (!b.files.count(b.entry)) return std::nullopt;
  return b;
}

namespace {

// Disk reads, remembered so the bundle holds exactly the bytes that were checked.
class recording_files final : public dsl::file_provider {
 public:
  status read(const fs::path& path, std::string& text, std::string& error) override {
    const status st = m_disk.read(path, text, error);
    if (st == status::ok) seen[path.string()] = text;
    return st;
  }
  std::map<std::string, std::string> seen;  // canonical path -> text

 private:
  dsl::disk_files m_disk;
};

// A bundle's files under a virtual root, so imports resolve exactly as they did on disk.
const fs::path& bundle_root() {
  static const fs::path root = fs::path("/agentos-policy-bundle/a/b/c");  // depth for "../" imports
  return root;
}

class bundle_files final : public dsl::file_provider {
 public:
  explicit bundle_files(const policy_bundle& b) : m_bundle(b) {}
  status read(const fs::path& path, std::string& text, std::string& error) override {
    const std::string rel = path.lexically_relative(bundle_root()).generic_string();
    const auto it = m_bundle.files.find(rel);
    if (it == m_bundle.files.end()) {
      error = "not in the stored policy bundle";
      return status::not_found;
    }
    text = it->second;
    return status::ok;
  }

 private:
  const policy_bundle& m_bundle;
};

// The diagnostics as JSON objects; a file under `root` is named relative to it.
json diagnostics_json(const dsl::diagnostics& diags, const dsl::source_manager& sources, const fs::path& root) {
  json all = json::parse(dsl::render_json(diags.items(), sources), nullptr, false);
  if (all.is_discarded() || !all.contains("diagnostics")) return json::array();
  const std::string prefix = root.empty() ? std::string() : root.generic_string() + "/";
  auto relative = [&](json& at) {
    if (!prefix.empty() && at.contains("file") && at["file"].is_string()) {
      const std::string file = at["file"].get<std::string>();
      if (file.rfind(prefix, 0) == 0) at["file"] = file.substr(prefix.size());
    }
  };
  for (auto& d : all["diagnostics"]) {
    relative(d);
    for (auto& l : d["labels"]) relative(l);
  }
  return std::move(all["diagnostics"]);
}

compiled_policy check_and_compile(dsl::file_provider& files, const fs::path& entry,
                                  std::shared_ptr<policy_bundle> bundle_or_null,
                                  const std::function<std::shared_ptr<policy_bundle>()>& make_bundle) {
  compiled_policy out;
  dsl::source_manager sources;
  dsl::diagnostics diags;
  dsl::workspace ws(sources, diags, files);
  out.graph = engine::check_and_compile(ws.load(entry), sources, diags);
  out.diagnostics = diagnostics_json(diags, sources, bundle_or_null ? bundle_root() : fs::path());
  if (!out.graph) {
    out.problems = dsl::render_text(diags.items(), sources, {false});
    if (out.problems.empty()) out.problems = "cannot read " + entry.string() + "\n";
    return out;
  }
  out.bundle = bundle_or_null ? bundle_or_null : make_bundle();
  return out;
}

}  // namespace

compiled_policy load_policy(const fs::path& entry) {
  recording_files files;
  std::error_code ec;
  const fs::path canonical_entry = fs::weakly_canonical(entry, ec);
  return check_and_compile(files, entry, nullptr, [&] {
    auto b = std::make_shared<policy_bundle>();
    const fs::path base = (ec ? entry : canonical_entry).parent_path();
    b->entry = (ec ? entry : canonical_entry).filename().generic_string();
    for (const auto& [path, text] : files.seen)
      b->files[fs::path(path).lexically_relative(base).generic_string()] = text;
    return b;
  });
}

compiled_policy compile_bundle(policy_bundle bundle) {
  auto shared = std::make_shared<policy_bundle>(std::move(bundle));
  bundle_files files(*shared);
  return check_and_compile(files, bundle_root() / shared->entry, shared, nullptr);
}

}  // namespace agentos::runtime
