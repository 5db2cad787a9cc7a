"""Random expression queries for the differential test: fully parenthesised BIGINT, BOOLEAN and
STRING expressions over the generated columns, in SELECT, WHERE and aggregate arguments. The text
is the same SQL for sluice and SQLite except where the dialects differ (none so far); values stay
small so no BIGINT operation can overflow, and / and % divide by NULLIF(x, 0) because SQLite
gives NULL where sluice rejects the record."""

import random

from queries import q

INT_COLS = ["n", "m"]  # small values: no product of 8 leaves overflows BIGINT
STR_COLS = ["k", "k2", "s"]
WORDS = ["'a'", "'b'", "'x'", "'apple'", "'Apple'", "''", "'an'", "'100%'", "' kiwi'"]
LIKE_PATTERNS = ["'a%'", "'%an%'", "'_'", "'%e'", "'A%'", "'%'", "'b_n%'", "'%!%%' ESCAPE '!'"]


class Gen:
    def __init__(self, rng):
        self.rng = rng

    def pick(self, options):
        return self.rng.choice(options)

    def int_expr(self, depth):
        r = self.rng.random()
        if depth <= 0 or r < 0.3:
            if self.rng.random() < 0.7:
                return self.pick(INT_COLS)
            v = self.rng.randint(-20, 20)
            return "(%d)" % v if v < 0 else str(v)
        a, b = self.int_expr(depth - 1), self.int_expr(depth - 1)
        choice = self.rng.randrange(9)
        if choice < 3:
            return "(%s %s %s)" % (a, self.pick(["+", "-", "*"]), b)
        if choice == 3:
            return "(%s %s NULLIF(%s, 0))" % (a, self.pick(["/", "%"]), b)
        if choice == 4:
            return "(-%s)" % a
        if choice == 5:
            return "ABS(%s)" % a
        if choice == 6:
            return "COALESCE(%s, %s)" % (a, b)
        if choice == 7:
            return "CASE WHEN %s THEN %s ELSE %s END" % (self.bool_expr(depth - 1), a, b)
        return "LENGTH(%s)" % self.str_expr(depth - 1)

    def str_expr(self, depth):
        if depth <= 0 or self.rng.random() < 0.35:
            return self.pick(STR_COLS) if self.rng.random() < 0.7 else self.pick(WORDS)
        a = self.str_expr(depth - 1)
        choice = self.rng.randrange(6)
        if choice == 0:
            return "(%s || %s)" % (a, self.str_expr(depth - 1))
        if choice == 1:
            return "%s(%s)" % (self.pick(["UPPER", "LOWER", "TRIM"]), a)
        if choice == 2:
            return "SUBSTR(%s, %d, %d)" % (a, self.rng.randint(1, 4), self.rng.randint(0, 4))
        if choice == 3:
            return "REPLACE(%s, %s, %s)" % (a, self.pick(["'a'", "'p'", "' '"]),
                                            self.pick(["'A'", "''", "'--'"]))
        if choice == 4:
            return "COALESCE(%s, %s)" % (a, self.str_expr(depth - 1))
        return "CASE WHEN %s THEN %s ELSE %s END" % (self.bool_expr(depth - 1), a,
                                                   self.str_expr(depth - 1))

    def bool_expr(self, depth):
        r = self.rng.randrange(9)
        if depth <= 0 or r == 0:
            return self.pick(["b", "(n > m)", "(k = 'a')", "(s IS NULL)"])
        if r == 1:
            return "(%s %s %s)" % (self.bool_expr(depth - 1), self.pick(["AND", "OR"]),
                                   self.bool_expr(depth - 1))
        if r == 2:
            return "(NOT %s)" % self.bool_expr(depth - 1)
        if r == 3:
            op = self.pick(["=", "<>", "<", "<=", ">", ">="])
            return "(%s %s %s)" % (self.int_expr(depth - 1), op, self.int_expr(depth - 1))
        if r == 4:
            op = self.pick(["=", "<>", "<", ">="])
            return "(%s %s %s)" % (self.str_expr(depth - 1), op, self.str_expr(depth - 1))
        if r == 5:
            neg = self.pick(["", "NOT "])
            return "(%s %sBETWEEN %s AND %s)" % (self.int_expr(depth - 1), neg,
                                                  self.int_expr(0), self.int_expr(0))
        if r == 6:
            items = ", ".join(self.int_expr(0) for _ in range(self.rng.randint(1, 4)))
            if self.rng.random() < 0.2:
                items += ", NULL"
            return "(%s %sIN (%s))" % (self.int_expr(depth - 1), self.pick(["", "NOT "]), items)
        if r == 7:
            return "(%s %sLIKE %s)" % (self.str_expr(depth - 1), self.pick(["", "NOT "]),
                                       self.pick(LIKE_PATTERNS))
        return "(%s IS %sNULL)" % (self.int_expr(depth - 1), self.pick(["", "NOT "]))

    def typed(self, kind, depth):
        if kind == "int":
            return self.int_expr(depth)
        if kind == "bool":
            return self.bool_expr(depth)
        return self.str_expr(depth)


def row_query(gen, i):
    kinds = [gen.pick(["int", "bool", "str"]) for _ in range(3)]
    exprs = [gen.typed(kind, 3) for kind in kinds]
    select = ", ".join("%s AS c%d" % (e, j) for j, e in enumerate(exprs))
    where = gen.bool_expr(2)
    sql = "SELECT id, %s FROM t WHERE %s" % (select, where)
    return q("fuzz_row_%d" % i, sql, sql, "int " + " ".join(kinds))


def aggregate_query(gen, i):
    # Depth 2 keeps |values| below 10^8, so SUM over a few thousand rows cannot overflow.
    ie, se, be = gen.int_expr(2), gen.str_expr(2), gen.bool_expr(2)
    key = gen.pick(["k", "k2", "m", "b"])
    kinds = {"k": "str", "k2": "str", "m": "int", "b": "bool"}[key]
    body = ("SELECT %s, SUM(%s) AS a, MIN(%s) AS b1, MAX(%s) AS b2, COUNT(%s) AS c, "
            "COUNT(DISTINCT %s) AS d, SUM(CASE WHEN %s THEN 1 ELSE 0 END) AS e FROM t "
            "WHERE %s GROUP BY %s" % (key, ie, se, se, ie, ie, be, gen.bool_expr(1), key))
    return q("fuzz_group_%d" % i, body + " EMIT FINAL", body,
             kinds + " int str str int int int")


def fuzz_queries(seed, rows=60, groups=20):
    gen = Gen(random.Random(seed * 7919 + 1))
    return [row_query(gen, i) for i in range(rows)] + \
        [aggregate_query(gen, i) for i in range(groups)]
