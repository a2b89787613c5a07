# The golden conformance runner: `conformance DIR...` (see tests/conformance/conformance.cpp).
add_executable(conformance ${CMAKE_CURRENT_SOURCE_DIR}/conformance/conformance.cpp
                           ${CMAKE_CURRENT_SOURCE_DIR}/conformance/golden.cpp
                           ${CMAKE_CURRENT_SOURCE_DIR}/conformance/training_cases.cpp)
target_link_libraries(conformance PRIVATE tapeflow::tapeflow tapeflow_flags)
add_test(NAME conformance
         COMMAND conformance ${PROJECT_SOURCE_DIR}/../shared/golden/conv3d_transpose)
add_test(NAME conformance_training
         COMMAND conformance ${PROJECT_SOURCE_DIR}/../shared/golden/training)

# The layer zoo's TensorFlow reference cases (tests/data/tfjs, made by tests/tfjs/generate.mjs).
target_sources(conformance PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/conformance/zoo_cases.cpp)
add_test(NAME conformance_tfjs COMMAND conformance ${PROJECT_SOURCE_DIR}/tests/data/tfjs)
