#include "tapeflow/framework/data/dataset.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/data/augment.hpp"
#include "tapeflow/framework/io/detail/file_context.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/framework/runtime/seed_mix.hpp"

namespace tapeflow::data {

namespace detail {

/// One pass of a pipeline stage.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual std::optional<Element> next() = 0;
};

/// A pipeline stage: opens a pass (`pass` seeds the shuffles in it) and knows its length.
class Node {
 public:
  virtual ~Node() = default;
  virtual std::unique_ptr<Stream> open(std::uint64_t pass) const = 0;
  virtual std::int64_t cardinality() const = 0;
};

}  // namespace detail

namespace {

using detail::Node;
using detail::Stream;
using serialization::detail::file_context;
using serialization::detail::quoted;
using NodePtr = std::shared_ptr<const Node>;

Tensor row_of(const Tensor& t, std::size_t i) {
  Shape shape(t.shape().begin() + 1, t.shape().end());
  Tensor out = Tensor::from_shape(shape);
  const std::size_t row = out.size();
  std::memcpy(out.data(), t.data() + i * row, row * sizeof(float));
  return out;
}

// ---- sources ------------------------------------------------------------------------------

class ListStream : public Stream {
 public:
  using Make = std::function<Element(std::size_t)>;
  ListStream(std::size_t n, Make make) : n_(n), make_(std::move(make)) {}
  std::optional<Element> next() override {
    if (i_ == n_) return std::nullopt;
    return make_(i_++);
  }

 private:
  std::size_t n_, i_ = 0;
  Make make_;
};

class TensorsNode : public Node {
 public:
  explicit TensorsNode(Element e) : e_(std::move(e)) {}
  std::unique_ptr<Stream> open(std::uint64_t) const override {
    return std::make_unique<ListStream>(1, [this](std::size_t) { return e_; });
  }
  std::int64_t cardinality() const override { return 1; }

 private:
  Element e_;
};

class SlicesNode : public Node {
 public:
  explicit SlicesNode(Element e) : e_(std::move(e)) {}
  std::unique_ptr<Stream> open(std::uint64_t) const override {
    return std::make_unique<ListStream>(rows(), [this](std::size_t i) {
      Element out;
      out.reserve(e_.size());
      for (const auto& t : e_) out.push_back(row_of(t, i));
      return out;
    });
  }
  std::int64_t cardinality() const override { return static_cast<std::int64_t>(rows()); }

 private:
  std::size_t rows() const { return e_[0].shape()[0]; }
  Element e_;
};

// Element i made by `make(i)` when the pipeline reaches it (the file sources).
class IndexedNode : public Node {
 public:
  IndexedNode(std::size_t n, ListStream::Make make) : n_(n), make_(std::move(make)) {}
  std::unique_ptr<Stream> open(std::uint64_t) const override {
    return std::make_unique<ListStream>(n_, make_);
  }
  std::int64_t cardinality() const override { return static_cast<std::int64_t>(n_); }

 private:
  std::size_t n_;
  ListStream::Make make_;
};

// ---- transformations ------------------------------------------------------------------------

class MapNode : public Node {
 public:
  MapNode(NodePtr in, std::function<Element(Element)> fn)
      : in_(std::move(in)), fn_(std::move(fn)) {}
  std::unique_ptr<Stream> open(std::uint64_t pass) const override {
    struct S : Stream {
      std::unique_ptr<Stream> in;
      const std::function<Element(Element)>* fn;
      std::optional<Element> next() override {
        auto e = in->next();
        if (!e) return e;
        return (*fn)(std::move(*e));
      }
    };
    auto s = std::make_unique<S>();
    s->in = in_->open(pass);
    s->fn = &fn_;
    return s;
  }
  std::int64_t cardinality() const override { return in_->cardinality(); }

