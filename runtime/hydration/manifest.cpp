#include "runtime/hydration/manifest.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/hydration/hydration.hpp"

namespace agentos::runtime::hydration::detail {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t max_manifest_bytes = std::size_t{1} << 20;

class fd_guard {
public:
  explicit fd_guard(int fd) : m_fd(fd) {}
  ~fd_guard() {
    if (m_fd >= 0) ::close(m_fd);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return m_fd; }
  // close() reports a deferred write error on some file systems, so a writer checks it.
  int close() {
    const int rc = ::close(m_fd);
    m_fd = -1;
    return rc == 0 ? 0 : errno;
  }

private:
  int m_fd;
};

}  // namespace

int read_small_file(const fs::path& file, std::size_t limit, std::string& out) {
  out.clear();
  fd_guard fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  char buffer[16384];
  for (;;) {
    const auto n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > limit) return EFBIG;
  }
}

std::optional<manifest> read_manifest(const fs::path& skills_dir, std::string& problem) {
  const auto file = skills_dir / manifest_name;
  std::string text;
  if (const int err = read_small_file(file, max_manifest_bytes, text); err != 0) {
    if (err == ENOENT || err == ENOTDIR) return manifest{};
    problem = "cannot read " + file.string() + ": " + std::strerror(err);
    return std::nullopt;
  }
  const auto doc = json::parse(text, nullptr, false);
  const auto bad = [&] {
    problem = file.string() + " is not a hydration manifest (remove it and the links it named to start afresh)";
    return std::nullopt;
  };
  if (!doc.is_object() || !doc.contains("links") || !doc["links"].is_object()) return bad();
  manifest m;
  for (const auto& [name, targets] : doc["links"].items()) {
    if (!targets.is_array()) return bad();
    std::set<std::string> set;
    for (const auto& t : targets) {
      if (!t.is_string()) return bad();
      set.insert(t.get<std::string>());
    }
    if (valid_skill_name(name) && !set.empty()) m.emplace(name, std::move(set));
  }
  return m;
}

std::string manifest_text(const manifest& m) {
  json links = json::object();
  for (const auto& [name, targets] : m) links[name] = targets;
  const json doc = {{"version", 1}, {"written_by", "agentos hydrate"}, {"links", links}};
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

int write_atomically(const fs::path& file, const std::string& text) {
  const auto temp = file.parent_path() / (file.filename().string() + ".tmp" + unique_suffix());
  fd_guard fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return errno;
  const auto fail = [&](int err) {
    ::unlink(temp.c_str());
    return err;
  };
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail(errno);
  if (const int err = fd.close(); err != 0) return fail(err);
  if (::rename(temp.c_str(), file.c_str()) != 0) return fail(errno);
  return sync_directory(file.parent_path());
}

int sync_directory(const fs::path& dir) {
  fd_guard fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return errno;  // EINVAL: the file system cannot sync directories
  return 0;
}

std::optional<std::string> read_link(const fs::path& link, int& err) {
  std::vector<char> buffer(256);
  for (;;) {
    const auto n = ::readlink(link.c_str(), buffer.data(), buffer.size());
    if (n < 0) {
      err = errno;
      return std::nullopt;
    }
    if (static_cast<std::size_t>(n) < buffer.size()) return std::string(buffer.data(), static_cast<std::size_t>(n));
    buffer.resize(buffer.size() * 2);
  }
}

std::string unique_suffix() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  char out[48];
  std::snprintf(out, sizeof out, ".%ld.%016" PRIx64, static_cast<long>(::getpid()), static_cast<std::uint64_t>(random()));
  return out;
}

file_lock::~file_lock() {
  if (m_fd >= 0) ::close(m_fd);  // closing the descriptor releases the lock
}

int file_lock::acquire(const fs::path& file) {
  m_fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m_fd < 0) return errno;
  while (::flock(m_fd, LOCK_EX) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

}  // namespace agentos::runtime::hydration::detail
