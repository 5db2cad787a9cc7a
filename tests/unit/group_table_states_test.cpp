// GroupTable state blocks: they grow geometrically (32, 32, 64, ... groups), never move, and give
// each group its own aligned slot; key hashing and equality across string lengths and key types.

#include "exec/group_table.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using sluice::exec::GroupTable;
using sluice::types::Value;

TEST_CASE("group table state slots are aligned, distinct and stable", "[exec]") {
  GroupTable table(1, 24, 16);
  std::vector<char*> first_seen;
  for (int64_t i = 0; i < 5000; ++i) {
    Value key[1] = {Value::bigint(i)};
    bool inserted = false;
    uint32_t g = table.find_or_insert(key, table.hash_key(key), &inserted);
    REQUIRE(inserted);
    REQUIRE(g == static_cast<uint32_t>(i));
    char* slot = table.state(g);
    REQUIRE(reinterpret_cast<uintptr_t>(slot) % 16 == 0);
    std::memset(slot, 0, 24);
    std::memcpy(slot, &i, sizeof(i));
    first_seen.push_back(slot);
  }
  for (uint32_t g = 0; g < table.size(); ++g) {
    REQUIRE(table.state(g) == first_seen[g]);  // never moved by later growth
    int64_t stored = -1;
    std::memcpy(&stored, table.state(g), sizeof(stored));
    REQUIRE(stored == g);  // no two groups share bytes
  }
  // Every key is found again, in its own group.
  for (int64_t i = 0; i < 5000; ++i) {
    Value key[1] = {Value::bigint(i)};
    bool inserted = true;
    REQUIRE(table.find_or_insert(key, table.hash_key(key), &inserted) == i);
    REQUIRE_FALSE(inserted);
  }
}

TEST_CASE("group table tells apart keys of every string length", "[exec]") {
  // Strings of 0..40 bytes that differ in one position, including a NUL byte and a different
  // length with the same leading bytes: each must be its own group, and found again.
  std::vector<std::string> keys;
  for (size_t n = 0; n <= 40; ++n) {
    std::string base(n, 'a');
    keys.push_back(base);
    for (size_t pos = 0; pos < n; ++pos) {
      std::string k = base;
      k[pos] = 'b';
      keys.push_back(k);
    }
    keys.push_back(base + std::string(1, '\0'));
  }
  GroupTable table(2, 8, 8);
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < keys.size(); ++i) {
      Value key[2] = {Value::string(keys[i]), Value::bigint(7)};
      bool inserted = false;
      uint32_t g = table.find_or_insert(key, table.hash_key(key), &inserted);
      REQUIRE(inserted == (round == 0));
      REQUIRE(table.key(g)[0].str() == keys[i]);
    }
  }
  // All the strings differ (the NUL-suffixed ones are one byte longer than their base).
  REQUIRE(table.size() == keys.size());
}
