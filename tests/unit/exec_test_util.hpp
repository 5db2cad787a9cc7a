#pragma once
// Test helpers for compiled queries: the `trades` source several engine tests query, rows of it,
// and output rows as text.

#include "exec/batch.hpp"
#include "plan/source_schema.hpp"
#include "types/data_type.hpp"
#include "types/value_ops.hpp"

#include <string>
#include <vector>

namespace sluice::test {

// trades(symbol STRING, price DECIMAL(18,4), qty BIGINT); an input row is these three columns
// followed by the system columns (_key, _timestamp, _partition, _offset).
inline plan::SourceSchema trades() {
  return {"trades",
          {{"symbol", types::DataType::string()},
           {"price", types::DataType::decimal(18, 4)},
           {"qty", types::DataType::bigint()}}};
}

// Rows `from` .. `to` of trades: 13 symbols, prices (NULL every 11th), quantities 0..4; offset i.
inline void add_rows(exec::Batch& in, int from, int to) {
  for (int i = from; i < to; ++i) {
    types::Value* r = in.append_row({0, i});
    std::string sym = std::to_string(i % 13);
    sym.insert(0, 1, 'S');
    r[0] = types::Value::string(in.arena().copy(sym));
    r[1] = i % 11 == 0 ? types::Value::make_null(types::TypeId::kDecimal)
                       : types::Value::decimal(i * 37 % 1000, 4);
    r[2] = types::Value::bigint(i % 5);
    r[3] = types::Value::make_null(types::TypeId::kString);
    r[4] = types::Value::make_null(types::TypeId::kTimestamp);
    r[5] = types::Value::bigint(0);
    r[6] = types::Value::bigint(i);
  }
}

// Appends each row of `b` as comma-separated text.
inline void collect(exec::Batch& b, std::vector<std::string>& out) {
  for (size_t r = 0; r < b.size(); ++r) {
    std::string line;
    for (size_t c = 0; c < b.width(); ++c)
      line.append(c ? "," : "").append(types::to_text(b.row(r)[c]));
    out.push_back(line);
  }
}

}  // namespace sluice::test
