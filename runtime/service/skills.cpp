#include "runtime/service/skills.hpp"

#include <algorithm>

namespace agentos::runtime {

std::vector<std::string> merge_capabilities(std::vector<std::string> declared, const std::vector<std::string>& hydrated) {
  declared.insert(declared.end(), hydrated.begin(), hydrated.end());
  std::sort(declared.begin(), declared.end());
  declared.erase(std::unique(declared.begin(), declared.end()), declared.end());
  return declared;
}

}  // namespace agentos::runtime
