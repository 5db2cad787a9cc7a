#include "exec/aggregate_set.hpp"

#include "exec/expressions.hpp"

#include <algorithm>

namespace sluice::exec {

AggregateSet::AggregateSet(std::vector<ExpressionPtr> keys, std::vector<AggregateCall> aggs)
    : keys_(std::move(keys)), aggs_(std::move(aggs)) {
  for (const auto& k : keys_)
    columns_.push_back(column_index_of(*k));
  for (const auto& a : aggs_)
    columns_.push_back(a.arg ? column_index_of(*a.arg) : -1);
  for (const auto& a : aggs_) {
    size_t align = std::max<size_t>(1, a.fn.state_align);
    size_ = (size_ + align - 1) / align * align;
    offsets_.push_back(size_);
    size_ += a.fn.state_size;
    align_ = std::max(align_, align);
  }
}

bool AggregateSet::evaluate(const Value* row, Value* scratch, EvalContext& ev) const {
  // Plain column references (most keys and arguments) are copied without a virtual call.
  for (size_t k = 0; k < keys_.size(); ++k)
    scratch[k] = columns_[k] >= 0 ? row[columns_[k]] : keys_[k]->eval(row, ev);
  for (size_t a = 0; a < aggs_.size(); ++a) {
    int64_t column = columns_[keys_.size() + a];
    if (column >= 0) {
      scratch[keys_.size() + a] = row[column];
    } else if (aggs_[a].arg) {
      scratch[keys_.size() + a] = aggs_[a].arg->eval(row, ev);
    }
  }
  return !ev.failed;
}

void AggregateSet::init(char* block) const {
  for (size_t a = 0; a < aggs_.size(); ++a)
    aggs_[a].fn.init(block + offsets_[a]);
}

void AggregateSet::update(char* block, const Value* args) const {
  for (size_t a = 0; a < aggs_.size(); ++a) {
    const AggregateCall& call = aggs_[a];
    if (!call.arg) {
      call.fn.update(block + offsets_[a], nullptr);
    } else if (!args[a].null || call.fn.takes_nulls) {
      call.fn.update(block + offsets_[a], &args[a]);
    }
  }
}

void AggregateSet::finalize(const char* block, Value* dst, Arena& arena, EvalContext& ev) const {
  for (size_t a = 0; a < aggs_.size(); ++a)
    dst[a] = aggs_[a].fn.finalize(block + offsets_[a], arena, ev);
}

void AggregateSet::destroy(char* block) const {
  for (size_t a = 0; a < aggs_.size(); ++a) {
    if (aggs_[a].fn.destroy) aggs_[a].fn.destroy(block + offsets_[a]);
  }
}

void AggregateSet::destroy_all(GroupTable& table) const {
  if (aggs_.empty()) return;  // a table without state blocks
  for (uint32_t g = 0; g < table.size(); ++g)
    destroy(table.state(g));
}

uint32_t AggregateSet::find_group(GroupTable& table, const Value* key) const {
  bool inserted = false;
  uint32_t g = table.find_or_insert(key, table.hash_key(key), &inserted);
  if (inserted && !aggs_.empty()) init(table.state(g));
  return g;
}

void AggregateSet::keep_args(Value* args, Arena& arena) const {
  for (size_t a = 0; a < aggs_.size(); ++a) {
    if (!args[a].null && args[a].type == types::TypeId::kString)
      args[a] = Value::string(arena.copy(args[a].str()));
  }
}

}  // namespace sluice::exec
