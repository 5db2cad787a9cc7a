#!/usr/bin/env bash
# Writes N deterministic trade records as JSON Lines to stdout (default 1,000,000). Prices carry
# four decimals; trade_time is epoch milliseconds, one trade per 10 ms. Every 250,000th record is
# deliberately malformed to show that bad input is counted and dead-lettered, never lost.
set -euo pipefail
n=${1:-1000000}
awk -v n="$n" 'BEGIN {
  split("AAPL MSFT GOOG AMZN NVDA META TSLA NFLX", sym, " ");
  for (i = 0; i < n; i++) {
    if (i > 0 && i % 250000 == 0) { print "{\"symbol\":\"BAD\",\"price\":"; continue }
    s = sym[(i % 8) + 1];
    cents = 10000 + (i * 7919) % 90000;
    printf "{\"symbol\":\"%s\",\"price\":%d.%04d,\"quantity\":%d,\"trade_time\":%.0f}\n",
           s, cents / 100, (cents % 100) * 100 + (i % 100), (i * 31) % 1000, 1700000000000 + i * 10;
  }
}'
