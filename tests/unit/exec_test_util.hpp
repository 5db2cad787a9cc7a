#pragma once
// Test helpers for compiled queries: the `trades` source several engine tests query.

#include "plan/source_schema.hpp"
#include "types/data_type.hpp"

namespace sluice::test {

// trades(symbol STRING, price DECIMAL(18,4), qty BIGINT); an input row is these three columns
// followed by the system columns (_key, _timestamp, _partition, _offset).
inline plan::SourceSchema trades() {
  return {"trades",
          {{"symbol", types::DataType::string()},
           {"price", types::DataType::decimal(18, 4)},
           {"qty", types::DataType::bigint()}}};
}

}  // namespace sluice::test
