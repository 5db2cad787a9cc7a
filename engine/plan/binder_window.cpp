// Binding of the time-window clause (WINDOW TUMBLING / HOPPING / SESSION) and of the window bounds
// a windowed query can select: `_window_start`, `_window_end`, TUMBLE_START(), TUMBLE_END(),
// HOP_START(), HOP_END(), SESSION_START(), SESSION_END().

#include "plan/binder_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace sluice::plan {

using exec::ExpressionPtr;
using sql::Expr;
using sql::ExprKind;
using types::DataType;
using types::TypeId;

namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::array<std::string_view, 3> kStartFunctions = {"TUMBLE_START", "HOP_START",
                                                             "SESSION_START"};
constexpr std::array<std::string_view, 3> kEndFunctions = {"TUMBLE_END", "HOP_END", "SESSION_END"};

// 0 for the window start, 1 for the end, -1 when `e` names neither.
int window_bound_of(const Expr& e) {
  if (e.kind == ExprKind::kColumnRef && e.qualifier.empty()) {
    if (same_name(e.name, "_window_start")) return 0;
    if (same_name(e.name, "_window_end")) return 1;
  }
  if (e.kind == ExprKind::kFunction) {
    auto is = [&](std::string_view n) { return e.name == n; };
    if (std::any_of(kStartFunctions.begin(), kStartFunctions.end(), is)) return 0;
    if (std::any_of(kEndFunctions.begin(), kEndFunctions.end(), is)) return 1;
  }
  return -1;
}

const char* kind_name(sql::WindowKind k) {
  switch (k) {
    case sql::WindowKind::kTumbling:
      return "TUMBLING";
    case sql::WindowKind::kHopping:
      return "HOPPING";
    case sql::WindowKind::kSession:
      return "SESSION";
  }
  return "";
}

}  // namespace

void Binder::bind_window(const sql::SelectStatement& stmt, LogicalPlan& plan) {
  const sql::WindowClause& w = *stmt.window;
  if (!plan.aggregate) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("WINDOW {} needs GROUP BY or aggregates: a window groups rows by time",
                     kind_name(w.kind)),
         w.loc);
  }
  exec::WindowSpec spec;
  spec.kind = w.kind == sql::WindowKind::kTumbling  ? exec::WindowKind::kTumbling
              : w.kind == sql::WindowKind::kHopping ? exec::WindowKind::kHopping
                                                    : exec::WindowKind::kSession;
  const char* size_name = w.kind == sql::WindowKind::kSession ? "session gap" : "window size";
  spec.size_ms = bind_window_duration(*w.size, size_name);
  spec.advance_ms = spec.size_ms;
  if (w.advance) {
    spec.advance_ms = bind_window_duration(*w.advance, "window advance");
    if (spec.advance_ms > spec.size_ms) {
      fail(ErrorCode::kSqlType,
           fmt::format("window advance {} is larger than the window size ({} ms > {} ms): records "
                       "between windows would be lost",
                       quote(*w.advance), spec.advance_ms, spec.size_ms),
           w.advance->loc);
    }
    int64_t windows = spec.size_ms / spec.advance_ms + (spec.size_ms % spec.advance_ms != 0);
    if (windows > exec::kMaxWindowsPerRecord) {
      fail(ErrorCode::kSqlUnsupported,
           fmt::format("a record would fall into {} HOPPING windows (size {} / advance {}; at "
                       "most {}): use a larger advance or a smaller size",
                       windows, quote(*w.size), quote(*w.advance), exec::kMaxWindowsPerRecord),
           w.advance->loc);
    }
  }
  spec.lateness_ms = time_.allowed_lateness_ms;
  if (w.grace) {
    spec.lateness_ms = bind_window_duration(*w.grace, "grace period");
  }
  spec.late = time_.late;
  spec.emit_changes = stmt.emit == sql::EmitMode::kChanges;  // a window's default is EMIT FINAL
  spec.time = bind_window_time(w);
  plan.window = std::move(spec);
}