 private:
  NodePtr in_;
  std::function<Element(Element)> fn_;
};

class MapRandomNode : public Node {
 public:
  using Fn = std::function<Element(Element, RandomGenerator&)>;
  MapRandomNode(NodePtr in, Fn fn, std::uint64_t seed, std::string where)
      : in_(std::move(in)), fn_(std::move(fn)), seed_(seed), where_(std::move(where)) {}
  std::unique_ptr<Stream> open(std::uint64_t pass) const override {
    struct S : Stream {
      std::unique_ptr<Stream> in;
      const MapRandomNode* node;
      std::uint64_t pass, index = 0;
      std::optional<Element> next() override {
        auto e = in->next();
        if (!e) return e;
        const std::uint64_t i = index++;
        RandomGenerator gen(element_seed(node->seed_, pass, i));
        if (node->where_.empty()) return node->fn_(std::move(*e), gen);
        Element out;
        try {
          out = node->fn_(std::move(*e), gen);
        } catch (const Error& err) {
          std::string context = node->where_;
          context += ": element ";
          context += std::to_string(i);
          err.rethrow_in(context);
        }
        return out;
      }
    };
    auto s = std::make_unique<S>();
    s->in = in_->open(pass);
    s->node = this;
    s->pass = pass;
    return s;
  }
  std::int64_t cardinality() const override { return in_->cardinality(); }

 private:
  NodePtr in_;
  Fn fn_;
  std::uint64_t seed_;
  std::string where_;  // set: errors get "<where>: element <i>" before them
};

class ShuffleNode : public Node {
 public:
  ShuffleNode(NodePtr in, std::size_t buffer, std::uint64_t seed, bool reshuffle)
      : in_(std::move(in)), buffer_(buffer), seed_(seed), reshuffle_(reshuffle) {}
  std::unique_ptr<Stream> open(std::uint64_t pass) const override {
    struct S : Stream {
      std::unique_ptr<Stream> in;
      std::size_t capacity;
      RandomGenerator gen{0};
      std::vector<Element> buffer;
      bool filled = false, exhausted = false;
      std::optional<Element> next() override {
        if (!filled) {
          while (buffer.size() < capacity && !exhausted) pull();
          filled = true;
        }
        if (buffer.empty()) return std::nullopt;
        // TF's ShuffleDataset: a uniform slot of the buffer, refilled from the input.
        const std::size_t k = static_cast<std::size_t>(gen.next_u64() % buffer.size());
        Element out = std::move(buffer[k]);
        std::optional<Element> more = exhausted ? std::nullopt : in->next();
        if (more) {
          buffer[k] = std::move(*more);
        } else {
          exhausted = true;
          buffer[k] = std::move(buffer.back());
          buffer.pop_back();
        }
        return out;
      }
      void pull() {
        auto e = in->next();
        if (e)
          buffer.push_back(std::move(*e));
        else
          exhausted = true;
      }
    };
    auto s = std::make_unique<S>();
    s->in = in_->open(pass);
    s->capacity = buffer_;
    s->gen = RandomGenerator(mix_seed(seed_ ^ mix_seed(reshuffle_ ? pass : 0)));
    return s;
  }
  std::int64_t cardinality() const override { return in_->cardinality(); }

