#pragma once
// The one error family of the control plane (config, SQL, job start) and the codes the data plane
// reports for rejected records. Every code has a stable name (`error_code_name`) that appears in
// messages, dead-letter records and tests; append new codes, never renumber.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice {

enum class ErrorCode : uint16_t {
  // Control plane
  kInternal = 1,
  kUsage,      // bad command line
  kIo,         // file cannot be opened / read / written
  kConfig,     // YAML job or server file invalid
  kSqlSyntax,  // lexer / parser
  kSqlUnknownSource,
  kSqlUnknownColumn,
  kSqlUnknownFunction,
  kSqlType,             // type mismatch, bad argument types
  kSqlAggregate,        // misuse of aggregates / GROUP BY
  kSqlUnsupported,      // valid SQL that sluice does not run
  kSqlDuplicateName,    // two output columns with one name
  kState,               // operator state that cannot be restored: truncated, corrupt, other version
  kSqlAmbiguousColumn,  // an unqualified name more than one joined source has
  // Data plane (per record)
  kDecode = 100,  // input bytes are not valid for the format / schema
  kDivisionByZero,
  kCast,             // a value cannot be converted
  kOverflow,         // numeric overflow
  kInvalidArgument,  // a function got a value it cannot use
  kLate,             // record arrived after its window closed
  kEventTime,        // event time too far ahead of the record's timestamp and processing time
  kTooLarge,         // an output or dead letter over the sink's record size limit
};

std::string_view error_code_name(ErrorCode code);

// A position in a source text, 1-based; line 0 means "no position".
struct Location {
  uint32_t line = 0;
  uint32_t column = 0;
  bool known() const { return line != 0; }
};

// Control-plane error. `what()` is the full message; `detail()` the message without location.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, Location location = {});
  ErrorCode code() const { return code_; }
  Location location() const { return location_; }
  const std::string& detail() const { return detail_; }

 private:
  ErrorCode code_;
  Location location_;
  std::string detail_;
};

// Data-plane error for one record: no exception, filled in by evaluation and decoding.
struct RecordError {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

}  // namespace sluice

// For bugs only: never reachable from user input.
#define SLUICE_ASSERT(cond)                                             \
  do {                                                                  \
    if (!(cond)) ::sluice::assertion_failed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace sluice {
[[noreturn]] void assertion_failed(const char* expr, const char* file, int line);
}  // namespace sluice
