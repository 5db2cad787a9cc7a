#include "common/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace sluice {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInternal:
      return "INTERNAL";
    case ErrorCode::kUsage:
      return "USAGE";
    case ErrorCode::kIo:
      return "IO";
    case ErrorCode::kConfig:
      return "CONFIG";
    case ErrorCode::kSqlSyntax:
      return "SQL_SYNTAX";
    case ErrorCode::kSqlUnknownSource:
      return "SQL_UNKNOWN_SOURCE";
    case ErrorCode::kSqlUnknownColumn:
      return "SQL_UNKNOWN_COLUMN";
    case ErrorCode::kSqlUnknownFunction:
      return "SQL_UNKNOWN_FUNCTION";
    case ErrorCode::kSqlType:
      return "SQL_TYPE";
    case ErrorCode::kSqlAggregate:
      return "SQL_AGGREGATE";
    case ErrorCode::kSqlUnsupported:
      return "SQL_UNSUPPORTED";
    case ErrorCode::kSqlDuplicateName:
      return "SQL_DUPLICATE_NAME";
    case ErrorCode::kState:
      return "STATE";
    case ErrorCode::kSqlAmbiguousColumn:
      return "SQL_AMBIGUOUS_COLUMN";
    case ErrorCode::kDecode:
      return "DECODE";
    case ErrorCode::kDivisionByZero:
      return "DIVISION_BY_ZERO";
    case ErrorCode::kCast:
      return "CAST";
    case ErrorCode::kOverflow:
      return "OVERFLOW";
    case ErrorCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case ErrorCode::kLate:
      return "LATE";
    case ErrorCode::kEventTime:
      return "EVENT_TIME";
    case ErrorCode::kTooLarge:
      return "RECORD_TOO_LARGE";
  }
  return "UNKNOWN";
}

static std::string with_location(const std::string& message, Location loc) {
  if (!loc.known()) return message;
  return std::to_string(loc.line) + ":" + std::to_string(loc.column) + ": " + message;
}

Error::Error(ErrorCode code, std::string message, Location location)
    : std::runtime_error(with_location(message, location)),
      code_(code),
      location_(location),
      detail_(std::move(message)) {}

void assertion_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "sluice: internal error: assertion `%s` failed at %s:%d\n", expr, file,
               line);
  std::abort();
}

}  // namespace sluice
