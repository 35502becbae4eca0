// The OpenAPI document (docs/openapi.json, embedded by the build and served at
// GET /api/openapi.json) against the server it describes, over real HTTP:
//   (a) it is OpenAPI 3, the served copy is the source file, every $ref resolves and every
//       component is used, each operation is complete and names its path placeholders;
//   (b) its operations are exactly the server's route table (api::routes()), with the same
//       authentication and the same Idempotency-Key support;
//   (c) every documented operation, called with dummy placeholders and the operator's token, is
//       handled (not the router's 404 "no such route", nor 405), and a body field the route does
//       not know is refused exactly where the schema says `additionalProperties: false`;
//   (d) the server's real answers, in a scenario that calls every operation, have a documented
//       status and match the documented schema; the event stream (which never ends) by its status,
//       headers and first frames, and what a webhook's receiver gets by the documented callback.
#include <algorithm>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>

#include "http_fixture.hpp"
#include "runtime/projection/drift.hpp"
#include "runtime/projection/mapping.hpp"

using namespace agentos::testing::http_fixture;

namespace {

const std::vector<std::string> http_methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

json source_document() {
  std::ifstream in(fs::path(AGENTOS_SOURCE_DIR) / "docs" / "openapi.json", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str(), nullptr, false);
}

// j[key], or null when j is not an object or has no such key (a const operator[] would assert).
const json& child(const json& j, const std::string& key) {
  static const json none;
  if (!j.is_object()) return none;
  const auto it = j.find(key);
  return it == j.end() ? none : *it;
}

// The JSON schema of an operation's request body, or null.
const json& request_schema(const json& op) {
  return child(child(child(child(op, "requestBody"), "content"), "application/json"), "schema");
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

// The target of a local reference ("#/components/schemas/Task"), or nullptr.
const json* resolve(const json& doc, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  try {
    const json::json_pointer pointer(ref.substr(1));
    return doc.contains(pointer) ? &doc.at(pointer) : nullptr;
  } catch (const json::exception&) {
    return nullptr;
  }
}

// Follows $ref until the object itself (a parameter, response, header or schema).
const json& deref(const json& doc, const json& j) {
  const json* at = &j;
  for (int hops = 0; at->is_object() && at->contains("$ref") && hops < 16; ++hops) {
    const json* next = resolve(doc, (*at)["$ref"].get<std::string>());
    if (next == nullptr) break;
    at = next;
  }
  return *at;
}

// Every "$ref" in the document, with where it is.
void collect_refs(const json& j, const std::string& where, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string()) out.emplace_back(v.get<std::string>(), where);
      else collect_refs(v, where + "/" + k, out);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) collect_refs(j[i], where + "/" + std::to_string(i), out);
  }
}

struct operation {
  std::string method;   // GET
  std::string pattern;  // /api/tasks/{id}
  const json* op;
  [[nodiscard]] std::string name() const { return method + " " + pattern; }
};

std::vector<operation> operations(const json& doc) {
  std::vector<operation> out;
  for (const auto& [path, item] : doc["paths"].items())
    for (const auto& m : http_methods)
      if (item.contains(m)) out.push_back({upper(m), path, &item[m]});
  return out;
}

// The operation's parameters (resolved) of one kind: path, query, header.
std::vector<const json*> parameters(const json& doc, const json& op, const std::string& in) {
  std::vector<const json*> out;
  for (const auto& p : child(op, "parameters")) {
    const json& param = deref(doc, p);
    if (param.value("in", "") == in) out.push_back(&param);
  }
  return out;
}

std::vector<std::string> placeholders(const std::string& pattern) {
  std::vector<std::string> out;
  static const std::regex placeholder(R"(\{([^}]*)\})");
  for (auto it = std::sregex_iterator(pattern.begin(), pattern.end(), placeholder); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str());
  return out;
}

std::string filled(const std::string& pattern, const std::string& value) {
  return std::regex_replace(pattern, std::regex(R"(\{[^}]*\})"), value);
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += "\n  " + n;
  return out;
}

// ---- a validator for the subset of OpenAPI 3.0 schemas the document uses
//
// Stricter than OpenAPI in one respect, on purpose: a schema with `properties` or a `type` but no
// `additionalProperties` accepts no field it does not list (OpenAPI would accept any), so every
// field the server sends must be documented. Free-form objects say `additionalProperties: true`.

const std::set<std::string> schema_keywords = {
    "$ref",      "type",      "nullable",  "enum",    "properties", "required", "additionalProperties",
    "items",     "minimum",   "maximum",   "minLength", "maxLength", "pattern", "oneOf",
    "anyOf",     "allOf",     "description", "default", "format",   "example", "minItems", "maxItems"};

// Every schema keyword the validator does not know, anywhere in `schema`.
void unknown_keywords(const json& schema, const std::string& where, std::set<std::string>& out) {
  if (!schema.is_object()) {
    out.insert(where + " is not a schema object");
    return;
  }
  for (const auto& [k, v] : schema.items())
    if (!schema_keywords.count(k)) out.insert(where + ": " + k);
  if (schema.contains("properties"))
    for (const auto& [name, s] : schema["properties"].items()) unknown_keywords(s, where + "/properties/" + name, out);
  if (schema.contains("items")) unknown_keywords(schema["items"], where + "/items", out);
  if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object())
    unknown_keywords(schema["additionalProperties"], where + "/additionalProperties", out);
  for (const char* k : {"oneOf", "anyOf", "allOf"})
    if (schema.contains(k))
      for (std::size_t i = 0; i < schema[k].size(); ++i)
        unknown_keywords(schema[k][i], where + "/" + k + "/" + std::to_string(i), out);
}

