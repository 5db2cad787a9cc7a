// sluice_decode_compare: sluice's own Avro and Protobuf decoders beside the libraries a decoder
// could be built on (Avro C's generic values, libprotobuf's DynamicMessage and reflection), and
// beside sluice's JSON decoder, on the same records in one run (perf/README.md). Each decoder turns
// N records of a seed scenario into rows of the scenario's columns, as a partition's DecodeStage
// needs them: numbers as values, strings copied into the batch's arena, money as DECIMAL. The
// records are written once by sluice's encoders (JSON, Avro with every field a union with null,
// proto3 with `optional` fields); the rows every decoder gives are checked against the
// generator's. Prints the machine, a table, and one JSON line per scenario and decoder.
//
//   sluice_decode_compare [--scenarios S0,S2] [--n 1000000] [--repeat 5]

#include "common/arena.hpp"
#include "format/avro.hpp"
#include "format/json.hpp"
#include "format/protobuf.hpp"
#include "server/devtools/scenarios.hpp"
#include "types/decimal.hpp"
#include "types/value_ops.hpp"

#include <avro.h>
#include <fmt/format.h>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "perf/cpu_usage.hpp"

namespace {

using namespace sluice;
using format::Column;
using types::DataType;
using types::TypeId;
using types::Value;
namespace pb = google::protobuf;

// Decodes record `bytes` into `row`; false when it cannot.
using Decode = std::function<bool(std::string_view bytes, Value* row, Arena& arena)>;

types::int128 big_endian(const uint8_t* p, size_t n) {
  types::int128 v = n > 0 && (p[0] & 0x80) ? -1 : 0;
  for (size_t i = 0; i < n; ++i)
    v = static_cast<types::int128>((static_cast<unsigned __int128>(v) << 8) | p[i]);
  return v;
}

// Avro C: the record read into a reused generic value, then each field taken out of its union.
class AvroC {
 public:
  AvroC(const std::string& schema_text, std::vector<Column> columns)
      : columns_(std::move(columns)) {
    if (avro_schema_from_json_length(schema_text.data(), schema_text.size(), &schema_) != 0)
      throw std::runtime_error(avro_strerror());
    iface_ = avro_generic_class_from_schema(schema_);
    avro_generic_value_new(iface_, &value_);
    reader_ = avro_reader_memory(nullptr, 0);
  }
  ~AvroC() {
    avro_reader_free(reader_);
    avro_value_decref(&value_);
    avro_value_iface_decref(iface_);
    avro_schema_decref(schema_);
  }
  AvroC(const AvroC&) = delete;
  AvroC& operator=(const AvroC&) = delete;

  bool decode(std::string_view bytes, Value* row, Arena& arena) {
    avro_reader_memory_set_source(reader_, bytes.data(), static_cast<int64_t>(bytes.size()));
    if (avro_value_read(reader_, &value_) != 0) return false;
    for (size_t c = 0; c < columns_.size(); ++c) {
      avro_value_t field, branch;
      int which = 0;
      if (avro_value_get_by_index(&value_, c, &field, nullptr) != 0 ||
          avro_value_get_discriminant(&field, &which) != 0 ||
          avro_value_get_current_branch(&field, &branch) != 0)
        return false;
      DataType t = columns_[c].type;
      row[c] = Value::null_of(t);
      if (which == 0) continue;
      int64_t l = 0;
      double d = 0;
      const char* s = nullptr;
      const void* b = nullptr;
      size_t size = 0;
      switch (t.id) {
        case TypeId::kBigInt:
        case TypeId::kTimestamp:
          if (avro_value_get_long(&branch, &l) != 0) return false;
          row[c] = t.id == TypeId::kBigInt ? Value::bigint(l) : Value::timestamp(l);
          break;
        case TypeId::kDouble:
          if (avro_value_get_double(&branch, &d) != 0) return false;
          row[c] = Value::float64(d);
          break;
        case TypeId::kString:
          if (avro_value_get_string(&branch, &s, &size) != 0) return false;
          row[c] = Value::string(arena.copy(std::string_view(s, size - 1)));  // size counts NUL
          break;
        case TypeId::kDecimal:
          if (avro_value_get_bytes(&branch, &b, &size) != 0) return false;
          row[c] = Value::decimal(big_endian(static_cast<const uint8_t*>(b), size), t.scale);
          break;
        default:
          return false;
      }
    }
    return true;
  }

