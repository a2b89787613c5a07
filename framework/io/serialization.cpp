#include "tapeflow/framework/io/serialization.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <boost/archive/archive_exception.hpp>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/split_member.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/version.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <type_traits>

#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/sequential.hpp"

namespace tapeflow::serialization {

namespace {

// Largest tensor a rebuild may allocate (detail::set_rebuild_tensor_limit).
std::size_t g_rebuild_tensor_limit = std::size_t(2) << 30;

// Upper bound for any element count read from a payload: every element takes at least one byte,
// so a count larger than the payload is corrupt (and would otherwise allocate huge buffers).
thread_local std::size_t g_payload_bound = 0;

template <class Ar>
constexpr bool is_xml_v = std::is_same_v<Ar, boost::archive::xml_iarchive> ||
                          std::is_same_v<Ar, boost::archive::xml_oarchive>;

// Boost's XML reader checks an end tag with `name[parsed_length]`, reading past a tag literal
// when a crafted file has a longer tag. So every tag we pass lives in a zero-padded buffer of
// kTagBuffer bytes, and XML payloads with a tag name of kMaxXmlTag or more characters are
// rejected before parsing.
constexpr std::size_t kTagBuffer = 64;
constexpr std::size_t kMaxXmlTag = 48;
const char* tag(const char* t) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<char[]>> tags;
  std::lock_guard<std::mutex> lock(mutex);
  auto& p = tags[t];
  if (!p) {
    p.reset(new char[kTagBuffer]());
    std::strncpy(p.get(), t, kTagBuffer - 1);
  }
  return p.get();
}

void check_xml_tags(const std::string& xml) {
  for (std::size_t i = 0; i < xml.size(); ++i) {
    if (xml[i] != '<') continue;
    std::size_t j = i + 1;
    if (j < xml.size() && xml[j] == '/') ++j;
    std::size_t n = 0;
    while (j + n < xml.size() && (std::isalnum(static_cast<unsigned char>(xml[j + n])) ||
                                  xml[j + n] == '_' || xml[j + n] == '-' || xml[j + n] == '.' ||
                                  xml[j + n] == ':'))
      ++n;
    if (n >= kMaxXmlTag)
      fail("load", "corrupted file: an XML tag name is " + std::to_string(n) + " characters long");
  }
}

std::uint64_t read_count(std::uint64_t n, const char* what) {
  if (n > g_payload_bound)
    fail("load", std::string("corrupted file: ") + what + " count " + std::to_string(n) +
                     " exceeds the payload size " + std::to_string(g_payload_bound));
  return n;
}

// Strings are written as a count and characters (binary, text) so that a corrupt count is caught
// before any allocation; XML has no count field, so it uses Boost's own string.
template <class Ar>
void save_string(Ar& ar, const char* tag_name, const std::string& s) {
  if constexpr (is_xml_v<Ar>) {
    ar << boost::serialization::make_nvp(tag(tag_name), s);
  } else {
    std::uint64_t n = s.size();
    ar << n;
    for (char c : s) ar << c;
  }
}
template <class Ar>
void load_string(Ar& ar, const char* tag_name, std::string& s) {
  if constexpr (is_xml_v<Ar>) {
    ar >> boost::serialization::make_nvp(tag(tag_name), s);
  } else {
    std::uint64_t n = 0;
    ar >> n;
    read_count(n, tag_name);
    s.clear();
    for (std::uint64_t i = 0; i < n; ++i) {
      char c = 0;
      ar >> c;
      s.push_back(c);
    }
  }
}

// Booleans go through a byte: Boost's binary bool loader asserts on values other than 0 and 1.
template <class Ar>
void save_bool(Ar& ar, const char* tag_name, bool b) {
  unsigned v = b ? 1 : 0;
  ar << boost::serialization::make_nvp(tag(tag_name), v);
}
template <class Ar>
void load_bool(Ar& ar, const char* tag_name, bool& b) {
  unsigned v = 0;
  ar >> boost::serialization::make_nvp(tag(tag_name), v);
  if (v > 1) fail("load", std::string("corrupted file: flag '") + tag_name + "' is " + std::to_string(v));
  b = v == 1;
}

template <class Ar, class T>
void save_vector(Ar& ar, const char* tag_name, const std::vector<T>& v) {
  std::uint64_t n = v.size();
  ar << boost::serialization::make_nvp(tag("count"), n);
  for (const T& x : v) ar << boost::serialization::make_nvp(tag(tag_name), x);
}
template <class Ar, class T>
void load_vector(Ar& ar, const char* tag_name, std::vector<T>& v) {
  std::uint64_t n = 0;
  ar >> boost::serialization::make_nvp(tag("count"), n);
  read_count(n, tag_name);
  v.clear();
  for (std::uint64_t i = 0; i < n; ++i) {
    T x{};
    ar >> boost::serialization::make_nvp(tag(tag_name), x);
    v.push_back(std::move(x));
  }
}

}  // namespace

