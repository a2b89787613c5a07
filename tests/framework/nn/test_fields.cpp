#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/framework/nn/fields.hpp"
#include "test_util.hpp"

using namespace tapeflow;

// Every type the mechanism converts, each with a default that differs from the type's zero.
#define TEST_ALL_FIELDS(F)                                   \
  F(double, ratio, 0.25)                                     \
  F(float, scale, 1.5f)                                      \
  F(bool, enabled, true)                                     \
  F(int, count, 3)                                           \
  F(long, offset, -2)                                        \
  F(std::int64_t, steps, 1000)                               \
  F(unsigned, width, 8u)                                     \
  F(std::string, mode, "same")                               \
  F(std::vector<long>, axes, {1, 2})                         \
  F(std::vector<double>, weights, {})                        \
  F(std::optional<float>, clip, std::nullopt)                \
  F(std::optional<std::uint64_t>, seed, 7u)                  \
  F(std::optional<std::vector<long>>, padding, std::nullopt) \
  F(std::optional<std::string>, tag, std::nullopt)

#define TEST_COMMON_FIELDS(F) \
  F(std::string, name, "")    \
  F(bool, trainable, true)

#define TEST_OWN_FIELDS(F) F(long, units, 4)

#define TEST_READONLY_FIELDS(F) \
  F(double, rate, 0.5)          \
  F(std::optional<double>, target, std::nullopt)

namespace {

struct AllOptions {
  TAPEFLOW_FIELDS(AllOptions, TEST_ALL_FIELDS)
};

// The layers' pattern: common options in a plain struct, a CRTP base that chains them, and a
// struct with its own options.
struct Common {
  TAPEFLOW_FIELDS(Common, TEST_COMMON_FIELDS)
};
template <class D>
struct CommonBase : Common {
  TAPEFLOW_CHAIN_FIELDS(D, Common, TEST_COMMON_FIELDS)
};
struct DenseLike : CommonBase<DenseLike> {
  TAPEFLOW_DERIVED_FIELDS(DenseLike, CommonBase, TEST_OWN_FIELDS)
};

class Fixed {
 public:
  explicit Fixed(double rate) : rate_(rate) {}
  Fixed() = default;
  TAPEFLOW_READONLY_FIELDS(TEST_READONLY_FIELDS)
};

template <class T>
concept has_rate_setter = requires(T t) {
  t.rate(1.0);
};

const Config kDefaults = {
    {"ratio", "0.25"}, {"scale", "1.5"}, {"enabled", "true"}, {"count", "3"},     {"offset", "-2"},
    {"steps", "1000"}, {"width", "8"},   {"mode", "same"},    {"axes", "(1, 2)"}, {"weights", "()"},
    {"clip", "None"},  {"seed", "7"},    {"padding", "None"}, {"tag", "None"}};

AllOptions changed() {
  return AllOptions()
      .ratio(1e-7)
      .scale(0.1f)
      .enabled(false)
      .count(-40)
      .offset(1234567890123L)
      .steps(-1)
      .width(4000000000u)
      .mode("with, comma = (and parens)")
      .axes({5})
      .weights({0.1, -2.5, 1e300})
      .clip(2.f)
      .seed(std::nullopt)
      .padding(std::vector<long>{})
      .tag("t");
}

}  // namespace

TEST_CASE("fields: defaults, chainable setters and getters") {
  AllOptions d;
  CHECK(d.ratio() == 0.25);
  CHECK(d.axes() == std::vector<long>{1, 2});
  CHECK(d.seed() == std::optional<std::uint64_t>(7));
  CHECK_FALSE(d.clip().has_value());
  AllOptions c = changed();
  CHECK(c.ratio() == 1e-7);
  CHECK(c.mode() == "with, comma = (and parens)");
  CHECK(c.padding() == std::optional<std::vector<long>>(std::vector<long>{}));
  c.count() = 9;  // the non-const getter is a reference, as the layers' TAPEFLOW_ARG
  CHECK(c.count() == 9);
  CHECK(field_names(d) == std::vector<std::string>{"ratio", "scale", "enabled", "count", "offset",
                                                   "steps", "width", "mode", "axes", "weights",
                                                   "clip", "seed", "padding", "tag"});
}

