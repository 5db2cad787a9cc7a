// The scenarios' SQL, schemas and generators. Money columns are DECIMAL(12,2) (sluice's exact
// type for prices), counts and ids BIGINT, names STRING, trade_time TIMESTAMP (epoch ms).

#include "server/devtools/scenarios.hpp"

#include <algorithm>
#include <charconv>

namespace sluice::server::devtools {
namespace {

using types::DataType;
using types::Value;

constexpr int64_t kBaseTime = 1700000000000;  // trade_time of record 0, epoch ms
constexpr int64_t kWindowMs = 60000;
constexpr uint8_t kMoneyScale = 2;

DataType money() {
  return DataType::decimal(12, kMoneyScale);
}

// "SYM0".."SYM199", "TRADER0".."TRADER19": formatted once, copied per row like a decoder does.
std::vector<std::string> numbered(std::string_view prefix, int count) {
  std::vector<std::string> v;
  for (int k = 0; k < count; ++k)
    v.push_back(std::string(prefix) + std::to_string(k));
  return v;
}
std::string_view sym(int64_t k) {
  static const std::vector<std::string> all = numbered("SYM", 200);
  return all[static_cast<size_t>(k)];
}
std::string_view trader(int64_t k) {
  static const std::vector<std::string> all = numbered("TRADER", 20);
  return all[static_cast<size_t>(k)];
}

Value str(std::string_view s, Arena& arena) {
  return Value::string(arena.copy(s));
}
Value amount(int64_t units) {
  int64_t scale = 1;
  for (int k = 0; k < kMoneyScale; ++k)
    scale *= 10;
  return Value::decimal(static_cast<types::int128>(units) * scale, kMoneyScale);
}

// Tiny JSON writer for flat records: {"a":1,"b":"x"}.
class Obj {
 public:
  explicit Obj(std::string& out) : out_(out) { out_.push_back('{'); }
  ~Obj() { out_.push_back('}'); }
  Obj& num(std::string_view key, int64_t v, bool as_float = false) {
    start(key);
    char buf[24];
    out_.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), v).ptr - buf));
    if (as_float) out_.append(".0");  // the original generators wrote floating-point prices
    return *this;
  }
  Obj& text(std::string_view key, std::string_view v) {
    start(key);
    out_.push_back('"');
    out_.append(v);
    out_.push_back('"');
    return *this;
  }

 private:
  void start(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(key);
    out_.append("\":");
  }
  std::string& out_;
  bool first_ = true;
};

// S0: order_id=i, customer_id=i%1000, order_date='2024-01-15', total_amount=150+(i%100).
void s0_row(int64_t i, Value* row, Arena& arena) {
  row[0] = Value::bigint(i);
  row[1] = Value::bigint(i % 1000);
  row[2] = str("2024-01-15", arena);
  row[3] = amount(150 + i % 100);
}
void s0_json(int64_t i, std::string& out) {
  Obj(out)
      .num("order_id", i)
      .num("customer_id", i % 1000)
      .text("order_date", "2024-01-15")
      .num("total_amount", 150 + i % 100, true);
}

// S1: symbol=SYM{i%10}, price=100+(i%50), trade_time=1700000000000+i*1000.
void s1_row(int64_t i, Value* row, Arena& arena) {
  row[0] = str(sym(i % 10), arena);
  row[1] = amount(100 + i % 50);
  row[2] = Value::timestamp(kBaseTime + i * 1000);
}
void s1_json(int64_t i, std::string& out) {
  Obj(out)
      .text("symbol", sym(i % 10))
      .num("price", 100 + i % 50, true)
      .num("trade_time", kBaseTime + i * 1000);
}

// S2: symbol=SYM{i%200}, price=100+(i%100), quantity=i%1000.
void s2_row(int64_t i, Value* row, Arena& arena) {
  row[0] = str(sym(i % 200), arena);
  row[1] = amount(100 + i % 100);
  row[2] = Value::bigint(i % 1000);
}
void s2_json(int64_t i, std::string& out) {
  Obj(out).text("symbol", sym(i % 200)).num("price", 100 + i % 100, true).num("quantity", i % 1000);
}

// S3: trader_id=TRADER{i%20}, symbol=SYM{i%10}, price=100+(i%50), quantity=100+(i%1000),
// trade_time=1700000000000+i*1000.
void s3_row(int64_t i, Value* row, Arena& arena) {
  row[0] = str(trader(i % 20), arena);
  row[1] = str(sym(i % 10), arena);
  row[2] = amount(100 + i % 50);
  row[3] = Value::bigint(100 + i % 1000);
  row[4] = Value::timestamp(kBaseTime + i * 1000);
}
void s3_json(int64_t i, std::string& out) {
  Obj(out)
      .text("trader_id", trader(i % 20))
      .text("symbol", sym(i % 10))
      .num("price", 100 + i % 50, true)
      .num("quantity", 100 + i % 1000)
      .num("trade_time", kBaseTime + i * 1000);
}

