// Routes: the Paperclip projection's drift check (docs/api-admin.md, docs/paperclip.md). The check
// itself lives in runtime/projection (drift.hpp) and reaches this table as a function, so the
// service layer does not depend on the projection above it. A POST, not a GET: it waits for
// Paperclip, and only requests other than GET run on the blocking pool (a GET is answered on an
// io thread, which must not wait for another server); like POST /api/policy/evaluate, it writes
// nothing.
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

void add_projection_routes(route_table& routes, std::function<api_response()> check) {
  routes.push_back({"POST", "/api/projection/check", true,
                    [check = std::move(check)](const services& s, const call& c) -> api_response {
                      if (auto no = require_operator(s, c)) return *no;
                      if (c.request.body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
                        json body;
                        if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
                        if (auto bad = only_fields(body, {})) return *bad;
                      }
                      if (!check)
                        return api_error(404, "projection.off",
                                         "this server does not project into Paperclip (start it with --paperclip URL)");
                      return check();
                    }});
}

}  // namespace agentos::runtime::api_detail
