# Shared build helpers: warnings, sanitizers, and the one way to register a test binary.

# Warnings live in one interface target that every TinyKV target links.
add_library(tinykv_warnings INTERFACE)
target_compile_options(tinykv_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Wno-missing-field-initializers
  # GCC's spelling; clang (used for the fuzzers) has no -Wshadow=local.
  $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
  $<$<BOOL:${TINYKV_WERROR}>:-Werror>)

if(TINYKV_SANITIZE)
  add_compile_options(-fsanitize=${TINYKV_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${TINYKV_SANITIZE})
endif()

# tinykv_add_library(<name> <alias> SOURCES ...): a phase library with its public include dir.
function(tinykv_add_library name alias)
  cmake_parse_arguments(ARG "" "TEST_PREFIX" "SOURCES;DEPS" ${ARGN})
  add_library(${name} ${ARG_SOURCES})
  add_library(${alias} ALIAS ${name})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                     PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE tinykv_warnings)
endfunction()

# tinykv_add_test(<target> SOURCES ... DEPS ... [TEST_PREFIX p]): one GoogleTest
# binary per phase, discovered by ctest so that every TEST() is its own ctest
# entry (named with the prefix, when a second binary runs the same tests).
function(tinykv_add_test target)
  if(NOT TINYKV_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TEST_PREFIX" "SOURCES;DEPS" ${ARGN})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} tinykv::testing GTest::gtest GTest::gtest_main
                                          tinykv_warnings)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${ARG_TEST_PREFIX}"
                       PROPERTIES TIMEOUT 300)
endfunction()

# tinykv_add_bindings(<name> SOURCES ...): a phase's pybind11 binder, linked into tinykv._core.
function(tinykv_add_bindings name)
  if(NOT TINYKV_BUILD_PYTHON)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TEST_PREFIX" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC pybind11::headers Python3::Module ${ARG_DEPS}
                                PRIVATE tinykv_warnings tinykv_python_common)
  set_property(GLOBAL APPEND PROPERTY TINYKV_BINDING_LIBS ${name})
endfunction()
