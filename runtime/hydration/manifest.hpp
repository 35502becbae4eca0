// The file-system pieces hydration is built on: the manifest of managed links, the workspace
// lock, atomic file writes and small POSIX helpers. Internal to runtime/hydration.
//
// The manifest (.agents/skills/.agentos-hydration.json) maps each managed name to the targets
// hydrate may have left its link pointing at: one in a settled tree, the old and the new while a
// replacement is under way, so a crash at any point leaves every link of ours recognisable.
// An entry is managed when its name is in the manifest, it is a symlink, and its target is one
// of the recorded ones; anything else (a directory, a file, a link made or re-pointed by hand)
// is not hydrate's.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace agentos::runtime::hydration::detail {

inline constexpr const char* manifest_name = ".agentos-hydration.json";
inline constexpr const char* lock_name = ".hydrate.lock";  // in <workspace>/.agents

using manifest = std::map<std::string, std::set<std::string>>;  // name → recorded targets

// Reads a whole file of at most `limit` bytes into `out`; returns 0 or an errno (EFBIG when larger).
int read_small_file(const std::filesystem::path& file, std::size_t limit, std::string& out);

// The manifest in `skills_dir`: empty when there is none, nullopt with `problem` set when it
// cannot be read or is not a manifest. Names that are not valid skill names are dropped, so a
// tampered manifest can never make hydrate act outside `skills_dir`.
std::optional<manifest> read_manifest(const std::filesystem::path& skills_dir, std::string& problem);

// The manifest's text: canonical, so equal manifests compare equal as text.
std::string manifest_text(const manifest& m);

// Writes `text` to `file` atomically: a temporary file in the same directory, fsync, rename,
// fsync of the directory. Returns 0 or an errno.
int write_atomically(const std::filesystem::path& file, const std::string& text);

// fsync of a directory, so renames and new links in it are durable. Returns 0 or an errno.
int sync_directory(const std::filesystem::path& dir);

// The target of a symlink, or nullopt with `err` set (EINVAL when `link` is not a symlink).
std::optional<std::string> read_link(const std::filesystem::path& link, int& err);

// ".<pid>.<16 hex digits>": a suffix no other run (process or thread) picks at the same time.
std::string unique_suffix();

// An exclusive flock() on a lock file, held until destruction. flock() locks belong to the open
// file description, so two threads of one process exclude each other as two processes do.
class file_lock {
public:
  file_lock() = default;
  ~file_lock();
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;

  // Creates `file` if needed and blocks until the lock is held. Returns 0 or an errno.
  int acquire(const std::filesystem::path& file);

private:
  int m_fd = -1;
};

}  // namespace agentos::runtime::hydration::detail
