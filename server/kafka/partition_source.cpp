#include "server/kafka/partition_source.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

namespace sluice::server::kafka {
namespace {

void on_queue_event(rd_kafka_t* /*rk*/, void* opaque) {
  (*static_cast<WakerRegistry::Wake*>(opaque))();
}

}  // namespace

WakerRegistry::Wake* WakerRegistry::add(Wake wake) {
  std::lock_guard lock(mu_);
  wakers_.push_back(std::make_unique<Wake>(std::move(wake)));
  return wakers_.back().get();
}

KafkaPartitionSource::KafkaPartitionSource(rd_kafka_t* consumer, WakerRegistry& wakers,
                                           FetchWaker& fetch_waker, RefillTrigger refill,
                                           std::string job, std::string topic, int32_t partition,
                                           bool paused, bool routed)
    : consumer_(consumer),
      wakers_(wakers),
      fetch_waker_(fetch_waker),
      refill_(refill),
      job_(std::move(job)),
      topic_(std::move(topic)),
      partition_(partition),
      paused_(paused),
      routed_(routed),
      queue_(rd_kafka_queue_get_partition(consumer, topic_.c_str(), partition)) {
  rd_kafka_queue_forward(queue_.get(), nullptr);  // this partition's records go to its pipeline
}

KafkaPartitionSource::~KafkaPartitionSource() {
  close();
}

namespace {

// The record's headers, appended to `out`. On a repartition topic (`routed`) the router's own,
// the last `sluice.key` (the key the record had before it was repartitioned) and the last
// `sluice.source`, are taken out: the record's own headers of those names, forwarded before
// them, stay.
void read_headers(const rd_kafka_headers_t* headers, bool routed, pipeline::InputRecord& r,
                  std::vector<pipeline::RecordHeader>& out) {
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  size_t first = out.size();
  for (size_t i = 0;
       rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    pipeline::RecordHeader h{name, std::nullopt};
    if (value != nullptr) h.value = std::string_view(static_cast<const char*>(value), size);
    out.push_back(h);
  }
  if (!routed) return;
  for (std::string_view router :
       {std::string_view(pipeline::kSourceHeader), std::string_view(pipeline::kKeyHeader)}) {
    for (size_t i = out.size(); i-- > first;) {
      if (out[i].name != router) continue;
      if (router == pipeline::kKeyHeader) {
        r.routed = true;
        r.routed_from_key = out[i].value;
      }
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
}

// The router's `sluice.source` header ("<partition>:<offset>"), when the record has a well-formed
// one.
void read_source_header(const rd_kafka_headers_t* headers, pipeline::InputRecord& r) {
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, pipeline::kSourceHeader, &value, &size) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr)
    return;
  std::string_view text(static_cast<const char*>(value), size);
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return;
  int32_t partition = -1;
  int64_t offset = -1;
  auto [pend, pec] = std::from_chars(text.data(), text.data() + colon, partition);
  auto [oend, oec] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), offset);
  if (pec != std::errc() || pend != text.data() + colon || oec != std::errc() ||
      oend != text.data() + text.size() || partition < 0 || offset < 0)
    return;
  r.source_partition = partition;
  r.source_offset = offset;
}

}  // namespace

void KafkaPartitionSource::release_messages() {
  for (size_t i = 0; i < held_; ++i)
    rd_kafka_message_destroy(messages_[i]);
  held_ = 0;
}

std::span<const pipeline::InputRecord> KafkaPartitionSource::read_batch(size_t max) {
  std::lock_guard lock(mu_);
  release_messages();
  records_.clear();
  headers_.clear();
  header_ends_.clear();
  if (!queue_) return {};
  messages_.resize(max);
  size_t before = rd_kafka_queue_length(queue_.get());
  ssize_t n = rd_kafka_consume_batch_queue(queue_.get(), 0, messages_.data(), max);
  if (n <= 0) return {};
  held_ = static_cast<size_t>(n);
  uint64_t bytes = 0;
  for (size_t i = 0; i < held_; ++i) {
    const rd_kafka_message_t* m = messages_[i];
    bytes += m->len;  // what librdkafka counts against queued.max.messages.kbytes
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        spdlog::warn("job {}: partition {}: {}", job_, partition_, rd_kafka_message_errstr(m));
      continue;
    }
    pipeline::InputRecord r;
    r.offset = m->offset;
    if (m->key != nullptr) r.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr)
      r.value = std::string_view(static_cast<const char*>(m->payload), m->len);
    rd_kafka_timestamp_type_t type;
    r.timestamp_ms = rd_kafka_message_timestamp(m, &type);
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (routed_) read_source_header(headers, r);
      read_headers(headers, routed_, r, headers_);
    }
    header_ends_.push_back(headers_.size());
    records_.push_back(r);
  }
  // Spans into headers_ now that it has stopped growing.
  for (size_t i = 0, first = 0; i < records_.size(); first = header_ends_[i++])
    records_[i].headers = {headers_.data() + first, header_ends_[i] - first};
  if (refill_.after_read(held_, bytes, before, rd_kafka_queue_length(queue_.get())))
    fetch_waker_.wake(topic_, partition_);
  return records_;
}

void KafkaPartitionSource::pause(bool paused) {
  std::lock_guard lock(mu_);
  if (!queue_ || paused == paused_) return;
  paused_ = paused;
  PartitionList l = partition_list(1);
  rd_kafka_topic_partition_list_add(l.get(), topic_.c_str(), partition_);
  if (paused) {
    rd_kafka_pause_partitions(consumer_, l.get());
  } else {
    rd_kafka_resume_partitions(consumer_, l.get());  // synchronous: resumed when it returns
    fetch_waker_.wake(topic_, partition_);
  }
}

void KafkaPartitionSource::set_wakeup(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (!queue_) return;
  rd_kafka_queue_cb_event_enable(queue_.get(), on_queue_event, wakers_.add(std::move(wake)));
}

void KafkaPartitionSource::close() {
  std::lock_guard lock(mu_);
  release_messages();
  records_.clear();
  headers_.clear();
  header_ends_.clear();
  if (!queue_) return;
  rd_kafka_queue_cb_event_enable(queue_.get(), nullptr, nullptr);
  queue_.reset();
}

}  // namespace sluice::server::kafka