// Every schema of the document: the components' and each "schema" of a parameter, header or
// media type.
void all_schemas(const json& j, const std::string& where, std::vector<std::pair<const json*, std::string>>& out) {
  if (!j.is_object()) return;
  for (const auto& [k, v] : j.items()) {
    if (k == "schema") out.emplace_back(&v, where + "/schema");
    else if (k == "schemas" && where == "/components")
      for (const auto& [name, s] : v.items()) out.emplace_back(&s, "/components/schemas/" + name);
    else all_schemas(v, where + "/" + k, out);
  }
}

class validator {
 public:
  explicit validator(const json& doc) : m_doc(doc) {}

  // The problems of `value` against `schema` (empty: it matches).
  [[nodiscard]] std::vector<std::string> check(const json& schema, const json& value) const {
    std::vector<std::string> problems;
    check(schema, value, "", problems);
    return problems;
  }

 private:
  void check(const json& schema, const json& value, const std::string& at, std::vector<std::string>& out) const {
    auto fail = [&](const std::string& what) { out.push_back((at.empty() ? "/" : at) + ": " + what); };
    if (schema.contains("$ref")) {
      const json* target = resolve(m_doc, schema["$ref"].get<std::string>());
      if (target == nullptr) return fail("unresolved " + schema["$ref"].get<std::string>());
      return check(*target, value, at, out);
    }
    if (value.is_null() && schema.value("nullable", false)) return;
    if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end())
      return fail(value.dump() + " is not one of " + schema["enum"].dump());
    if (schema.contains("type")) {
      const std::string type = schema["type"].get<std::string>();
      const bool ok = type == "object"    ? value.is_object()
                      : type == "array"   ? value.is_array()
                      : type == "string"  ? value.is_string()
                      : type == "integer" ? value.is_number_integer()
                      : type == "number"  ? value.is_number()
                      : type == "boolean" ? value.is_boolean()
                                          : false;
      if (!ok) return fail(value.dump().substr(0, 80) + " is not of type " + type);
    }
    if (value.is_string()) {
      const auto& s = value.get_ref<const std::string&>();
      if (schema.contains("minLength") && s.size() < schema["minLength"].get<std::size_t>()) fail("too short");
      if (schema.contains("maxLength") && s.size() > schema["maxLength"].get<std::size_t>()) fail("too long");
      if (schema.contains("pattern") && !std::regex_search(s, std::regex(schema["pattern"].get<std::string>())))
        fail("\"" + s + "\" does not match " + schema["pattern"].get<std::string>());
    }
    if (value.is_number()) {
      if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>()) fail("below the minimum");
      if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>()) fail("above the maximum");
    }
    if (value.is_object()) {
      for (const auto& r : schema.value("required", json::array()))
        if (!value.contains(r.get<std::string>())) fail("missing required `" + r.get<std::string>() + "`");
      const json& properties = child(schema, "properties");
      const json extra = schema.value("additionalProperties", json(!schema.contains("properties") && !schema.contains("type")));
      for (const auto& [k, v] : value.items()) {
        if (properties.contains(k)) check(properties[k], v, at + "/" + k, out);
        else if (extra.is_object()) check(extra, v, at + "/" + k, out);
        else if (extra == false) fail("`" + k + "` is not documented");
      }
    }
    if (value.is_array()) {
      if (schema.contains("minItems") && value.size() < schema["minItems"].get<std::size_t>()) fail("too few items");
      if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<std::size_t>()) fail("too many items");
      if (schema.contains("items"))
        for (std::size_t i = 0; i < value.size(); ++i) check(schema["items"], value[i], at + "/" + std::to_string(i), out);
    }
    if (schema.contains("allOf"))
      for (const auto& s : schema["allOf"]) check(s, value, at, out);
    for (const char* k : {"oneOf", "anyOf"}) {
      if (!schema.contains(k)) continue;
      std::size_t matched = 0;
      std::string why;
      for (const auto& s : schema[k]) {
        std::vector<std::string> sub;
        check(s, value, at, sub);
        if (sub.empty()) ++matched;
        else why += " [" + sub.front() + "]";
      }
      if (matched == 0) fail(std::string("matches none of ") + k + ":" + why);
      else if (std::string(k) == "oneOf" && matched > 1) fail("matches more than one of oneOf");
    }
  }

  const json& m_doc;
};

// The status of one request and, for a 404, its error code. Reads only the header otherwise,
// so a route that streams (and never ends its body) is answered too.
std::pair<unsigned, std::string> status_of(std::uint16_t port, http::verb method, const std::string& target,
                                           const std::string& token) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {0, "connect: " + ec.message()};
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer " + token);
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return {0, "write: " + ec.message()};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  http::read_header(stream, buffer, parser, ec);
  if (ec) return {0, "read: " + ec.message()};
  const unsigned status = parser.get().result_int();
  if (status != 404) return {status, ""};
  http::read(stream, buffer, parser, ec);
  if (ec) return {0, "read: " + ec.message()};
  return {status, error_code_of({status, json::parse(parser.get().body(), nullptr, false), {}})};
}

