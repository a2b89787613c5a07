// Smoke tests of the example programs: each runs at a tiny size and writes its pictures, and bad
// command lines fail with a clear message. The binaries' paths come from examples/CMakeLists.txt.
#include <doctest/doctest.h>

// Without the examples (TAPEFLOW_BUILD_EXAMPLES=OFF) there is nothing to test.
#ifdef TAPEFLOW_EXAMPLES_COMMON

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "common/cli.hpp"
#include "common/image.hpp"
#include "common/progress.hpp"
#include "common/segmentation.hpp"
#include "common/shapes.hpp"

namespace fs = std::filesystem;

namespace {

struct Result {
  int status = -1;
  std::string output;
};

// Runs `command` with stdout and stderr captured in a file; returns the exit status and output.
Result run(const std::string& command) {
  // The process id keeps the logs of test programs run in parallel (ctest -j) apart.
  static int count = 0;
  fs::path log = fs::temp_directory_path() / ("tapeflow_example_test_" + std::to_string(getpid()) +
                                              "_" + std::to_string(count++) + ".log");
  int raw = std::system((command + " > " + log.string() + " 2>&1").c_str());
  Result r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream f(log);
  r.output.assign(std::istreambuf_iterator<char>(f), {});
  fs::remove(log);
  return r;
}

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("tapeflow_examples_" + name);
  fs::remove_all(d);
  return d;
}

bool is_png(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  char sig[8] = {};
  f.read(sig, 8);
  return f && std::string(sig + 1, 3) == "PNG" && fs::file_size(p) > 100;
}

}  // namespace

TEST_CASE("png: CRC-32 and Adler-32 of known strings") {
  const std::string s = "123456789";
  auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  CHECK(examples::crc32(p, s.size()) == 0xCBF43926u);  // the standard check value
  const std::string w = "Wikipedia";
  CHECK(examples::adler32(reinterpret_cast<const std::uint8_t*>(w.data()), w.size()) ==
        0x11E60398u);
}

TEST_CASE("png: a 2x1 image encodes to the expected structure") {
  std::vector<std::uint8_t> png = examples::encode_png(2, 1, {255, 0, 0, 0, 0, 255});
  REQUIRE(png.size() > 33);
  CHECK(png[1] == 'P');
  CHECK(std::string(png.begin() + 12, png.begin() + 16) == "IHDR");
  CHECK(png[19] == 2);  // width 2
  CHECK(png[23] == 1);  // height 1
  // IHDR CRC over type + data.
  std::uint32_t crc = examples::crc32(png.data() + 12, 17);
  CHECK(png[29] == (crc >> 24));
  CHECK(png[32] == (crc & 0xFF));
  CHECK_THROWS_WITH(examples::encode_png(2, 2, {1, 2, 3}),
                    doctest::Contains("needs 12 bytes, got 3"));
}

TEST_CASE("shapes: binary volumes, one shape each, IoU of a volume with itself is 1") {
  std::mt19937 rng(3);
  tapeflow::Tensor v = examples::make_shapes(6, 16, rng);
  REQUIRE(v.shape() == tapeflow::Shape{6, 16, 16, 16, 1});
  for (std::size_t b = 0; b < 6; ++b) {
    double filled = 0;
    for (std::size_t i = 0; i < 16 * 16 * 16; ++i) filled += v.data()[b * 4096 + i];
    CHECK(filled > 20);          // visible
    CHECK(filled < 0.6 * 4096);  // not the whole grid
  }
  CHECK(examples::mean_iou(v, v) == doctest::Approx(1.0));
  tapeflow::Tensor empty = xt::zeros_like(v);
  CHECK(examples::mean_iou(v, empty) == doctest::Approx(0.0));
}

