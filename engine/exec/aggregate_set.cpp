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
    if (args[a].has_bytes()) args[a] = args[a].with_bytes(arena.copy(args[a].str()));
  }
}

void AggregateSet::save_table(const GroupTable& table, StateWriter& w,
                              const Deletions* skip) const {
  w.u32(static_cast<uint32_t>(keys_.size()));
  w.u32(static_cast<uint32_t>(aggs_.size()));
  w.u32(static_cast<uint32_t>(table.size() - (skip ? skip->count() : 0)));
  for (uint32_t g = 0; g < table.size(); ++g) {
    if (skip && skip->deleted(g)) continue;
    save_key(table.key(g), w);
    save_states(table.state(g), w);
  }
}

void AggregateSet::save_key(const Value* key, StateWriter& w) const {
  for (size_t k = 0; k < keys_.size(); ++k)
    w.value(key[k]);
}

void AggregateSet::save_states(const char* block, StateWriter& w) const {
  for (size_t a = 0; a < aggs_.size(); ++a)
    aggs_[a].fn.save(block + offsets_[a], w);
}

void AggregateSet::load_key(StateReader& r, Arena& arena, std::vector<Value>& key) const {
  key.resize(keys_.size());
  for (auto& k : key)
    k = r.value(arena);
  check_key(key.data(), r);
}

void AggregateSet::load_states(char* block, StateReader& r) const {
  for (size_t a = 0; a < aggs_.size(); ++a)
    aggs_[a].fn.load(block + offsets_[a], r);
}

void AggregateSet::load_table(GroupTable& table, StateReader& r) const {
  if (r.u32() != keys_.size() || r.u32() != aggs_.size())
    r.fail("the state has other group keys or aggregates than the query");
  if (table.size() != 0) r.fail("restoring into a table that is not empty");
  // A group takes at least a tag and a null flag per key, and a byte per aggregate.
  uint32_t groups = r.count(std::max<size_t>(1, 2 * keys_.size() + aggs_.size()));
  std::vector<Value> key;
  for (uint32_t i = 0; i < groups; ++i) {
    Arena scratch(256);  // the table copies key strings into its own arena
    load_key(r, scratch, key);
    bool inserted = false;
    uint32_t g = table.find_or_insert(key.data(), table.hash_key(key.data()), &inserted);
    if (!inserted) r.fail("a group twice");
    if (aggs_.empty()) continue;
    init(table.state(g));
    load_states(table.state(g), r);
  }
}

void AggregateSet::check_key(const Value* key, StateReader& r) const {
  for (size_t k = 0; k < keys_.size(); ++k) {
    if (!of_type(key[k], keys_[k]->type())) r.fail("a group key of another type than the query's");
  }
}

void AggregateSet::check_args(const Value* args, StateReader& r) const {
  for (size_t a = 0; a < aggs_.size(); ++a) {
    if (aggs_[a].arg && !of_type(args[a], aggs_[a].fn.arg_type))
      r.fail("an aggregate argument of another type than the query's");
  }
}

}  // namespace sluice::exec