 private:
  NodePtr in_;
  std::size_t buffer_;
  std::uint64_t seed_;
  bool reshuffle_;
};

// Stacks elements along a new axis 0; `where` names the dataset op in errors.
Element stack_elements(const std::vector<Element>& es) {
  const std::size_t comps = es[0].size();
  Element out;
  for (std::size_t c = 0; c < comps; ++c) {
    const Shape shape = shape_of(es[0][c]);
    Shape batched{es.size()};
    batched.insert(batched.end(), shape.begin(), shape.end());
    Tensor t = Tensor::from_shape(batched);
    const std::size_t row = es[0][c].size();
    for (std::size_t i = 0; i < es.size(); ++i) {
      if (es[i].size() != comps)
        fail_shape("Dataset.batch", "element " + std::to_string(i) + " of a batch has " +
                                        std::to_string(es[i].size()) +
                                        " components, element 0 has " + std::to_string(comps));
      if (shape_of(es[i][c]) != shape)
        fail_shape("Dataset.batch", "component " + std::to_string(c) + " of element " +
                                        std::to_string(i) + " of a batch has shape " +
                                        shape_str(es[i][c].shape()) + ", element 0's has " +
                                        shape_str(shape) + "; a batch stacks equal shapes");
      std::memcpy(t.data() + i * row, es[i][c].data(), row * sizeof(float));
    }
    out.push_back(std::move(t));
  }
  return out;
}

class BatchNode : public Node {
 public:
  BatchNode(NodePtr in, std::size_t n, bool drop) : in_(std::move(in)), n_(n), drop_(drop) {}
  std::unique_ptr<Stream> open(std::uint64_t pass) const override {
    struct S : Stream {
      std::unique_ptr<Stream> in;
      std::size_t n;
      bool drop;
      std::optional<Element> next() override {
        std::vector<Element> es;
        while (es.size() < n) {
          auto e = in->next();
          if (!e) break;
          es.push_back(std::move(*e));
        }
        if (es.empty() || (drop && es.size() < n)) return std::nullopt;
        return stack_elements(es);
      }
    };
    auto s = std::make_unique<S>();
    s->in = in_->open(pass);
    s->n = n_;
    s->drop = drop_;
    return s;
  }
  std::int64_t cardinality() const override {
    const std::int64_t c = in_->cardinality();
    if (c < 0) return c;
    const auto n = static_cast<std::int64_t>(n_);
    return drop_ ? c / n : (c + n - 1) / n;
  }

 private:
  NodePtr in_;
  std::size_t n_;
  bool drop_;
};

class RepeatNode : public Node {
 public:
  RepeatNode(NodePtr in, std::int64_t count) : in_(std::move(in)), count_(count) {}
  std::unique_ptr<Stream> open(std::uint64_t pass) const override {
    struct S : Stream {
      const Node* node;
      std::int64_t count, done = 0;
      std::uint64_t pass;
      std::unique_ptr<Stream> in;
      bool any = false;  // the current repetition gave an element
      std::optional<Element> next() override {
        for (;;) {
          if (!in) {
            if (count >= 0 && done >= count) return std::nullopt;
            // Each repetition is its own pass of the input (its own shuffled order).
            in = node->open(mix_seed(pass * 0x100000001b3ull + static_cast<std::uint64_t>(done)));
            any = false;
          }
          auto e = in->next();
          if (e) {
            any = true;
            return e;
          }
          in.reset();
          ++done;
          if (!any) return std::nullopt;  // an empty input repeated forever is empty
        }
      }
    };
    auto s = std::make_unique<S>();
    s->node = in_.get();
    s->count = count_;
    s->pass = pass;
    return s;
  }
  std::int64_t cardinality() const override {
    const std::int64_t c = in_->cardinality();
    if (count_ < 0) return c == 0 ? 0 : kInfiniteCardinality;
    if (c < 0) return c;
    return c * count_;
  }

 private:
  NodePtr in_;
  std::int64_t count_;
};

// Reads and drops the next `n` elements of `in` (-1: all); false if it ended first.
bool discard(Stream& in, std::int64_t n) {
  for (std::int64_t i = 0; n < 0 || i < n; ++i)
    if (!in.next()) return false;
  return true;
}

class TakeSkipNode : public Node {
 public:
  TakeSkipNode(NodePtr in, std::int64_t n, bool take) : in_(std::move(in)), n_(n), take_(take) {}
  std::unique_ptr<Stream> open(std::uint64_t pass) const override {
    struct S : Stream {
      std::unique_ptr<Stream> in;
      std::int64_t n, seen = 0;
      bool take;
      std::optional<Element> next() override {
        if (take) {
          if (n >= 0 && seen >= n) return std::nullopt;
          ++seen;
          return in->next();
        }
        // The first `n` dropped on the first call (n is 0 after it).
        if (!discard(*in, std::exchange(n, 0))) return std::nullopt;
        return in->next();
      }
    };
    auto s = std::make_unique<S>();
    s->in = in_->open(pass);
    s->n = n_;
    s->take = take_;
    return s;
  }
  std::int64_t cardinality() const override {
    const std::int64_t c = in_->cardinality();
    if (take_) {
      if (n_ < 0) return c;
      if (c == kInfiniteCardinality) return n_;
      if (c < 0) return c;
      return std::min(c, n_);
    }
    if (n_ < 0) return c == kInfiniteCardinality ? kInfiniteCardinality : (c < 0 ? c : 0);
    if (c < 0) return c;
    return std::max<std::int64_t>(0, c - n_);
  }

