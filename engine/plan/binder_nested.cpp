// STRUCT, ARRAY and MAP in expressions: field access, subscripts and constructors.

#include "plan/binder_impl.hpp"

#include <fmt/format.h>

namespace sluice::plan {

using exec::ExpressionPtr;
using sql::Expr;
using sql::ExprKind;
using types::DataType;
using types::TypeId;

ExpressionPtr Binder::bind_field(const Expr& e, const Scope& scope) {
  const Expr& base_expr = *e.args.at(0);
  if (e.from_qualifier && base_expr.kind == ExprKind::kColumnRef && !has_column(base_expr.name)) {
    // `q.name` with q neither the source nor a column.
    check_qualifier(base_expr.name, e.loc, text(e.span));
  }
  ExpressionPtr base = bind_expr(base_expr, scope);
  DataType t = base->type();
  if (t.id != TypeId::kStruct) {
    fail(ErrorCode::kSqlType,
         fmt::format("field '{}' of {}, which is {}, not a STRUCT", e.name, quote(base_expr),
                     t.to_string()),
         e.loc);
  }
  int index = t.field_index(e.name);
  if (index < 0) {
    std::string known;
    for (const auto& f : t.fields())
      known += (known.empty() ? "" : ", ") + f.name;
    fail(ErrorCode::kSqlUnknownColumn,
         fmt::format("no field '{}' in {} of type {} (fields: {})", e.name, quote(base_expr),
                     t.to_string(), known),
         e.loc);
  }
  const auto& field = t.fields()[static_cast<size_t>(index)];
  return fold_constant(exec::make_field(base, static_cast<uint32_t>(index), field.type), {base});
}

ExpressionPtr Binder::bind_subscript(const Expr& e, const Scope& scope) {
  ExpressionPtr base = bind_expr(*e.args.at(0), scope);
  ExpressionPtr key = bind_expr(*e.args.at(1), scope);
  DataType t = base->type();
  DataType key_type;
  if (t.id == TypeId::kArray) {
    key_type = DataType::bigint();
  } else if (t.id == TypeId::kMap) {
    key_type = DataType::string();
  } else {
    fail(ErrorCode::kSqlType,
         fmt::format("{} is {}; only an ARRAY or a MAP takes a subscript in {}", quote(*e.args[0]),
                     t.to_string(), quote(e)),
         e.loc);
  }
  if (key->type().id != TypeId::kNull && key->type().id != key_type.id) {
    fail(ErrorCode::kSqlType,
         fmt::format("{} subscript must be {}, found {} in {}",
                     t.id == TypeId::kArray ? "an ARRAY" : "a MAP", key_type.to_string(),
                     key->type().to_string(), quote(e)),
         e.loc);
  }
  key = coerce(*e.args[1], key, key_type);
  return fold_constant(exec::make_subscript(base, key, t.element()), {base, key});
}

// ARRAY[a, b, ...]: elements of their common type. STRUCT(name := value, ...). MAP(key := value,
// ...): STRING keys, values of their common type.
ExpressionPtr Binder::bind_constructor(const Expr& e, const Scope& scope) {
  if (e.star || e.distinct) {
    fail(ErrorCode::kSqlType,
         fmt::format("{} is not an aggregate function: {} is not allowed in {}", e.name,
                     e.star ? "'*'" : "DISTINCT", quote(e)),
         e.loc);
  }
  if (e.name == "ARRAY" && e.pairs) {
    fail(ErrorCode::kSqlType,
         fmt::format("only STRUCT and MAP take `a := b` arguments, not ARRAY in {}", quote(e)),
         e.loc);
  }
  std::vector<ExpressionPtr> items;
  for (const auto& a : e.args) {
    if (e.name == "STRUCT" && items.size() % 2 == 0 && e.pairs) {
      items.push_back(nullptr);  // a field name, not an expression
      continue;
    }
    items.push_back(bind_expr(*a, scope));
  }
  if (e.name == "ARRAY") {
    if (items.empty()) {
      fail(ErrorCode::kSqlType,
           "ARRAY[] has no element to give it a type; write CAST(ARRAY[] AS ARRAY<type>)", e.loc);
    }
    DataType element = common_type(e, items, "ARRAY elements mix");
    for (size_t i = 0; i < items.size(); ++i)
      items[i] = coerce(*e.args[i], items[i], element);
    return fold_constant(exec::make_construct(items, DataType::array(element)), items);
  }
  if (!e.pairs || items.empty()) {
    fail(ErrorCode::kSqlType,
         fmt::format("{} takes `{} := value` pairs, as in {}(a := 1)", e.name,
                     e.name == "STRUCT" ? "name" : "key", e.name),
         e.loc);
  }
  if (e.name == "STRUCT") {
    std::vector<DataType::Field> fields;
    std::vector<ExpressionPtr> values;
    for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
      const Expr& name = *e.args[i];
      if (name.kind != ExprKind::kColumnRef || !name.qualifier.empty()) {
        fail(ErrorCode::kSqlType,
             fmt::format("a STRUCT field name must be a plain name, found {}", quote(name)),
             name.loc);
      }
      for (const auto& f : fields) {
        if (f.name == name.name) {
          fail(ErrorCode::kSqlDuplicateName,
               fmt::format("STRUCT field '{}' appears twice in {}", name.name, quote(e)), name.loc);
        }
      }
      DataType t = items[i + 1]->type();
      if (t.id == TypeId::kNull) {
        t = DataType::string();  // a NULL literal field: any type will do
        items[i + 1] = coerce(*e.args[i + 1], items[i + 1], t);
      }
      fields.push_back({name.name, t});
      values.push_back(items[i + 1]);
    }
    return fold_constant(exec::make_construct(values, DataType::structure(std::move(fields))),
                         values);
  }
  std::vector<ExpressionPtr> values;
  for (size_t i = 1; i < items.size(); i += 2)
    values.push_back(items[i]);
  DataType value = common_type(e, values, "MAP values mix");
  for (size_t i = 0; i < items.size(); ++i) {
    if (i % 2 == 0 && items[i]->type().id != TypeId::kString &&
        items[i]->type().id != TypeId::kNull) {
      fail(ErrorCode::kSqlType,
           fmt::format("MAP keys must be STRING, found {} in {}", items[i]->type().to_string(),
                       quote(*e.args[i])),
           e.args[i]->loc);
    }
    items[i] = coerce(*e.args[i], items[i], i % 2 == 0 ? DataType::string() : value);
  }
  return fold_constant(exec::make_construct(items, DataType::map(value)), items);
}