ExpressionPtr Binder::bind_window_time(const sql::WindowClause& w) {
  Expr implicit;  // source.event_time, else the record timestamp
  implicit.kind = ExprKind::kColumnRef;
  implicit.loc = w.loc;
  implicit.name = time_.column.empty() ? "_timestamp" : time_.column;
  const Expr& col = w.time_column ? *w.time_column : implicit;
  if (col.kind != ExprKind::kColumnRef) {
    fail(ErrorCode::kSqlType,
         fmt::format("the window's time column must be a column, found {}", quote(col)), col.loc);
  }
  ExpressionPtr time = bind_column(col);
  if (time->type().id != TypeId::kTimestamp) {
    fail(ErrorCode::kSqlType,
         fmt::format("the window's time column '{}' must be TIMESTAMP, found {}", col.name,
                     time->type().to_string()),
         col.loc);
  }
  auto record_ts = static_cast<int64_t>(system_column_index(source_, 1));
  if (exec::column_index_of(*time) == record_ts && !time_.has_record_timestamp) {
    fail(ErrorCode::kSqlUnsupported,
         "the window has no event time: the record timestamp _timestamp is NULL for file "
         "sources; name a TIMESTAMP column in the window, as in TUMBLING(trade_time, 1m), or set "
         "source.event_time",
         col.loc);
  }
  return time;
}

int64_t Binder::bind_window_duration(const Expr& e, const char* what) {
  ExpressionPtr d = bind_expr(e, {Scope::Kind::kRow, "WINDOW"});
  const types::Value* v = d->constant_value();
  if (v == nullptr || d->type().id != TypeId::kInterval) {
    fail(ErrorCode::kSqlType,
         fmt::format("the {} must be a constant INTERVAL, such as INTERVAL '1' MINUTE or 1m; "
                     "found {}",
                     what, quote(e)),
         e.loc);
  }
  if (v->null || v->i <= 0) {
    fail(ErrorCode::kSqlType, fmt::format("the {} must be positive, found {}", what, quote(e)),
         e.loc);
  }
  if (v->i > exec::kMaxWindowDurationMs) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("the {} may be at most 1000 years, found {}", what, quote(e)), e.loc);
  }
  return v->i;
}

void Binder::add_window_columns(LogicalPlan& plan) {
  // Two pseudo group columns after the keys: aggregates are numbered after them. Their texts can
  // match no expression; bind_window_ref resolves the names.
  window_column_ = plan.group_keys.size();
  group_texts_.push_back("\x01window_start");
  group_texts_.push_back("\x01window_end");
  group_types_.push_back(DataType::timestamp());
  group_types_.push_back(DataType::timestamp());
  plan.emit_changes = plan.window->emit_changes;
}

ExpressionPtr Binder::bind_window_ref(const Expr& e, const Scope& scope) {
  int bound = window_bound_of(e);
  if (bound < 0) return nullptr;
  if (e.kind == ExprKind::kColumnRef) {
    for (const auto& c : source_.columns) {
      if (same_name(c.name, e.name)) return nullptr;  // a real column of that name wins
    }
  }
  std::string what = e.kind == ExprKind::kColumnRef ? e.name : e.name + "()";
  if (!windowed_) {
    fail(e.kind == ExprKind::kColumnRef ? ErrorCode::kSqlUnknownColumn
                                        : ErrorCode::kSqlUnknownFunction,
         fmt::format("{} is only available in a windowed query (add WINDOW TUMBLING(...), "
                     "HOPPING(...) or SESSION(...) after GROUP BY)",
                     what),
         e.loc);
  }
  if (scope.kind != Scope::Kind::kGrouped) {
    fail(ErrorCode::kSqlAggregate,
         fmt::format("{} can be used in SELECT and HAVING only, not in {}", what, scope.clause),
         e.loc);
  }
  if (e.kind == ExprKind::kFunction && (!e.args.empty() || e.star)) {
    fail(ErrorCode::kSqlType, fmt::format("{} takes no arguments", e.name), e.loc);
  }
  return exec::make_column(window_column_ + static_cast<size_t>(bound), DataType::timestamp());
}

}  // namespace sluice::plan
