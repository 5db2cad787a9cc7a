#pragma once
// Transaction: exactly once for a job stage. Its producer is transactional (transactional.id
// stable per consumer group and daemon, so a restarted daemon fences its predecessor and aborts
// what that one left open); every record the stage sends between two commits belongs to one
// transaction, and `commit` (checkpoint::Committer) adds the partitions' progress as the group's
// offsets to it (with the consumer's group metadata, so a member that lost its partitions in a
// rebalance cannot commit them: KIP-447). `end` commits the transaction and begins the next one.
// A transaction that fails needs `abort` (the stage then rewinds its partitions); one that is
// fenced or fatal fails the job, and so does one the broker failed because it refused a record
// for its size: the rewound partitions would send the same record again, and fail again, forever.
//
// Threading: the job stage's control thread only.

#include "server/checkpoint/committer.hpp"
#include "server/kafka/group_member.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sluice::server::kafka {

class Transaction final : public checkpoint::Committer {
 public:
  enum class Outcome { kCommitted, kAbort, kFatal };

  // `committed` hears of every partition offset a transaction commits.
  Transaction(rd_kafka_t* producer, GroupMember& member, int timeout_ms,
              std::function<void(const std::vector<checkpoint::PartitionCommit>&)> committed)
      : producer_(producer),
        member_(member),
        timeout_ms_(timeout_ms),
        committed_(std::move(committed)) {}

  // Registers the transactional.id (fencing an earlier producer with it) and begins the first
  // transaction: "" or why not.
  std::string init();
  // Adds the offsets to the open transaction (`sync` is moot: `end` tells the outcome).
  void commit(const std::vector<checkpoint::PartitionCommit>& commits, bool sync) override;
  // Commits the open transaction and begins the next; on kAbort or kFatal, `error()` says why.
  Outcome end();
  // Aborts the open transaction (its records are discarded for read_committed consumers) and
  // begins the next: "" or why not (then the job cannot go on).
  std::string abort();
  const std::string& error() const { return error_; }

 private:
  Outcome fail(rd_kafka_error_t* error, const char* what);
  Outcome outcome_of(const rd_kafka_error_t* error) const;

  rd_kafka_t* producer_;
  GroupMember& member_;
  int timeout_ms_;
  std::function<void(const std::vector<checkpoint::PartitionCommit>&)> committed_;
  std::vector<checkpoint::PartitionCommit> pending_;  // offsets added to the open transaction
  bool offsets_failed_ = false;
  Outcome offsets_outcome_ = Outcome::kAbort;  // once offsets_failed_
  std::string error_;
};

}  // namespace sluice::server::kafka