class OpenApi : public Http {
 protected:
  void SetUp() override {
    Http::SetUp();
    const reply served = call(port, http::verb::get, "/api/openapi.json");
    ASSERT_EQ(served.status, 200u) << served.error << served.body.dump();
    ASSERT_TRUE(served.body.is_object()) << "the served document is not a JSON object";
    m_served = served.body;
  }

  json m_served;
  const json& m_doc = m_served;  // read only: a const operator[] never inserts
};

// ---- (a) the document itself

TEST_F(OpenApi, ServedDocumentIsTheSourceFile) {
  const json source = source_document();
  ASSERT_FALSE(source.is_discarded()) << "docs/openapi.json is not valid JSON";
  EXPECT_EQ(m_doc, source) << "the server embeds an older docs/openapi.json: rebuild";
  EXPECT_EQ(call(port, http::verb::get, "/api/openapi.json").status, 200u) << "it needs no token";
}

TEST_F(OpenApi, IsOpenApi3AndEveryReferenceResolves) {
  ASSERT_TRUE(child(m_doc, "openapi").is_string());
  EXPECT_EQ(m_doc["openapi"].get<std::string>().rfind("3.", 0), 0u) << m_doc["openapi"];
  EXPECT_TRUE(child(child(m_doc, "info"), "title").is_string());
  EXPECT_TRUE(child(child(m_doc, "info"), "version").is_string());
  ASSERT_TRUE(child(m_doc, "paths").is_object());
  EXPECT_FALSE(m_doc["paths"].empty());

  std::vector<std::pair<std::string, std::string>> refs;
  collect_refs(m_doc, "", refs);
  EXPECT_FALSE(refs.empty());
  std::set<std::string> unresolved, used;
  for (const auto& [ref, where] : refs) {
    if (resolve(m_doc, ref) == nullptr) unresolved.insert(ref + " at " + where);
    used.insert(ref);
  }
  EXPECT_TRUE(unresolved.empty()) << "references that resolve to nothing:" << joined(unresolved);

  std::set<std::string> unused;
  for (const char* section : {"schemas", "parameters", "responses", "headers"})
    for (const auto& [name, v] : child(child(m_doc, "components"), section).items())
      if (!used.count(std::string("#/components/") + section + "/" + name))
        unused.insert(std::string(section) + "/" + name);
  EXPECT_TRUE(unused.empty()) << "components nothing refers to:" << joined(unused);

  std::vector<std::pair<const json*, std::string>> schemas;
  all_schemas(m_doc, "", schemas);
  std::set<std::string> unknown;
  for (const auto& [schema, where] : schemas) unknown_keywords(*schema, where, unknown);
  EXPECT_TRUE(unknown.empty()) << "schema keywords this test does not check (teach the validator):" << joined(unknown);
}

TEST_F(OpenApi, EveryOperationIsCompleteAndNamesItsPlaceholders) {
  std::set<std::string> ids;
  for (const auto& o : operations(m_doc)) {
    const json& op = *o.op;
    SCOPED_TRACE(o.name());
    EXPECT_FALSE(op.value("summary", "").empty());
    EXPECT_FALSE(op.value("description", "").empty());
    EXPECT_TRUE(ids.insert(op.value("operationId", "")).second) << "operationId missing or repeated";
    ASSERT_TRUE(op.contains("responses"));
    EXPECT_FALSE(op["responses"].empty());
    for (const auto& [status, response] : op["responses"].items())
      EXPECT_TRUE(deref(m_doc, response).contains("description")) << status;

    // The path parameters are the pattern's placeholders, by the same names, all required.
    std::set<std::string> declared;
    for (const json* p : parameters(m_doc, op, "path")) {
      declared.insert(p->value("name", ""));
      EXPECT_EQ(p->value("required", false), true) << p->value("name", "");
    }
    const auto names = placeholders(o.pattern);
    EXPECT_EQ(declared, std::set<std::string>(names.begin(), names.end()));
  }
}

// ---- (b) the document and the route table

