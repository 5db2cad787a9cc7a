// Every scalar function with many argument types and hostile values: binding either succeeds or
// throws a SQL error; evaluation never crashes and a failure always comes with a NULL result.
// Random regular expressions: compiling and matching never crash.

#include "functions/regex_impl.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <random>

#include "functions_test_util.hpp"

namespace sluice::functions::testing {
namespace {

std::vector<Arg> samples(DataType t) {
  static const std::string long_text(1000, 'x');
  double inf = std::numeric_limits<double>::infinity();
  switch (t.id) {
    case TypeId::kBigInt:
      return {i64(0), i64(1), i64(-1), i64(3), i64(1000), i64(INT64_MIN), i64(INT64_MAX)};
    case TypeId::kDouble:
      return {f64(0), f64(-0.0), f64(1.5), f64(-1e308), f64(inf), f64(std::nan("")), f64(1e-300)};
    case TypeId::kDecimal:
      return {Arg(Value::decimal(0, 2), t), Arg(Value::decimal(100, 2), t),
              Arg(Value::decimal(-9999999999, 2), t), Arg(Value::decimal(1, 2), t)};
    case TypeId::kString:
      return {str(""),     str("a"),          str("日本語"), str("\xff\xfe\xc3"),
              str("(a|b"), str("yyyy-MM-dd"), str("day"),    str("2024-01-01 10:00:00"),
              str("$1\\"), str("a{999}b"),    str(long_text)};
    case TypeId::kTimestamp:
      return {
          ts(0),         ts(-1),       ts(1705314645123), ts(-62135596800000), ts(253402300799999),
          ts(INT64_MIN), ts(INT64_MAX)};
    case TypeId::kBoolean:
      return {boolean(true), boolean(false)};
    default:
      return {null_lit()};
  }
}

const std::vector<DataType> kTypes = {
    DataType::bigint(),    DataType::float64(), DataType::decimal(12, 2), DataType::string(),
    DataType::timestamp(), DataType::boolean(), DataType::null()};

void try_call(Evaluator& ev, const std::string& name, const std::vector<DataType>& types,
              std::mt19937& rng) {
  for (int round = 0; round < 6; ++round) {
    std::vector<Arg> args;
    for (DataType t : types) {
      std::vector<Arg> s = samples(t);
      args.push_back(s[rng() % s.size()]);
      if (t.id == TypeId::kDecimal) args.back().type = t;
    }
    for (bool constant : {true, false}) {
      BoundScalar fn;
      try {
        fn = ev.bind(name, args, constant);
      } catch (const Error& e) {
        CHECK((e.code() == ErrorCode::kSqlType || e.code() == ErrorCode::kSqlUnknownFunction));
        continue;
      }
      // COALESCE, IFNULL and IF are evaluated by the binder's CASE, not by a function pointer.
      if (fn.conditional != Conditional::kNone) {
        CHECK(fn.fn == nullptr);
        continue;
      }
      Result r = ev.call(name, args, constant);
      if (r.failed) CHECK(r.value.null);
    }
  }
}

TEST_CASE("every scalar function survives hostile arguments", "[functions]") {
  Evaluator ev;
  std::mt19937 rng(7);
  for (const std::string& name : scalar_function_names()) {
    INFO(name);
    try_call(ev, name, {}, rng);
    for (DataType a : kTypes) {
      try_call(ev, name, {a}, rng);
      for (DataType b : kTypes) {
        try_call(ev, name, {a, b}, rng);
        for (DataType c : kTypes)
          try_call(ev, name, {a, b, c}, rng);
      }
    }
    ev.arena().reset();
  }
}

TEST_CASE("random regular expressions never crash", "[functions]") {
  const std::vector<std::string> atoms = {
      "a", "b",   ".",    "\\d", "\\w", "\\s", "\\b", "[a-c]", "[^b]",  "(",
      ")", "(?:", "(?i)", "|",   "*",   "+",   "?",   "{2}",   "{1,3}", "{0,}",
      "^", "$",   "\\",   "[",   "]",   "-",   "é",   "\\x4",  "{",     "}"};
  std::mt19937 rng(11);
  std::uniform_int_distribution<size_t> pick(0, atoms.size() - 1), len(0, 12), text_len(0, 40);
  int compiled = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string p;
    for (size_t k = len(rng); k > 0; --k)
      p += atoms[pick(rng)];
    std::string error;
    auto re = regex::Regex::compile(p, &error);
    if (!re) {
      CHECK_FALSE(error.empty());
      continue;
    }
    ++compiled;
    std::string text;
    for (size_t k = text_len(rng); k > 0; --k)
      text += "ab é\n1-"[rng() % 8];
    std::vector<size_t> caps(2 * (re->group_count() + 1));
    bool found = re->search(text, 0, caps);
    CHECK(found == re->matches(text));
    if (found) {
      CHECK(caps[0] <= caps[1]);
      CHECK(caps[1] <= text.size());
    }
  }
  CHECK(compiled > 500);
}

}  // namespace
}  // namespace sluice::functions::testing
