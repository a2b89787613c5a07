# The golden conformance runner: `conformance DIR...` (see tests/conformance/conformance.cpp).
add_executable(conformance ${CMAKE_CURRENT_SOURCE_DIR}/conformance/conformance.cpp
                           ${CMAKE_CURRENT_SOURCE_DIR}/conformance/golden.cpp
                           ${CMAKE_CURRENT_SOURCE_DIR}/conformance/training_cases.cpp)
target_link_libraries(conformance PRIVATE tapeflow::tapeflow tapeflow_flags)
target_include_directories(conformance PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME conformance
         COMMAND conformance ${PROJECT_SOURCE_DIR}/../shared/golden/conv3d_transpose)
add_test(NAME conformance_training
         COMMAND conformance ${PROJECT_SOURCE_DIR}/../shared/golden/training)

# The layer zoo's TensorFlow reference cases (tests/data/tfjs, made by tests/tfjs/generate.mjs).
target_sources(conformance PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/conformance/zoo_cases.cpp)
add_test(NAME conformance_tfjs COMMAND conformance ${PROJECT_SOURCE_DIR}/tests/data/tfjs)

# `inspect_model FILE` (tests/tools/inspect_model.cpp); tests/optim/test_checkpoint.cpp and
# tests/layers/test_registry.cpp run it.
add_executable(inspect_model ${CMAKE_CURRENT_SOURCE_DIR}/tools/inspect_model.cpp)
target_link_libraries(inspect_model PRIVATE tapeflow::tapeflow tapeflow_flags)
foreach(program test_optim test_layers)
  if(TARGET ${program})
    add_dependencies(${program} inspect_model)
    target_compile_definitions(${program} PRIVATE
                               TAPEFLOW_INSPECT_MODEL="$<TARGET_FILE:inspect_model>")
  endif()
endforeach()

# libFuzzer targets, built on demand with clang: -DTAPEFLOW_FUZZ=ON, then e.g.
# `ninja fuzz_load && ./tests/fuzz_load -max_total_time=300 CORPUS_DIR SEED_DIR`. One target per
# tests/tools/fuzz_<reader>.cpp: fuzz_load (the model loader; seeds: files written by
# save/save_checkpoint, e.g. tests/data/serialization), and the data-file readers.
option(TAPEFLOW_FUZZ "Build the libFuzzer targets tests/tools/fuzz_*.cpp (clang)" OFF)
if(TAPEFLOW_FUZZ)
  # Coverage instrumentation and sanitizers in the library too: the parsers live there.
  target_compile_options(tapeflow PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
  file(GLOB fuzz_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tools/fuzz_*.cpp)
  foreach(src ${fuzz_sources})
    get_filename_component(fuzz_target ${src} NAME_WE)
    add_executable(${fuzz_target} ${src})
    target_compile_options(${fuzz_target} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${fuzz_target} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${fuzz_target} PRIVATE tapeflow::tapeflow tapeflow_flags)
  endforeach()
endif()

# `predict_model MODEL INPUT.npy OUTPUT.npy` (tests/tools/predict_model.cpp); tests/layers/
# test_model.cpp runs it. The definition is set on that one source (not the whole program) so
# that adding the tool does not recompile every test of test_layers.
add_executable(predict_model ${CMAKE_CURRENT_SOURCE_DIR}/tools/predict_model.cpp)
target_link_libraries(predict_model PRIVATE tapeflow::tapeflow tapeflow_flags)
if(TARGET test_layers)
  add_dependencies(test_layers predict_model)
  set_property(SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/layers/test_model.cpp APPEND PROPERTY
               COMPILE_DEFINITIONS TAPEFLOW_PREDICT_MODEL="$<TARGET_FILE:predict_model>")
endif()

# `fit_child DIR [--hang-at EPOCH BATCH]` (tests/tools/fit_child.cpp): a fit with
# BackupAndRestore that tests/optim/test_backup_and_restore.cpp kills mid-epoch and resumes.
add_executable(fit_child ${CMAKE_CURRENT_SOURCE_DIR}/tools/fit_child.cpp)
target_link_libraries(fit_child PRIVATE tapeflow::tapeflow tapeflow_flags)
if(TARGET test_optim)
  add_dependencies(test_optim fit_child)
  set_property(SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/optim/test_backup_and_restore.cpp APPEND
               PROPERTY COMPILE_DEFINITIONS TAPEFLOW_FIT_CHILD="$<TARGET_FILE:fit_child>")
endif()

# The live TF.js round trips of tests/layers/test_tfjs_format.cpp run tests/tfjs/interop.mjs
# with Node, when Node is installed and `npm ci` has been run in tests/tfjs (checked when the test
# runs; .ci/run does both). Without them the committed TF.js files are still checked.
find_program(TAPEFLOW_NODE_EXECUTABLE NAMES node nodejs)
if(NOT TAPEFLOW_NODE_EXECUTABLE)
  set(TAPEFLOW_NODE_EXECUTABLE "")
endif()
if(TARGET test_layers)
  set_property(SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/layers/test_tfjs_format.cpp APPEND PROPERTY
               COMPILE_DEFINITIONS TAPEFLOW_NODE="${TAPEFLOW_NODE_EXECUTABLE}"
                                   TAPEFLOW_TFJS_DIR="${CMAKE_CURRENT_SOURCE_DIR}/tfjs")
endif()
