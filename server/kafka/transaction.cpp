#include "server/kafka/transaction.hpp"

#include "server/kafka/group_committer.hpp"

#include <fmt/format.h>

namespace sluice::server::kafka {
namespace {

// The broker refused a record for its size: a topic's max.message.bytes was lowered below what
// the producer was set up with when the job started (JobStage::create_clients caps it then).
bool refused_for_size(const rd_kafka_error_t* error) {
  return rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
}

std::string describe(const rd_kafka_error_t* error) {
  return fmt::format("{}{}", rd_kafka_error_string(error),
                     refused_for_size(error) ? " (a topic's max.message.bytes is lower now than "
                                               "when the job started: restart the job to take "
                                               "the new limit)"
                                             : "");
}

}  // namespace

std::string Transaction::init() {
  ErrorHandle e(rd_kafka_init_transactions(producer_, timeout_ms_));
  if (!e) e.reset(rd_kafka_begin_transaction(producer_));
  if (!e) return "";
  return fmt::format("initialising transactions: {}", rd_kafka_error_string(e.get()));
}

void Transaction::commit(const std::vector<checkpoint::PartitionCommit>& commits, bool /*sync*/) {
  if (commits.empty() || offsets_failed_) return;
  PartitionList list = commit_list(member_.topic(), commits);
  rd_kafka_consumer_group_metadata_t* group = rd_kafka_consumer_group_metadata(member_.client());
  ErrorHandle e(rd_kafka_send_offsets_to_transaction(producer_, list.get(), group, timeout_ms_));
  rd_kafka_consumer_group_metadata_destroy(group);
  if (e) {
    // end() reports it: the transaction cannot commit without its offsets.
    offsets_failed_ = true;
    offsets_outcome_ = outcome_of(e.get());
    error_ = fmt::format("adding the offsets to the transaction: {}", describe(e.get()));
    return;
  }
  pending_.insert(pending_.end(), commits.begin(), commits.end());
}

// Fatal errors, and refusals for size: a rewound partition would send the same record again.
Transaction::Outcome Transaction::outcome_of(const rd_kafka_error_t* error) const {
  return rd_kafka_error_is_fatal(error) || refused_for_size(error) ? Outcome::kFatal
                                                                   : Outcome::kAbort;
}

Transaction::Outcome Transaction::fail(rd_kafka_error_t* error, const char* what) {
  ErrorHandle e(error);
  error_ = fmt::format("{}: {}", what, describe(e.get()));
  return outcome_of(e.get());
}

Transaction::Outcome Transaction::end() {
  if (offsets_failed_) return offsets_outcome_;
  rd_kafka_error_t* e = nullptr;
  for (int attempt = 0; attempt < 3; ++attempt) {  // a timeout may be tried again
    e = rd_kafka_commit_transaction(producer_, timeout_ms_);
    if (e == nullptr || !rd_kafka_error_is_retriable(e)) break;
    rd_kafka_error_destroy(e);
    e = nullptr;
    if (attempt == 2) {
      error_ = "committing the transaction: timed out three times";
      return Outcome::kAbort;
    }
  }
  if (e != nullptr) return fail(e, "committing the transaction");
  if (!pending_.empty()) committed_(pending_);
  pending_.clear();
  if (rd_kafka_error_t* b = rd_kafka_begin_transaction(producer_))
    return fail(b, "beginning a transaction");
  return Outcome::kCommitted;
}

std::string Transaction::abort() {
  pending_.clear();
  offsets_failed_ = false;
  for (int attempt = 0;; ++attempt) {
    ErrorHandle e(rd_kafka_abort_transaction(producer_, timeout_ms_));
    if (!e) break;
    if (!rd_kafka_error_is_retriable(e.get()) || attempt == 2)
      return fmt::format("aborting the transaction: {}", rd_kafka_error_string(e.get()));
  }
  if (ErrorHandle b{rd_kafka_begin_transaction(producer_)})
    return fmt::format("beginning a transaction: {}", rd_kafka_error_string(b.get()));
  return "";
}

}  // namespace sluice::server::kafka
