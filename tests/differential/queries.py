"""The differential queries: the sluice SQL, the equivalent SQLite SQL and each output column's
comparison kind (see compare.py). In SQLite the DECIMAL column d is d_c (integer cents).
Aggregates use EMIT FINAL so each group appears once; `changes_last: N` instead runs the default
EMIT CHANGES and keeps the last row emitted per group (the first N columns are the group key).
"""


def q(name, sluice, sqlite, kinds, **extra):
    return dict(name=name, sluice=sluice, sqlite=sqlite, kinds=kinds.split(), **extra)


QUERIES = [
    # ---- projections and arithmetic
    q("projection",
      "SELECT id, k, n, d, x, s, b, ts FROM t",
      "SELECT id, k, n, d_c, x, s, b, ts FROM t",
      "int str int cents float str bool ts"),
    q("bigint_arithmetic",
      "SELECT id, n + m AS a, n - m AS b, n * m AS c, n / NULLIF(m, 0) AS q, "
      "n % NULLIF(m, 0) AS r, -n AS neg FROM t",
      "SELECT id, n + m, n - m, n * m, n / NULLIF(m, 0), n % NULLIF(m, 0), -n FROM t",
      "int int int int int int int"),
    q("decimal_arithmetic",
      "SELECT id, d + d AS a, d * 3 AS b, d - 1.25 AS c, d * n AS e, -d AS f FROM t",
      "SELECT id, d_c * 2, d_c * 3, d_c - 125, d_c * n, -d_c FROM t",
      "int cents cents cents cents cents"),
    q("double_arithmetic",
      "SELECT id, x * 2.5e0 AS a, x + n AS b, x / 4.0e0 AS c, x - m AS e FROM t",
      "SELECT id, x * 2.5, x + n, x / 4.0, x - m FROM t",
      "int float float float float"),
    q("abs",
      "SELECT id, ABS(n) AS a, ABS(x) AS b, ABS(d) AS c FROM t",
      "SELECT id, abs(n), abs(x), abs(d_c) FROM t",
      "int int float cents"),
    # ---- WHERE and three-valued logic
    q("where_and_or",
      "SELECT id FROM t WHERE n > 10 AND (m < 3 OR k = 'a')",
      "SELECT id FROM t WHERE n > 10 AND (m < 3 OR k = 'a')",
      "int"),
    q("where_not_with_nulls",
      "SELECT id FROM t WHERE NOT (n > 0 OR b)",
      "SELECT id FROM t WHERE NOT (n > 0 OR b)",
      "int"),
    q("where_is_null",
      "SELECT id, n IS NULL AS a, k IS NOT NULL AS c FROM t WHERE x IS NULL OR d IS NULL",
      "SELECT id, n IS NULL, k IS NOT NULL FROM t WHERE x IS NULL OR d_c IS NULL",
      "int bool bool"),
    q("boolean_values",
      "SELECT id, n > m AS gt, b AND n > 0 AS a, b OR n < 0 AS o, NOT b AS nb, n = m AS eq "
      "FROM t",
      "SELECT id, n > m, b AND n > 0, b OR n < 0, NOT b, n = m FROM t",
      "int bool bool bool bool bool"),
    q("where_decimal_compare",
      "SELECT id, d FROM t WHERE d >= 250.5 OR d < -999",
      "SELECT id, d_c FROM t WHERE d_c >= 25050 OR d_c < -99900",
      "int cents"),
    q("where_string_compare",
      "SELECT id FROM t WHERE s > 'c' AND s <= 'fig'",
      "SELECT id FROM t WHERE s > 'c' AND s <= 'fig'",
      "int"),
    # ---- CASE, COALESCE, NULLIF, LIKE, IN, BETWEEN
    q("case_searched",
      "SELECT id, CASE WHEN n < 0 THEN 'neg' WHEN n = 0 THEN 'zero' WHEN n > 50 THEN 'big' "
      "ELSE 'small' END AS c FROM t",
      "SELECT id, CASE WHEN n < 0 THEN 'neg' WHEN n = 0 THEN 'zero' WHEN n > 50 THEN 'big' "
      "ELSE 'small' END FROM t",
      "int str"),
    q("case_simple",
      "SELECT id, CASE k WHEN 'a' THEN 1 WHEN 'b' THEN 2 ELSE 0 END AS c FROM t",
      "SELECT id, CASE k WHEN 'a' THEN 1 WHEN 'b' THEN 2 ELSE 0 END FROM t",
      "int int"),
    q("coalesce_nullif",
      "SELECT id, COALESCE(n, m, -1) AS a, COALESCE(k, k2, '?') AS b, NULLIF(m, 0) AS c "
      "FROM t",
      "SELECT id, COALESCE(n, m, -1), COALESCE(k, k2, '?'), NULLIF(m, 0) FROM t",
      "int int str int"),
    q("like",
      "SELECT id, s FROM t WHERE s LIKE '%an%' OR s LIKE '_pple%' OR s LIKE '%!%' ESCAPE '!'",
      "SELECT id, s FROM t WHERE s LIKE '%an%' OR s LIKE '_pple%' OR s LIKE '%!%' ESCAPE '!'",
      "int str"),
    q("not_like",
      "SELECT id FROM t WHERE s NOT LIKE '%a%'",
      "SELECT id FROM t WHERE s NOT LIKE '%a%'",
      "int"),
    q("in_list",
      "SELECT id FROM t WHERE k IN ('a', 'c') AND m NOT IN (1, 2)",
      "SELECT id FROM t WHERE k IN ('a', 'c') AND m NOT IN (1, 2)",
      "int"),
    q("between",
      "SELECT id FROM t WHERE n BETWEEN -10 AND 10 OR x NOT BETWEEN -500 AND 500 "
      "OR d BETWEEN -1 AND 2.5",
      "SELECT id FROM t WHERE n BETWEEN -10 AND 10 OR x NOT BETWEEN -500 AND 500 "
      "OR d_c BETWEEN -100 AND 250",
      "int"),
    # ---- string functions
    q("string_functions",
      "SELECT id, UPPER(s) AS u, LOWER(s) AS l, LENGTH(s) AS n, TRIM(s) AS t FROM t",
      "SELECT id, upper(s), lower(s), length(s), trim(s) FROM t",
      "int str str int str"),
    q("substr_replace",
      "SELECT id, SUBSTR(s, 2, 3) AS a, SUBSTRING(s, 3) AS b, REPLACE(s, 'a', 'A') AS c FROM t",
      "SELECT id, substr(s, 2, 3), substr(s, 3), replace(s, 'a', 'A') FROM t",
      "int str str str"),
    q("concat",
      "SELECT id, k || '-' || s AS c FROM t",
      "SELECT id, k || '-' || s FROM t",
      "int str"),
    # ---- aggregates
    q("group_one_key",
      "SELECT k, COUNT(*) AS c, COUNT(n) AS cn, SUM(n) AS s, MIN(n) AS mi, MAX(n) AS ma "
      "FROM t GROUP BY k EMIT FINAL",
      "SELECT k, COUNT(*), COUNT(n), SUM(n), MIN(n), MAX(n) FROM t GROUP BY k",
      "str int int int int int"),
    q("group_avg",
      "SELECT k, AVG(n) AS a, AVG(x) AS ax, SUM(x) AS sx FROM t GROUP BY k EMIT FINAL",
      "SELECT k, AVG(n), AVG(x), SUM(x) FROM t GROUP BY k",
      "str float float float"),
    q("group_decimal",
      "SELECT k, SUM(d) AS s, MIN(d) AS mi, MAX(d) AS ma, AVG(d) AS a FROM t GROUP BY k "
      "EMIT FINAL",
      "SELECT k, SUM(d_c), MIN(d_c), MAX(d_c), AVG(d_c) / 100.0 FROM t GROUP BY k",
      "str cents cents cents dec6"),
    q("group_two_keys",
      "SELECT k, k2, COUNT(*) AS c, SUM(m) AS s FROM t GROUP BY k, k2 EMIT FINAL",
      "SELECT k, k2, COUNT(*), SUM(m) FROM t GROUP BY k, k2",
      "str str int int"),
    q("count_distinct",
      "SELECT k, COUNT(DISTINCT m) AS dm, COUNT(DISTINCT k2) AS dk, COUNT(DISTINCT d) AS dd "
      "FROM t GROUP BY k EMIT FINAL",
      "SELECT k, COUNT(DISTINCT m), COUNT(DISTINCT k2), COUNT(DISTINCT d_c) FROM t GROUP BY k",
      "str int int int"),
    q("having",
      "SELECT k2, COUNT(*) AS c, SUM(n) AS s FROM t GROUP BY k2 HAVING SUM(n) > 0 "
      "AND COUNT(*) > 5 EMIT FINAL",
      "SELECT k2, COUNT(*), SUM(n) FROM t GROUP BY k2 HAVING SUM(n) > 0 AND COUNT(*) > 5",
      "str int int"),
    q("where_then_group",
      "SELECT m, COUNT(*) AS c, MAX(s) AS ms, MIN(s) AS mins FROM t WHERE b GROUP BY m "
      "EMIT FINAL",
      "SELECT m, COUNT(*), MAX(s), MIN(s) FROM t WHERE b GROUP BY m",
      "int int str str"),
    q("group_by_expression",
      "SELECT n % 3 AS r, COUNT(*) AS c, SUM(x) AS sx FROM t GROUP BY n % 3 EMIT FINAL",
      "SELECT n % 3, COUNT(*), SUM(x) FROM t GROUP BY n % 3",
      "int int float"),
    q("group_by_boolean_timestamps",
      "SELECT b, MIN(ts) AS lo, MAX(ts) AS hi, COUNT(ts) AS c FROM t GROUP BY b EMIT FINAL",
      "SELECT b, MIN(ts), MAX(ts), COUNT(ts) FROM t GROUP BY b",
      "bool ts ts int"),
    q("global_aggregates",
      "SELECT COUNT(*) AS c, SUM(n) AS s, MIN(x) AS mi, MAX(s) AS ms, COUNT(DISTINCT k) AS dk, "
      "SUM(d) AS sd FROM t EMIT FINAL",
      "SELECT COUNT(*), SUM(n), MIN(x), MAX(s), COUNT(DISTINCT k), SUM(d_c) FROM t",
      "int int float str int cents"),
    q("aggregate_of_expression",
      "SELECT k, SUM(n * m) AS a, MAX(LENGTH(s)) AS b, SUM(CASE WHEN b THEN 1 ELSE 0 END) AS c "
      "FROM t GROUP BY k EMIT FINAL",
      "SELECT k, SUM(n * m), MAX(length(s)), SUM(CASE WHEN b THEN 1 ELSE 0 END) FROM t "
      "GROUP BY k",
      "str int int int"),
    q("emit_changes_final_state",
      "SELECT k, k2, COUNT(*) AS c, SUM(d) AS s, MAX(x) AS mx FROM t GROUP BY k, k2",
      "SELECT k, k2, COUNT(*), SUM(d_c), MAX(x) FROM t GROUP BY k, k2",
      "str str int cents float", changes_last=2),
    q("distinct",
      "SELECT DISTINCT k, m FROM t",
      "SELECT DISTINCT k, m FROM t",
      "str int"),
]
