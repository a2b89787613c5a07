#pragma once
/// tapeflow's umbrella header: everything a training program needs.
/// Example: `#include <tapeflow.hpp>` then `namespace tf = tapeflow;`
#include "framework/tensor.hpp"
#include "framework/variable.hpp"
#include "framework/tape.hpp"
#include "framework/ops.hpp"
#include "framework/gemm.hpp"
#include "framework/gradcheck.hpp"
#include "layers/reshaping.hpp"
#include "layers/upsampling.hpp"
#include "layers/padding.hpp"
#include "framework/activations.hpp"
#include "framework/losses.hpp"
