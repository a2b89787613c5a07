#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <sstream>
#include <string>

#include "optim/optim_test_util.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/schedules.hpp"
#include "tapeflow/optim/sgd.hpp"

using namespace tapeflow;
using namespace tapeflow::optim;

TEST_CASE("config: Adam's get_config lists every option, set_config restores them") {
  Adam opt(AdamOptions().learning_rate(0.01).beta_1(0.8).amsgrad(true).clipnorm(2.f));
  const Config c = opt.get_config();
  CHECK(c == Config{{"learning_rate", "0.01"},
                    {"weight_decay", "None"},
                    {"clipnorm", "2"},
                    {"global_clipnorm", "None"},
                    {"clipvalue", "None"},
                    {"beta_1", "0.8"},
                    {"beta_2", "0.999"},
                    {"epsilon", "1e-07"},
                    {"amsgrad", "true"}});
  Adam back;
  back.set_config(c);
  CHECK(back.get_config() == c);
  CHECK(back.hyperparameters() == opt.hyperparameters());
  CHECK(back.options().beta_1() == 0.8);
  CHECK(back.options().clipnorm() == 2.f);
  CHECK(back.learning_rate() == 0.01f);
  CHECK(back.slot_names() == std::vector<std::string>{"m", "v", "vhat"});

  // The options struct reads the same config (missing keys: its defaults).
  auto o = fields_from_config<AdamOptions>("Adam", c);
  CHECK(fields_to_config(o) == c);
  CHECK(fields_to_config(AdamOptions()) == Adam().get_config());
}

TEST_CASE("config: a schedule as learning rate, missing keys as defaults") {
  SGD opt(SGDOptions()
              .learning_rate(schedules::ExponentialDecay(0.1, 2, 0.7))
              .momentum(0.9)
              .nesterov(true));
  const Config c = opt.get_config();
  CHECK(c.at("learning_rate") ==
        "ExponentialDecay(decay_rate=0.7, decay_steps=2, initial_learning_rate=0.1, "
        "staircase=false)");
  SGD back;
  back.set_config(c);
  REQUIRE(back.learning_rate_option().is_schedule());
  CHECK(back.learning_rate_option()(5) == opt.learning_rate_option()(5));
  CHECK(back.options().nesterov());

  // set_config replaces every option: a key the config lacks gets its default (SGD: 0.01).
  back.set_config({{"momentum", "0.5"}});
  CHECK(back.options().momentum() == 0.5);
  CHECK_FALSE(back.options().nesterov());
  CHECK(back.learning_rate() == 0.01f);
  CHECK(back.get_config() == SGD(SGDOptions().momentum(0.5)).get_config());
}

TEST_CASE("config: an unknown, malformed or invalid option is an error that changes nothing") {
  Adam opt(AdamOptions().beta_1(0.5));
  const Config before = opt.get_config();
  CHECK_THROWS_AS(opt.set_config({{"betta_1", "0.8"}}), ValueError);
  TF_CHECK_ERROR(opt.set_config({{"betta_1", "0.8"}}), "Adam", "unknown config key 'betta_1'",
                 "beta_1");
  TF_CHECK_ERROR(opt.set_config({{"beta_1", "0.8"}, {"amsgrad", "maybe"}}), "Adam", "'amsgrad'",
                 "'maybe'");
  TF_CHECK_ERROR(opt.set_config({{"beta_1", "1.5"}}), "Adam", "beta_1", "[0, 1)", "1.5");
  TF_CHECK_ERROR(opt.set_config({{"clipnorm", "1"}, {"clipvalue", "1"}}), "Adam", "only one of");
  TF_CHECK_ERROR(opt.set_config({{"learning_rate", "-1"}}), "Adam", "learning_rate");
  CHECK(opt.get_config() == before);
  CHECK(opt.options().beta_1() == 0.5);
}

TEST_CASE("state: an unknown hyperparameter in an archive is an error that changes nothing") {
  // SGD without momentum keeps no slots: the only "momentum" in the archive is the
  // hyperparameter's name, which is renamed into one that SGD does not have.
  SGD saved(SGDOptions().learning_rate(0.5));
  std::stringstream ss;
  {
    boost::archive::text_oarchive oa(ss);
    saved.save_state(oa);
  }
  std::string text = ss.str();
  const std::string key = "8 momentum";
  REQUIRE(text.find(key) != std::string::npos);
  REQUIRE(text.find(key, text.find(key) + 1) == std::string::npos);
  text.replace(text.find(key), key.size(), "8 momentom");

  SGD opt(SGDOptions().momentum(0.25));
  std::stringstream in(text);
  boost::archive::text_iarchive ia(in);
  CHECK_THROWS_AS(opt.load_state(ia), ValueError);
  CHECK(opt.options().momentum() == 0.25);
  CHECK(opt.learning_rate() == 0.01f);

  std::stringstream in2(text);
  boost::archive::text_iarchive ia2(in2);
  TF_CHECK_ERROR(opt.load_state(ia2), "SGD.load_state", "unknown hyperparameter 'momentom'");
}

TEST_CASE("state: hyperparameters are the archive's numbers, unset options absent") {
  AdamW opt(AdamWOptions().amsgrad(true).clipvalue(0.5f));
  CHECK(opt.hyperparameters() == std::map<std::string, double>{{"amsgrad", 1.0},
                                                               {"beta_1", 0.9},
                                                               {"beta_2", 0.999},
                                                               {"clipvalue", 0.5},
                                                               {"epsilon", 1e-7},
                                                               {"weight_decay", 0.004f}});
}

TEST_CASE("options: invalid values are ValueErrors naming the optimizer and the option") {
  CHECK_THROWS_AS(SGD(SGDOptions().learning_rate(-0.1)), ValueError);
  CHECK_THROWS_AS(Adam(AdamOptions().beta_1(1.0)), ValueError);
  CHECK_THROWS_AS(Adam(AdamOptions().beta_2(-0.5)), ValueError);
  CHECK_THROWS_AS(AdamW(AdamWOptions().weight_decay(std::nullopt)), ValueError);
  TF_CHECK_ERROR(AdamW(AdamWOptions().weight_decay(std::nullopt)), "AdamW", "weight_decay",
                 "must be set");
  // Chained setters keep the derived type, whichever base declares the option.
  AdamOptions o = AdamOptions().clipnorm(1.f).beta_1(0.5).learning_rate(0.1).amsgrad(true);
  CHECK(o.clipnorm() == 1.f);
  CHECK(o.beta_1() == 0.5);
  CHECK(o.learning_rate()(0) == 0.1f);
  CHECK(o.amsgrad());
}