TEST_F(OpenApi, DocumentsExactlyTheRouteTable) {
  std::set<std::string> served, documented;
  std::map<std::string, route_info> by_name;
  for (const auto& r : m_api->routes()) {
    served.insert(r.method + " " + r.pattern);
    by_name[r.method + " " + r.pattern] = r;
  }
  std::map<std::string, const json*> ops;
  for (const auto& o : operations(m_doc)) {
    documented.insert(o.name());
    ops[o.name()] = o.op;
  }
  std::set<std::string> undocumented, unserved;
  std::set_difference(served.begin(), served.end(), documented.begin(), documented.end(),
                      std::inserter(undocumented, undocumented.end()));
  std::set_difference(documented.begin(), documented.end(), served.begin(), served.end(),
                      std::inserter(unserved, unserved.end()));
  EXPECT_TRUE(undocumented.empty()) << "routes the server handles that docs/openapi.json lacks:" << joined(undocumented);
  EXPECT_TRUE(unserved.empty()) << "operations docs/openapi.json documents that the server lacks:" << joined(unserved);

  for (const auto& [name, r] : by_name) {
    if (!ops.count(name)) continue;
    const json& op = *ops[name];
    SCOPED_TRACE(name);
    const json& security = op.contains("security") ? op["security"] : child(m_doc, "security");
    EXPECT_EQ(!security.empty(), r.authenticated) << "the document's security is " << security;
    const json& responses = child(op, "responses");
    EXPECT_EQ(responses.contains("401"), r.authenticated) << "401 documented where a token is needed";
    bool takes_key = false;
    for (const json* p : parameters(m_doc, op, "header")) takes_key |= p->value("name", "") == "Idempotency-Key";
    EXPECT_EQ(takes_key, r.idempotent) << "Idempotency-Key documented where the route takes one";
    EXPECT_TRUE(!r.idempotent || responses.contains("422")) << "a reused key is 422";
    EXPECT_TRUE(!op.contains("requestBody") || responses.contains("413")) << "a body over the limit is 413";
  }
}

// ---- (c) every documented operation is handled

TEST_F(OpenApi, EveryDocumentedOperationIsHandled) {
  for (const auto& o : operations(m_doc)) {
    const std::string target = filled(o.pattern, "x1");
    const auto [status, code] = status_of(port, http::string_to_verb(o.method), target, alex);
    EXPECT_NE(status, 0u) << o.name() << ": " << code;
    EXPECT_FALSE(status == 404 && code == "http.not_found") << o.name() << " (" << target << "): no such route";
    EXPECT_NE(status, 405u) << o.name() << " (" << target << "): the path is there, not the method";
  }
}

TEST_F(OpenApi, UnknownBodyFieldsAreRefusedWhereTheSchemaSaysSo) {
  std::size_t bodies = 0;
  for (const auto& o : operations(m_doc)) {
    if (!o.op->contains("requestBody")) continue;
    ++bodies;
    const json& schema = deref(m_doc, request_schema(*o.op));
    EXPECT_TRUE(schema.is_object()) << o.name() << ": the request body has no JSON schema";
    const bool closed = schema.value("additionalProperties", json(true)) == false;
    const reply r = post(port, filled(o.pattern, "x1"), {{"zzz_unknown_field", 1}}, alex);
    EXPECT_EQ(r.status == 400 && error_code_of(r) == "request.unknown_field", closed)
        << o.name() << ": the server answers " << r.status << " " << r.body.dump() << ", the schema says "
        << (closed ? "additionalProperties: false" : "nothing against unknown fields");
  }
  EXPECT_GT(bodies, 0u);
}

// ---- (d) real answers against the documented schemas

class OpenApiAnswers : public OpenApi {
 protected:
  // Sends the request and checks the answer against the operation `pattern` documents: the
  // status is documented, the content type is, the JSON matches the schema, and the headers
  // the server adds (Idempotent-Replayed, WWW-Authenticate) are documented. A body sent is
  // checked against the request schema too.
  reply exchange(const std::string& method, const std::string& pattern, const std::string& target, const json& body,
                 const std::string& token, const header_list& headers = {}) {
    const std::string name = method + " " + pattern;
    const json& found = child(child(child(m_doc, "paths"), pattern), lower(method));
    const json* op = found.is_object() ? &found : nullptr;
    const reply r = call(port, http::string_to_verb(method), target, body.is_null() ? std::string() : body.dump(),
                         token, headers);
    if (op == nullptr) {
      ADD_FAILURE() << name << " is not in the document";
      return r;
    }
    if (!body.is_null() && r.status < 300) {
      const json& schema = deref(m_doc, request_schema(*op));
      if (!schema.is_object()) ADD_FAILURE() << name << " takes a body the document does not describe";
      for (const auto& p : m_validator.check(schema, body)) ADD_FAILURE() << name << " request " << body.dump() << ": " << p;
    }
    const std::string status = std::to_string(r.status);
    if (!child(*op, "responses").contains(status)) {
      ADD_FAILURE() << name << " (" << target << ") answered " << status << ", which is not documented: " << r.body.dump();
      return r;
    }
    m_answered.insert(name + " " + status);
    const json& response = deref(m_doc, (*op)["responses"][status]);
    const std::string type = r.headers.count("Content-Type") ? r.headers.at("Content-Type") : "";
    const json& content = child(response, "content");
    if (!content.contains(type)) {
      ADD_FAILURE() << name << " " << status << ": Content-Type " << type << " is not documented";
    } else if (type == "application/json") {
      for (const auto& p : m_validator.check(child(content[type], "schema"), r.body))
        ADD_FAILURE() << name << " " << status << " (" << target << "): " << p << "\n  in " << r.body.dump();
    }
    for (const char* header : {"Idempotent-Replayed", "WWW-Authenticate"})
      EXPECT_TRUE(!r.headers.count(header) || child(response, "headers").contains(header))
          << name << " " << status << " sends " << header << ", which is not documented";
    return r;
  }

  reply get_(const std::string& pattern, const std::string& target, const std::string& token = openclaw) {
    return exchange("GET", pattern, target, nullptr, token);
  }