 private:
  NodePtr in_;
  std::int64_t n_;
  bool take_;
};

// Positions index, index + num_shards, ... of each pass of the input; the others are read and
// dropped, so the stages before see the whole pass (their positions and seeds unchanged).
class ShardNode : public Node {
 public:
  ShardNode(NodePtr in, std::int64_t num_shards, std::int64_t index)
      : in_(std::move(in)), num_shards_(num_shards), index_(index) {}
  std::unique_ptr<Stream> open(std::uint64_t pass) const override {
    struct S : Stream {
      std::unique_ptr<Stream> in;
      std::int64_t gap;  // the elements to drop before the next one kept
      std::int64_t num_shards;
      std::optional<Element> next() override {
        if (!discard(*in, std::exchange(gap, num_shards - 1))) return std::nullopt;
        return in->next();
      }
    };
    auto s = std::make_unique<S>();
    s->in = in_->open(pass);
    s->gap = index_;
    s->num_shards = num_shards_;
    return s;
  }
  std::int64_t cardinality() const override {
    const std::int64_t c = in_->cardinality();
    if (c < 0) return c;
    return index_ < c ? (c - index_ + num_shards_ - 1) / num_shards_ : 0;
  }

 private:
  NodePtr in_;
  std::int64_t num_shards_, index_;
};

class CacheNode : public Node {
 public:
  explicit CacheNode(NodePtr in) : in_(std::move(in)), state_(std::make_shared<State>()) {}
  std::unique_ptr<Stream> open(std::uint64_t pass) const override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (state_->complete) {
        auto cached = state_;
        return std::make_unique<ListStream>(
            cached->elements.size(), [cached](std::size_t i) { return cached->elements[i]; });
      }
    }
    struct S : Stream {
      std::unique_ptr<Stream> in;
      std::shared_ptr<State> state;
      std::vector<Element> seen;
      std::optional<Element> next() override {
        auto e = in->next();
        if (e) {
          seen.push_back(*e);
          return e;
        }
        std::lock_guard<std::mutex> lock(state->mu);
        if (!state->complete) {
          state->elements = std::move(seen);
          state->complete = true;
        }
        return e;
      }
    };
    auto s = std::make_unique<S>();
    s->in = in_->open(pass);
    s->state = state_;
    return s;
  }
  std::int64_t cardinality() const override { return in_->cardinality(); }

 private:
  struct State {
    std::mutex mu;
    bool complete = false;
    std::vector<Element> elements;
  };
  NodePtr in_;
  std::shared_ptr<State> state_;
};

// The producer thread runs the input stream into a bounded queue; the consumer takes from it.
// An error of the input is handed over in order, after the elements before it.
class PrefetchStream : public Stream {
 public:
  PrefetchStream(std::unique_ptr<Stream> in, std::size_t n) : in_(std::move(in)), capacity_(n) {
    worker_ = std::thread([this] { produce(); });
  }
  ~PrefetchStream() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  std::optional<Element> next() override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) {
      if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
      return std::nullopt;
    }
    Element e = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return e;
  }

 private:
  void produce() {
    try {
      for (;;) {
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return queue_.size() < capacity_ || stop_; });
          if (stop_) break;
        }
        auto e = in_->next();
        std::lock_guard<std::mutex> lock(mu_);
        if (!e) break;
        queue_.push_back(std::move(*e));
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

  std::unique_ptr<Stream> in_;
  std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Element> queue_;
  bool stop_ = false, done_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

