#include "runtime/projection/activity_handler.hpp"

namespace agentos::runtime::projection {

activity_handler::~activity_handler() = default;

}  // namespace agentos::runtime::projection