  // A GET answered with an event stream, which never ends: reads only the status, the headers and
  // the first `frames` events (within a bounded time), and checks them against the operation: the
  // status and the Content-Type are documented, every header the response documents is sent and
  // matches its schema, and each event's data matches the schema the media type names
  // (x-event-data), its frame's id being the data's `seq` and its event name the data's `type`.
  std::vector<sse_event> stream(const std::string& pattern, const std::string& target, const std::string& token,
                                std::size_t frames, const std::string& last_event_id = {}) {
    const std::string name = "GET " + pattern;
    const json& op = child(child(child(m_doc, "paths"), pattern), "get");
    sse_client c(port, target, token, last_event_id);
    if (!c.read_header()) {
      ADD_FAILURE() << name << " (" << target << "): no answer";
      return {};
    }
    const std::string status = std::to_string(c.status);
    if (!child(op, "responses").contains(status)) {
      ADD_FAILURE() << name << " (" << target << ") answered " << status << ", which is not documented";
      return {};
    }
    m_answered.insert(name + " " + status);
    const json& response = deref(m_doc, op["responses"][status]);
    const std::string type = c.headers["content-type"];
    const json& media = child(child(response, "content"), type);
    if (!media.is_object()) {
      ADD_FAILURE() << name << " " << status << ": Content-Type " << type << " is not documented";
      return {};
    }
    for (const auto& [header, spec] : child(response, "headers").items()) {
      const auto sent = c.headers.find(lower(header));
      if (sent == c.headers.end()) ADD_FAILURE() << name << " " << status << " documents " << header << ", not sent";
      else
        for (const auto& p : m_validator.check(child(deref(m_doc, spec), "schema"), sent->second))
          ADD_FAILURE() << name << " " << status << " header " << header << ": " << p;
    }
    const json& data = child(media, "x-event-data");
    EXPECT_TRUE(data.is_object()) << name << ": the stream's media type names no schema of its events (x-event-data)";
    c.read_events(frames);
    EXPECT_EQ(c.events.size(), frames) << name << " (" << target << "): fewer events than expected in time";
    for (const auto& e : c.events) {
      for (const auto& p : m_validator.check(data, e.data))
        ADD_FAILURE() << name << " event " << e.id << ": " << p << "\n  in " << e.data.dump();
      EXPECT_EQ(json(e.id), child(e.data, "seq")) << e.data.dump();
      EXPECT_EQ(json(e.event), child(e.data, "type")) << e.data.dump();
    }
    c.disconnect();
    return c.events;
  }

  validator m_validator{m_doc};
  std::set<std::string> m_answered;  // "METHOD pattern status"
};

