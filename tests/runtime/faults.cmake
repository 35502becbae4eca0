# Fault-injection tests of the store's durability: power loss (an LD_PRELOAD shim that undoes
# unsynced writes of data.mdb), SIGKILL, and ENOSPC on a small tmpfs. Included from
# tests/CMakeLists.txt. The raw LMDB stand-in validates the harnesses; agentos_fault_tests()
# registers the same three tests for any torture executable with the same command line.
enable_language(C)

add_library(powerloss_shim MODULE ${CMAKE_CURRENT_LIST_DIR}/powerloss/powerloss_shim.c)
set_target_properties(powerloss_shim PROPERTIES PREFIX "" C_STANDARD 11 POSITION_INDEPENDENT_CODE ON)
find_package(Threads REQUIRED)
target_link_libraries(powerloss_shim PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)

add_executable(raw_lmdb_torture ${CMAKE_CURRENT_LIST_DIR}/powerloss/raw_lmdb_torture.c)
set_target_properties(raw_lmdb_torture PROPERTIES C_STANDARD 11)
target_link_libraries(raw_lmdb_torture PRIVATE PkgConfig::LMDB)

# agentos_fault_tests(NAME TORTURE_TARGET CYCLES [CRASH_CYCLES N]): faults.NAME_powerloss (CYCLES
# power losses), faults.NAME_crash (CRASH_CYCLES, default CYCLES, SIGKILLs) and faults.NAME_enospc
# (skipped where tmpfs cannot be mounted) for TORTURE_TARGET, which implements
# `write DIR --acks FILE [--nosync] [--count N]` and `verify DIR --acks FILE`.
function(agentos_fault_tests name torture_target cycles)
  cmake_parse_arguments(PARSE_ARGV 3 arg "" "CRASH_CYCLES" "")
  if(NOT arg_CRASH_CYCLES)
    set(arg_CRASH_CYCLES ${cycles})
  endif()
  set(dir ${CMAKE_CURRENT_FUNCTION_LIST_DIR})
  set(torture $<TARGET_FILE:${torture_target}>)
  add_test(NAME faults.${name}_powerloss
    COMMAND bash ${dir}/powerloss_test.sh ${torture} $<TARGET_FILE:powerloss_shim> ${cycles})
  add_test(NAME faults.${name}_crash COMMAND bash ${dir}/crash_test.sh ${torture} ${arg_CRASH_CYCLES})
  add_test(NAME faults.${name}_enospc COMMAND bash ${dir}/enospc_test.sh ${torture})
  # Generous limits: a cycle takes well under a second even when fsync is slow.
  math(EXPR powerloss_timeout "60 + ${cycles}")
  math(EXPR crash_timeout "60 + ${arg_CRASH_CYCLES}")
  set_tests_properties(faults.${name}_powerloss PROPERTIES TIMEOUT ${powerloss_timeout} LABELS faults)
  set_tests_properties(faults.${name}_crash PROPERTIES TIMEOUT ${crash_timeout} LABELS faults)
  set_tests_properties(faults.${name}_enospc PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS faults)
endfunction()

# The stand-in validates the harnesses and the shim; the store's own tool gets 300 cycles.
agentos_fault_tests(raw raw_lmdb_torture 100 CRASH_CYCLES 50)