class PrefetchNode : public Node {
 public:
  PrefetchNode(NodePtr in, std::size_t n) : in_(std::move(in)), n_(n) {}
  std::unique_ptr<Stream> open(std::uint64_t pass) const override {
    if (n_ == 0) return in_->open(pass);
    return std::make_unique<PrefetchStream>(in_->open(pass), n_);
  }
  std::int64_t cardinality() const override { return in_->cardinality(); }

 private:
  NodePtr in_;
  std::size_t n_;
};

}  // namespace

// ---- Dataset ----------------------------------------------------------------------------------

Dataset::Dataset(std::shared_ptr<const detail::Node> node)
    : node_(std::move(node)), passes_(std::make_shared<std::int64_t>(0)) {}

Dataset Dataset::from_tensors(Element tensors) {
  if (tensors.empty()) fail("Dataset.from_tensors", "no tensors given");
  return Dataset(std::make_shared<TensorsNode>(std::move(tensors)));
}

Dataset Dataset::from_tensor_slices(Element tensors) {
  const std::string where = "Dataset.from_tensor_slices";
  if (tensors.empty()) fail(where, "no tensors given");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].dimension() == 0)
      fail_shape(where, "tensor " + std::to_string(i) + " is a scalar; slicing needs an axis 0");
    if (tensors[i].shape()[0] != tensors[0].shape()[0])
      fail_shape(where, "tensor " + std::to_string(i) + " has shape " +
                            shape_str(tensors[i].shape()) + " and tensor 0 " +
                            shape_str(tensors[0].shape()) +
                            ": every tensor needs the same number of rows (axis 0)");
  }
  return Dataset(std::make_shared<SlicesNode>(std::move(tensors)));
}

Dataset Dataset::from_files(std::vector<std::string> paths,
                            std::function<Element(const std::string&)> loader) {
  if (!loader) fail("Dataset.from_files: loader", "an empty function");
  const std::size_t n = paths.size();
  return Dataset(std::make_shared<IndexedNode>(
      n, [paths = std::move(paths), loader = std::move(loader)](std::size_t i) {
        Element e;
        try {
          e = loader(paths[i]);
        } catch (const Error& err) {
          err.rethrow_in(file_context("Dataset.from_files", paths[i]));
        }
        return e;
      }));
}

