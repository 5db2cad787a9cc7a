// sluice: streaming SQL over Kafka. Everything lives in the libraries; this is only the entry
// point.

#include "server/cli/cli.hpp"

#include <iostream>

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return sluice::server::run_cli(argc, argv, std::cout, std::cerr);
}