TEST_CASE("fields: a config round trip keeps every type exactly") {
  CHECK(fields_to_config(AllOptions()) == kDefaults);
  const AllOptions c = changed();
  const Config written = fields_to_config(c);
  CHECK(written.at("ratio") == "1e-07");
  CHECK(written.at("scale") == "0.1");
  CHECK(written.at("enabled") == "false");
  CHECK(written.at("width") == "4000000000");
  CHECK(written.at("axes") == "(5,)");
  CHECK(written.at("weights") == "(0.1, -2.5, 1e+300)");
  CHECK(written.at("clip") == "2");
  CHECK(written.at("seed") == "None");
  CHECK(written.at("padding") == "()");
  auto back = fields_from_config<AllOptions>("All", written);
  CHECK(fields_to_config(back) == written);
  CHECK(back.ratio() == c.ratio());
  CHECK(back.scale() == c.scale());
  CHECK(back.enabled() == c.enabled());
  CHECK(back.count() == c.count());
  CHECK(back.offset() == c.offset());
  CHECK(back.steps() == c.steps());
  CHECK(back.width() == c.width());
  CHECK(back.mode() == c.mode());
  CHECK(back.axes() == c.axes());
  CHECK(back.weights() == c.weights());
  CHECK(back.clip() == c.clip());
  CHECK(back.seed() == c.seed());
  CHECK(back.padding() == c.padding());
  CHECK(back.tag() == c.tag());
  // Doubles that floats could not hold survive.
  for (double v : {0.1, 1.0 / 3.0, -2.5e-300, 123456789.123456789}) {
    auto o = fields_from_config<AllOptions>("All", fields_to_config(AllOptions().ratio(v)));
    CHECK(o.ratio() == v);
  }
}

TEST_CASE("fields: a missing key gives the default, an update keeps the current value") {
  auto o = fields_from_config<AllOptions>("All", {{"count", "9"}, {"tag", "x"}});
  CHECK(o.count() == 9);
  CHECK(o.tag() == std::optional<std::string>("x"));
  Config expected = kDefaults;
  expected["count"] = "9";
  expected["tag"] = "x";
  CHECK(fields_to_config(o) == expected);
  CHECK(fields_to_config(fields_from_config<AllOptions>("All", {})) == kDefaults);

  AllOptions current = changed();
  fields_update_from_config("All", {{"ratio", "0.5"}, {"seed", "3"}}, current);
  CHECK(current.ratio() == 0.5);
  CHECK(current.seed() == std::optional<std::uint64_t>(3));
  CHECK(current.mode() == changed().mode());
  fields_update_from_config("All", {{"clip", "None"}}, current);
  CHECK_FALSE(current.clip().has_value());
}

TEST_CASE("fields: a malformed value is a ValueError naming where, the key and the value") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"ratio", "abc"},   {"ratio", "0.5x"},   {"ratio", ""},    {"scale", "1,5"},
      {"enabled", "yes"}, {"enabled", "1"},    {"count", "1.5"}, {"count", "99999999999"},
      {"width", "-1"},    {"steps", "ten"},    {"axes", "1, 2"}, {"axes", "(1, x)"},
      {"axes", "(1,,2)"}, {"weights", "(0.1"}, {"clip", "none"}, {"seed", "-3"},
      {"padding", "(a)"}};
  for (const auto& kv : bad) {
    const Config config{kv};
    // The message quotes both (built before the check, which keeps only their c_str()).
    const std::string key = "'" + kv.first + "'", text = "'" + kv.second + "'";
    CAPTURE(key);
    CAPTURE(text);
    AllOptions o;
    CHECK_THROWS_AS(fields_update_from_config("Opts", config, o), ValueError);
    TF_CHECK_ERROR(fields_update_from_config("Opts", config, o), "Opts", key.c_str(), text.c_str());
    CHECK(fields_to_config(o) == kDefaults);  // the field keeps its value
  }
}

