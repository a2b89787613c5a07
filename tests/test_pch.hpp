#pragma once
// The heavy third-party headers every test program includes, compiled once
// (tests/CMakeLists.txt). tapeflow's own headers stay out: they change often, and a change to one
// would rebuild the header and with it every test.
#include <doctest/doctest.h>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xio.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>
