// Smoke tests of the example programs: each runs at a tiny size and writes its pictures, and bad
// command lines fail with a clear message. The binaries' paths come from examples/CMakeLists.txt.
#include <doctest/doctest.h>

// Without the examples (TAPEFLOW_BUILD_EXAMPLES=OFF) there is nothing to test.
#ifdef TAPEFLOW_EXAMPLES_COMMON

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "common/cli.hpp"
#include "common/image.hpp"
#include "common/plot.hpp"
#include "common/segmentation.hpp"
#include "common/shapes.hpp"
#include "tapeflow/framework/io/nifti.hpp"
#include "tapeflow/optim/training/history.hpp"

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

// What a PNG file's header says: the signature, then the IHDR chunk (width, height, bit depth,
// color type: 2 is 8-bit RGB).
struct PngInfo {
  bool valid = false;
  std::uint32_t width = 0, height = 0;
  int depth = 0, color = 0;
};

PngInfo png_info(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  unsigned char b[26] = {};
  f.read(reinterpret_cast<char*>(b), sizeof b);
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (!f || std::memcmp(b, signature, 8) != 0 || std::memcmp(b + 12, "IHDR", 4) != 0) return {};
  auto u32 = [&](int i) {
    return std::uint32_t{b[i]} << 24 | std::uint32_t{b[i + 1]} << 16 |
           std::uint32_t{b[i + 2]} << 8 | b[i + 3];
  };
  return {true, u32(16), u32(20), b[24], b[25]};
}

bool is_png(const fs::path& p) { return png_info(p).valid && fs::file_size(p) > 100; }

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  return {std::istreambuf_iterator<char>(f), {}};
}

// Pixels of `c` where `pick` holds.
template <class Pick>
int count_pixels(const examples::Canvas& c, Pick pick) {
  int n = 0;
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x) n += pick(c.get(x, y));
  return n;
}

}  // namespace

TEST_CASE("plot: two named series make an RGB PNG of the requested size, written atomically") {
  fs::path dir = fresh_dir("plot");
  fs::create_directories(dir);
  examples::LinePlot plot("training", "epoch", "loss");
  plot.add_series("loss", {1, 2, 3}, {0.9, 0.5, 0.4}).add_series("val_loss", {1.0, 0.7, 0.6});
  CHECK(plot.series_count() == 2);
  const fs::path path = dir / "loss.png";
  plot.save_png(path.string(), 640, 360);
  PngInfo info = png_info(path);
  CHECK(info.valid);
  CHECK(info.width == 640);
  CHECK(info.height == 360);
  CHECK(info.depth == 8);
  CHECK(info.color == 2);
  plot.save_png(path.string());  // replaces it, at the default size
  CHECK(png_info(path).width == 800);
  CHECK(png_info(path).height == 450);
  // Nothing else in the folder: the temporary file was renamed.
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  // Both curves are drawn, in different colors (blue, then orange).
  examples::Canvas c = plot.render(640, 360);
  CHECK(count_pixels(c, [](examples::Rgb p) { return p.b > p.r + 80; }) > 200);
  CHECK(count_pixels(c, [](examples::Rgb p) { return p.r > p.b + 120; }) > 200);
  fs::remove_all(dir);
}

TEST_CASE("plot: text is drawn in a real font (fontconfig finds one)") {
  examples::Canvas c(120, 30);
  double end = c.text(4, 4, "epoch", {0, 0, 0}, 16);
  CHECK(end > 4 + 30);  // the advance of five glyphs
  CHECK(count_pixels(c, [](examples::Rgb p) { return p.r < 128; }) > 60);
  // The title and axis labels make a plot's picture: another title, other pixels.
  examples::Canvas a = examples::LinePlot("first", "step", "loss").render(200, 150);
  examples::Canvas b = examples::LinePlot("second title", "step", "loss").render(200, 150);
  int differ = 0;
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 200; ++x) {
      examples::Rgb p = a.get(x, y), q = b.get(x, y);
      differ += p.r != q.r || p.g != q.g || p.b != q.b;
    }
  CHECK(differ > 50);
}