TEST_CASE("fields: an unknown key is a ValueError naming it and the known keys") {
  CHECK_THROWS_AS(fields_from_config<AllOptions>("Opts", {{"ratoi", "1"}}), ValueError);
  TF_CHECK_ERROR(fields_from_config<AllOptions>("Opts", {{"ratoi", "1"}}), "Opts",
                 "unknown config key 'ratoi'", "ratio, scale, enabled");
}

TEST_CASE("fields: printing name=value lists in field order") {
  CHECK(fields_str(DenseLike()) == "name=, trainable=true, units=4");
  CHECK(fields_repr("Dense", DenseLike().name("d").units(8)) ==
        "Dense(name=d, trainable=true, units=8)");
  CHECK(fields_repr("All", AllOptions()) ==
        "All(ratio=0.25, scale=1.5, enabled=true, count=3, offset=-2, steps=1000, width=8, "
        "mode=same, axes=(1, 2), weights=(), clip=None, seed=7, padding=None, tag=None)");
  CHECK(config_write(std::vector<int>{}) == "()");
  CHECK(config_write("text") == "text");  // a literal is a string, not a bool
  CHECK(config_write(0.001) == "0.001");
  CHECK(config_write(1e-4f) == "0.0001");
}

TEST_CASE("fields: a derived struct chains the base's setters and visits the base first") {
  DenseLike d = DenseLike().name("dense").units(16).trainable(false);
  CHECK(d.name() == "dense");
  CHECK(d.units() == 16);
  CHECK_FALSE(d.trainable());
  const Common& common = d;  // non-template code sees the common options
  CHECK(common.name() == "dense");

  std::vector<std::string> seen;
  std::as_const(d).for_each_field([&](const char* name, const auto&) { seen.push_back(name); });
  CHECK(seen == std::vector<std::string>{"name", "trainable", "units"});
  // The non-const visitor can change the fields.
  d.for_each_field([](const char*, auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, long>) value *= 2;
  });
  CHECK(d.units() == 32);

  auto back = fields_from_config<DenseLike>("Dense", fields_to_config(d));
  CHECK(back.name() == "dense");
  CHECK(back.units() == 32);
  CHECK_FALSE(back.trainable());
  CHECK(with_field(back, "trainable", [](auto& v) {
    if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>) v = true;
  }));
  CHECK(back.trainable());
  CHECK_FALSE(with_field(back, "nope", [](auto&) {}));
}

TEST_CASE("fields: read-only fields have getters, configs and archives but no setters") {
  static_assert(!has_rate_setter<Fixed>);
  Fixed f(0.75);
  CHECK(f.rate() == 0.75);
  CHECK(fields_to_config(f) == Config{{"rate", "0.75"}, {"target", "None"}});
  Fixed g;
  fields_update_from_config("Fixed", {{"rate", "2"}, {"target", "0.5"}}, g);
  CHECK(g.rate() == 2.0);
  CHECK(g.target() == std::optional<double>(0.5));
}

namespace {
template <class OArchive, class IArchive, class Fields>
Fields archive_round_trip(Fields& in) {
  std::stringstream ss;
  {
    OArchive oa(ss);
    fields_serialize(oa, in);
  }
  Fields out;
  {
    IArchive ia(ss);
    fields_serialize(ia, out);
  }
  return out;
}
}  // namespace

TEST_CASE("fields: serialize writes every field in order, an optional as has_<name> and value") {
  AllOptions c = changed();
  auto text = archive_round_trip<boost::archive::text_oarchive, boost::archive::text_iarchive>(c);
  CHECK(fields_to_config(text) == fields_to_config(c));
  auto xml = archive_round_trip<boost::archive::xml_oarchive, boost::archive::xml_iarchive>(c);
  CHECK(fields_to_config(xml) == fields_to_config(c));
  std::stringstream ss;
  {
    boost::archive::xml_oarchive oa(ss);
    Fixed f(0.5);
    fields_serialize(oa, f);
  }
  const std::string s = ss.str();
  CHECK(s.find("<rate>") < s.find("<has_target>"));
  CHECK(s.find("<has_target>0</has_target>") != std::string::npos);
  CHECK(s.find("<has_target>") < s.find("<target>"));
}
