//! Deterministic generators of SQL texts that exercise every rule of the
//! lexer and the splitter.
//!
//! [`migration`] composes migrations that PostgreSQL's parser accepts, from
//! statements full of strings of every kind holding `;`, `--`, `/*` and
//! `$$`, dollar quotes with tags, nested comments, quoted identifiers,
//! functions with `$$` bodies and with `BEGIN ATOMIC` bodies, rules with
//! parenthesised actions, empty statements, comments between statements and
//! a last statement with or without its `;`. [`soup`] strings lexical
//! fragments together at random, mostly into text no parser accepts, to
//! test the lexer alone.

/// A small xorshift generator: the same seed gives the same texts.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        // Any seed but 0 works; mix it so that nearby seeds differ at once.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`, for `n > 0`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One of `items`, which is not empty.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

/// Literals and other expressions valid in a select list.
const EXPRESSIONS: &[&str] = &[
    "1",
    "42.5e-3",
    ".5",
    "0x1F",
    "1_000",
    "'plain'",
    "'semi;colon'",
    "'it''s'",
    "''''",
    "'-- not a comment'",
    "'/* not a comment'",
    "'$$ not a quote'",
    r"'back\slash'",
    r"E'\';'",
    r"e'\\'",
    r"E'it''s \n;'",
    r"E'\x41\101\u00e9;'",
    "B'0101'",
    "X'1F'",
    "N'na;me'",
    "n'x'",
    r"U&'d\0061t;'",
    r"U&'d!0061t' UESCAPE '!'",
    "'con'\n'tinued;'",
    "'con' -- note ;\n  'tinued'",
    "E'esc'\n'\\';'",
    "'a'\n\n-- c\n'b'",
    "$$a;b$$",
    "$$$$",
    "$tag$ $$ ; $tag$",
    "$a$ $b$ ; $b$ $a$",
    "$a$x$ab$a$",
    "$_é$;$_é$",
    "$x$ '--' /* \" $x$",
    "$Q$ $q$ ; $Q$",
    r#""semi;colon""#,
    r#""quo""te""#,
    r#""-- not /* a comment""#,
    r#"U&"d\0061t""#,
    "a$b",
    "x$$",
    "café",
    "$1",
    "1::int",
    "'1'::text",
    "1 +/* c */2",
    "1 --c\n+ 2",
    "2 *-1",
    "x @- 1",
    "a<>b",
    "3 !=-1",
    "/* a /* b; */ c */ 1",
    "case when 1 = 1 then 'a;' else 'b' end",
    "case x when 1 then case when y then 2 end end",
    "(select 1)",
    "(array[1, 2])[1:2]",
    "row(1, 'a;')",
    "f(a => 1, b := 'x')",
    "t.end",
    "begin",
    "atomic",
];

/// Select-list items with output names that look like the keywords that
/// matter.
const LABELLED: &[&str] = &[
    "1 end",
    "1 as end",
    "1 as begin",
    "'x;' atomic",
    "2 \"end\"",
];

/// Ways to write a pair of keywords, or the space between two tokens.
const GAPS: &[&str] = &[
    " ",
    " ",
    " ",
    "\n",
    "\t",
    "\r\n",
    " /* ; */ ",
    " -- ; '\n",
    "\n  ",
    "\x0c",
    " /* /* */ */ ",
];

const BEGINS: &[&str] = &["begin", "BEGIN", "Begin"];
const ATOMICS: &[&str] = &["atomic", "ATOMIC", "Atomic"];
const ENDS: &[&str] = &["end", "END", "End"];
const CREATES: &[&str] = &[
    "create",
    "CREATE",
    "create or replace",
    "CREATE OR REPLACE",
    "create /* c */ or -- c\n replace",
];

/// Statements that may stand in a `BEGIN ATOMIC` body.
const BODY_STATEMENTS: &[&str] = &[
    "select 1",
    "select case when a > 0 then 1 else 0 end",
    "select case when a > 0 then case a when 1 then 2 end end",
    "select 1 end",
    "select 1 as end",
    "select t.end from t",
    "select case when true then 1 end end",
    "insert into t values (1, ';')",
    "update t set x = 'end;' where y = $$;$$",
    "delete from t where begin",
    "",
    "select (select 1); select 2",
];

fn gap(rng: &mut Rng) -> &'static str {
    if rng.one_in(3) { rng.pick(GAPS) } else { " " }
}

fn expression_list(rng: &mut Rng) -> String {
    let n = 1 + rng.below(4);
    (0..n)
        .map(|_| {
            if rng.one_in(5) {
                rng.pick(LABELLED)
            } else {
                rng.pick(EXPRESSIONS)
            }
        })
        .collect::<Vec<_>>()
        .join(",\n  ")
}

fn begin_atomic(rng: &mut Rng, nested: bool) -> String {
    let mut body = String::new();
    for _ in 0..rng.below(4) {
        let statement = if nested && rng.one_in(5) {
            routine(rng, false)
        } else {
            rng.pick(BODY_STATEMENTS).to_string()
        };
        body.push_str(&statement);
        body.push(';');
        body.push_str(gap(rng));
    }
    format!(
        "{}{}{}\n  {}{}",
        rng.pick(BEGINS),
        gap(rng),
        rng.pick(ATOMICS),
        body,
        rng.pick(ENDS)
    )
}