TEST_CASE("segmentation: the label is the shape, the clutter stays apart from it") {
  std::mt19937 rng(5);
  const std::size_t n = 16, per = n * n * n;
  // No noise: the clutter is what is bright outside the label.
  examples::SegmentationBatch b = examples::make_segmentation_batch(4, n, rng, {0.f, 12});
  REQUIRE(b.volume.shape() == tapeflow::Shape{4, n, n, n, 1});
  REQUIRE(b.label.shape() == b.volume.shape());
  auto idx = [&](std::size_t v, long z, long y, long x) {
    return v * per + static_cast<std::size_t>((z * long(n) + y) * long(n) + x);
  };
  for (std::size_t v = 0; v < 4; ++v) {
    std::size_t shape = 0, clutter = 0, touching = 0;
    for (long z = 0; z < long(n); ++z)
      for (long y = 0; y < long(n); ++y)
        for (long x = 0; x < long(n); ++x) {
          float t = b.label.data()[idx(v, z, y, x)], i = b.volume.data()[idx(v, z, y, x)];
          CHECK((t == 0.f || t == 1.f));
          if (t == 1.f) {
            ++shape;
            CHECK(i >= 0.6f);  // the shape is bright
            continue;
          }
          if (i == 0.f) continue;
          ++clutter;
          CHECK(i >= 0.6f);  // as bright as a shape: intensity alone cannot tell them apart
          const long d[6][3] = {{1, 0, 0},  {-1, 0, 0}, {0, 1, 0},
                                {0, -1, 0}, {0, 0, 1},  {0, 0, -1}};
          for (const auto& o : d) {
            long zz = z + o[0], yy = y + o[1], xx = x + o[2];
            if (zz >= 0 && yy >= 0 && xx >= 0 && zz < long(n) && yy < long(n) && xx < long(n))
              touching += b.label.data()[idx(v, zz, yy, xx)] > 0.5f;
          }
        }
    CHECK(shape > 20);
    CHECK(clutter >= 12);  // every blob covers at least one voxel
    CHECK(touching == 0);  // a blob never joins the shape
  }
  // The same seed gives the same volumes; the noise is added last, with the requested spread.
  std::mt19937 a(9), c(9), d(9);
  examples::SegmentationBatch x = examples::make_segmentation_batch(1, n, a, {0.3f, 12});
  examples::SegmentationBatch y = examples::make_segmentation_batch(1, n, c, {0.3f, 12});
  examples::SegmentationBatch clean = examples::make_segmentation_batch(1, n, d, {0.f, 12});
  CHECK(x.volume == y.volume);
  CHECK(x.label == clean.label);
  double sq = 0;
  for (std::size_t i = 0; i < per; ++i) {
    double e = double(x.volume.data()[i]) - clean.volume.data()[i];
    sq += e * e;
  }
  CHECK(std::sqrt(sq / double(per)) == doctest::Approx(0.3).epsilon(0.05));
}

TEST_CASE("segmentation: Dice of a volume with itself is 1, and 2 IoU / (1 + IoU) in general") {
  std::mt19937 rng(2);
  examples::SegmentationBatch b = examples::make_segmentation_batch(1, 16, rng, {0.f, 12});
  CHECK(examples::mean_dice(b.label, b.label) == doctest::Approx(1.0));
  tapeflow::Tensor empty = xt::zeros_like(b.label);
  CHECK(examples::mean_dice(b.label, empty) == doctest::Approx(0.0));
  CHECK(examples::mean_dice(empty, empty) == doctest::Approx(1.0));  // nothing to find, found
  // Thresholding the volume finds the shape and the clutter: some overlap, not all.
  double dice = examples::mean_dice(b.label, b.volume), iou = examples::mean_iou(b.label, b.volume);
  CHECK(dice > 0.5);
  CHECK(dice < 1.0);
  CHECK(dice == doctest::Approx(2 * iou / (1 + iou)));
  // Four panels (input, label, prediction, error) of 16 voxels x 8 pixels, 8 pixels apart.
  examples::Canvas picture = examples::segmentation_slices(b, b.label, 1);
  CHECK(picture.width() == 4 * 128 + 5 * 8);
  CHECK(picture.height() == 128 + 2 * 8 + 16);
}

TEST_CASE("progress: a line every N steps and at the last one when not a terminal") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    examples::ProgressBar bar(7, f, 3);
    CHECK_FALSE(bar.redraws());
    for (int step = 1; step <= 7; ++step) bar.update(step, 0.25);
    bar.finish();
  }
  std::rewind(f);
  std::string text;
  for (int ch; (ch = std::fgetc(f)) != EOF;) text += static_cast<char>(ch);
  std::fclose(f);
  INFO(text);
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);  // steps 3, 6 and 7
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find(" 3/7  loss 0.2500  ") != std::string::npos);
  CHECK(text.find(" 6/7  ") != std::string::npos);
  CHECK(text.find(" 7/7  ") != std::string::npos);
  CHECK(text.find(" s  ") != std::string::npos);  // elapsed seconds
  CHECK(examples::format_duration(65) == "1:05");
  CHECK(examples::format_duration(3723) == "1:02:03");
}

TEST_CASE("options: ranges, unknown options and --help") {
  int steps = 5;
  double lr = 0.1;
  std::string out = "x";
  auto parse = [&](std::vector<std::string> args) {
    examples::Options o("prog", "test");
    o.add("steps", steps, 1, 10, "steps");
    o.add("lr", lr, 0.0, 1.0, "lr");
    o.add("out", out, "out");
    std::vector<char*> argv = {const_cast<char*>("prog")};
    for (auto& a : args) argv.push_back(a.data());
    return o.parse(static_cast<int>(argv.size()), argv.data());
  };
  CHECK(parse({"--steps", "7", "--lr=0.5", "--out", "d"}) == -1);
  CHECK(steps == 7);
  CHECK(lr == 0.5);
  CHECK(out == "d");
  CHECK(parse({"--steps", "11"}) == 2);
  CHECK(parse({"--steps", "3x"}) == 2);
  CHECK(parse({"--bogus"}) == 2);
  CHECK(parse({"--steps"}) == 2);
  CHECK(parse({"--help"}) == 0);
}

