// Timed loops of the benchmark. Timing uses CLOCK_THREAD_CPUTIME_ID and CLOCK_MONOTONIC around the
// processing of each chunk (16 batches), so generation cost stays out and timer calls are rare.

#include "perf/bench_run.hpp"

#include "exec/query.hpp"
#include "format/avro.hpp"
#include "plan/compile.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::perf {
namespace {

constexpr size_t kBatchRows = 1024;
constexpr size_t kChunkBatches = 16;
constexpr uint32_t kSchemaId = 1;  // the id Avro input is framed with

double now(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long minor_faults() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_minflt;
}

// Accumulates CPU time, wall time and minor page faults of the regions between start() and stop().
class Stopwatch {
 public:
  void start() {
    faults0_ = minor_faults();
    cpu0_ = now(CLOCK_THREAD_CPUTIME_ID);
    wall0_ = now(CLOCK_MONOTONIC);
  }
  void stop(Measurement& m) {
    m.cpu_seconds += now(CLOCK_THREAD_CPUTIME_ID) - cpu0_;
    m.wall_seconds += now(CLOCK_MONOTONIC) - wall0_;
    m.minor_faults += static_cast<uint64_t>(minor_faults() - faults0_);
  }

 private:
  double cpu0_ = 0, wall0_ = 0;
  long faults0_ = 0;
};

// System columns of a generated record: no key, no record timestamp, partition 0, offset i.
void set_system_columns(types::Value* row, size_t first, int64_t i) {
  row[first] = types::Value::make_null(types::TypeId::kString);
  row[first + 1] = types::Value::make_null(types::TypeId::kTimestamp);
  row[first + 2] = types::Value::bigint(0);
  row[first + 3] = types::Value::bigint(i);
}

plan::SourceSchema schema_of(const Scenario& s) {
  plan::SourceSchema schema;
  schema.name = s.source;
  schema.columns = s.columns;
  return schema;
}

// The query plus what a pipeline keeps around it; shared by both modes.
class Pipeline {
 public:
  Pipeline(const Scenario& s, Measurement& m)
      : m_(m), query_(plan::compile_query(s.sql, schema_of(s))), state_(query_->make_state()) {}

  const exec::Query& query() const { return *query_; }
  size_t input_width() const { return query_->input_width(); }

  // Runs one input batch; `sink` sees every output batch. A windowed query exposes its event time
  // (Query::event_time); as `sluice run` does, every record is judged against the watermark
  // before it (max event time seen, no out-of-orderness allowance), which also advances after
  // each batch.
  template <typename Sink>
  void process(exec::Batch& in, Sink&& sink) {
    exec::ExecContext ctx;
    const auto& time = query_->event_time();
    if (time) {
      // The watermark before each record, as the decode stage records it (per-record event time).
      steps_.clear();
      for (size_t r = 0; r < in.size(); ++r) {
        if (max_event_time_ != INT64_MIN &&
            (steps_.empty() || max_event_time_ > steps_.back().watermark))
          steps_.push_back({in.position(r).offset, max_event_time_});
        types::Value t = time->eval(in.row(r), ctx.eval);
        if (!t.null) max_event_time_ = std::max(max_event_time_, t.i);
      }
      ctx.watermark_steps = steps_;
    }
    sink(query_->process(*state_, in, ctx));
    if (time && max_event_time_ > watermark_) {
      watermark_ = max_event_time_;
      sink(query_->on_watermark(*state_, watermark_, ctx));
    }
    m_.rejected += ctx.rejections.size();
  }
  template <typename Sink>
  void close(Sink&& sink) {
    exec::ExecContext ctx;
    sink(query_->close(*state_, ctx));
    m_.rejected += ctx.rejections.size();
  }

 private:
  Measurement& m_;
  std::shared_ptr<const exec::Query> query_;
  std::unique_ptr<exec::QueryState> state_;
  int64_t max_event_time_ = INT64_MIN;
  std::vector<exec::WatermarkStep> steps_;
  int64_t watermark_ = INT64_MIN;
};

Measurement run_engine(const Scenario& s, int64_t n) {
  Measurement m;
  Pipeline p(s, m);
  std::vector<exec::Batch> chunk;
  for (size_t k = 0; k < kChunkBatches; ++k)
    chunk.emplace_back(p.input_width());
  auto count = [&](exec::Batch& out) { m.rows_out += out.size(); };
  Stopwatch sw;
  for (int64_t i = 0; i < n;) {
    size_t used = 0;
    for (; used < kChunkBatches && i < n; ++used) {
      exec::Batch& b = chunk[used];
      b.clear();
      for (size_t r = 0; r < kBatchRows && i < n; ++r, ++i) {
        types::Value* row = b.append_row({0, i});
        s.fill_row(i, row, b.arena());
        set_system_columns(row, s.columns.size(), i);
      }
    }
    if (m.rss_before_kb == 0) m.rss_before_kb = current_rss_kb();  // input buffers now filled
    sw.start();
    for (size_t k = 0; k < used; ++k)
      p.process(chunk[k], count);
    sw.stop(m);
  }
  sw.start();
  p.close(count);
  sw.stop(m);
  m.rows_in = static_cast<uint64_t>(n);
  return m;
}

// Decodes a batch of records (JSON lines, or framed Avro), runs it and encodes the output, as a
// pipeline does per poll.
class FullPath {
 public:
  FullPath(const Scenario& s, Measurement& m, bool avro)
      : s_(s),
        m_(m),
        p_(s, m),
        decoder_(s.columns),
        encoder_(output_columns(p_.query())),
        input_(p_.input_width()) {
    if (!avro) return;
    avro_in_.emplace_back(format::avro::Schema::parse(format::avro::schema_for(s.columns, "In")),
                          s.columns);
    avro_out_.emplace_back(output_columns(p_.query()), "Out");
  }