std::vector<std::pair<std::string, std::string>> list_file_pairs(const std::string& directory,
                                                                 const std::string& image_suffix,
                                                                 const std::string& label_suffix) {
  namespace fs = std::filesystem;
  const std::string where = "Dataset.from_file_pairs";
  if (image_suffix.empty()) fail(where + ": image_suffix", "must not be empty");
  if (label_suffix.empty()) fail(where + ": label_suffix", "must not be empty");
  if (image_suffix == label_suffix)
    fail(where,
         "image_suffix and label_suffix are both " + quoted(image_suffix) + "; they must differ");
  std::error_code ec;
  const fs::file_status st = fs::status(directory, ec);
  if (!fs::exists(st)) fail_file(file_context(where.c_str(), directory), "no such folder");
  if (!fs::is_directory(st)) fail_file(file_context(where.c_str(), directory), "not a folder");
  const auto ends_with = [](const std::string& name, const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // The longer suffix first: a name ending in both belongs to it.
  const bool image_first = image_suffix.size() >= label_suffix.size();
  std::map<std::string, std::string> images, labels;  // stem -> path, sorted by stem
  fs::directory_iterator it(directory, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code ec2;
    if (!fs::is_regular_file(it->path(), ec2)) continue;
    const bool img = ends_with(name, image_suffix), lbl = ends_with(name, label_suffix);
    if (img && (!lbl || image_first))
      images[name.substr(0, name.size() - image_suffix.size())] = it->path().string();
    else if (lbl)
      labels[name.substr(0, name.size() - label_suffix.size())] = it->path().string();
  }
  if (ec) fail_file(file_context(where.c_str(), directory), "cannot list it: " + ec.message());
  if (images.empty() && labels.empty()) {
    std::string what = "no file ending in ";
    what += quoted(image_suffix);
    what += " or ";
    what += quoted(label_suffix);
    fail_file(file_context(where.c_str(), directory), what);
  }
  const auto unpaired = [&](const std::map<std::string, std::string>& have,
                            const std::map<std::string, std::string>& other, const char* kind,
                            const char* missing, const std::string& suffix) {
    std::size_t count = 0;
    const std::string* first = nullptr;
    std::string first_stem;
    for (const auto& [stem, path] : have)
      if (!other.count(stem)) {
        if (!count) first = &path, first_stem = stem;
        ++count;
      }
    if (!count) return;
    std::string what = kind;
    what += " ";
    what += quoted(*first);
    what += " has no ";
    what += missing;
    what += " ";
    what += quoted((fs::path(directory) / (first_stem + suffix)).string());
    if (count > 1) {
      what += " (and ";
      what += std::to_string(count - 1);
      what += " more ";
      what += kind + 4;  // "image" or "label"
      what += count > 2 ? "s without their " : " without its ";
      what += missing;
      what += count > 2 ? "s)" : ")";
    }
    fail_file(where, what);
  };
  unpaired(images, labels, "the image", "label", label_suffix);
  unpaired(labels, images, "the label", "image", image_suffix);
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(images.size());
  for (const auto& [stem, path] : images) pairs.emplace_back(path, labels.at(stem));
  return pairs;
}

Dataset Dataset::from_file_pairs(const std::string& directory, const std::string& image_suffix,
                                 const std::string& label_suffix,
                                 std::function<Tensor(const std::string&)> loader,
                                 std::function<Tensor(const std::string&)> label_loader) {
  if (!loader) fail("Dataset.from_file_pairs: loader", "an empty function");
  if (!label_loader) label_loader = loader;
  auto pairs = list_file_pairs(directory, image_suffix, label_suffix);
  const std::size_t n = pairs.size();
  return Dataset(
      std::make_shared<IndexedNode>(n, [pairs = std::move(pairs), loader = std::move(loader),
                                        label_loader = std::move(label_loader)](std::size_t i) {
        const auto load = [](const auto& fn, const std::string& path) {
          Tensor t;
          try {
            t = fn(path);
          } catch (const Error& err) {
            err.rethrow_in(file_context("Dataset.from_file_pairs", path));
          }
          return t;
        };
        Element e;
        e.push_back(load(loader, pairs[i].first));
        e.push_back(load(label_loader, pairs[i].second));
        return e;
      }));
}

Dataset Dataset::map(std::function<Element(Element)> fn) const {
  if (!fn) fail("Dataset.map", "an empty function");
  return Dataset(std::make_shared<MapNode>(node_, std::move(fn)));
}

std::uint64_t element_seed(std::uint64_t seed, std::uint64_t pass, std::uint64_t index) {
  return mix_seed(mix_seed(mix_seed(seed) ^ pass) ^ index);
}

Dataset Dataset::map_random(std::function<Element(Element, RandomGenerator&)> fn,
                            std::optional<std::uint64_t> seed) const {
  if (!fn) fail("Dataset.map_random", "an empty function");
  const std::uint64_t s = seed ? *seed : RandomGenerator::for_op(Seed()).next_u64();
  return Dataset(std::make_shared<MapRandomNode>(node_, std::move(fn), s, std::string()));
}

Dataset Dataset::augment(const Augment& aug, std::optional<std::uint64_t> seed) const {
  const std::uint64_t s = seed ? *seed : RandomGenerator::for_op(Seed()).next_u64();
  return Dataset(std::make_shared<MapRandomNode>(
      node_, [aug](Element e, RandomGenerator& gen) { return aug.apply(std::move(e), gen); }, s,
      "Dataset.augment"));
}

Dataset Dataset::shuffle(std::size_t buffer_size, std::optional<std::uint64_t> seed,
                         bool reshuffle_each_iteration) const {
  if (buffer_size == 0) fail("Dataset.shuffle: buffer_size", "must be at least 1");
  const std::uint64_t s = seed ? *seed : RandomGenerator::for_op(Seed()).next_u64();
  return Dataset(std::make_shared<ShuffleNode>(node_, buffer_size, s, reshuffle_each_iteration));
}

Dataset Dataset::batch(std::size_t n, bool drop_remainder) const {
  if (n == 0) fail("Dataset.batch: batch_size", "must be at least 1");
  return Dataset(std::make_shared<BatchNode>(node_, n, drop_remainder));
}

Dataset Dataset::repeat(std::int64_t count) const {
  if (count < -1) fail("Dataset.repeat: count", "must be -1 (forever) or >= 0");
  return Dataset(std::make_shared<RepeatNode>(node_, count));
}

Dataset Dataset::take(std::int64_t n) const {
  if (n < -1) fail("Dataset.take: count", "must be -1 (all) or >= 0");
  return Dataset(std::make_shared<TakeSkipNode>(node_, n, true));
}

Dataset Dataset::skip(std::int64_t n) const {
  if (n < -1) fail("Dataset.skip: count", "must be -1 (all) or >= 0");
  return Dataset(std::make_shared<TakeSkipNode>(node_, n, false));
}

Dataset Dataset::shard(std::int64_t num_shards, std::int64_t index) const {
  if (num_shards < 1)
    fail("Dataset.shard: num_shards", "must be at least 1, got " + std::to_string(num_shards));
  if (index < 0 || index >= num_shards)
    fail("Dataset.shard: index", "must be in [0, num_shards) = [0, " + std::to_string(num_shards) +
                                     "), got " + std::to_string(index));
  return Dataset(std::make_shared<ShardNode>(node_, num_shards, index));
}

Dataset Dataset::cache() const { return Dataset(std::make_shared<CacheNode>(node_)); }

Dataset Dataset::prefetch(std::size_t n) const {
  return Dataset(std::make_shared<PrefetchNode>(node_, n));
}

std::int64_t Dataset::cardinality() const { return node_->cardinality(); }

Dataset::Iterator Dataset::iterate(std::int64_t pass) const {
  if (pass < 0) fail("Dataset.iterate: pass", "must be >= 0");
  return Iterator(node_, node_->open(static_cast<std::uint64_t>(pass)));
}

Dataset::Iterator Dataset::iterate() const { return iterate((*passes_)++); }

Dataset::Iterator::Iterator() = default;
Dataset::Iterator::~Iterator() = default;
Dataset::Iterator::Iterator(Iterator&&) noexcept = default;
Dataset::Iterator& Dataset::Iterator::operator=(Iterator&& other) noexcept {
  // The old pass ends while its stages are still held.
  stream_ = std::move(other.stream_);
  pipeline_ = std::move(other.pipeline_);
  return *this;
}
Dataset::Iterator::Iterator(std::shared_ptr<const detail::Node> pipeline,
                            std::unique_ptr<detail::Stream> stream)
    : pipeline_(std::move(pipeline)), stream_(std::move(stream)) {}

std::optional<Element> Dataset::Iterator::next() {
  if (!stream_) return std::nullopt;
  auto e = stream_->next();
  if (!e) {
    stream_.reset();  // the end: release the pass (and a prefetch thread), then the stages
    pipeline_.reset();
  }
  return e;
}

Dataset::RangeIterator::RangeIterator(Iterator it)
    : it_(std::make_shared<Iterator>(std::move(it))), current_(it_->next()) {}

Dataset::RangeIterator& Dataset::RangeIterator::operator++() {
  current_ = it_->next();
  return *this;
}

bool Dataset::RangeIterator::operator==(const RangeIterator& other) const {
  // Only "at the end" compares: a range-for asks nothing else.
  return !current_ && !other.current_;
}

Dataset::RangeIterator Dataset::begin() const { return RangeIterator(iterate()); }
Dataset::RangeIterator Dataset::end() const { return RangeIterator(); }

}  // namespace tapeflow::data
