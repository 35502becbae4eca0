# Embeds a JSON file in a C++ source at build time (runtime/CMakeLists.txt runs it with
# cmake -P): INPUT (the .json), TEMPLATE (a .cpp.in with @EMBEDDED_TEXT@), OUTPUT (the .cpp).
# Refuses a file that is not JSON, so a broken document fails the build, not the server.
file(READ "${INPUT}" EMBEDDED_TEXT)
string(JSON root_type ERROR_VARIABLE json_error TYPE "${EMBEDDED_TEXT}")
if(json_error)
  message(FATAL_ERROR "${INPUT} is not valid JSON: ${json_error}")
endif()
# The text goes into a raw string literal with this delimiter.
string(FIND "${EMBEDDED_TEXT}" ")agentos_json\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )agentos_json\"")
endif()
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
