// Route: GET /api/openapi.json, the OpenAPI 3 document of every route. The document is
// docs/openapi.json, written by hand and embedded by the build (runtime/embed_json.cmake), so
// the server never reads the source tree. Unauthenticated, like /health: it describes the API,
// not its data. tests/runtime/openapi_test.cpp keeps it and the route table in step.
#include <memory>

#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

void add_openapi_routes(route_table& routes) {
  // Parsed once, when the API is built. The build refuses a document that is not JSON, so a
  // failed parse here is a bug: it answers 500 rather than stopping the server.
  auto document = std::make_shared<const json>(json::parse(openapi_document(), nullptr, false));
  routes.push_back({"GET", "/api/openapi.json", false, [document](const services&, const call&) {
                      if (document->is_discarded())
                        return api_error(500, "internal", "the embedded OpenAPI document is not valid JSON");
                      return api_response{200, *document, {}};
                    }});
}

}  // namespace agentos::runtime::api_detail
