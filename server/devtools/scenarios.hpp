#pragma once
// The seed benchmark scenarios of issue 3 (S0..S3b): the original system's queries and data
// generators (record i = 0..N-1), as typed rows for the engine-only path and as JSON Lines for the
// full path, plus the Kafka record key each record is produced with. One copy shared by the
// benchmark (perf/), `sluice gen` (server/devtools/generator.hpp), the live demo and the tests.
// Lifecycle: built once on first use of `all_scenarios()`, immutable afterwards.
// Threading: read-only from any thread.

#include "common/arena.hpp"
#include "format/json.hpp"
#include "types/value.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server::devtools {

struct Scenario {
  std::string id;      // "S0"
  std::string title;   // short description for the table
  std::string source;  // what FROM names
  std::string sql;
  std::vector<format::Column> columns;
  double engine_target = 0;  // records/s per core, engine-only; 0: no target
  double full_target = 0;    // records/s per core, JSON in -> JSON out; 0: no target
  // Writes record i's schema columns into row[0 .. columns.size()); strings go into `arena`.
  void (*fill_row)(int64_t i, types::Value* row, Arena& arena) = nullptr;
  // Appends record i as one JSON object (no newline).
  void (*append_json)(int64_t i, std::string& out) = nullptr;
  // Output rows the query must produce over records 0..n-1 (derived from the generator).
  uint64_t (*expected_rows)(int64_t n) = nullptr;
  // The schema column record keys are made of when the data is produced to Kafka (so a job may
  // declare it as `source.partitioned_by`); empty: records have a null key.
  std::string key_column;
  // Record i's key bytes (the key column's text); nullptr when key_column is empty. The view
  // points into storage that lives as long as the program.
  std::string_view (*key_of)(int64_t i) = nullptr;

  bool keyed() const { return key_of != nullptr; }
  // Record i's key bytes; empty for an unkeyed scenario (produce those with a null key).
  std::string_view key(int64_t i) const {
    return key_of != nullptr ? key_of(i) : std::string_view();
  }
};

// The scenario named `id` ("S0", "S3a", ...; exact match), or nullptr.
const Scenario* find_scenario(std::string_view id);

// S0, S1, S2, S3a, S3b in that order.
const std::vector<Scenario>& all_scenarios();

}  // namespace sluice::server::devtools