 private:
  std::vector<Column> columns_;
  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
  avro_value_t value_;
  avro_reader_t reader_ = nullptr;
};

// libprotobuf: the message parsed into a reused DynamicMessage, then each field read by
// reflection (a string through GetStringReference, without a copy when it can).
class LibProtobuf {
 public:
  LibProtobuf(const std::string& proto_text, std::vector<Column> columns)
      : columns_(std::move(columns)) {
    pb::FileDescriptorProto file;
    pb::io::ArrayInputStream in(proto_text.data(), static_cast<int>(proto_text.size()));
    pb::io::Tokenizer tokens(&in, nullptr);
    pb::compiler::Parser parser;
    if (!parser.Parse(&tokens, &file)) throw std::runtime_error("the .proto does not parse");
    file.set_name("bench.proto");
    for (const std::string& dep : file.dependency()) {
      pb::FileDescriptorProto p;
      pb::DescriptorPool::generated_pool()->FindFileByName(dep)->CopyTo(&p);
      pool_.BuildFile(p);
    }
    const pb::FileDescriptor* fd = pool_.BuildFile(file);
    if (fd == nullptr) throw std::runtime_error("the .proto does not build");
    const pb::Descriptor* d = fd->message_type(0);
    message_.reset(factory_.GetPrototype(d)->New());
    for (size_t c = 0; c < columns_.size(); ++c)
      fields_.push_back(d->field(static_cast<int>(c)));
  }

  bool decode(std::string_view bytes, Value* row, Arena& arena) {
    // The message indexes ([0]: one 0 byte) come first.
    if (bytes.empty() ||
        !message_->ParseFromArray(bytes.data() + 1, static_cast<int>(bytes.size() - 1)))
      return false;
    const pb::Reflection* r = message_->GetReflection();
    for (size_t c = 0; c < columns_.size(); ++c) {
      const pb::FieldDescriptor* f = fields_[c];
      DataType t = columns_[c].type;
      row[c] = Value::null_of(t);
      if (!r->HasField(*message_, f)) continue;
      switch (t.id) {
        case TypeId::kBigInt:
          row[c] = Value::bigint(r->GetInt64(*message_, f));
          break;
        case TypeId::kDouble:
          row[c] = Value::float64(r->GetDouble(*message_, f));
          break;
        case TypeId::kString:
          row[c] = Value::string(arena.copy(r->GetStringReference(*message_, f, &scratch_)));
          break;
        case TypeId::kDecimal: {
          const std::string& text = r->GetStringReference(*message_, f, &scratch_);
          types::int128 v = 0;
          if (!types::decimal::parse(text, t.precision, t.scale, &v)) return false;
          row[c] = Value::decimal(v, t.scale);
          break;
        }
        case TypeId::kTimestamp: {
          const pb::Message& ts = r->GetMessage(*message_, f);
          const pb::Reflection* tr = ts.GetReflection();
          const pb::Descriptor* td = ts.GetDescriptor();
          int64_t seconds = tr->GetInt64(ts, td->field(0));
          int32_t nanos = tr->GetInt32(ts, td->field(1));
          row[c] = Value::timestamp(seconds * 1000 + nanos / 1000000);
          break;
        }
        default:
          return false;
      }
    }
    return true;
  }

