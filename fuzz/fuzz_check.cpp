// libFuzzer target over the whole front end: parse, check and (when the input parses cleanly)
// format. Imports never touch the disk: the file provider finds nothing. Any crash, sanitizer
// report, hang or formatter round-trip mismatch is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dsl/checker.hpp"
#include "dsl/format.hpp"
#include "dsl/loader.hpp"
#include "dsl/parser.hpp"

namespace {

class no_files final : public agentos::dsl::file_provider {
 public:
  status read(const std::filesystem::path&, std::string&, std::string&) override { return status::not_found; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace agentos::dsl;
  std::string text(reinterpret_cast<const char*>(data), size);
  source_manager sources;
  diagnostics diags;
  no_files files;
  workspace ws(sources, diags, files);
  auto loaded = ws.load_text("fuzz.policy", text);
  if (!loaded) return 0;
  const bool parsed_clean = diags.empty();
  const ast::module* entry = nullptr;
  for (const auto& m : loaded->modules) {
    if (m.file == loaded->entry) entry = &m;
  }
  std::string formatted;
  if (parsed_clean && entry != nullptr) formatted = format_module(*entry, sources.get(entry->file));
  auto result = check(std::move(*loaded), sources, diags);
  diags.finish();
  if (!formatted.empty()) {
    // The formatter's output must parse without errors and format to itself.
    diagnostics again;
    const auto id = sources.add("formatted.policy", formatted);
    const auto m2 = parse(sources.get(id), id, again);
    if (again.has_errors()) __builtin_trap();
    if (format_module(m2, sources.get(id)) != formatted) __builtin_trap();
  }
  return 0;
}