// EXPLODE(array) / UNNEST(array) in the select list: one output row per element.
ExpressionPtr Binder::bind_unnest(const Expr& e, const Scope& scope) {
  if (!unnest_) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("{} is allowed only in the SELECT list of a query without GROUP BY, "
                     "aggregates, windows or OVER, and not inside another {}: {}",
                     e.name, e.name, quote(e)),
         e.loc);
  }
  if (e.args.size() != 1 || e.star || e.distinct || e.pairs) {
    fail(ErrorCode::kSqlType, fmt::format("{} takes (array), in {}", e.name, quote(e)), e.loc);
  }
  std::vector<ExpressionPtr>* unnest = unnest_;
  unnest_ = nullptr;  // not inside its own argument
  ExpressionPtr array = bind_expr(*e.args[0], scope);
  unnest_ = unnest;
  if (array->type().id != TypeId::kArray) {
    fail(ErrorCode::kSqlType,
         fmt::format("{} takes (array), got {} in {}", e.name, array->type().to_string(), quote(e)),
         e.loc);
  }
  unnest->push_back(array);
  return exec::make_unnest(unnest->size() - 1, array->type().element());
}

ExpressionPtr Binder::bind_header(const Expr& e, const Scope& scope) {
  if (e.args.size() != 1 || e.star || e.distinct) {
    fail(ErrorCode::kSqlType, fmt::format("HEADER takes ('name'), in {}", quote(e)), e.loc);
  }
  ExpressionPtr name = bind_expr(*e.args[0], {Scope::Kind::kRow, scope.clause});
  const types::Value* c = name->constant_value();
  if (c == nullptr || c->null || c->type != TypeId::kString) {
    fail(ErrorCode::kSqlType,
         fmt::format("HEADER takes a header name as a string literal, in {}", quote(e)), e.loc);
  }
  if (scope.kind == Scope::Kind::kGrouped) {
    fail(ErrorCode::kSqlAggregate,
         fmt::format("{} must appear in GROUP BY or be used in an aggregate function", quote(e)),
         e.loc);
  }
  ExpressionPtr headers =
      exec::make_column(system_column_index(source_, kSystemColumns.size()), headers_type());
  return exec::make_header_value(std::move(headers), std::string(c->str()));
}

}  // namespace sluice::plan
