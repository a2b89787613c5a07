#pragma once
// The heavy headers the test programs use beyond the library's own (cmake/library_pch.hpp, which
// tests/CMakeLists.txt precompiles with this one). tapeflow's own headers stay out: they change
// often, and a change to one would rebuild the header and with it every test.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <xtensor/xio.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xrandom.hpp>