TEST_CASE("plot: errors name the path or the problem") {
  examples::LinePlot plot("t", "step", "loss");
  plot.add_series("loss", {1.0, 0.5});
  const std::string bad = "/nonexistent_tapeflow_folder/loss.png";
  CHECK_THROWS_WITH_AS(plot.save_png(bad), doctest::Contains(bad.c_str()), std::runtime_error);
  CHECK_THROWS_WITH_AS(plot.add_series("x", {1, 2}, {1}), doctest::Contains("2 x values but 1"),
                       std::invalid_argument);
  CHECK_THROWS_AS(plot.render(10, 10), std::invalid_argument);
  // Empty plots and series, and non-finite values, still draw.
  CHECK(examples::LinePlot("empty", "x", "y").render().width() == 800);
  plot.add_series("gaps", {NAN, 1.0, INFINITY, 0.7});
  CHECK(plot.render().height() == 450);
}

TEST_CASE("plot: the legend goes to the corner where it hides the least of the curves") {
  // The legend's frame is drawn in (180, 180, 180); count it in the top right of the picture.
  auto frame_top_right = [](const examples::LinePlot& plot) {
    examples::Canvas c = plot.render(640, 360);
    int n = 0;
    for (int y = 0; y < 360 * 4 / 10; ++y)
      for (int x = 640 * 3 / 4; x < 640; ++x) {
        examples::Rgb p = c.get(x, y);
        n += p.r == 180 && p.g == 180 && p.b == 180;
      }
    return n;
  };
  examples::LinePlot falling("loss", "epoch", "loss"), rising("IoU", "epoch", "IoU");
  falling.add_series("training", {0.9, 0.5, 0.3, 0.2})
      .add_series("held-out", {0.7, 0.4, 0.3, 0.25});
  rising.add_series("training", {0.5, 0.8, 0.9, 0.95})
      .add_series("held-out", {0.7, 0.9, 0.93, 0.96});
  CHECK(frame_top_right(falling) > 50);  // top right: nothing there
  CHECK(frame_top_right(rising) == 0);   // the curves end there: the legend moves away
}

TEST_CASE("plot: history_plot draws fit's logs against the epoch counted from 1") {
  tapeflow::training::History h;
  h.epoch = {0, 1, 2};
  h.history["loss"] = {0.9, 0.5, 0.4};
  h.history["val_loss"] = {1.0, 0.7, 0.6};
  examples::LinePlot plot = examples::history_plot(
      h, "training", "loss", {{"loss", "training"}, {"val_loss", "held-out"}});
  CHECK(plot.series_count() == 2);
  CHECK(plot.render().width() == 800);
  CHECK_THROWS_WITH(examples::history_plot(h, "t", "y", {{"val_iou", "held-out"}}),
                    doctest::Contains("val_iou"));
}

TEST_CASE("plot: moving average over the last values, fewer at the start") {
  std::vector<double> m = examples::moving_average({1, 2, 3, 4}, 2);
  REQUIRE(m.size() == 4);
  CHECK(m[0] == 1.0);
  CHECK(m[1] == 1.5);
  CHECK(m[2] == 2.5);
  CHECK(m[3] == 3.5);
  CHECK(examples::moving_average({2, 4}, 0)[1] == 4.0);  // a window of 1
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
  fs::path path =
      fs::temp_directory_path() / ("tapeflow_slices_" + std::to_string(getpid()) + ".png");
  picture.save_png(path.string());
  PngInfo info = png_info(path);
  CHECK(info.valid);
  CHECK(info.width == 4 * 128 + 5 * 8);
  CHECK(info.height == 128 + 2 * 8 + 16);
  fs::remove(path);
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
  CHECK(parse({"--steps=2", "--steps", "3"}) == -1);  // the last one wins
  CHECK(steps == 3);
  CHECK(parse({"--steps", "11"}) == 2);
  CHECK(parse({"--steps", "3x"}) == 2);
  CHECK(parse({"--steps", "2.5"}) == 2);
  CHECK(parse({"--lr", "abc"}) == 2);
  CHECK(parse({"--lr=-0.5"}) == 2);
  CHECK(parse({"--bogus"}) == 2);
  CHECK(parse({"extra"}) == 2);
  CHECK(parse({"--steps"}) == 2);
  CHECK(parse({"--out="}) == 2);
  CHECK(parse({"--help"}) == 0);
  CHECK(steps == 3);  // a rejected value is never stored
}