// ---- records ---------------------------------------------------------------------------------

struct ConfigEntry {
  std::string key, value;
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    save_string(ar, "key", key);
    save_string(ar, "value", value);
  }
  template <class Ar>
  void load(Ar& ar, unsigned) {
    load_string(ar, "key", key);
    load_string(ar, "value", value);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

struct WeightRecord {
  std::string name;
  std::vector<std::uint64_t> shape;
  std::vector<float> data;
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    save_string(ar, "name", name);
    save_vector(ar, "dim", shape);
    save_vector(ar, "v", data);
  }
  template <class Ar>
  void load(Ar& ar, unsigned) {
    load_string(ar, "name", name);
    load_vector(ar, "dim", shape);
    load_vector(ar, "v", data);
    std::uint64_t size = 1;
    for (auto d : shape) {
      if (d != 0 && size > g_payload_bound / d)
        fail("load", "corrupted file: weight '" + name + "' has an impossible shape");
      size *= d;
    }
    if (size != data.size())
      fail("load", "corrupted file: weight '" + name + "' has " + std::to_string(data.size()) +
                       " values but its shape needs " + std::to_string(size));
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

struct LayerRecord {
  std::string class_name;
  std::vector<ConfigEntry> config;
  bool built = false;
  std::vector<std::uint64_t> input_shape;
  std::vector<WeightRecord> weights;
  std::vector<LayerRecord> children;
  std::string random_state;  // version 1: the layer's own random stream (checkpoints only)
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    save_string(ar, "class_name", class_name);
    save_vector(ar, "config", config);
    save_bool(ar, "built", built);
    save_vector(ar, "dim", input_shape);
    save_vector(ar, "weight", weights);
    save_vector(ar, "layer", children);
    save_string(ar, "random_state", random_state);
  }
  template <class Ar>
  void load(Ar& ar, unsigned version) {
    // Nested Sequentials recurse; bound the depth so a crafted file cannot overflow the stack.
    static thread_local int depth = 0;
    if (depth > 64) fail("load", "corrupted file: layers nested more than 64 deep");
    ++depth;
    try {
      load_string(ar, "class_name", class_name);
      load_vector(ar, "config", config);
      load_bool(ar, "built", built);
      load_vector(ar, "dim", input_shape);
      load_vector(ar, "weight", weights);
      load_vector(ar, "layer", children);
      if (version >= 1) load_string(ar, "random_state", random_state);
    } catch (...) {
      --depth;
      throw;
    }
    --depth;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

struct FileRecord {
  LayerRecord model;
  bool has_optimizer = false;
  std::string optimizer_class;
  std::string optimizer_state;  // a Boost binary archive of Optimizer::save_state
  bool has_random_state = false;
  bool random_seed_set = false;
  std::uint64_t random_seed = 0;
  std::uint64_t random_op_counter = 0;  // version 1
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    ar << boost::serialization::make_nvp(tag("model"), model);
    save_bool(ar, "has_optimizer", has_optimizer);
    save_string(ar, "optimizer_class", optimizer_class);
    std::vector<unsigned char> bytes(optimizer_state.begin(), optimizer_state.end());
    save_vector(ar, "b", bytes);
    save_bool(ar, "has_random_state", has_random_state);
    save_bool(ar, "random_seed_set", random_seed_set);
    ar << boost::serialization::make_nvp(tag("random_seed"), random_seed);
    ar << boost::serialization::make_nvp(tag("random_op_counter"), random_op_counter);
  }
  template <class Ar>
  void load(Ar& ar, unsigned version) {
    ar >> boost::serialization::make_nvp(tag("model"), model);
    load_bool(ar, "has_optimizer", has_optimizer);
    load_string(ar, "optimizer_class", optimizer_class);
    std::vector<unsigned char> bytes;
    load_vector(ar, "b", bytes);
    optimizer_state.assign(bytes.begin(), bytes.end());
    load_bool(ar, "has_random_state", has_random_state);
    load_bool(ar, "random_seed_set", random_seed_set);
    ar >> boost::serialization::make_nvp(tag("random_seed"), random_seed);
    if (version >= 1) ar >> boost::serialization::make_nvp(tag("random_op_counter"), random_op_counter);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

}  // namespace tapeflow::serialization

BOOST_CLASS_VERSION(tapeflow::serialization::ConfigEntry, 0)
BOOST_CLASS_VERSION(tapeflow::serialization::WeightRecord, 0)
// Version 1 (both): the random streams of checkpoints (a layer's own stream, the op-seed
// counter). Version 0 files still load; their checkpoints restore the global seed only.
BOOST_CLASS_VERSION(tapeflow::serialization::LayerRecord, 1)
BOOST_CLASS_VERSION(tapeflow::serialization::FileRecord, 1)

namespace tapeflow::serialization {

namespace {

const char* archive_name(Archive a) {
  switch (a) {
    case Archive::text:
      return "text";
    case Archive::xml:
      return "xml";
    default:
      return "binary";
  }
}

std::uint64_t fnv1a(const char* p, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

// ---- model <-> record ------------------------------------------------------------------------

std::string last_component(const std::string& name) {
  std::string n = name;
  if (auto colon = n.rfind(':'); colon != std::string::npos) n = n.substr(0, colon);
  if (auto slash = n.rfind('/'); slash != std::string::npos) n = n.substr(slash + 1);
  return n;
}

LayerRecord to_record(const layers::Layer& layer, bool with_random_state) {
  LayerRecord r;
  if (with_random_state) r.random_state = layer.random_state();
  r.class_name = layer.class_name();
  for (const auto& [k, v] : layer.get_config())
    if (k != "layers") r.config.push_back({k, v});
  r.built = layer.built();
  if (r.built)
    for (auto d : layer.input_shape()) r.input_shape.push_back(d);
  if (auto* seq = dynamic_cast<const layers::Sequential*>(&layer)) {
    for (const auto& child : seq->layers()) r.children.push_back(to_record(*child, with_random_state));
  } else if (r.built) {
    for (const Variable& v : layer.variables()) {
      WeightRecord w;
      w.name = last_component(v.name());
      for (auto d : v.value().shape()) w.shape.push_back(d);
      w.data.assign(v.value().begin(), v.value().end());
      r.weights.push_back(std::move(w));
    }
  }
  return r;
}

std::shared_ptr<layers::Layer> from_record(const LayerRecord& r) {
  Config cfg;
  for (const auto& e : r.config) cfg[e.key] = e.value;
  std::shared_ptr<layers::Layer> layer = layers::create_layer(r.class_name, cfg);
  if (auto* seq = dynamic_cast<layers::Sequential*>(layer.get())) {
    for (const auto& child : r.children) seq->add(from_record(child));
  } else if (!r.children.empty()) {
    fail("load", "corrupted file: layer '" + layer->name() + "' (" + r.class_name +
                     ") has sublayers");
  }
  return layer;
}

// Weights of every non-container layer, depth first, as (layer, record) pairs.
void collect(const std::shared_ptr<layers::Layer>& layer, const LayerRecord& r,
             std::vector<std::pair<layers::Layer*, const LayerRecord*>>& out) {
  if (layer->class_name() != r.class_name)
    fail("load_weights", "layer '" + layer->name() + "' is a " + layer->class_name() +
                             " but the file has a " + r.class_name + " there");
  if (auto* seq = dynamic_cast<layers::Sequential*>(layer.get())) {
    if (seq->layers().size() != r.children.size())
      fail("load_weights", "model '" + layer->name() + "' has " +
                               std::to_string(seq->layers().size()) +
                               " layers but the file has " + std::to_string(r.children.size()));
    for (std::size_t i = 0; i < r.children.size(); ++i) collect(seq->layers()[i], r.children[i], out);
  } else {
    out.emplace_back(layer.get(), &r);
  }
}

void build_like(layers::Layer& layer, const LayerRecord& r) {
  if (!r.built || layer.built()) return;
  bool has_weights = !r.weights.empty();
  for (const auto& c : r.children) has_weights = has_weights || c.built;
  if (!has_weights) return;  // weightless layers build on their first call (merge layers need lists)
  // The layer is built by a forward pass on zeros of the saved input shape. The weights do not
  // depend on the batch size: past 16M elements the pass runs on one sample, and one sample
  // must stay under 64M elements (a corrupt shape must not cost gigabytes and minutes).
  Shape s(r.input_shape.begin(), r.input_shape.end());
  auto elements = [&](std::size_t from) {
    std::uint64_t size = 1;
    for (std::size_t i = from; i < s.size(); ++i) {
      const std::uint64_t d = s[i];
      if (d != 0 && size > (std::uint64_t{1} << 40) / d) return std::uint64_t{1} << 40;
      size *= d;
    }
    return size;
  };
  if (!s.empty() && elements(0) > (std::uint64_t{1} << 24)) {
    if (elements(1) > (std::uint64_t{1} << 26))
      fail("load", "layer '" + layer.name() + "': build input shape " + shape_str(s) +
                       " is too large (more than 2^26 elements per sample)");
    s[0] = 1;
  }
  memory::AllocationLimit limit(g_rebuild_tensor_limit, "load: rebuilding the model");
  if (auto* seq = dynamic_cast<layers::Sequential*>(&layer)) {
    seq->build(s);
  } else {
    StopRecording pause;
    layer(Variable(Tensor(xt::zeros<float>(s))), false);
  }
}

void assign_weights(const std::shared_ptr<layers::Layer>& model, const LayerRecord& r) {
  std::vector<std::pair<layers::Layer*, const LayerRecord*>> pairs;
  collect(model, r, pairs);
  for (auto [layer, rec] : pairs) {
    if (!layer->built() && rec->weights.empty()) continue;
    std::vector<Variable> vars = layer->variables();
    if (vars.size() != rec->weights.size())
      fail("load_weights", "layer '" + layer->name() + "' (" + layer->class_name() + ") has " +
                               std::to_string(vars.size()) + " weights but the file has " +
                               std::to_string(rec->weights.size()));
    for (std::size_t i = 0; i < vars.size(); ++i) {
      const WeightRecord& w = rec->weights[i];
      Shape s(w.shape.begin(), w.shape.end());
      if (last_component(vars[i].name()) != w.name || vars[i].value().shape() != s)
        fail("load_weights", "layer '" + layer->name() + "': weight " + std::to_string(i) + " is '" +
                                 last_component(vars[i].name()) + "' of shape " +
                                 shape_str(vars[i].value().shape()) + " but the file has '" +
                                 w.name + "' of shape " + shape_str(s));
    }
    for (std::size_t i = 0; i < vars.size(); ++i) {
      Tensor t = xt::zeros<float>(vars[i].value().shape());
      std::copy(rec->weights[i].data.begin(), rec->weights[i].data.end(), t.begin());
      vars[i].assign(t);
    }
  }
}

// ---- file image --------------------------------------------------------------------------------

std::string serialize(const FileRecord& rec, Archive a) {
  std::ostringstream os;
  {
    if (a == Archive::binary) {
      boost::archive::binary_oarchive ar(os);
      ar << boost::serialization::make_nvp(tag("rec"), rec);
    } else if (a == Archive::text) {
      boost::archive::text_oarchive ar(os);
      ar << boost::serialization::make_nvp(tag("rec"), rec);
    } else {
      // no_header: the archive's destructor would otherwise read (and may throw on) the closing
      // root tag, and a throw from a destructor terminates the process.
      boost::archive::xml_oarchive ar(os, boost::archive::no_header);
      ar << boost::serialization::make_nvp(tag("rec"), rec);
    }
  }
  std::string payload = os.str();
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(fnv1a(payload.data(), payload.size())));
  std::string header = std::string(kMagic) + std::to_string(kFormatVersion) + " " +
                       archive_name(a) + " " + std::to_string(payload.size()) + " " + hash + "\n";
  return header + payload;
}

std::optional<std::size_t> g_fail_after;

void write_all(int fd, const std::string& data, const std::string& tmp) {
  std::size_t limit = data.size();
  if (g_fail_after) limit = std::min(limit, *g_fail_after);
  std::size_t done = 0;
  while (done < limit) {
    ssize_t n = ::write(fd, data.data() + done, limit - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("save", "cannot write '" + tmp + "': " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (done < data.size())
    fail("save", "cannot write '" + tmp + "': injected failure after " + std::to_string(done) +
                     " bytes");
}

void atomic_write(const std::string& path, const std::string& data) {
  static std::atomic<unsigned> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("save", "cannot create '" + tmp + "': " + std::strerror(errno));
  try {
    write_all(fd, data, tmp);
    if (::fsync(fd) != 0) fail("save", "cannot flush '" + tmp + "': " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail("save", "cannot close '" + tmp + "': " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    fail("save", "cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(e));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("load", "cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail("load", "cannot read '" + path + "'");
  return ss.str();
}

struct Parsed {
  int version = 0;
  Archive archive = Archive::binary;
  FileRecord rec;
};

Parsed parse_image(const std::string& bytes, bool verify_checksum) {
  Parsed p;
  std::size_t magic_len = std::strlen(kMagic);
  if (bytes.empty()) fail("load", "the file is empty");
  if (bytes.compare(0, magic_len, kMagic) != 0)
    fail("load", "not a tapeflow model file (no 'tapeflow-model' header)");
  std::size_t nl = bytes.find('\n');
  if (nl == std::string::npos || nl > 200)
    fail("load", "truncated or corrupted header (no end of line in the first 200 bytes)");
  std::istringstream hs(bytes.substr(magic_len, nl - magic_len));
  long long version = -1;
  std::string arch, hash;
  long long size = -1;
  if (!(hs >> version) || version < 1)
    fail("load", "corrupted header: bad format version");
  if (version > kFormatVersion)
    fail("load", "file format version " + std::to_string(version) +
                     " is newer than this tapeflow reads (" + std::to_string(kFormatVersion) + ")");
  if (!(hs >> arch >> size >> hash) || size < 0 || hash.size() != 16)
    fail("load", "corrupted header: '" + bytes.substr(0, nl) + "'");
  p.version = static_cast<int>(version);
  if (arch == "binary") {
    p.archive = Archive::binary;
  } else if (arch == "text") {
    p.archive = Archive::text;
  } else if (arch == "xml") {
    p.archive = Archive::xml;
  } else {
    fail("load", "corrupted header: unknown archive kind '" + arch + "'");
  }
  std::size_t have = bytes.size() - nl - 1;
  if (static_cast<unsigned long long>(size) != have)
    fail("load", std::string(have < static_cast<unsigned long long>(size) ? "truncated" : "corrupted") +
                     " file: the header says " + std::to_string(size) +
                     " payload bytes but the file has " + std::to_string(have));
  if (verify_checksum) {
    char h[17];
    std::snprintf(h, sizeof h, "%016llx",
                  static_cast<unsigned long long>(fnv1a(bytes.data() + nl + 1, have)));
    if (hash != h) fail("load", "corrupted file: checksum mismatch (header " + hash + ", data " + h + ")");
  }
  g_payload_bound = have;
  // Boost reads its own signature string with an unchecked length: compare it ourselves first.
  static const std::string binary_signature = [] {
    std::ostringstream os;
    { boost::archive::binary_oarchive ar(os); }
    return os.str().substr(0, 30);
  }();
  static const std::string text_signature = [] {
    std::ostringstream os;
    { boost::archive::text_oarchive ar(os); }
    return os.str().substr(0, 25);
  }();
  const std::string& signature = p.archive == Archive::binary ? binary_signature
                                 : p.archive == Archive::text ? text_signature
                                                              : std::string();
  if (bytes.compare(nl + 1, signature.size(), signature) != 0)
    fail("load", std::string("corrupted file: the ") + archive_name(p.archive) +
                     " archive signature is wrong");
  std::istringstream is(bytes.substr(nl + 1));
  try {
    if (p.archive == Archive::binary) {
      boost::archive::binary_iarchive ar(is);
      ar >> boost::serialization::make_nvp(tag("rec"), p.rec);
    } else if (p.archive == Archive::text) {
      boost::archive::text_iarchive ar(is);
      ar >> boost::serialization::make_nvp(tag("rec"), p.rec);
    } else {
      check_xml_tags(is.str());
      boost::archive::xml_iarchive ar(is, boost::archive::no_header);
      ar >> boost::serialization::make_nvp(tag("rec"), p.rec);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("load", std::string("corrupted file: cannot read the ") + archive_name(p.archive) +
                     " archive: " + e.what());
  }
  return p;
}

Parsed parse_file(const std::string& path) {
  try {
    return parse_image(read_file(path), true);
  } catch (const Error& e) {
    fail("load", "'" + path + "': " + e.what());
  }
}

std::shared_ptr<layers::Layer> rebuild(const LayerRecord& r) {
  try {
    auto model = from_record(r);
    build_like(*model, r);
    assign_weights(model, r);
    return model;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // a corrupt config value can make a standard parser or a layer constructor throw
    fail("load", std::string("corrupted file: cannot rebuild the model: ") + e.what());
  }
}

FileRecord model_record(const layers::Layer& model, bool with_random_state = false) {
  layers::check_serializable(model);
  FileRecord rec;
  rec.model = to_record(model, with_random_state);
  return rec;
}

}  // namespace

Archive archive_for_path(const std::string& path) {
  auto ends = [&](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".xml")) return Archive::xml;
  if (ends(".txt")) return Archive::text;
  return Archive::binary;
}

void save(const layers::Layer& model, const std::string& path, Archive archive) {
  if (archive == Archive::automatic) archive = archive_for_path(path);
  atomic_write(path, serialize(model_record(model), archive));
}

std::shared_ptr<layers::Layer> load(const std::string& path) {
  Parsed p = parse_file(path);
  try {
    return rebuild(p.rec.model);
  } catch (const Error& e) {
    fail("load", "'" + path + "': " + e.what());
  }
}

void load_weights(layers::Layer& model, const std::string& path) {
  Parsed p = parse_file(path);
  // A non-owning shared_ptr lets the helpers treat the caller's model like a loaded one.
  std::shared_ptr<layers::Layer> m(&model, [](layers::Layer*) {});
  build_like(model, p.rec.model);
  assign_weights(m, p.rec.model);
}

void save_checkpoint(const layers::Layer& model, const optim::Optimizer& optimizer,
                     const std::string& path, Archive archive) {
  if (archive == Archive::automatic) archive = archive_for_path(path);
  FileRecord rec = model_record(model, /*with_random_state=*/true);
  rec.has_optimizer = true;
  rec.optimizer_class = optimizer.name();
  std::ostringstream os;
  {
    boost::archive::binary_oarchive ar(os);
    optimizer.save_state(ar);
  }
  rec.optimizer_state = os.str();
  rec.has_random_state = true;
  RandomState random = get_random_state();
  rec.random_seed_set = random.global_seed.has_value();
  rec.random_seed = random.global_seed.value_or(0);
  rec.random_op_counter = random.op_counter;
  atomic_write(path, serialize(rec, archive));
}

void load_checkpoint(layers::Layer& model, optim::Optimizer& optimizer, const std::string& path) {
  Parsed p = parse_file(path);
  if (!p.rec.has_optimizer)
    fail("load_checkpoint", "'" + path + "' holds a model but no optimizer state");
  if (p.rec.optimizer_class != optimizer.name())
    fail("load_checkpoint", "'" + path + "' holds the state of optimizer '" +
                                p.rec.optimizer_class + "' but the optimizer is '" +
                                optimizer.name() + "'");
  std::shared_ptr<layers::Layer> m(&model, [](layers::Layer*) {});
  build_like(model, p.rec.model);
  assign_weights(m, p.rec.model);
  std::istringstream is(p.rec.optimizer_state);
  try {
    boost::archive::binary_iarchive ar(is);
    optimizer.load_state(ar);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("load_checkpoint", "'" + path + "': cannot read the optimizer state: " + e.what());
  }
  if (p.rec.has_random_state) {
    RandomState random;
    if (p.rec.random_seed_set) random.global_seed = p.rec.random_seed;
    random.op_counter = p.rec.random_op_counter;
    set_random_state(random);
  }
  std::vector<std::pair<layers::Layer*, const LayerRecord*>> pairs;
  collect(m, p.rec.model, pairs);
  for (auto [layer, rec] : pairs) {
    try {
      layer->set_random_state(rec->random_state);
    } catch (const Error& e) {
      fail("load_checkpoint", "'" + path + "': corrupted file: " + e.what());
    }
  }
}

FileInfo inspect(const std::string& path) {
  try {
    return detail::parse(read_file(path), true);
  } catch (const Error& e) {
    fail("load", "'" + path + "': " + e.what());
  }
}

namespace detail {

void set_write_failure_after(std::optional<std::size_t> bytes) { g_fail_after = bytes; }

void set_rebuild_tensor_limit(std::size_t bytes) { g_rebuild_tensor_limit = bytes; }

FileInfo parse(const std::string& bytes, bool verify_checksum) {
  Parsed p = parse_image(bytes, verify_checksum);
  FileInfo info;
  info.format_version = p.version;
  info.archive = p.archive;
  info.model = rebuild(p.rec.model);
  info.has_optimizer = p.rec.has_optimizer;
  info.optimizer_class = p.rec.optimizer_class;
  info.has_random_state = p.rec.has_random_state;
  if (p.rec.random_seed_set) info.random_seed = p.rec.random_seed;
  return info;
}

}  // namespace detail

}  // namespace tapeflow::serialization
