// Reads policy files and resolves imports. A workspace reads each file once (by canonical path),
// parses it, and assembles policy sets: an entry file plus everything it imports, in the order
// the checker layers them. Import problems (missing file, directory, cycle, unreadable) become
// diagnostics at the import. File access goes through file_provider so an editor can supply
// unsaved buffers. Not thread safe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/ast.hpp"
#include "dsl/diagnostic.hpp"
#include "dsl/parser.hpp"
#include "dsl/source.hpp"

namespace agentos::dsl {

class file_provider {
 public:
  virtual ~file_provider() = default;
  enum class status { ok, not_found, is_directory, unreadable };
  // Reads a whole file; on failure returns the status and leaves `text` alone.
  virtual status read(const std::filesystem::path& path, std::string& text, std::string& error) = 0;
};

// Reads from the file system.
class disk_files final : public file_provider {
 public:
  status read(const std::filesystem::path& path, std::string& text, std::string& error) override;
};

// The modules of one policy set: imports before importers (a post-order walk), entry last.
struct loaded_set {
  file_id entry = no_file;
  std::vector<ast::module> modules;
};

class workspace {
 public:
  workspace(source_manager& sources, diagnostics& out, file_provider& files, parse_limits limits = {});

  // Loads `entry` and its imports. Returns nullopt when the entry itself cannot be read (reported).
  std::optional<loaded_set> load(const std::filesystem::path& entry);

  // The files among `files` that no other file among them imports: the entry points to check.
  std::vector<std::filesystem::path> entry_points(const std::vector<std::filesystem::path>& files);

  // Parses text that is not on disk (an editor buffer, stdin, a test) as an entry with no imports
  // resolved beyond the provider.
  std::optional<loaded_set> load_text(const std::string& name, std::string text);

 private:
  struct file_entry {
    file_id id = no_file;
    std::optional<ast::module> parsed;  // parsed and not yet handed out
  };

  file_entry* open(const std::filesystem::path& canonical);
  ast::module take_module(file_entry& f);
  void visit(const std::filesystem::path& canonical, ast::module m, std::vector<std::string>& stack, loaded_set& out,
             std::map<std::string, bool>& done);

  source_manager& m_sources;
  diagnostics& m_out;
  file_provider& m_files;
  parse_limits m_limits;
  std::map<std::string, file_entry> m_cache;  // by canonical path
};

// Expands files and directories (recursively, files whose name ends in `suffix`, sorted) into a
// list of files; files named directly are kept whatever their name. Paths that
// do not exist are returned in `missing`.
std::vector<std::filesystem::path> expand_paths(const std::vector<std::string>& args, std::vector<std::string>& missing,
                                                std::string_view suffix = ".policy");

}  // namespace agentos::dsl