#ifdef TAPEFLOW_EXAMPLE_VOXEL_AUTOENCODER
TEST_CASE(
    "voxel_autoencoder: a tiny fit reports IoU, writes the pictures, log.csv and a checkpoint") {
  fs::path out = fresh_dir("voxel");
  Result r =
      run(std::string(TAPEFLOW_EXAMPLE_VOXEL_AUTOENCODER) +
          " --size 16 --epochs 1 --steps 4 --batch 2 --test 4 --channels 4 --out " + out.string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("Epoch 1/1") != std::string::npos);  // fit's progress bar
  CHECK(r.output.find("4/4 [") != std::string::npos);
  CHECK(r.output.find(" - val_loss: ") != std::string::npos);
  CHECK(r.output.find(" - val_iou: ") != std::string::npos);
  CHECK(r.output.find("final held-out IoU") != std::string::npos);
  CHECK(r.output.find("after 4 steps") != std::string::npos);
  CHECK(is_png(out / "recon.png"));
  CHECK(is_png(out / "loss.png"));
  CHECK(png_info(out / "loss.png").width == 800);
  CHECK(is_png(out / "iou.png"));
  // CSVLogger: a header and a row per epoch.
  std::string log = read_text(out / "log.csv");
  CHECK(log.rfind("epoch,iou,loss,val_iou,val_loss\n0,", 0) == 0);
  CHECK(std::count(log.begin(), log.end(), '\n') == 2);
  REQUIRE(fs::exists(out / "model.tfw"));

  // --resume continues from the checkpoint.
  r = run(std::string(TAPEFLOW_EXAMPLE_VOXEL_AUTOENCODER) +
          " --size 16 --epochs 1 --steps 2 --batch 2 --test 4 --channels 4 --resume --out " +
          out.string());
  CHECK(r.status == 0);
  CHECK(r.output.find("resumed from") != std::string::npos);
  CHECK(r.output.find("2/2 [") != std::string::npos);
  CHECK(r.output.find("final held-out IoU") != std::string::npos);
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
  CHECK(r.output.find("not expected") != std::string::npos);  // CLI11's words
  CHECK(r.output.find("--frobnicate") != std::string::npos);
  CHECK(r.output.find("(see voxel_autoencoder --help)") != std::string::npos);
  r = run(bin + " --size 4");
  CHECK(r.status == 2);
  CHECK(r.output.find("--size: must be in [8, 64], got 4") != std::string::npos);
  r = run(bin + " --size 18");
  CHECK(r.status == 2);
  CHECK(r.output.find("multiple of 4") != std::string::npos);
  r = run(bin + " --lr abc");
  CHECK(r.status == 2);
  CHECK(r.output.find("--lr: expects a number, got 'abc'") != std::string::npos);
  r = run(bin + " --batch");
  CHECK(r.status == 2);
  CHECK(r.output.find("--batch: 1 required INT missing") != std::string::npos);
}
#endif