 private:
  std::vector<Column> columns_;
  pb::DescriptorPool pool_;
  pb::DynamicMessageFactory factory_{&pool_};
  std::unique_ptr<pb::Message> message_;
  std::vector<const pb::FieldDescriptor*> fields_;
  std::string scratch_;
};

struct Options {
  std::vector<std::string> scenarios{"S0", "S2"};
  int64_t n = 1'000'000;
  int repeat = 5;
};

struct Result {
  std::string decoder;
  double records_per_cpu_second = 0;
  size_t bytes = 0;  // of the N records
  bool ok = true;
};

// The median of `repeat` runs of `decode` over every record, in records per CPU second; false
// (ok) when a record does not decode or a row differs from the generator's.
Result measure(const std::string& name, const std::vector<std::string>& records,
               const std::vector<std::string>& expected, size_t width, int repeat,
               const Decode& decode) {
  Result res{name};
  for (const auto& r : records)
    res.bytes += r.size();
  std::vector<Value> row(width);
  std::vector<double> rates;
  for (int k = 0; k < repeat; ++k) {
    Arena arena(1 << 20);
    double start = perf::process_cpu_seconds();
    for (size_t i = 0; i < records.size(); ++i) {
      if (!decode(records[i], row.data(), arena)) {
        res.ok = false;
        return res;
      }
      if ((i & 1023) == 1023) arena.reset();
    }
    double cpu = perf::process_cpu_seconds() - start;
    rates.push_back(static_cast<double>(records.size()) / std::max(cpu, 1e-9));
  }
  // The rows themselves, for the first records: the same values the generator wrote.
  Arena arena;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (!decode(records[i], row.data(), arena)) res.ok = false;
    std::string text;
    for (size_t c = 0; c < width; ++c)
      text += types::to_text(row[c]) + "|";
    if (text != expected[i]) res.ok = false;
  }
  std::sort(rates.begin(), rates.end());
  res.records_per_cpu_second = rates[rates.size() / 2];
  return res;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--n") o.n = std::stoll(v);
    if (a == "--repeat") o.repeat = std::stoi(v);
    if (a == "--scenarios") {
      o.scenarios.clear();
      for (size_t at = 0; at <= v.size();) {
        size_t comma = std::min(v.find(',', at), v.size());
        o.scenarios.push_back(v.substr(at, comma - at));
        at = comma + 1;
      }
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::printf("machine: %ld cores (nproc), %s; one thread; N = %lld, median of %d\n",
              sysconf(_SC_NPROCESSORS_ONLN), perf::cpu_model().c_str(), static_cast<long long>(o.n),
              o.repeat);
  std::printf("%-4s %-22s %14s %10s %10s\n", "", "decoder", "records/s/core", "bytes/rec",
              "vs JSON");
  for (const std::string& id : o.scenarios) {
    const server::devtools::Scenario* s = server::devtools::find_scenario(id);
    if (s == nullptr) {
      std::fprintf(stderr, "unknown scenario %s\n", id.c_str());
      return 2;
    }
    const std::vector<Column>& cols = s->columns;
    format::JsonEncoder json(cols);
    format::AvroEncoder avro(cols, "In");
    format::ProtobufEncoder proto(cols, "In");
    std::vector<std::string> as_json, as_avro, as_proto, expected;
    std::vector<Value> row(cols.size());
    Arena arena;
    RecordError err;
    for (int64_t i = 0; i < o.n; ++i) {
      s->fill_row(i, row.data(), arena);
      std::string j, a, p;
      json.encode(row.data(), j);
      if (!avro.encode(row.data(), a, &err) || !proto.encode(row.data(), p, &err)) {
        std::fprintf(stderr, "%s: record %lld: %s\n", id.c_str(), static_cast<long long>(i),
                     err.message.c_str());
        return 1;
      }
      as_json.push_back(std::move(j));
      as_avro.push_back(std::move(a));
      as_proto.push_back(std::move(p));
      if (i < 1000) {
        std::string text;
        for (const Value& v : row)
          text += types::to_text(v) + "|";
        expected.push_back(text);
      }
      if ((i & 1023) == 1023) arena.reset();
    }
    format::JsonDecoder json_decoder(cols);
    format::AvroDecoder avro_decoder(format::avro::Schema::parse(avro.schema()), cols);
    AvroC avro_c(avro.schema(), cols);
    format::ProtobufDecoder proto_decoder(format::protobuf::Schema::parse(proto.schema()), cols);
    LibProtobuf lib_proto(proto.schema(), cols);
    std::vector<Result> results = {
        measure("sluice JSON", as_json, expected, cols.size(), o.repeat,
                [&](std::string_view b, Value* r, Arena& a) {
                  return json_decoder.decode(b, r, a, nullptr);
                }),
        measure("sluice Avro", as_avro, expected, cols.size(), o.repeat,
                [&](std::string_view b, Value* r, Arena& a) {
                  return avro_decoder.decode(b, r, a, nullptr);
                }),
        measure("Avro C 1.11 generic", as_avro, expected, cols.size(), o.repeat,
                [&](std::string_view b, Value* r, Arena& a) { return avro_c.decode(b, r, a); }),
        measure("sluice Protobuf", as_proto, expected, cols.size(), o.repeat,
                [&](std::string_view b, Value* r, Arena& a) {
                  return proto_decoder.decode(b, r, a, nullptr);
                }),
        measure("libprotobuf 3.21 dynamic", as_proto, expected, cols.size(), o.repeat,
                [&](std::string_view b, Value* r, Arena& a) { return lib_proto.decode(b, r, a); }),
    };
    double json_rate = results[0].records_per_cpu_second;
    for (const Result& r : results) {
      std::printf("%-4s %-22s %14.0f %10.1f %9.2fx%s\n", id.c_str(), r.decoder.c_str(),
                  r.records_per_cpu_second, static_cast<double>(r.bytes) / o.n,
                  r.records_per_cpu_second / json_rate, r.ok ? "" : "  WRONG OUTPUT");
    }
    for (const Result& r : results) {
      std::printf(
          "{\"bench\":\"decode_compare\",\"scenario\":\"%s\",\"decoder\":\"%s\",\"n\":%lld,"
          "\"records_per_cpu_second\":%.0f,\"bytes_per_record\":%.1f,\"vs_json\":%.3f,"
          "\"ok\":%s}\n",
          id.c_str(), r.decoder.c_str(), static_cast<long long>(o.n), r.records_per_cpu_second,
          static_cast<double>(r.bytes) / o.n, r.records_per_cpu_second / json_rate,
          r.ok ? "true" : "false");
    }
  }
  return 0;
}