/// A `CREATE FUNCTION` or `CREATE PROCEDURE` of some kind.
fn routine(rng: &mut Rng, nested: bool) -> String {
    let create = rng.pick(CREATES);
    let procedure = rng.one_in(3);
    let head = if procedure {
        format!("{create} procedure p{}(a int, begin int)", rng.below(100))
    } else {
        format!(
            "{create} function f{}(a int, atomic text default ';')\n  returns {} ",
            rng.below(100),
            rng.pick(&["int", "table (begin int, \"end\" text)", "setof t"])
        )
    };
    let language = rng.pick(&["", "language sql ", "LANGUAGE plpgsql ", "immutable "]);
    let body = match rng.below(6) {
        0 | 1 => begin_atomic(rng, nested),
        2 => format!(
            "as $body$\nbegin\n  return a; -- ;\n  {};\nend;\n$body$",
            rng.pick(&["perform 'x;'", "raise notice '%', $$;$$", "null"])
        ),
        3 => "as $$ select 'a;b' $$".to_string(),
        4 => "as 'select ''x;'''".to_string(),
        _ if procedure => begin_atomic(rng, nested),
        _ => "return a + 1".to_string(),
    };
    format!("{head}{language}{body}")
}

/// One statement that PostgreSQL's parser accepts, without its `;`.
pub fn statement(rng: &mut Rng) -> String {
    match rng.below(14) {
        0 | 1 => format!("select{}{}", gap(rng), expression_list(rng)),
        2 => format!(
            "create table t{} (begin int, atomic text default 'x;y', \"we;ird\" text,{}id int)",
            rng.below(100),
            gap(rng)
        ),
        3 => format!("insert into t (a) values ({}), (2)", rng.pick(EXPRESSIONS)),
        4 => format!(
            "comment on table t is {}",
            rng.pick(&["'c;'", "$$c;$$", "E'\\'c;'"])
        ),
        5 => format!("create view v as select {}", expression_list(rng)),
        6..=8 => routine(rng, true),
        9 => format!(
            "create rule r as on insert to t do {} (insert into u values (1); delete from u{})",
            rng.pick(&["also", "instead"]),
            rng.pick(&["", ";", "; ;"])
        ),
        10 => "do $$ begin raise notice '%', ';'; end $$".to_string(),
        11 => rng
            .pick(&[
                "begin",
                "commit",
                "end",
                "begin isolation level serializable",
            ])
            .to_string(),
        12 => "create table begin (atomic int, \"end\" int)".to_string(),
        _ => format!(
            "create trigger tr after insert on t for each row execute {} f()",
            rng.pick(&["function", "procedure"])
        ),
    }
}

const LEADERS: &[&str] = &[
    "",
    "",
    "-- a migration; it's 'quoted'\n",
    "/* header /* nested; */ */\n",
    "\n\n",
];

const SEPARATORS: &[&str] = &[
    ";\n",
    ";\n",
    ";",
    "; ",
    ";\n\n-- next; with 'quote\n",
    "; /* c ; */ ",
    ";;",
    "; -- c\n;",
    ";\r\n",
    ";\x0b",
    "\n;\n",
];

const ENDINGS: &[&str] = &[
    "",
    ";",
    ";\n",
    "\n",
    "; -- eof",
    " -- eof",
    ";/* eof */",
    "\n-- eof",
];

/// A migration of one to eight statements that PostgreSQL's parser
/// accepts.
pub fn migration(rng: &mut Rng) -> String {
    let mut sql = rng.pick(LEADERS).to_string();
    let n = 1 + rng.below(8);
    for i in 0..n {
        sql.push_str(&statement(rng));
        if i + 1 < n {
            sql.push_str(rng.pick(SEPARATORS));
        }
    }
    sql.push_str(rng.pick(ENDINGS));
    sql
}

/// Fragments that [`soup`] strings together.
const ATOMS: &[&str] = &[
    "'",
    "'",
    "\"",
    "\"",
    "$",
    "$",
    "$$",
    "$a$",
    "$b$",
    "$1",
    ";",
    ";",
    "--",
    "/*",
    "*/",
    "\n",
    "\n",
    " ",
    " ",
    "\r",
    "\x0b",
    "\t",
    "E'",
    "e'",
    "B'",
    "x'",
    "N'",
    "U&'",
    "u&\"",
    "U&",
    "\\",
    "''",
    "\"\"",
    "a",
    "b",
    "e",
    "x",
    "n",
    "u",
    "_",
    "é",
    "1",
    "0x",
    "1e",
    ".",
    "..",
    ":",
    "::",
    "(",
    ")",
    "+",
    "-",
    "*",
    "/",
    "<",
    "=",
    "@",
    "!",
    "?",
    "%",
    "begin",
    "atomic",
    "end",
    "case",
    "create function f() ",
    "select ",
];

/// A short random string of lexical fragments.
pub fn soup(rng: &mut Rng) -> String {
    let n = 1 + rng.below(24);
    (0..n).map(|_| rng.pick(ATOMS)).collect()
}

/// `sql` cut at a random character boundary, to leave things open.
pub fn truncated(rng: &mut Rng, sql: &str) -> String {
    let boundaries: Vec<usize> = sql.char_indices().map(|(i, _)| i).collect();
    let cut = boundaries
        .get(rng.below(boundaries.len()))
        .copied()
        .unwrap_or(0);
    sql[..cut].to_string()
}
