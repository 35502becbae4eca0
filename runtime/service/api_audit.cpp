// Routes: the audit log.
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

namespace {

api_response query_audit(const services& s, const call& c) {
  audit_filter f;
  f.task = c.query_value("task");
  if (auto bad = list_limit(c, s.limits, f.limit)) return *bad;
  auto entries = s.store.audit(f);
  if (!entries) return store_failure(entries.error());
  json records = json::array();
  for (auto& e : *entries) {
    json r = std::move(e.record);
    if (r.is_object()) {
      if (!r.contains("seq")) r["seq"] = e.seq;
      if (!r.contains("hash")) r["hash"] = e.hash;
    }
    records.push_back(std::move(r));
  }
  return {200, {{"records", std::move(records)}}, {}};
}

}  // namespace

void add_audit_routes(route_table& routes) { routes.push_back({"GET", "/api/audit", true, query_audit}); }

}  // namespace agentos::runtime::api_detail