#ifdef TAPEFLOW_EXAMPLE_UNET3D_SEGMENTATION
TEST_CASE("unet3d_segmentation: a tiny fit reports Dice and IoU, writes the pictures and log.csv") {
  fs::path out = fresh_dir("unet3d");
  const std::string tiny = " --size 16 --epochs 2 --steps 3 --batch 2 --test 4 --channels 2 --out ";
  Result r = run(std::string(TAPEFLOW_EXAMPLE_UNET3D_SEGMENTATION) + tiny + out.string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("Connected to") != std::string::npos);  // the functional summary
  CHECK(r.output.find("concatenate") != std::string::npos);
  CHECK(r.output.find("Epoch 2/2") != std::string::npos);  // fit's progress bar
  CHECK(r.output.find("3/3 [") != std::string::npos);
  CHECK(r.output.find(" - loss: ") != std::string::npos);
  CHECK(r.output.find(" - val_dice: ") != std::string::npos);
  auto pos = r.output.find("held-out Dice ");
  REQUIRE(pos != std::string::npos);
  double dice = std::atof(r.output.c_str() + pos + 14);
  CHECK(dice >= 0.0);
  CHECK(dice <= 1.0);
  CHECK(r.output.find(", IoU ") != std::string::npos);
  CHECK(r.output.find("after 6 steps") != std::string::npos);
  CHECK(is_png(out / "slices.png"));
  CHECK(is_png(out / "loss.png"));
  CHECK(png_info(out / "loss.png").height == 450);
  CHECK(is_png(out / "dice.png"));
  std::string log = read_text(out / "log.csv");
  CHECK(log.rfind("epoch,dice,iou,loss,val_dice,val_iou,val_loss\n0,", 0) == 0);
  CHECK(std::count(log.begin(), log.end(), '\n') == 3);
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

#ifdef TAPEFLOW_EXAMPLE_MAKE_SEGMENTATION_VOLUMES
TEST_CASE(
    "unet3d_segmentation --data trains from the .nii.gz pairs make_segmentation_volumes writes") {
  fs::path data = fresh_dir("unet3d_data"), out = fresh_dir("unet3d_data_out");
  Result r = run(std::string(TAPEFLOW_EXAMPLE_MAKE_SEGMENTATION_VOLUMES) +
                 " --count 9 --size 16 --out " + data.string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("wrote 9 image/label pairs of 16^3 voxels") != std::string::npos);
  CHECK(fs::exists(data / "case_0000_image.nii.gz"));
  CHECK(fs::exists(data / "case_0008_label.nii.gz"));
  // The files are the generator's volumes: the label file holds 0/1 of the shape.
  const tapeflow::Tensor label =
      tapeflow::serialization::read_nifti((data / "case_0003_label.nii.gz").string()).data;
  CHECK(label.shape() == tapeflow::Shape{16, 16, 16});
  CHECK(std::all_of(label.begin(), label.end(), [](float v) { return v == 0.f || v == 1.f; }));
  CHECK(std::count(label.begin(), label.end(), 1.f) > 0);

  // 9 pairs: the last 4 held out, 5 for training in batches of 2 (3 steps, the last of one).
  r = run(std::string(TAPEFLOW_EXAMPLE_UNET3D_SEGMENTATION) + " --data " + data.string() +
          " --epochs 2 --batch 2 --test 4 --channels 2 --out " + out.string());
  CHECK(r.status == 0);
  CHECK(r.output.find("(16, 16, 16, 1) voxels from") != std::string::npos);
  CHECK(r.output.find("5 training volumes (read each epoch), 4 held out") != std::string::npos);
  CHECK(r.output.find("3/3 [") != std::string::npos);
  CHECK(r.output.find(" - val_dice: ") != std::string::npos);
  CHECK(r.output.find("after 6 steps") != std::string::npos);
  CHECK(is_png(out / "slices.png"));

  // Fewer pairs than --test needs, and a label missing: clear errors, exit status 1.
  r = run(std::string(TAPEFLOW_EXAMPLE_UNET3D_SEGMENTATION) + " --data " + data.string() +
          " --test 9 --out " + out.string());
  CHECK(r.status == 1);
  CHECK(r.output.find("holds 9 pairs: more than --test 9 are needed") != std::string::npos);
  fs::remove(data / "case_0005_label.nii.gz");
  r = run(std::string(TAPEFLOW_EXAMPLE_UNET3D_SEGMENTATION) + " --data " + data.string() +
          " --out " + out.string());
  CHECK(r.status == 1);
  CHECK(r.output.find("case_0005_image.nii.gz") != std::string::npos);
  fs::remove_all(data);
  fs::remove_all(out);
}
#endif

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
  CHECK(r.output.find("--noise: must be in [0, 2], got -1") != std::string::npos);
  r = run(bin + " --steps 0");
  CHECK(r.status == 2);
  CHECK(r.output.find("--steps: must be in [1, 100000], got 0") != std::string::npos);
  r = run(bin + " --epochs 0");
  CHECK(r.status == 2);
  CHECK(r.output.find("--epochs: must be in [1, 1000], got 0") != std::string::npos);
  r = run(bin + " --resume");  // only voxel_autoencoder resumes
  CHECK(r.status == 2);
  CHECK(r.output.find("not expected") != std::string::npos);
  CHECK(r.output.find("--resume") != std::string::npos);
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
TEST_CASE("mlp_classifier: a short fit learns the spirals, writes the pictures, stops early") {
  fs::path out = fresh_dir("mlp");
  const std::string bin = TAPEFLOW_EXAMPLE_MLP_CLASSIFIER;
  Result r = run(bin + " --epochs 4 --steps 50 --points 60 --units 16 --out " + out.string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("Epoch 4/4") != std::string::npos);  // fit's progress bar
  CHECK(r.output.find("50/50 [") != std::string::npos);
  CHECK(r.output.find(" - val_accuracy: ") != std::string::npos);
  CHECK(r.output.find("200 steps") != std::string::npos);
  auto pos = r.output.find("train accuracy ");
  REQUIRE(pos != std::string::npos);
  double acc = std::atof(r.output.c_str() + pos + 15);
  CHECK(acc > 0.7);  // chance is 0.5
  CHECK(r.output.find("held-out accuracy ") != std::string::npos);
  CHECK(is_png(out / "boundary.png"));
  CHECK(is_png(out / "loss.png"));
  CHECK(is_png(out / "accuracy.png"));
  std::string log = read_text(out / "log.csv");
  CHECK(log.rfind("epoch,accuracy,loss,val_accuracy,val_loss\n0,", 0) == 0);
  CHECK(std::count(log.begin(), log.end(), '\n') == 5);
  CHECK(fs::exists(out / "model.tfw"));

  // Once the held-out loss stops falling, EarlyStopping ends the run long before --epochs, and
  // the checkpoint holds the epoch with the lowest held-out loss.
  r = run(bin + " --epochs 40 --steps 50 --points 60 --units 16 --patience 2 --out " +
          out.string());
  CHECK(r.status == 0);
  CHECK(r.output.find("stopped early: no lower val_loss in the last 2 epochs") !=
        std::string::npos);
  CHECK(r.output.find("Epoch 40/40") == std::string::npos);
  log = read_text(out / "log.csv");
  CHECK(std::count(log.begin(), log.end(), '\n') < 20);
  CHECK(r.output.find("saved " + (out / "model.tfw").string() + ": epoch ") != std::string::npos);
  fs::remove_all(out);
}

TEST_CASE("mlp_classifier: bad command lines fail with a clear message") {
  std::string bin = TAPEFLOW_EXAMPLE_MLP_CLASSIFIER;
  Result r = run(bin + " --units 0");
  CHECK(r.status == 2);
  CHECK(r.output.find("--units: must be in [1, 4096], got 0") != std::string::npos);
  r = run(bin + " extra");
  CHECK(r.status == 2);
  CHECK(r.output.find("argument was not expected: extra") != std::string::npos);
}
#endif
#ifdef TAPEFLOW_EXAMPLE_SEQUENCE_LSTM
TEST_CASE("sequence_lstm: a short fit learns the adding problem through Masking and an LSTM") {
  fs::path out = fresh_dir("lstm");
  const std::string bin = TAPEFLOW_EXAMPLE_SEQUENCE_LSTM;
  Result r = run(bin + " --epochs 12 --sequences 512 --length 12 --out " + out.string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("Epoch 12/12") != std::string::npos);        // fit's progress bar
  CHECK(r.output.find("masking (Masking)") != std::string::npos);  // the summary
  CHECK(r.output.find("lstm (LSTM)") != std::string::npos);
  auto pos = r.output.find("held-out mean squared error ");
  REQUIRE(pos != std::string::npos);
  const double mse = std::atof(r.output.c_str() + pos + 28);
  CHECK(mse < 0.1);  // predicting the mean: 1/6
  CHECK(is_png(out / "loss.png"));
  const std::string log = read_text(out / "log.csv");
  CHECK(log.rfind("epoch,loss,val_loss\n0,", 0) == 0);
  CHECK(fs::exists(out / "model.tfw"));
  fs::remove_all(out);
}

TEST_CASE("sequence_lstm: bad command lines fail with a clear message") {
  const std::string bin = TAPEFLOW_EXAMPLE_SEQUENCE_LSTM;
  Result r = run(bin + " --length 1");
  CHECK(r.status == 2);
  CHECK(r.output.find("--length: must be in [2, 10000], got 1") != std::string::npos);
  // The shortest sequences still hold two marked steps.
  fs::path out = fresh_dir("lstm_short");
  r = run(bin + " --epochs 1 --sequences 8 --length 2 --out " + out.string());
  CHECK(r.status == 0);
  fs::remove_all(out);
}
#endif
#endif  // TAPEFLOW_EXAMPLES_COMMON