// Keys: the key column's text, as the JSON value holds it.
std::string_view s1_key(int64_t i) {
  return sym(i % 10);
}
std::string_view s2_key(int64_t i) {
  return sym(i % 200);
}
std::string_view s3_key(int64_t i) {
  return trader(i % 20);
}

uint64_t one_per_record(int64_t n) {
  return static_cast<uint64_t>(n);
}
// EMIT FINAL: one row per (1-minute window, trader_id, symbol) that has records. symbol is
// determined by trader_id (i%10 = (i%20)%10), and a window holds consecutive records, so a window
// with c records has min(c, 20) groups. Computed without a set: the parent process must stay small
// because every forked run inherits its resident pages.
uint64_t s3a_rows(int64_t n) {
  uint64_t rows = 0;
  int64_t i = 0;
  while (i < n) {
    int64_t t = kBaseTime + i * 1000;
    int64_t window_end = t - t % kWindowMs + kWindowMs;
    int64_t next = std::min(n, (window_end - kBaseTime + 999) / 1000);  // first record after it
    rows += static_cast<uint64_t>(std::min<int64_t>(next - i, 20));
    i = next;
  }
  return rows;
}

std::vector<format::Column> cols(std::initializer_list<format::Column> c) {
  return c;
}

std::vector<Scenario> make_all() {
  std::vector<Scenario> v;
  v.push_back({"S0", "SELECT ... WHERE", "orders",
               "SELECT order_id, customer_id, order_date, total_amount FROM orders "
               "WHERE total_amount > 100",
               cols({{"order_id", DataType::bigint()},
                     {"customer_id", DataType::bigint()},
                     {"order_date", DataType::string()},
                     {"total_amount", money()}}),
               20e6, 3e6, s0_row, s0_json, one_per_record, "", nullptr});
  const std::string frame =
      " OVER (PARTITION BY symbol ORDER BY trade_time "
      "ROWS BETWEEN 99 PRECEDING AND CURRENT ROW)";
  v.push_back({"S1", "ROWS OVER 100-row frame", "market_data",
               "SELECT symbol, price, AVG(price)" + frame + " AS avg_price, MIN(price)" + frame +
                   " AS min_price, MAX(price)" + frame + " AS max_price FROM market_data",
               cols({{"symbol", DataType::string()},
                     {"price", money()},
                     {"trade_time", DataType::timestamp()}}),
               5e6, 0, s1_row, s1_json, one_per_record, "symbol", s1_key});
  v.push_back(
      {"S2", "GROUP BY, EMIT CHANGES", "market_data",
       "SELECT symbol, COUNT(*), AVG(price), MIN(price), MAX(price), SUM(quantity) "
       "FROM market_data GROUP BY symbol",
       cols({{"symbol", DataType::string()}, {"price", money()}, {"quantity", DataType::bigint()}}),
       10e6, 2e6, s2_row, s2_json, one_per_record, "symbol", s2_key});
  const std::string s3 =
      "SELECT trader_id, symbol, COUNT(*), AVG(price), SUM(quantity), SUM(price * quantity) "
      "FROM market_data GROUP BY trader_id, symbol "
      "WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE)";
  auto s3_cols = cols({{"trader_id", DataType::string()},
                       {"symbol", DataType::string()},
                       {"price", money()},
                       {"quantity", DataType::bigint()},
                       {"trade_time", DataType::timestamp()}});
  v.push_back({"S3a", "TUMBLING 1 min, EMIT FINAL", "market_data", s3 + " EMIT FINAL", s3_cols,
               10e6, 0, s3_row, s3_json, s3a_rows, "trader_id", s3_key});
  v.push_back({"S3b", "TUMBLING 1 min, EMIT CHANGES", "market_data", s3 + " EMIT CHANGES", s3_cols,
               5e6, 0, s3_row, s3_json, one_per_record, "trader_id", s3_key});
  return v;
}

}  // namespace

const std::vector<Scenario>& all_scenarios() {
  static const std::vector<Scenario> all = make_all();
  return all;
}

const Scenario* find_scenario(std::string_view id) {
  for (const auto& s : all_scenarios())
    if (s.id == id) return &s;
  return nullptr;
}

}  // namespace sluice::server::devtools