  void run_batch(const std::vector<std::string_view>& lines, int64_t first_offset) {
    input_.clear();
    int64_t offset = first_offset;
    for (std::string_view line : lines) {
      types::Value* row = input_.append_row({0, offset});
      RecordError err;
      if (!decode(line, row, err)) {
        input_.pop_row();
        ++m_.rejected;
      } else {
        set_system_columns(row, s_.columns.size(), offset);
      }
      ++offset;
    }
    p_.process(input_, [&](exec::Batch& out) { encode(out); });
  }
  void close() {
    p_.close([&](exec::Batch& out) { encode(out); });
  }

 private:
  static std::vector<format::Column> output_columns(const exec::Query& q) {
    std::vector<format::Column> cols;
    for (const auto& c : q.output_columns())
      cols.push_back({c.name, c.type});
    return cols;
  }
  bool decode(std::string_view record, types::Value* row, RecordError& err) {
    if (avro_in_.empty()) return decoder_.decode(record, row, input_.arena(), &err);
    format::Framed f;
    if (!format::unframe(record, &f, &err)) return false;
    return f.schema_id == kSchemaId && avro_in_[0].decode(f.payload, row, input_.arena(), &err);
  }
  // Output bytes go to a reused buffer, as they would to a producer's batch.
  void encode(exec::Batch& out) {
    bytes_.clear();
    RecordError err;
    for (size_t r = 0; r < out.size(); ++r) {
      if (avro_out_.empty()) {
        encoder_.encode(out.row(r), bytes_);
        bytes_.push_back('\n');
      } else {
        format::append_frame(kSchemaId, bytes_);
        if (!avro_out_[0].encode(out.row(r), bytes_, &err)) ++m_.rejected;
      }
    }
    m_.rows_out += out.size();
    m_.bytes_out += bytes_.size();
  }

  const Scenario& s_;
  Measurement& m_;
  Pipeline p_;
  format::JsonDecoder decoder_;
  format::JsonEncoder encoder_;
  std::vector<format::AvroDecoder> avro_in_;   // one with Avro input
  std::vector<format::AvroEncoder> avro_out_;  // one with Avro output
  exec::Batch input_;
  std::string bytes_;
};

// Appends record i as the input of the mode: a JSON line, or a framed Avro record.
class InputWriter {
 public:
  InputWriter(const Scenario& s, bool avro) : s_(s), row_(s.columns.size() + 4) {
    if (avro) encoder_.emplace_back(s.columns, "In");
  }
  void append(int64_t i, std::string& out) {
    if (encoder_.empty()) {
      s_.append_json(i, out);
      out.push_back('\n');
      return;
    }
    arena_.reset();
    s_.fill_row(i, row_.data(), arena_);
    format::append_frame(kSchemaId, out);
    RecordError err;
    if (!encoder_[0].encode(row_.data(), out, &err)) throw Error(ErrorCode::kInternal, err.message);
  }
  size_t separator() const { return encoder_.empty() ? 1 : 0; }

 private:
  const Scenario& s_;
  std::vector<types::Value> row_;
  Arena arena_;
  std::vector<format::AvroEncoder> encoder_;
};

Measurement run_full(const Scenario& s, int64_t n, bool avro) {
  Measurement m;
  FullPath full(s, m, avro);
  InputWriter writer(s, avro);
  std::string text;
  std::vector<size_t> ends;
  std::vector<std::string_view> lines;
  Stopwatch sw;
  for (int64_t i = 0; i < n;) {
    text.clear();
    ends.clear();
    int64_t chunk_first = i;
    for (size_t k = 0; k < kChunkBatches * kBatchRows && i < n; ++k, ++i) {
      writer.append(i, text);
      ends.push_back(text.size());
    }
    m.bytes_in += text.size();
    if (m.rss_before_kb == 0) m.rss_before_kb = current_rss_kb();  // input buffers now filled
    sw.start();
    for (size_t b = 0; b * kBatchRows < ends.size(); ++b) {
      lines.clear();
      size_t last = std::min(ends.size(), (b + 1) * kBatchRows);
      for (size_t k = b * kBatchRows; k < last; ++k) {
        size_t start = k == 0 ? 0 : ends[k - 1];
        lines.emplace_back(text.data() + start, ends[k] - start - writer.separator());
      }
      full.run_batch(lines, chunk_first + static_cast<int64_t>(b * kBatchRows));
    }
    sw.stop(m);
  }
  sw.start();
  full.close();
  sw.stop(m);
  m.rows_in = static_cast<uint64_t>(n);
  return m;
}

}  // namespace

long current_rss_kb() {
  long pages_total = 0, pages_resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
  std::fclose(f);
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

Measurement run_scenario(const Scenario& s, Mode mode, int64_t n) {
  return mode == Mode::kEngine ? run_engine(s, n) : run_full(s, n, mode == Mode::kAvro);
}

}  // namespace sluice::perf
