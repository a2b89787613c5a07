#include "tapeflow/framework/nn/config.hpp"
#include "test_util.hpp"

using namespace tapeflow;

TEST_CASE("config values are written shortest and read back exactly") {
  CHECK(config_float(0.01f) == "0.01");
  CHECK(config_float(1e-7f) == "1e-07");
  CHECK(config_float(2.f) == "2");
  CHECK(config_float(1e-4f) == "0.0001");
  CHECK(config_float(-0.5f) == "-0.5");
  CHECK(config_float(123.25f) == "123.25");
  CHECK(config_float(1500.f) == "1500");
  CHECK(config_float(0.f) == "0");
  CHECK(config_float(3e20f) == "3e+20");
  CHECK(config_float(1.5e-9f) == "1.5e-09");
  for (float f : {0.1f, 1e-4f, 3.14159f, -2.5e-8f, 65504.f, 1e30f})
    CHECK(config_get_float("w", {{"k", config_float(f)}}, "k", 0.f) == f);
  CHECK(config_bool(true) == "true");
  CHECK(config_int(-3) == "-3");
  CHECK(config_ints({3, 3, 3}) == "(3, 3, 3)");
  CHECK(config_ints({0}) == "(0,)");
  CHECK(config_seed(std::nullopt) == "None");
  CHECK(config_seed(7) == "7");

  Config c{{"f", config_float(0.1f)},
           {"b", "false"},
           {"i", "12"},
           {"l", "(1, -2,)"},
           {"s", "None"},
           {"t", "42"},
           {"x", "zz"}};
  CHECK(config_get_float("w", c, "f", 0.f) == 0.1f);
  CHECK(config_get_float("w", c, "missing", 2.5f) == 2.5f);
  CHECK_FALSE(config_get_bool("w", c, "b", true));
  CHECK(config_get_int("w", c, "i", 0) == 12);
  CHECK(config_get_ints("w", c, "l", {}) == std::vector<long long>{1, -2});
  CHECK(config_get_ints("w", c, "missing", {5}) == std::vector<long long>{5});
  CHECK_FALSE(config_get_seed("w", c, "s").has_value());
  CHECK(config_get_seed("w", c, "t") == std::optional<std::uint64_t>(42));
  CHECK(config_get_string(c, "x", "") == "zz");
  CHECK(config_repr("l2", {{"l2", "0.01"}}) == "l2(l2=0.01)");
  CHECK(config_repr("zeros", {}) == "zeros()");

  TF_CHECK_ERROR(config_get_float("where", c, "x", 0.f), "where", "'x'", "zz");
  TF_CHECK_ERROR(config_get_bool("where", c, "x", false), "where", "'x'");
  TF_CHECK_ERROR(config_get_int("where", c, "f", 0), "where", "'f'", "0.1");
  TF_CHECK_ERROR(config_get_ints("where", c, "x", {}), "where", "'x'");
  TF_CHECK_ERROR(config_get_seed("where", c, "x"), "where", "'x'");
}