TEST_F(OpenApiAnswers, EveryOperationAnswersAsDocumented) {
  EXPECT_EQ(get_("/health", "/health", "").status, 200u);
  EXPECT_EQ(get_("/api/openapi.json", "/api/openapi.json", "").status, 200u);
  EXPECT_EQ(get_("/metrics", "/metrics", "").status, 200u);
  EXPECT_EQ(get_("/api/tasks", "/api/tasks", "").status, 401u);
  EXPECT_EQ(get_("/api/tasks", "/api/tasks", "not-a-token").status, 401u);

  // Tasks: create (and replay), read, list.
  const json engineering = {{"task", {{"title", "fix the flaky test"}, {"kind", "engineering"}}}};
  const header_list key = {{"Idempotency-Key", "create-1"}};
  const reply created = exchange("POST", "/api/tasks", "/api/tasks", engineering, openclaw, key);
  ASSERT_EQ(created.status, 201u) << created.body.dump();
  const std::string id = created.body["task"]["id"];
  const std::string t = "/api/tasks/" + id;
  const reply replayed = exchange("POST", "/api/tasks", "/api/tasks", engineering, openclaw, key);
  EXPECT_EQ(replayed.headers.count("Idempotent-Replayed"), 1u);
  EXPECT_EQ(exchange("POST", "/api/tasks", "/api/tasks", {{"task", {{"title", "other"}}}}, openclaw, key).status, 422u);
  EXPECT_EQ(exchange("POST", "/api/tasks", "/api/tasks", {{"task", {{"title", "x"}, {"colour", "red"}}}}, openclaw).status,
            400u);
  EXPECT_EQ(exchange("POST", "/api/tasks", "/api/tasks", {{"id", id}, {"task", {{"title", "again"}}}}, openclaw).status,
            409u);
  EXPECT_EQ(get_("/api/tasks/{id}", t).status, 200u);
  EXPECT_EQ(get_("/api/tasks/{id}", "/api/tasks/T-404").status, 404u);
  EXPECT_EQ(exchange("POST", "/api/tasks", "/api/tasks", {{"id", "F-1"}, {"task", {{"title", "pay"}, {"kind", "finance"}}}},
                     openclaw)
                .status,
            201u);
  const reply page = get_("/api/tasks", "/api/tasks?limit=1");
  EXPECT_EQ(page.status, 200u);
  EXPECT_TRUE(page.body["next"].is_string()) << page.body.dump();
  EXPECT_EQ(get_("/api/tasks", "/api/tasks?limit=0").status, 400u);

  // Transitions, the brief and the executor's write-back.
  const std::string moves = t + "/transitions";
  const std::string moves_p = "/api/tasks/{id}/transitions";
  EXPECT_EQ(exchange("POST", moves_p, moves, {{"event", "assign"}}, openclaw).status, 200u);
  EXPECT_EQ(exchange("POST", moves_p, moves, {{"event", "start"}, {"comment", nullptr}}, claude).status, 200u);
  EXPECT_EQ(exchange("POST", moves_p, moves, {{"event", "accept_result"}}, claude).status, 422u);
  EXPECT_EQ(exchange("POST", moves_p, moves, {{"event", "start"}, {"expected_version", 1}}, claude).status, 409u);
  EXPECT_EQ(exchange("POST", moves_p, moves, {{"event", "start"}, {"actor", "alex"}}, claude).status, 400u);
  EXPECT_EQ(exchange("POST", moves_p, "/api/tasks/F-1/transitions", {{"event", "start"}}, claude).status, 403u);
  const reply brief = get_("/api/tasks/{id}/brief", t + "/brief", claude);
  ASSERT_EQ(brief.status, 200u) << brief.body.dump();
  const std::string callback = "/api/executions/callback";
  const std::string block = "done:\n" + brief.body["markers"]["begin"].get<std::string>() + "\nfixed it\n<<<AGENTOS:END>>>\n";
  EXPECT_EQ(exchange("POST", callback, callback, {{"task_id", id}, {"body", block}}, claude).status, 200u);
  EXPECT_EQ(exchange("POST", callback, callback, {{"task_id", id}, {"body", "no block"}}, claude).status, 422u);
  EXPECT_EQ(exchange("POST", callback, callback, {{"task_id", id}, {"body", block}}, claude).status, 409u);
  EXPECT_EQ(exchange("POST", callback, callback, {{"task_id", "T-404"}, {"body", "x"}}, claude).status, 404u);
  EXPECT_EQ(exchange("POST", callback, callback, {{"task_id", id}}, claude).status, 400u);
  EXPECT_EQ(exchange("POST", callback, callback, {{"task_id", id}, {"body", block}}, claude,
                     {{"X-Agentos-Timestamp", "1"}, {"X-Agentos-Signature", "sha256=00"}})
                .status,
            401u);

  // What the task has accumulated; reviews and the other operator actions.
  EXPECT_EQ(get_("/api/tasks/{id}/artifacts", t + "/artifacts").status, 200u);
  const std::string one = "/api/tasks/{id}/artifacts/{kind}/{version}";
  EXPECT_EQ(get_(one, t + "/artifacts/result/1").status, 200u);
  EXPECT_EQ(get_(one, t + "/artifacts/result/9").status, 404u);
  EXPECT_EQ(get_(one, t + "/artifacts/result/first").status, 400u);
  const reply review = exchange("POST", "/api/tasks/{id}/reviews", t + "/reviews",
                                {{"decision", "request_revision"}, {"comment", "add a test"}}, claude_pm);
  EXPECT_EQ(review.status, 200u);
  EXPECT_TRUE(review.body.contains("review")) << review.body.dump();
  EXPECT_EQ(exchange("POST", "/api/tasks/{id}/reviews", t + "/reviews", {{"decision", "approve"}}, claude_pm).status, 400u);
  EXPECT_EQ(get_("/api/tasks/{id}/reviews", t + "/reviews").status, 200u);
  EXPECT_EQ(exchange("POST", "/api/tasks/{id}/escalate", t + "/escalate", nullptr, claude_pm).status, 200u);
  EXPECT_EQ(exchange("POST", "/api/tasks/{id}/escalate", "/api/tasks/T-404/escalate", json::object(), claude_pm).status,
            404u);
  EXPECT_EQ(exchange("POST", "/api/tasks/{id}/cancel", t + "/cancel", {{"reason", "not needed"}}, claude_pm).status, 200u);
  EXPECT_EQ(exchange("POST", "/api/tasks/{id}/assign", "/api/tasks/F-1/assign", {{"assignee", "agent:ledger"}}, alex).status,
            200u);
  EXPECT_EQ(exchange("POST", "/api/tasks/{id}/assign", "/api/tasks/F-1/assign", {{"assignee", "agent:nobody"}}, alex).status,
            400u);
  EXPECT_EQ(exchange("POST", "/api/escalations/sweep", "/api/escalations/sweep", {{"limit", 10}}, alex,
                     {{"Idempotency-Key", "sweep-1"}})
                .status,
            200u);
  EXPECT_EQ(exchange("POST", "/api/escalations/sweep", "/api/escalations/sweep", nullptr, claude).status, 403u);
  EXPECT_EQ(exchange("POST", "/api/escalations/sweep", "/api/escalations/sweep", nullptr, alex,
                     {{"Idempotency-Key", "sweep-1"}})
                .status,
            422u);

  // Agents and tokens.
  EXPECT_EQ(get_("/api/agents", "/api/agents").status, 200u);
  const json bot = {{"id", "bot-1"}, {"role", "engineer"}, {"capabilities", {"submit-result"}}};
  EXPECT_EQ(exchange("POST", "/api/agents", "/api/agents", bot, alex).status, 201u);
  EXPECT_EQ(exchange("POST", "/api/agents", "/api/agents", bot, alex).status, 409u);
  EXPECT_EQ(exchange("POST", "/api/agents", "/api/agents", bot, claude).status, 403u);
  EXPECT_EQ(get_("/api/agents", "/api/agents").status, 200u);  // with a registered agent now
  EXPECT_EQ(exchange("POST", "/api/agents/{id}/token", "/api/agents/bot-1/token", nullptr, alex).status, 200u);
  EXPECT_EQ(exchange("POST", "/api/agents/{id}/token", "/api/agents/nobody/token", json::object(), alex).status, 404u);
  EXPECT_EQ(exchange("POST", "/api/agents/{id}/token", "/api/agents/bot-1/token", nullptr, alex,
                     {{"Idempotency-Key", "k"}})
                .status,
            400u);

  // The policy: show, dry run, reload (from the file the server was started with, and a broken bundle).
  EXPECT_EQ(get_("/api/policy", "/api/policy").status, 200u);
  const std::string evaluate = "/api/policy/evaluate";
  EXPECT_EQ(exchange("POST", evaluate, evaluate, {{"event", "start"}, {"task_id", "F-1"}, {"actor", "ledger"}}, claude)
                .status,
            200u);
  EXPECT_EQ(exchange("POST", evaluate, evaluate, {{"event", "start"}, {"task_id", "T-404"}}, claude).status, 404u);
  EXPECT_EQ(exchange("POST", evaluate, evaluate, {{"event", "nope"}, {"task", {{"state", "routed"}}}}, claude).status,
            400u);
  const std::string reload = "/api/policy/reload";
  EXPECT_EQ(exchange("POST", reload, reload, nullptr, alex).status, 400u);  // started without a policy file
  api_options options;
  options.policy_entry = fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy";
  serve_with(std::move(options));
  EXPECT_EQ(exchange("POST", reload, reload, nullptr, alex).status, 200u);
  EXPECT_EQ(exchange("POST", reload, reload, {{"entry", "a.policy"}, {"files", {{"a.policy", "garbage"}}}}, alex).status,
            422u);
  EXPECT_EQ(exchange("POST", reload, reload, nullptr, claude).status, 403u);

  // The projection's drift check: off without --paperclip; operators only. A store that was never
  // projected has no company, which the report says without asking Paperclip; once it has one,
  // a Paperclip that does not answer is a 502.
  const std::string check = "/api/projection/check";
  EXPECT_EQ(exchange("POST", check, check, nullptr, alex).status, 404u);
  EXPECT_EQ(exchange("POST", check, check, nullptr, claude).status, 403u);
  api_options projecting;
  projecting.policy_entry = fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy";
  std::string url_error;
  const auto nowhere = agentos::runtime::projection::parse_base_url("http://127.0.0.1:9", url_error);
  ASSERT_TRUE(nowhere) << url_error;
  projecting.projection_check = [this, u = *nowhere] {
    return agentos::runtime::projection::drift_response(*m_store, u, {std::chrono::milliseconds(2'000)});
  };
  serve_with(std::move(projecting));
  const reply report = exchange("POST", check, check, nullptr, alex);
  EXPECT_EQ(report.status, 200u) << report.body.dump();
  EXPECT_EQ(report.body["clean"], false);
  ASSERT_EQ(report.body["findings"].size(), 1u) << report.body.dump();
  EXPECT_EQ(report.body["findings"][0]["kind"], "company.missing");
  EXPECT_EQ(exchange("POST", check, check, {{"colour", "red"}}, alex).status, 400u);
  ASSERT_TRUE(agentos::runtime::projection::mapping::write(*m_store, [](kv::writer& w) {
    return agentos::runtime::projection::mapping::write_company(w, {"c-1", "agentos", "AGE"});
  }));
  const reply down = exchange("POST", check, check, nullptr, alex);
  EXPECT_EQ(down.status, 502u) << down.body.dump();
  EXPECT_EQ(down.body["error"]["code"], "paperclip.unreachable");

  // The event stream: every event so far, from the start; resumed with Last-Event-ID, which wins
  // over ?after=; bad resume points.
  const std::uint64_t head = m_store->outbox_head();
  ASSERT_GE(head, 3u);
  std::set<std::string> types;
  for (const auto& e : stream("/api/events", "/api/events?after=0", claude, head)) types.insert(e.event);
  EXPECT_EQ(types, (std::set<std::string>{"task.created", "task.escalated", "task.transitioned"}));
  const auto resumed = stream("/api/events", "/api/events?after=0", claude, 1, std::to_string(head - 1));
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].id, head);
  EXPECT_EQ(get_("/api/events", "/api/events?after=ten", claude).status, 400u);
  EXPECT_EQ(exchange("GET", "/api/events", "/api/events", nullptr, claude, {{"Last-Event-ID", std::to_string(head + 1)}})
                .status,
            400u);
  EXPECT_EQ(get_("/api/events", "/api/events", "").status, 401u);

  // Webhooks (the operator's). The receiver answers the first delivery 500, then 200: the log
  // holds a failed attempt and a delivered one, and what it received matches the callback.
  receiver hook({500});
  const json subscription = {{"id", "ops-hook"},
                             {"url", "http://127.0.0.1:" + std::to_string(hook.port) + "/hook"},
                             {"secret", "sixteen-bytes-or-more"},
                             {"events", {"task.created"}},
                             {"after", 0}};
  EXPECT_EQ(exchange("POST", "/api/webhooks", "/api/webhooks", subscription, alex).status, 201u);
  EXPECT_EQ(exchange("POST", "/api/webhooks", "/api/webhooks", subscription, alex).status, 409u);
  EXPECT_EQ(exchange("POST", "/api/webhooks", "/api/webhooks", subscription, claude).status, 403u);
  json https = subscription;
  https["url"] = "https://example.com/hook";
  EXPECT_EQ(exchange("POST", "/api/webhooks", "/api/webhooks", https, alex).status, 400u);
  const json& delivery = child(child(child(child(child(m_doc, "paths"), "/api/webhooks"), "post"), "callbacks"), "delivery");
  ASSERT_EQ(delivery.size(), 1u) << "POST /api/webhooks documents no `delivery` callback";
  const json& deliver = child(delivery.begin().value(), "post");
  const auto got = hook.wait_for(2);
  ASSERT_GE(got.size(), 2u) << "the webhook's receiver got no retry";
  for (const auto& r : got) {
    const json& content = child(child(deliver, "requestBody"), "content");
    EXPECT_TRUE(content.contains(r.headers.count("content-type") ? r.headers.at("content-type") : "<none>"));
    for (const auto& p : m_validator.check(request_schema(deliver), json::parse(r.body, nullptr, false)))
      ADD_FAILURE() << "a delivery's body: " << p << "\n  in " << r.body;
    for (const json* h : parameters(m_doc, deliver, "header")) {
      const auto sent = r.headers.find(lower(h->value("name", "")));
      if (sent == r.headers.end()) ADD_FAILURE() << "a delivery lacks " << h->value("name", "");
      else
        for (const auto& p : m_validator.check(child(*h, "schema"), sent->second))
          ADD_FAILURE() << "a delivery's " << h->value("name", "") << ": " << p;
    }
  }
  const std::string wh = "/api/webhooks/ops-hook";
  for (int i = 0; i < 500 && get(port, wh + "/deliveries", alex).body["deliveries"].size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const reply log = get_("/api/webhooks/{id}/deliveries", wh + "/deliveries", alex);
  ASSERT_EQ(log.status, 200u);
  ASSERT_GE(log.body["deliveries"].size(), 2u) << log.body.dump();
  EXPECT_EQ(log.body["deliveries"][0]["result"], "failed");
  EXPECT_EQ(log.body["deliveries"][1]["result"], "delivered");
  EXPECT_EQ(get_("/api/webhooks/{id}/deliveries", wh + "/deliveries?after=1&limit=1", alex).body["deliveries"].size(), 1u);
  EXPECT_EQ(get_("/api/webhooks/{id}/deliveries", wh + "/deliveries?after=first", alex).status, 400u);
  EXPECT_EQ(get_("/api/webhooks/{id}/deliveries", "/api/webhooks/nope/deliveries", alex).status, 404u);
  EXPECT_EQ(get_("/api/webhooks/{id}", wh, alex).status, 200u);
  EXPECT_EQ(get_("/api/webhooks/{id}", "/api/webhooks/nope", alex).status, 404u);
  EXPECT_EQ(get_("/api/webhooks", "/api/webhooks", alex).status, 200u);
  EXPECT_EQ(get_("/api/webhooks", "/api/webhooks", claude).status, 403u);
  EXPECT_EQ(exchange("DELETE", "/api/webhooks/{id}", wh, nullptr, alex, {{"Idempotency-Key", "k"}}).status, 400u);
  EXPECT_EQ(exchange("DELETE", "/api/webhooks/{id}", wh, nullptr, alex).status, 200u);
  EXPECT_EQ(exchange("DELETE", "/api/webhooks/{id}", wh, nullptr, alex).status, 404u);

  // The audit log now holds every kind of record the scenario made.
  const reply audit = get_("/api/audit", "/api/audit?limit=1000");
  EXPECT_EQ(audit.status, 200u);
  std::set<std::string> kinds;
  for (const auto& r : audit.body["records"]) kinds.insert(r.value("kind", ""));
  EXPECT_EQ(kinds, (std::set<std::string>{"agent", "escalation", "intake", "policy", "protocol", "request", "token",
                                          "transition"}));
  EXPECT_EQ(get_("/api/audit", "/api/audit?task=" + id).status, 200u);
  EXPECT_EQ(get_("/api/audit", "/api/audit?limit=x").status, 400u);

  // Every operation was answered with a success at least once, so every one was checked.
  std::set<std::string> unchecked;
  for (const auto& o : operations(m_doc)) {
    bool ok = false;
    for (const char* s : {"200", "201"}) ok |= m_answered.count(o.name() + " " + s) > 0;
    if (!ok) unchecked.insert(o.name());
  }
  EXPECT_TRUE(unchecked.empty()) << "operations this scenario never saw succeed (add a step):" << joined(unchecked);
}

}  // namespace
