#include "runtime/service/json_file.hpp"

#include <fstream>
#include <iterator>

namespace agentos::runtime {

std::optional<nlohmann::json> read_json_file(const std::filesystem::path& file, std::string& error) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = "cannot read " + file.string();
    return std::nullopt;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    error = file.string() + " is not valid JSON";
    return std::nullopt;
  }
  return doc;
}

}  // namespace agentos::runtime