#ifdef TAPEFLOW_EXAMPLE_VOXEL_AUTOENCODER
TEST_CASE("voxel_autoencoder: a tiny run trains, reports IoU and writes both pictures") {
  fs::path out = fresh_dir("voxel");
  Result r =
      run(std::string(TAPEFLOW_EXAMPLE_VOXEL_AUTOENCODER) +
          " --size 16 --epochs 1 --steps 4 --batch 2 --test 4 --channels 4 --out " + out.string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("final held-out IoU") != std::string::npos);
  CHECK(is_png(out / "recon.png"));
  CHECK(is_png(out / "loss.png"));
  REQUIRE(fs::exists(out / "model.tfw"));

  // --resume continues from the checkpoint.
  r = run(std::string(TAPEFLOW_EXAMPLE_VOXEL_AUTOENCODER) +
          " --size 16 --epochs 1 --steps 2 --batch 2 --test 4 --channels 4 --resume --out " +
          out.string());
  CHECK(r.status == 0);
  CHECK(r.output.find("resumed from") != std::string::npos);
#ifdef TAPEFLOW_EXAMPLE_PREDICT
  // predict rebuilds the model from the file alone.
  r = run(std::string(TAPEFLOW_EXAMPLE_PREDICT) + " --size 16 --count 4 --model " +
          (out / "model.tfw").string() + " --out " + out.string());
  CHECK(r.status == 0);
  CHECK(r.output.find("IoU on 4 new shapes") != std::string::npos);
  CHECK(is_png(out / "predict.png"));
  // An unreadable checkpoint: a clear message, non-zero exit.
  std::ofstream(out / "bad.tfw") << "not a model";
  r = run(std::string(TAPEFLOW_EXAMPLE_PREDICT) + " --model " + (out / "bad.tfw").string() +
          " --out " + out.string());
  CHECK(r.status == 1);
  CHECK(r.output.find("not a tapeflow model file") != std::string::npos);
  r = run(std::string(TAPEFLOW_EXAMPLE_PREDICT) + " --model " + (out / "missing.tfw").string());
  CHECK(r.status == 1);
  CHECK(r.output.find("cannot open") != std::string::npos);
#endif
  fs::remove_all(out);
  r = run(std::string(TAPEFLOW_EXAMPLE_VOXEL_AUTOENCODER) + " --resume --out " + out.string());
  CHECK(r.status == 1);
  CHECK(r.output.find("cannot open") != std::string::npos);
  fs::remove_all(out);
}

TEST_CASE("voxel_autoencoder: bad command lines fail with a clear message") {
  std::string bin = TAPEFLOW_EXAMPLE_VOXEL_AUTOENCODER;
  Result r = run(bin + " --help");
  CHECK(r.status == 0);
  CHECK(r.output.find("--epochs") != std::string::npos);
  r = run(bin + " --frobnicate 3");
  CHECK(r.status == 2);
  CHECK(r.output.find("unknown option '--frobnicate'") != std::string::npos);
  r = run(bin + " --size 4");
  CHECK(r.status == 2);
  CHECK(r.output.find("--size must be in [8, 64], got 4") != std::string::npos);
  r = run(bin + " --size 18");
  CHECK(r.status == 2);
  CHECK(r.output.find("multiple of 4") != std::string::npos);
  r = run(bin + " --lr abc");
  CHECK(r.status == 2);
  CHECK(r.output.find("--lr expects a number, got 'abc'") != std::string::npos);
  r = run(bin + " --batch");
  CHECK(r.status == 2);
  CHECK(r.output.find("--batch needs a value") != std::string::npos);
}
#endif

