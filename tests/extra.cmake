# The golden conformance runner: `conformance DIR...` (see tests/conformance/conformance.cpp).
add_executable(conformance ${CMAKE_CURRENT_SOURCE_DIR}/conformance/conformance.cpp
                           ${CMAKE_CURRENT_SOURCE_DIR}/conformance/golden.cpp)
target_link_libraries(conformance PRIVATE tapeflow::tapeflow tapeflow_flags)
add_test(NAME conformance
         COMMAND conformance ${PROJECT_SOURCE_DIR}/../shared/golden/conv3d_transpose)
