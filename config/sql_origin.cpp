#include "config/sql_origin_impl.hpp"

#include <algorithm>
#include <optional>
#include <vector>

// The SQL value is matched back against the raw lines of the file: every file line whose text
// appears verbatim in the value becomes one SqlSpan. This covers literal and folded blocks and
// multi-line plain scalars alike without re-implementing YAML's folding rules; where the text
// differs (escapes in quoted scalars) matching stops and later positions are extrapolated.

namespace sluice::config {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (true) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) return lines;
    text.remove_prefix(end + 1);
  }
}

std::size_t leading_spaces(std::string_view line) {
  std::size_t n = line.find_first_not_of(' ');
  return n == std::string_view::npos ? line.size() : n;
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

// Columns stripped from every line of the block scalar whose header is `header` (from the
// indicator on), on the line `header_line` of `lines`.
uint32_t block_indent(const std::vector<std::string_view>& lines, std::size_t header_line,
                      std::string_view header) {
  for (std::size_t i = 1; i < header.size() && header[i] != ' ' && header[i] != '#'; ++i) {
    if (header[i] >= '1' && header[i] <= '9') {
      return static_cast<uint32_t>(leading_spaces(lines[header_line])) + (header[i] - '0');
    }
  }
  for (std::size_t i = header_line + 1; i < lines.size(); ++i) {
    if (!is_blank(lines[i])) return static_cast<uint32_t>(leading_spaces(lines[i]));
  }
  return 0;
}

// Steps over the line break between two file lines: a folded space or kept newlines.
std::size_t skip_line_break(std::string_view sql, std::size_t pos) {
  if (pos < sql.size() && sql[pos] == ' ') return pos + 1;
  while (pos < sql.size() && sql[pos] == '\n')
    ++pos;
  return pos;
}

struct Walk {
  std::size_t line;                      // 0-based index of the first line to match
  std::optional<std::size_t> first_col;  // flow scalars: where the value starts on that line
  std::optional<uint32_t> indent;        // block scalars: the block indentation
};

struct LineText {
  std::string_view text;
  std::size_t column;  // 0-based
};

// The part of line `i` that holds scalar text; nullopt once past a block scalar. Flow scalars
// drop the surrounding whitespace of each line, as YAML folding does.
std::optional<LineText> line_text(std::string_view line, std::size_t i, const Walk& walk) {
  if (walk.indent) {
    if (leading_spaces(line) < *walk.indent) return std::nullopt;
    return LineText{line.substr(*walk.indent), *walk.indent};
  }
  std::size_t begin = i == walk.line ? *walk.first_col : line.find_first_not_of(" \t");
  std::size_t end = line.find_last_not_of(" \t") + 1;
  return LineText{line.substr(begin, end - begin), begin};
}

void match_spans(const std::vector<std::string_view>& lines, const Walk& walk, std::string_view sql,
                 std::vector<SqlSpan>& spans) {
  // Leading newlines of a literal block come from blank lines, which are skipped below.
  std::size_t pos = std::min(sql.find_first_not_of('\n'), sql.size());
  bool after_line = false;  // a line of the scalar was read: a line break comes first
  for (std::size_t i = walk.line; i < lines.size() && pos < sql.size(); ++i) {
    bool first_line = i == walk.line && walk.first_col;
    if (!first_line && is_blank(lines[i])) continue;
    std::optional<LineText> part = line_text(lines[i], i, walk);
    if (!part) return;
    if (after_line) pos = skip_line_break(sql, pos);
    after_line = true;
    if (part->text.empty()) continue;
    auto diff = std::mismatch(part->text.begin(), part->text.end(), sql.begin() + pos, sql.end());
    auto n = static_cast<std::size_t>(diff.first - part->text.begin());
    if (n == 0) return;
    spans.push_back({static_cast<uint32_t>(pos),
                     static_cast<uint32_t>(n),
                     {static_cast<uint32_t>(i + 1), static_cast<uint32_t>(part->column + 1)}});
    pos += n;
    if (n < part->text.size()) return;  // escapes, a closing quote or a comment: the rest differs
  }
}

// Byte offset of a 1-based line:column in `text`, clamped to its end.
std::size_t offset_of(std::string_view text, Location loc) {
  std::size_t line_start = 0;
  for (uint32_t line = 1; line < loc.line; ++line) {
    std::size_t end = text.find('\n', line_start);
    if (end == std::string_view::npos) return text.size();
    line_start = end + 1;
  }
  return std::min(line_start + std::max<uint32_t>(loc.column, 1) - 1, text.size());
}

}  // namespace

Mark JobConfig::sql_to_file(Location sql_location) const {
  if (!sql_location.known() || sql_origin.first_char.line == 0) return {};
  const std::vector<SqlSpan>& spans = sql_origin.spans;
  if (spans.empty()) {  // not matched: shift line 1 by the value's start, later lines as-is
    uint32_t line = sql_origin.first_char.line + sql_location.line - 1;
    uint32_t shift =
        sql_location.line == 1 ? sql_origin.first_char.column - 1 : sql_origin.block_indent;
    return {line, sql_location.column + shift};
  }
  std::size_t offset = offset_of(sql, sql_location);
  auto after = std::upper_bound(spans.begin(), spans.end(), offset,
                                [](std::size_t o, const SqlSpan& s) { return o < s.sql_offset; });
  if (after == spans.begin()) return spans.front().file;
  const SqlSpan& span = *std::prev(after);
  std::size_t span_end = std::min<std::size_t>(span.sql_offset + span.length, offset);
  std::size_t last_break = offset == 0 ? std::string::npos : sql.rfind('\n', offset - 1);
  if (last_break == std::string::npos || last_break < span_end) {
    return {span.file.line, static_cast<uint32_t>(span.file.column + offset - span.sql_offset)};
  }
  // Past the span's line (a blank line, the end of the text): count the line breaks.
  auto breaks = std::count(sql.begin() + span_end, sql.begin() + offset, '\n');
  return {static_cast<uint32_t>(span.file.line + breaks),
          static_cast<uint32_t>(offset - last_break + sql_origin.block_indent)};
}

SqlOrigin make_sql_origin(std::string_view file_text, Mark value_mark, std::string_view sql) {
  SqlOrigin origin;
  origin.first_char = value_mark;
  std::vector<std::string_view> lines = split_lines(file_text);
  if (value_mark.line == 0 || value_mark.line > lines.size()) return origin;
  std::size_t line = value_mark.line - 1;
  std::size_t col = value_mark.column - 1;
  if (col >= lines[line].size()) return origin;
  char indicator = lines[line][col];
  Walk walk{line, col, std::nullopt};
  if (indicator == '|' || indicator == '>') {
    origin.block = true;
    origin.block_indent = block_indent(lines, line, lines[line].substr(col));
    origin.first_char = {value_mark.line + 1, origin.block_indent + 1};
    walk = {line + 1, std::nullopt, origin.block_indent};
  } else if (indicator == '"' || indicator == '\'') {
    walk.first_col = col + 1;
  }
  match_spans(lines, walk, sql, origin.spans);
  if (!origin.spans.empty()) origin.first_char = origin.spans.front().file;
  return origin;
}

}  // namespace sluice::config