#ifdef TAPEFLOW_EXAMPLE_UNET3D_SEGMENTATION
TEST_CASE("unet3d_segmentation: a tiny run trains, reports Dice and IoU, writes the pictures") {
  fs::path out = fresh_dir("unet3d");
  const std::string tiny = " --size 16 --steps 3 --batch 2 --test 4 --channels 2 --out ";
  Result r = run(std::string(TAPEFLOW_EXAMPLE_UNET3D_SEGMENTATION) + tiny + out.string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("Connected to") != std::string::npos);  // the functional summary
  CHECK(r.output.find("concatenate") != std::string::npos);
  CHECK(r.output.find("3/3  loss ") != std::string::npos);  // the progress line
  auto pos = r.output.find("held-out Dice ");
  REQUIRE(pos != std::string::npos);
  double dice = std::atof(r.output.c_str() + pos + 14);
  CHECK(dice >= 0.0);
  CHECK(dice <= 1.0);
  CHECK(r.output.find(", IoU ") != std::string::npos);
  CHECK(is_png(out / "slices.png"));
  CHECK(is_png(out / "loss.png"));
  REQUIRE(fs::exists(out / "model.tfw"));
#ifdef TAPEFLOW_EXAMPLE_PREDICT
  // predict rebuilds the U-Net from the file alone, at the size it was built for.
  r = run(std::string(TAPEFLOW_EXAMPLE_PREDICT) + " --task segment --count 3 --model " +
          (out / "model.tfw").string() + " --out " + out.string());
  CHECK(r.status == 0);
  CHECK(r.output.find("on 3 new 16^3 volumes: Dice ") != std::string::npos);
  CHECK(r.output.find(", IoU ") != std::string::npos);
  CHECK(is_png(out / "predict_segment.png"));
  // Volumes of another size than the model's Input: the model says so.
  r = run(std::string(TAPEFLOW_EXAMPLE_PREDICT) + " --task segment --size 20 --count 2 --model " +
          (out / "model.tfw").string() + " --out " + out.string());
  CHECK(r.status == 1);
  CHECK(r.output.find("unet3d") != std::string::npos);
  r = run(std::string(TAPEFLOW_EXAMPLE_PREDICT) + " --task segment --model " +
          (out / "missing.tfw").string() + " --out " + out.string());
  CHECK(r.status == 1);
  CHECK(r.output.find("cannot open") != std::string::npos);
#endif
  fs::remove_all(out);
}

TEST_CASE("unet3d_segmentation: bad command lines fail with a clear message") {
  std::string bin = TAPEFLOW_EXAMPLE_UNET3D_SEGMENTATION;
  Result r = run(bin + " --help");
  CHECK(r.status == 0);
  CHECK(r.output.find("--clutter") != std::string::npos);
  r = run(bin + " --size 18");
  CHECK(r.status == 2);
  CHECK(r.output.find("multiple of 4") != std::string::npos);
  r = run(bin + " --noise -1");
  CHECK(r.status == 2);
  CHECK(r.output.find("--noise must be in [0, 2], got -1") != std::string::npos);
  r = run(bin + " --steps 0");
  CHECK(r.status == 2);
  CHECK(r.output.find("--steps must be in [1, 100000], got 0") != std::string::npos);
  r = run(bin + " --epochs 3");
  CHECK(r.status == 2);
  CHECK(r.output.find("unknown option '--epochs'") != std::string::npos);
}
#endif

#ifdef TAPEFLOW_EXAMPLE_PREDICT
TEST_CASE("predict: bad command lines fail with a clear message") {
  std::string bin = TAPEFLOW_EXAMPLE_PREDICT;
  Result r = run(bin + " --help");
  CHECK(r.status == 0);
  CHECK(r.output.find("--task") != std::string::npos);
  r = run(bin + " --task classify");
  CHECK(r.status == 2);
  CHECK(r.output.find("--task must be 'reconstruct' or 'segment', got 'classify'") !=
        std::string::npos);
  r = run(bin + " --task segment --size 18");
  CHECK(r.status == 2);
  CHECK(r.output.find("--size must be 0 or a multiple of 4") != std::string::npos);
}
#endif

#ifdef TAPEFLOW_EXAMPLE_MLP_CLASSIFIER
TEST_CASE("mlp_classifier: a short run learns the spirals partly and writes the boundary") {
  fs::path out = fresh_dir("mlp");
  const std::string bin = TAPEFLOW_EXAMPLE_MLP_CLASSIFIER;
  Result r = run(bin + " --steps 200 --points 60 --units 16 --out " + out.string());
  INFO(r.output);
  CHECK(r.status == 0);
  auto pos = r.output.find("train accuracy ");
  REQUIRE(pos != std::string::npos);
  double acc = std::atof(r.output.c_str() + pos + 15);
  CHECK(acc > 0.7);  // chance is 0.5
  CHECK(is_png(out / "boundary.png"));
  fs::remove_all(out);
}

TEST_CASE("mlp_classifier: bad command lines fail with a clear message") {
  std::string bin = TAPEFLOW_EXAMPLE_MLP_CLASSIFIER;
  Result r = run(bin + " --units 0");
  CHECK(r.status == 2);
  CHECK(r.output.find("--units must be in [1, 4096], got 0") != std::string::npos);
  r = run(bin + " extra");
  CHECK(r.status == 2);
  CHECK(r.output.find("unexpected argument 'extra'") != std::string::npos);
}
#endif
#endif  // TAPEFLOW_EXAMPLES_COMMON
