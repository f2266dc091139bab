//! The expression language of `relevant`, `constraint`, `calculation` and `choice_filter`
//! (a subset of XLSForm's).
//!
//! One parser ([`parse`]) feeds two back ends that must never disagree: the Rust
//! evaluator ([`evaluate`], [`eval_bool`]) the server uses to validate answers, and the
//! compiler to JavaScript ([`Expr::to_js`]) whose output the form page runs in the browser
//! together with [`JS_RUNTIME`] (`expr_runtime.js`). A test runs a table of expressions
//! through both (in `node`) and requires identical results.
//!
//! # Syntax
//!
//! `${name}` (the answer to question `name`), `.` (the current answer, in constraints),
//! numbers (`3`, `2.5`, `.5`), strings in single or double quotes (no escapes, as in XPath),
//! `= != < <= > >=`, `+ - * div mod`, `and`, `or`, unary minus, parentheses, and the
//! functions `not(x)`, `selected(x, 'v')`, `count-selected(x)`, `string-length(x)`,
//! `true()`, `false()`, `if(c, a, b)`, `concat(x, …)` (one or more arguments),
//! `coalesce(a, b)`, `round(x)` / `round(x, digits)` and `today()`. Keywords and function
//! names are lowercase, as in XLSForm. In a `choice_filter` (parsed with
//! [`parse_choice_filter`]) a bare name (`region`) is a column of the choice being tested
//! (`name` is its value), as in XLSForm's `region = ${region}`.
//! Precedence, loosest first: `or`; `and`; `= !=`; `< <= > >=`; `+ -`; `* div mod`;
//! unary minus. Binary operators are left-associative (`10 - 2 - 3` is 5).
//! Anything else (bare words, other functions, `==`, `&&`, `/`, …) is a [`ParseError`]
//! naming the 1-based column (counted in characters) and the problem.
//!
//! # Semantics (identical in Rust and in JavaScript)
//!
//! - **Values** ([`Value`]): text, number (IEEE double), boolean, list of text.
//! - **Answers** are a JSON object: a string is text, a number is a number, a boolean is a
//!   boolean, an array is a list (a select_multiple answer; string items are kept, number
//!   and boolean items become their text, other items are dropped). A missing key, `null`,
//!   an object, or `""` is the empty text `''` (unanswered). Only the object's own keys
//!   count (in JS `${constructor}` is unanswered, not `Object`). `.` is the current answer,
//!   read the same way (none / `null` is `''`).
//! - **As text**: a list is its items joined by a single space (XLSForm's representation of
//!   a select_multiple answer); a number is written as JavaScript's `String(n)` writes it
//!   (`2`, `0.5`, `1e+21`, `NaN`, `Infinity`; `-0` is `0`); booleans are `true`/`false`.
//! - **As number**: a number is itself; text (or a list, through its text) is a number
//!   when it is, after trimming ASCII spaces, tabs, CR and LF, an optional `-` followed by
//!   digits with an optional fraction (`12`, `-3.5`, `5.`, `.5`; no `+`, no exponent, no
//!   hex), otherwise NaN. So `''` is NaN. A boolean is NaN too.
//! - **Truthiness** (of the final result and of the operands of `and`, `or`, `not`):
//!   a boolean is itself; a number is true when it is neither 0 nor NaN; text (and a list,
//!   through its text) is true when non-empty. `and`, `or`, `not` give booleans.
//! - **Comparison** (`= != < <= > >=`), first rule that applies:
//!   1. either side is a boolean: compare both sides' truthiness (false < true);
//!   2. either side is a number: compare both as numbers (NaN makes every comparison false
//!      except `!=`), so `${age} > 18` and `${age} < 18` are both false when `age` is
//!      unanswered or not a number;
//!   3. both sides are text (or lists): if both read as numbers, compare the numbers
//!      (`'10' > '9'`, `' 5' = '5.0'`); otherwise compare the texts, ordering by UTF-16
//!      code units (JavaScript's string order), so `${age} = ''` is true when unanswered.
//! - **Arithmetic** (`+ - * div mod`, unary minus) converts both sides to numbers and
//!   follows IEEE doubles: non-numbers give NaN, `1 div 0` is Infinity, `0 div 0` is NaN,
//!   `mod` is the truncated remainder (`-7 mod 3` is -1), like JavaScript's `%`.
//! - `selected(x, v)`: whether the items of `x` contain the text of `v` exactly. The items
//!   of a list are its items; of anything else, its text split on ASCII whitespace (empty
//!   pieces dropped), so unanswered has none. `count-selected(x)`: the number of items.
//! - `string-length(x)`: the number of Unicode code points in the text of `x`.
//! - `if(c, a, b)`: `a` when `c` is truthy, else `b` (only the one taken is evaluated), as
//!   is. `coalesce(a, b)`: `a` when its text is not empty, else `b`. `concat(x, …)`: the
//!   texts of its arguments joined. `today()`: the local date as text `YYYY-MM-DD` (the
//!   server's clock on the server, the device's in the browser), so `${d} < today()`
//!   compares ISO dates as text.
//! - `round(x, k)`: `x` (as a number) rounded to `k` decimal places (`k` as a number,
//!   truncated, limited to -22…22, default 0), halves away from zero: the scale `10^|k|`
//!   is built by repeated multiplication, `x * scale` (or `x / scale` for negative `k`) is
//!   rounded and divided (multiplied) back, the same IEEE operations on both sides. A NaN
//!   `k` gives NaN.
//! - A choice column (choice filters) is its text; a column the choice lacks is `''`.
//! - A `calculate` question's answer is its calculation's value normalised by
//!   [`calculated`]: a non-finite number, empty text and an empty list are unanswered.
//!
//! The compiled JavaScript is an expression over the identifiers `a` (the answers object),
//! `d` (the current answer, raw), `c` (in choice filters: the choice's columns, `name`
//! included) and `CP` (defined by [`JS_RUNTIME`]), e.g.
//! `new Function("a", "d", "return " + js)` or `function (a, d) { return JS; }`. It never
//! contains `<`, `>`, `&` or `'`: question names and string literals are written as JSON
//! strings with those characters (and U+2028/U+2029, control characters) as `\uXXXX`, so
//! it can be placed inside a `<script>` element as is.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value as Json};

/// The JavaScript helpers compiled expressions call: defines `var CP = {...};` (ES5).
pub const JS_RUNTIME: &str = include_str!("expr_runtime.js");

/// How deeply parentheses, function calls and unary minus may nest.
const MAX_NESTING: usize = 64;
/// How deep the expression tree may get (long chains of operators count).
const MAX_DEPTH: usize = 500;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    /// The operator as written in XLSForm.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
        }
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `${name}`: the answer to a question.
    Ref(String),
    /// `.`: the current answer.
    Dot,
    /// A number literal.
    Number(f64),
    /// A string literal.
    Text(String),
    /// `true()` / `false()`.
    Bool(bool),
    /// Unary minus.
    Neg(Box<Expr>),
    /// `not(x)`.
    Not(Box<Expr>),
    /// `x op y`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `selected(x, v)`.
    Selected(Box<Expr>, Box<Expr>),
    /// `count-selected(x)`.
    CountSelected(Box<Expr>),
    /// `string-length(x)`.
    StringLength(Box<Expr>),
    /// `if(c, a, b)`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `concat(x, …)`.
    Concat(Vec<Expr>),
    /// `coalesce(a, b)`.
    Coalesce(Box<Expr>, Box<Expr>),
    /// `round(x)` (digits 0) or `round(x, digits)`.
    Round(Box<Expr>, Box<Expr>),
    /// `today()`.
    Today,
    /// A bare name in a choice filter: a column of the choice being tested.
    Field(String),
}

/// Why an expression could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based, counted in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

fn error<T>(column: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        column,
        message: message.into(),
    })
}

// ---------------------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    End,
    Ref(String),
    Dot,
    Num(f64),
    Str(String),
    Word(String),
    LParen,
    RParen,
    Comma,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 1-based column of the first character.
    col: usize,
    /// The source text of the token.
    text: String,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-')
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    peeked: Option<Token>,
    nesting: usize,
    /// Bare names are choice columns (choice filters only).
    fields: bool,
}

/// A parsed subtree and its depth.
struct Node {
    expr: Expr,
    depth: usize,
}

impl Parser {
    fn new(src: &str) -> Self {
        Parser {
            chars: src.chars().collect(),
            pos: 0,
            peeked: None,
            nesting: 0,
            fields: false,
        }
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn lex(&mut self) -> Result<Token, ParseError> {
        while self.at(self.pos).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let col = start + 1;
        let Some(c) = self.at(start) else {
            return Ok(Token {
                tok: Tok::End,
                col,
                text: String::new(),
            });
        };
        let next = self.at(start + 1);
        let mut end = start + 1;
        let tok = match c {
            '$' => {
                let bad = "'${' must be followed by a question name and '}'";
                if next != Some('{') {
                    return error(col, bad);
                }
                let mut i = start + 2;
                while self.at(i).is_some_and(is_name_char) {
                    i += 1;
                }
                let name: String = self.chars[start + 2..i].iter().collect();
                if !name.starts_with(is_name_start) || self.at(i) != Some('}') {
                    return error(col, bad);
                }
                end = i + 1;
                Tok::Ref(name)
            }
            c if c.is_ascii_digit() || (c == '.' && next.is_some_and(|d| d.is_ascii_digit())) => {
                let mut i = start;
                while self.at(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
                if self.at(i) == Some('.') {
                    i += 1;
                    while self.at(i).is_some_and(|d| d.is_ascii_digit()) {
                        i += 1;
                    }
                }
                end = i;
                let text: String = self.chars[start..end].iter().collect();
                let text = text.trim_end_matches('.');
                let value: f64 = format!("0{text}").parse().unwrap_or(f64::NAN);
                Tok::Num(value)
            }
            '.' => Tok::Dot,
            '\'' | '"' => {
                let Some(len) = self.chars[start + 1..].iter().position(|&q| q == c) else {
                    return error(col, "unterminated string");
                };
                end = start + 1 + len + 1;
                Tok::Str(self.chars[start + 1..end - 1].iter().collect())
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '*' => Tok::Star,
            '=' if next == Some('=') => return error(col, "use '=' to compare, not '=='"),
            '=' => Tok::Eq,
            '!' if next == Some('=') => {
                end += 1;
                Tok::Ne
            }
            '!' => return error(col, "unexpected '!' (use 'not(…)', or '!=' for not equal)"),
            '<' if next == Some('=') => {
                end += 1;
                Tok::Le
            }
            '<' => Tok::Lt,
            '>' if next == Some('=') => {
                end += 1;
                Tok::Ge
            }
            '>' => Tok::Gt,
            '&' => return error(col, "unexpected '&' (use 'and')"),
            '|' => return error(col, "unexpected '|' (use 'or')"),
            '/' => return error(col, "unexpected '/' (use 'div' to divide)"),
            '%' => return error(col, "unexpected '%' (use 'mod' for the remainder)"),
            c if is_name_start(c) => {
                while self.at(end).is_some_and(is_word_char) {
                    end += 1;
                }
                Tok::Word(self.chars[start..end].iter().collect())
            }
            c => return error(col, format!("unexpected '{c}'")),
        };
        self.pos = end;
        Ok(Token {
            tok,
            col,
            text: self.chars[start..end].iter().collect(),
        })
    }

    fn peek(&mut self) -> Result<Token, ParseError> {
        if let Some(t) = &self.peeked {
            return Ok(t.clone());
        }
        let t = self.lex()?;
        self.peeked = Some(t.clone());
        Ok(t)
    }

    /// Consume the token last returned by `peek`.
    fn bump(&mut self) {
        self.peeked = None;
    }

    fn enter(&mut self, col: usize) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return error(
                col,
                format!("expression is nested too deeply (more than {MAX_NESTING} levels)"),
            );
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    fn node(expr: Expr, depth: usize, col: usize) -> Result<Node, ParseError> {
        if depth > MAX_DEPTH {
            return error(
                col,
                format!("expression is too long (more than {MAX_DEPTH} levels of operators)"),
            );
        }
        Ok(Node { expr, depth })
    }

    /// Parse the operators of precedence `level` and tighter (0 = `or` … 5 = `* div mod`).
    fn parse_level(&mut self, level: usize) -> Result<Node, ParseError> {
        if level > 5 {
            return self.parse_unary();
        }
        let mut lhs = self.parse_level(level + 1)?;
        loop {
            let t = self.peek()?;
            let Some(op) = binop(&t.tok, level) else {
                return Ok(lhs);
            };
            self.bump();
            let rhs = self.parse_level(level + 1)?;
            let depth = lhs.depth.max(rhs.depth) + 1;
            lhs = Self::node(
                Expr::Binary(op, Box::new(lhs.expr), Box::new(rhs.expr)),
                depth,
                t.col,
            )?;
        }
    }

    fn parse_unary(&mut self) -> Result<Node, ParseError> {
        let t = self.peek()?;
        if t.tok != Tok::Minus {
            return self.parse_primary();
        }
        self.bump();
        self.enter(t.col)?;
        let inner = self.parse_unary()?;
        self.leave();
        Self::node(Expr::Neg(Box::new(inner.expr)), inner.depth + 1, t.col)
    }

    fn parse_primary(&mut self) -> Result<Node, ParseError> {
        let t = self.peek()?;
        let leaf = match t.tok {
            Tok::Num(x) => Expr::Number(x),
            Tok::Str(ref s) => Expr::Text(s.clone()),
            Tok::Ref(ref name) => Expr::Ref(name.clone()),
            Tok::Dot => Expr::Dot,
            Tok::LParen => {
                self.bump();
                self.enter(t.col)?;
                let inner = self.parse_level(0)?;
                self.leave();
                self.expect_close(t.col)?;
                return Ok(inner);
            }
            Tok::Word(ref name) => {
                self.bump();
                if self.peek()?.tok == Tok::LParen {
                    return self.parse_call(name, t.col);
                }
                if self.fields && !is_keyword(name) {
                    return Ok(Node {
                        expr: Expr::Field(name.clone()),
                        depth: 1,
                    });
                }
                return Err(unexpected(&t));
            }
            _ => return Err(unexpected(&t)),
        };
        self.bump();
        Ok(Node {
            expr: leaf,
            depth: 1,
        })
    }

    fn expect_close(&mut self, open_col: usize) -> Result<(), ParseError> {
        let t = self.peek()?;
        if t.tok != Tok::RParen {
            return error(
                t.col,
                format!("expected ')' to close '(' opened at column {open_col}"),
            );
        }
        self.bump();
        Ok(())
    }

    /// A function call; the next token is its '('.
    fn parse_call(&mut self, name: &str, col: usize) -> Result<Node, ParseError> {
        // (fewest, most) arguments.
        let arity = match name {
            "not" | "count-selected" | "string-length" => (1, 1),
            "selected" | "coalesce" => (2, 2),
            "if" => (3, 3),
            "round" => (1, 2),
            "concat" => (1, usize::MAX),
            "true" | "false" | "today" => (0, 0),
            _ => {
                let lower = name.to_lowercase();
                return match lower.as_str() {
                    "not" | "count-selected" | "string-length" | "selected" | "true" | "false"
                    | "if" | "concat" | "coalesce" | "round" | "today" => error(
                        col,
                        format!(
                            "unknown function '{name}' (function names are lowercase: '{lower}')"
                        ),
                    ),
                    _ => error(col, format!("unknown function '{name}'")),
                };
            }
        };
        let open = self.peek()?;
        self.bump();
        self.enter(open.col)?;
        let mut args = Vec::new();
        if self.peek()?.tok == Tok::RParen {
            self.bump();
        } else {
            loop {
                args.push(self.parse_level(0)?);
                let t = self.peek()?;
                if t.tok == Tok::Comma {
                    self.bump();
                } else {
                    self.expect_close(open.col)?;
                    break;
                }
            }
        }
        self.leave();
        let (fewest, most) = arity;
        if args.len() < fewest || args.len() > most {
            let named = if fewest == most || most == usize::MAX {
                fewest
            } else {
                most
            };
            let plural = if named == 1 { "" } else { "s" };
            let count = if fewest == most {
                fewest.to_string()
            } else if most == usize::MAX {
                format!("at least {fewest}")
            } else {
                format!("{fewest} to {most}")
            };
            return error(
                col,
                format!(
                    "function '{name}' takes {count} argument{plural}, got {}",
                    args.len()
                ),
            );
        }
        let depth = args.iter().map(|a| a.depth).max().unwrap_or(0) + 1;
        if name == "concat" {
            let parts = args.into_iter().map(|a| a.expr).collect();
            return Self::node(Expr::Concat(parts), depth, col);
        }
        let mut args = args.into_iter().map(|a| Box::new(a.expr));
        let mut arg = || args.next().unwrap_or_else(|| Box::new(Expr::Number(0.0)));
        let expr = match name {
            "not" => Expr::Not(arg()),
            "count-selected" => Expr::CountSelected(arg()),
            "string-length" => Expr::StringLength(arg()),
            "selected" => {
                let x = arg();
                Expr::Selected(x, arg())
            }
            "if" => {
                let (c, a) = (arg(), arg());
                Expr::If(c, a, arg())
            }
            "coalesce" => {
                let a = arg();
                Expr::Coalesce(a, arg())
            }
            // A missing digits argument is the literal 0.
            "round" => {
                let x = arg();
                Expr::Round(x, arg())
            }
            "today" => Expr::Today,
            "true" => Expr::Bool(true),
            _ => Expr::Bool(false),
        };
        Self::node(expr, depth, col)
    }
}

fn binop(tok: &Tok, level: usize) -> Option<BinOp> {
    Some(match (level, tok) {
        (0, Tok::Word(w)) if w == "or" => BinOp::Or,
        (1, Tok::Word(w)) if w == "and" => BinOp::And,
        (2, Tok::Eq) => BinOp::Eq,
        (2, Tok::Ne) => BinOp::Ne,
        (3, Tok::Lt) => BinOp::Lt,
        (3, Tok::Le) => BinOp::Le,
        (3, Tok::Gt) => BinOp::Gt,
        (3, Tok::Ge) => BinOp::Ge,
        (4, Tok::Plus) => BinOp::Add,
        (4, Tok::Minus) => BinOp::Sub,
        (5, Tok::Star) => BinOp::Mul,
        (5, Tok::Word(w)) if w == "div" => BinOp::Div,
        (5, Tok::Word(w)) if w == "mod" => BinOp::Mod,
        _ => return None,
    })
}

fn is_keyword(w: &str) -> bool {
    matches!(w, "and" | "or" | "div" | "mod")
}

fn unexpected(t: &Token) -> ParseError {
    let message = match &t.tok {
        Tok::End => "unexpected end of expression, expected a value".to_string(),
        Tok::Word(w) if matches!(w.to_lowercase().as_str(), "and" | "or" | "div" | "mod") => {
            format!(
                "unexpected '{w}' (keywords are lowercase: '{}')",
                w.to_lowercase()
            )
        }
        Tok::Str(_) => format!("unexpected {}", t.text),
        _ => format!("unexpected '{}'", t.text),
    };
    ParseError {
        column: t.col,
        message,
    }
}

/// Parse an expression.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    parse_with(src, false)
}

/// Parse a `choice_filter`: like [`parse`], and a bare name is a column of the choice.
pub fn parse_choice_filter(src: &str) -> Result<Expr, ParseError> {
    parse_with(src, true)
}

fn parse_with(src: &str, fields: bool) -> Result<Expr, ParseError> {
    let mut p = Parser::new(src);
    p.fields = fields;
    let node = p.parse_level(0)?;
    let t = p.peek()?;
    if t.tok != Tok::End {
        return Err(unexpected(&t));
    }
    Ok(node.expr)
}

// ---------------------------------------------------------------------------------------
// The AST

impl Expr {
    fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Ref(_)
            | Expr::Dot
            | Expr::Number(_)
            | Expr::Text(_)
            | Expr::Bool(_)
            | Expr::Today
            | Expr::Field(_) => Vec::new(),
            Expr::Neg(x) | Expr::Not(x) | Expr::CountSelected(x) | Expr::StringLength(x) => {
                vec![x]
            }
            Expr::Binary(_, x, y)
            | Expr::Selected(x, y)
            | Expr::Coalesce(x, y)
            | Expr::Round(x, y) => vec![x, y],
            Expr::If(c, x, y) => vec![c, x, y],
            Expr::Concat(parts) => parts.iter().collect(),
        }
    }

    /// The names of every question referred to as `${name}`.
    pub fn references(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            if let Expr::Ref(name) = e {
                out.insert(name.clone());
            }
            stack.extend(e.children());
        }
        out
    }

    /// The choice columns a choice filter tests (bare names).
    pub fn fields(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            if let Expr::Field(name) = e {
                out.insert(name.clone());
            }
            stack.extend(e.children());
        }
        out
    }

    /// Whether the expression uses `.` (the current answer).
    pub fn uses_dot(&self) -> bool {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            if *e == Expr::Dot {
                return true;
            }
            stack.extend(e.children());
        }
        false
    }

    /// Compile to a JavaScript expression over `a` (the answers object), `d` (the current
    /// answer) and `CP` ([`JS_RUNTIME`]); its value is the expression's value, as the
    /// runtime represents it (string, number, boolean or array of strings).
    pub fn to_js(&self) -> String {
        let mut out = String::new();
        self.write_js(&mut out);
        out
    }

    fn write_js(&self, out: &mut String) {
        let call = |out: &mut String, f: &str, args: &[&Expr]| {
            out.push_str(f);
            out.push('(');
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                arg.write_js(out);
            }
            out.push(')');
        };
        match self {
            Expr::Ref(name) => {
                out.push_str("CP.v(a,");
                push_js_string(out, name);
                out.push(')');
            }
            Expr::Dot => out.push_str("CP.val(d)"),
            Expr::Number(x) => {
                if x.is_nan() {
                    out.push_str("(0/0)");
                } else if x.is_infinite() {
                    out.push_str(if *x > 0.0 { "(1/0)" } else { "(-1/0)" });
                } else {
                    out.push('(');
                    out.push_str(&number_to_text(*x));
                    out.push(')');
                }
            }
            Expr::Text(s) => push_js_string(out, s),
            Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Expr::Neg(x) => {
                out.push_str("(-");
                call(out, "CP.n", &[x]);
                out.push(')');
            }
            Expr::Not(x) => {
                out.push_str("(!");
                call(out, "CP.t", &[x]);
                out.push(')');
            }
            Expr::Binary(op, x, y) => match op {
                BinOp::And | BinOp::Or => {
                    // `l ? r : false` / `l ? true : r`: short-circuits like && and ||
                    // without putting '&' or '|' in the output.
                    out.push('(');
                    call(out, "CP.t", &[x]);
                    out.push('?');
                    if *op == BinOp::And {
                        call(out, "CP.t", &[y]);
                        out.push_str(":false)");
                    } else {
                        out.push_str("true:");
                        call(out, "CP.t", &[y]);
                        out.push(')');
                    }
                }
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    let name = match op {
                        BinOp::Eq => "\"eq\"",
                        BinOp::Ne => "\"ne\"",
                        BinOp::Lt => "\"lt\"",
                        BinOp::Le => "\"le\"",
                        BinOp::Gt => "\"gt\"",
                        _ => "\"ge\"",
                    };
                    out.push_str("CP.c(");
                    out.push_str(name);
                    out.push(',');
                    x.write_js(out);
                    out.push(',');
                    y.write_js(out);
                    out.push(')');
                }
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                    let sign = match op {
                        BinOp::Add => "+",
                        BinOp::Sub => "-",
                        BinOp::Mul => "*",
                        BinOp::Div => "/",
                        _ => "%",
                    };
                    out.push('(');
                    call(out, "CP.n", &[x]);
                    out.push_str(sign);
                    call(out, "CP.n", &[y]);
                    out.push(')');
                }
            },
            Expr::Selected(x, v) => call(out, "CP.sel", &[x, v]),
            Expr::CountSelected(x) => call(out, "CP.cnt", &[x]),
            Expr::StringLength(x) => call(out, "CP.len", &[x]),
            Expr::If(c, x, y) => {
                out.push('(');
                call(out, "CP.t", &[c]);
                out.push('?');
                x.write_js(out);
                out.push(':');
                y.write_js(out);
                out.push(')');
            }
            Expr::Concat(parts) => {
                let parts: Vec<&Expr> = parts.iter().collect();
                call(out, "CP.cat", &parts);
            }
            Expr::Coalesce(x, y) => call(out, "CP.co", &[x, y]),
            Expr::Round(x, k) => call(out, "CP.rnd", &[x, k]),
            Expr::Today => out.push_str("CP.today()"),
            Expr::Field(name) => {
                out.push_str("CP.v(c,");
                push_js_string(out, name);
                out.push(')');
            }
        }
    }
}

/// Append `s` as a JavaScript (JSON-style) string literal that is also safe inside HTML:
/// `<`, `>`, `&`, `'`, U+2028, U+2029 and control characters are written as `\uXXXX`.
fn push_js_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\'' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------------
// Values and evaluation

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    /// The values of a select_multiple answer.
    List(Vec<String>),
}

impl Default for Value {
    /// The empty text, i.e. unanswered.
    fn default() -> Self {
        Value::Text(String::new())
    }
}

impl Value {
    /// Read a raw answer (see the module documentation).
    pub fn from_json(v: &Json) -> Value {
        match v {
            Json::String(s) => Value::Text(s.clone()),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::Bool(b) => Value::Bool(*b),
            Json::Array(items) => Value::List(
                items
                    .iter()
                    .filter_map(|item| match item {
                        Json::String(s) => Some(s.clone()),
                        Json::Number(n) => Some(number_to_text(n.as_f64().unwrap_or(f64::NAN))),
                        Json::Bool(b) => Some(b.to_string()),
                        _ => None,
                    })
                    .collect(),
            ),
            Json::Null | Json::Object(_) => Value::default(),
        }
    }

    /// Truthiness: a boolean as is, a number when neither 0 nor NaN, text when non-empty.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Number(x) => *x != 0.0 && !x.is_nan(),
            Value::Text(s) => !s.is_empty(),
            Value::List(_) => !self.to_text().is_empty(),
        }
    }

    /// The value as text (a list joined by single spaces, numbers as JavaScript writes them).
    pub fn to_text(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Number(x) => number_to_text(*x),
            Value::Bool(b) => b.to_string(),
            Value::List(items) => items.join(" "),
        }
    }

    /// The value as a number: NaN unless it is a number or text that reads as a decimal.
    pub fn to_number(&self) -> f64 {
        match self {
            Value::Number(x) => *x,
            Value::Bool(_) => f64::NAN,
            Value::Text(s) => text_to_number(s).unwrap_or(f64::NAN),
            Value::List(_) => text_to_number(&self.to_text()).unwrap_or(f64::NAN),
        }
    }

    /// The items `selected` and `count-selected` look at.
    fn items(&self) -> Vec<String> {
        match self {
            Value::List(items) => items.clone(),
            other => other
                .to_text()
                .split([' ', '\t', '\n', '\r'])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

/// Text as a decimal number: ASCII-trimmed, `-?(digits[.digits?] | .digits)`.
fn text_to_number(s: &str) -> Option<f64> {
    let t = s.trim_matches([' ', '\t', '\n', '\r']);
    let body = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let sign = if body.len() < t.len() { "-" } else { "" };
    format!("{sign}0{int}.{frac}0").parse().ok()
}

/// A number as JavaScript's `String(x)` writes it (ECMAScript Number::toString).
fn number_to_text(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust's `{:e}` gives the shortest digits that read back as `x`, like JavaScript.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` has an integer exponent");
    let digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    let k = digits.len() as i32;
    let n = exp + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e = if e >= 0 {
            format!("+{e}")
        } else {
            e.to_string()
        };
        if k == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

fn compare(op: BinOp, l: &Value, r: &Value) -> bool {
    let numeric = |a: f64, b: f64| match op {
        BinOp::Eq => a == b,
        BinOp::Ne => a != b,
        BinOp::Lt => a < b,
        BinOp::Le => a <= b,
        BinOp::Gt => a > b,
        _ => a >= b,
    };
    let bit = |v: &Value| if v.truthy() { 1.0 } else { 0.0 };
    match (l, r) {
        (Value::Bool(_), _) | (_, Value::Bool(_)) => numeric(bit(l), bit(r)),
        (Value::Number(_), _) | (_, Value::Number(_)) => numeric(l.to_number(), r.to_number()),
        _ => {
            let (a, b) = (l.to_text(), r.to_text());
            if let (Some(x), Some(y)) = (text_to_number(&a), text_to_number(&b)) {
                return numeric(x, y);
            }
            // UTF-16 order, as JavaScript compares strings.
            let ord = a.encode_utf16().cmp(b.encode_utf16());
            match op {
                BinOp::Eq => ord.is_eq(),
                BinOp::Ne => ord.is_ne(),
                BinOp::Lt => ord.is_lt(),
                BinOp::Le => ord.is_le(),
                BinOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }
        }
    }
}

/// The choice a choice filter is tested on: its value (`name`) and other columns.
#[derive(Debug, Clone, Copy)]
pub struct ChoiceColumns<'a> {
    pub name: &'a str,
    pub columns: &'a std::collections::BTreeMap<String, String>,
}

/// What an expression is evaluated against.
#[derive(Clone, Copy)]
struct Env<'a> {
    answers: &'a Map<String, Json>,
    dot: Option<&'a Json>,
    choice: Option<ChoiceColumns<'a>>,
}

/// Evaluate `expr` against `answers`, with `dot` as the current answer (`.`).
pub fn evaluate(expr: &Expr, answers: &Map<String, Json>, dot: Option<&Json>) -> Value {
    eval_in(
        expr,
        Env {
            answers,
            dot,
            choice: None,
        },
    )
}

/// Whether `choice` passes the choice filter `expr` given `answers`.
pub fn choice_passes(expr: &Expr, answers: &Map<String, Json>, choice: ChoiceColumns) -> bool {
    eval_in(
        expr,
        Env {
            answers,
            dot: None,
            choice: Some(choice),
        },
    )
    .truthy()
}

/// The value a `calculate` question stores: `None` (unanswered) for a non-finite number,
/// empty text or an empty list (`CP.calc` in the runtime does the same); a whole number as
/// an integer.
pub fn calculated(v: Value) -> Option<Json> {
    match v {
        // A whole number is stored as one (`4`, not `4.0`), as JSON from a browser would be.
        Value::Number(x) if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 => {
            Some(Json::from(x as i64))
        }
        Value::Number(x) => serde_json::Number::from_f64(x).map(Json::Number),
        Value::Text(s) if s.is_empty() => None,
        Value::Text(s) => Some(Json::String(s)),
        Value::Bool(b) => Some(Json::Bool(b)),
        Value::List(items) if items.is_empty() => None,
        Value::List(items) => Some(Json::Array(items.into_iter().map(Json::String).collect())),
    }
}

/// Today's local date as `YYYY-MM-DD`.
fn today() -> String {
    chrono::Local::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// `round(x, k)` as the module documentation defines it.
fn round_to(x: f64, k: f64) -> f64 {
    if k.is_nan() {
        return f64::NAN;
    }
    let k = k.trunc().clamp(-22.0, 22.0) as i32;
    let mut scale = 1.0_f64;
    for _ in 0..k.unsigned_abs() {
        scale *= 10.0;
    }
    let y = if k >= 0 { x * scale } else { x / scale };
    let r = if y < 0.0 { -(-y).round() } else { y.round() };
    if k >= 0 {
        r / scale
    } else {
        r * scale
    }
}

fn eval_in(expr: &Expr, env: Env) -> Value {
    let Env { answers, dot, .. } = env;
    let eval = |e: &Expr| eval_in(e, env);
    match expr {
        Expr::Ref(name) => answers.get(name).map(Value::from_json).unwrap_or_default(),
        Expr::Dot => dot.map(Value::from_json).unwrap_or_default(),
        Expr::Number(x) => Value::Number(*x),
        Expr::Text(s) => Value::Text(s.clone()),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Neg(x) => Value::Number(-eval(x).to_number()),
        Expr::Not(x) => Value::Bool(!eval(x).truthy()),
        Expr::Binary(op, x, y) => match op {
            BinOp::And => Value::Bool(eval(x).truthy() && eval(y).truthy()),
            BinOp::Or => Value::Bool(eval(x).truthy() || eval(y).truthy()),
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                Value::Bool(compare(*op, &eval(x), &eval(y)))
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let (a, b) = (eval(x).to_number(), eval(y).to_number());
                Value::Number(match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    _ => a % b,
                })
            }
        },
        Expr::Selected(x, v) => {
            let wanted = eval(v).to_text();
            Value::Bool(eval(x).items().contains(&wanted))
        }
        Expr::CountSelected(x) => Value::Number(eval(x).items().len() as f64),
        Expr::StringLength(x) => Value::Number(eval(x).to_text().chars().count() as f64),
        Expr::If(c, x, y) => {
            if eval(c).truthy() {
                eval(x)
            } else {
                eval(y)
            }
        }
        Expr::Concat(parts) => Value::Text(parts.iter().map(|p| eval(p).to_text()).collect()),
        Expr::Coalesce(x, y) => {
            let first = eval(x);
            if first.to_text().is_empty() {
                eval(y)
            } else {
                first
            }
        }
        Expr::Round(x, k) => Value::Number(round_to(eval(x).to_number(), eval(k).to_number())),
        Expr::Today => Value::Text(today()),
        Expr::Field(name) => Value::Text(match env.choice {
            Some(c) if name == "name" => c.name.to_string(),
            Some(c) => c.columns.get(name).cloned().unwrap_or_default(),
            None => String::new(),
        }),
    }
}

/// Evaluate `expr` and take its truthiness (what `relevant` and `constraint` need).
pub fn eval_bool(expr: &Expr, answers: &Map<String, Json>, dot: Option<&Json>) -> bool {
    evaluate(expr, answers, dot).truthy()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;
    use std::process::{Command, Stdio};

    fn p(src: &str) -> Expr {
        parse(src).unwrap_or_else(|e| panic!("{src:?} should parse: {e}"))
    }

    fn ev(src: &str, answers: &Json, dot: Option<&Json>) -> Value {
        evaluate(&p(src), answers.as_object().expect("answers object"), dot)
    }

    fn truth(src: &str, answers: &Json, dot: Option<&Json>) -> bool {
        eval_bool(&p(src), answers.as_object().expect("answers object"), dot)
    }

    fn num(x: f64) -> Box<Expr> {
        Box::new(Expr::Number(x))
    }

    fn bin(op: BinOp, l: Box<Expr>, r: Box<Expr>) -> Box<Expr> {
        Box::new(Expr::Binary(op, l, r))
    }

    fn r(name: &str) -> Box<Expr> {
        Box::new(Expr::Ref(name.into()))
    }

    #[test]
    fn precedence() {
        use BinOp::*;
        let none = json!({});
        assert_eq!(
            p("1 + 2 * 3 = 7"),
            *bin(
                Eq,
                bin(Add, num(1.0), bin(Mul, num(2.0), num(3.0))),
                num(7.0)
            )
        );
        assert!(truth("1 + 2 * 3 = 7", &none, None));
        assert_eq!(ev("1 + 2 * 3", &none, None), Value::Number(7.0));
        assert_eq!(ev("(1 + 2) * 3", &none, None), Value::Number(9.0));
        assert_eq!(
            p("not(1 = 2) and 3 > 2 or 0"),
            *bin(
                Or,
                bin(
                    And,
                    Box::new(Expr::Not(bin(Eq, num(1.0), num(2.0)))),
                    bin(Gt, num(3.0), num(2.0))
                ),
                num(0.0)
            )
        );
        assert_eq!(
            ev("not(1 = 2) and 3 > 2 or 0", &none, None),
            Value::Bool(true)
        );
        // = != looser than < <= > >=
        assert_eq!(
            p("1 < 2 = 2 > 1"),
            *bin(Eq, bin(Lt, num(1.0), num(2.0)), bin(Gt, num(2.0), num(1.0)))
        );
        assert_eq!(
            p("${a} or ${b} and ${c}"),
            *bin(Or, r("a"), bin(And, r("b"), r("c")))
        );
        // unary minus binds tightest
        assert_eq!(
            p("-2 * 3"),
            *bin(Mul, Box::new(Expr::Neg(num(2.0))), num(3.0))
        );
        assert_eq!(ev("- -3", &none, None), Value::Number(3.0));
        assert_eq!(ev("2 - -3", &none, None), Value::Number(5.0));
        // left-associative
        assert_eq!(ev("10 - 2 - 3", &none, None), Value::Number(5.0));
        assert_eq!(ev("12 div 2 div 3", &none, None), Value::Number(2.0));
        assert_eq!(ev("2 * 3 mod 4", &none, None), Value::Number(2.0));
        assert_eq!(ev("7 mod 3", &none, None), Value::Number(1.0));
        assert_eq!(ev("-7 mod 3", &none, None), Value::Number(-1.0));
        assert_eq!(ev("1 div 0", &none, None), Value::Number(f64::INFINITY));
        assert!(ev("0 div 0", &none, None).to_number().is_nan());
        assert_eq!(ev(".5 + 2.", &none, None), Value::Number(2.5));
        assert_eq!(p("true()"), Expr::Bool(true));
        assert_eq!(
            ev("true() and not(false())", &none, None),
            Value::Bool(true)
        );
    }

    #[test]
    fn string_and_number_comparison() {
        let a = json!({"n": 5, "t": "abc", "s10": "10", "s9": "9", "flag": true});
        assert!(truth("'10' > '9'", &a, None));
        assert!(truth("${s10} > ${s9}", &a, None));
        assert!(truth("'abc' < 'abd'", &a, None));
        assert!(truth("'B' < 'a'", &a, None));
        assert!(truth("' 5 ' = '5.0'", &a, None));
        assert!(truth("${n} = '5'", &a, None));
        assert!(truth("${n} = 5.0", &a, None));
        // a number against non-numeric text: NaN, so only != holds
        assert!(!truth("${n} = 'abc'", &a, None));
        assert!(!truth("${n} < 'abc'", &a, None));
        assert!(truth("${n} != 'abc'", &a, None));
        // text that is not a number compares as text
        assert!(truth("${t} = 'abc'", &a, None));
        assert!(truth("${t} > '9'", &a, None));
        assert!(truth("'1e3' != '1000'", &a, None));
        assert!(truth("'é' = \"é\"", &a, None));
        // booleans compare by truthiness
        assert!(truth("${flag} = true()", &a, None));
        assert!(truth("true() = 'yes'", &a, None));
        assert!(truth("false() = ''", &a, None));
        assert!(truth("false() < true()", &a, None));
        assert!(truth("3 > 2 > 1 = false()", &a, None));
    }

    #[test]
    fn selected_and_count_selected() {
        let a = json!({
            "arr": ["food", "water"],
            "str": "food  shelter ",
            "empty_arr": [],
            "blank": "",
            "nul": null,
        });
        assert!(truth("selected(${arr}, 'food')", &a, None));
        assert!(truth("selected(${arr}, 'water')", &a, None));
        assert!(!truth("selected(${arr}, 'foo')", &a, None));
        assert!(!truth("selected(${arr}, 'food water')", &a, None));
        assert_eq!(ev("count-selected(${arr})", &a, None), Value::Number(2.0));
        assert_eq!(
            ev("${arr}", &a, None),
            Value::List(vec!["food".into(), "water".into()])
        );
        assert!(truth("${arr} = 'food water'", &a, None));

        assert!(truth("selected(${str}, 'food')", &a, None));
        assert!(truth("selected(${str}, 'shelter')", &a, None));
        assert!(!truth("selected(${str}, '')", &a, None));
        assert_eq!(ev("count-selected(${str})", &a, None), Value::Number(2.0));

        for q in ["empty_arr", "blank", "nul", "missing"] {
            assert!(
                !truth(&format!("selected(${{{q}}}, 'food')"), &a, None),
                "{q}"
            );
            assert_eq!(
                ev(&format!("count-selected(${{{q}}})"), &a, None),
                Value::Number(0.0),
                "{q}"
            );
            assert!(truth(&format!("${{{q}}} = ''"), &a, None), "{q}");
        }
    }

    #[test]
    fn dot_in_constraints() {
        let a = json!({"max": 10});
        let e = p(". > 0 and . <= ${max}");
        assert!(e.uses_dot());
        let map = a.as_object().unwrap();
        assert!(eval_bool(&e, map, Some(&json!(5))));
        assert!(eval_bool(&e, map, Some(&json!("10"))));
        assert!(!eval_bool(&e, map, Some(&json!(11))));
        assert!(!eval_bool(&e, map, Some(&json!("abc"))));
        assert!(!eval_bool(&e, map, None));
        assert!(!eval_bool(&e, map, Some(&Json::Null)));
        assert!(truth(". = ''", &a, None));
        assert!(truth("string-length(.) <= 3", &a, Some(&json!("abc"))));
        assert!(!truth("string-length(.) <= 3", &a, Some(&json!("abcd"))));
        assert_eq!(
            ev("string-length(.)", &a, Some(&json!("Zoë😀"))),
            Value::Number(4.0)
        );
        assert!(truth("selected(., 'b')", &a, Some(&json!(["a", "b"]))));
        assert!(truth("count-selected(.) = 2", &a, Some(&json!("a b"))));
        assert!(!p("${a} = 1").uses_dot());
        assert!(p("selected(${a}, .)").uses_dot());
    }

    #[test]
    fn unanswered_values() {
        let a = json!({"blank": "", "nul": null, "zero": 0});
        for q in ["blank", "nul", "missing"] {
            let f = |src: &str| src.replace("Q", &format!("${{{q}}}"));
            assert_eq!(ev(&f("Q"), &a, None), Value::Text(String::new()), "{q}");
            assert!(!truth(&f("Q > 18"), &a, None), "{q}");
            assert!(!truth(&f("Q < 18"), &a, None), "{q}");
            assert!(!truth(&f("Q = 0"), &a, None), "{q}");
            assert!(truth(&f("Q != 0"), &a, None), "{q}");
            assert!(truth(&f("Q = ''"), &a, None), "{q}");
            assert!(!truth(&f("Q != ''"), &a, None), "{q}");
            assert!(!truth(&f("Q"), &a, None), "{q}");
            assert!(truth(&f("not(Q)"), &a, None), "{q}");
            assert!(ev(&f("Q + 1"), &a, None).to_number().is_nan(), "{q}");
            assert!(ev(&f("-Q"), &a, None).to_number().is_nan(), "{q}");
            assert!(!truth(&f("Q + 1"), &a, None), "{q}");
            assert_eq!(ev(&f("string-length(Q)"), &a, None), Value::Number(0.0));
        }
        assert!(!truth("${zero} = ''", &a, None));
        assert!(truth("${zero} = 0", &a, None));
        assert!(!truth("${zero}", &a, None));
    }

    #[test]
    fn references_and_uses_dot() {
        let e = p("selected(${b}, 'x') and (${a} + ${c} > 2 or not(${a} = .))");
        let names: Vec<String> = e.references().into_iter().collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(e.uses_dot());
        assert!(p("1 = 1").references().is_empty());
        assert_eq!(
            p("${a.b-c_d} = ${prénom}")
                .references()
                .into_iter()
                .collect::<Vec<_>>(),
            ["a.b-c_d", "prénom"]
        );
    }

    #[test]
    fn error_messages() {
        let cases: &[(&str, usize, &str)] = &[
            ("(1 + 2", 7, "expected ')' to close '(' opened at column 1"),
            (
                "${a} = (1 + 2 3)",
                15,
                "expected ')' to close '(' opened at column 8",
            ),
            (
                "selected(${q}, 'v'",
                19,
                "expected ')' to close '(' opened at column 9",
            ),
            (
                "selected(${q} 'v')",
                15,
                "expected ')' to close '(' opened at column 9",
            ),
            ("foo(1)", 1, "unknown function 'foo'"),
            ("1 + foo(2)", 5, "unknown function 'foo'"),
            ("regex(., 'a')", 1, "unknown function 'regex'"),
            (
                "NOT(1)",
                1,
                "unknown function 'NOT' (function names are lowercase: 'not')",
            ),
            ("'abc", 1, "unterminated string"),
            ("${a} = \"x", 8, "unterminated string"),
            (
                "${a} = ${ b}",
                8,
                "'${' must be followed by a question name and '}'",
            ),
            ("${a", 1, "'${' must be followed by a question name and '}'"),
            ("$a", 1, "'${' must be followed by a question name and '}'"),
            ("$", 1, "'${' must be followed by a question name and '}'"),
            ("${}", 1, "'${' must be followed by a question name and '}'"),
            (
                "${1a}",
                1,
                "'${' must be followed by a question name and '}'",
            ),
            (
                "'é' = ${",
                7,
                "'${' must be followed by a question name and '}'",
            ),
            (
                "${a} + ",
                8,
                "unexpected end of expression, expected a value",
            ),
            ("", 1, "unexpected end of expression, expected a value"),
            ("not(", 5, "unexpected end of expression, expected a value"),
            ("1 + xyz", 5, "unexpected 'xyz'"),
            ("${a} xyz", 6, "unexpected 'xyz'"),
            ("age > 3", 1, "unexpected 'age'"),
            (
                "1 = 1 AND 2 = 2",
                7,
                "unexpected 'AND' (keywords are lowercase: 'and')",
            ),
            ("1 == 1", 3, "use '=' to compare, not '=='"),
            (
                "!(1 = 1)",
                1,
                "unexpected '!' (use 'not(…)', or '!=' for not equal)",
            ),
            ("1 && 2", 3, "unexpected '&' (use 'and')"),
            ("1 || 2", 3, "unexpected '|' (use 'or')"),
            ("1 / 2", 3, "unexpected '/' (use 'div' to divide)"),
            ("1 % 2", 3, "unexpected '%' (use 'mod' for the remainder)"),
            ("1 # 2", 3, "unexpected '#'"),
            ("not(1, 2)", 1, "function 'not' takes 1 argument, got 2"),
            (
                "selected(${a})",
                1,
                "function 'selected' takes 2 arguments, got 1",
            ),
            ("1 + true(1)", 5, "function 'true' takes 0 arguments, got 1"),
            (
                "count-selected()",
                1,
                "function 'count-selected' takes 1 argument, got 0",
            ),
            ("1 2", 3, "unexpected '2'"),
            (")", 1, "unexpected ')'"),
            ("1 = = 2", 5, "unexpected '='"),
            (". .", 3, "unexpected '.'"),
            ("'a' 'b'", 5, "unexpected 'b'"),
            ("()", 2, "unexpected ')'"),
            ("not(1,)", 7, "unexpected ')'"),
            (
                "concat()",
                1,
                "function 'concat' takes at least 1 argument, got 0",
            ),
            (
                "round(1, 2, 3)",
                1,
                "function 'round' takes 1 to 2 arguments, got 3",
            ),
            ("if(1, 2)", 1, "function 'if' takes 3 arguments, got 2"),
            ("today(1)", 1, "function 'today' takes 0 arguments, got 1"),
            (
                "IF(1, 2, 3)",
                1,
                "unknown function 'IF' (function names are lowercase: 'if')",
            ),
            (
                "pulldata('f', 'a', 'b', 'c')",
                1,
                "unknown function 'pulldata'",
            ),
            ("region = 'x'", 1, "unexpected 'region'"),
        ];
        let mut wrong = Vec::new();
        for &(src, column, message) in cases {
            let want = ParseError {
                column,
                message: message.to_string(),
            };
            match parse(src) {
                Ok(e) => wrong.push(format!("{src:?} parsed as {e:?}")),
                Err(got) if got != want => wrong.push(format!("{src:?}: got {got}, want {want}")),
                Err(_) => {}
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let e = parse("1 +").unwrap_err();
        assert_eq!(
            e.to_string(),
            "column 4: unexpected end of expression, expected a value"
        );
        let _: &dyn std::error::Error = &e;
    }

    #[test]
    fn calculation_functions() {
        let a = json!({"age": 25, "name": "Amina", "none": "", "cats": ["a", "b"]});
        assert_eq!(
            ev("if(${age} >= 18, 'adult', 'minor')", &a, None),
            Value::Text("adult".into())
        );
        assert_eq!(ev("if(${none}, 1, 2)", &a, None), Value::Number(2.0));
        assert_eq!(
            ev("concat(${name}, ' (', ${age}, ')')", &a, None),
            Value::Text("Amina (25)".into())
        );
        assert_eq!(ev("concat(${cats})", &a, None), Value::Text("a b".into()));
        assert_eq!(ev("coalesce(${none}, 7)", &a, None), Value::Number(7.0));
        assert_eq!(
            ev("coalesce(${name}, 7)", &a, None),
            Value::Text("Amina".into())
        );
        assert_eq!(ev("round(2.5)", &a, None), Value::Number(3.0));
        assert_eq!(ev("round(-2.5)", &a, None), Value::Number(-3.0));
        assert_eq!(ev("round(2.71828, 2)", &a, None), Value::Number(2.72));
        assert_eq!(ev("round(1250, -2)", &a, None), Value::Number(1300.0));
        assert!(ev("round(1, 'x')", &a, None).to_number().is_nan());
        let today = chrono::Local::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string();
        assert_eq!(ev("today()", &a, None), Value::Text(today));
        assert!(truth("'2000-01-01' < today()", &a, None));
        // Choice filters: bare names are columns of the choice.
        let f = parse_choice_filter("region = ${region} and name != 'x'").unwrap();
        assert_eq!(
            f.fields(),
            ["name", "region"].map(String::from).into_iter().collect()
        );
        assert_eq!(
            f.references(),
            ["region"].map(String::from).into_iter().collect()
        );
        let cols: std::collections::BTreeMap<String, String> =
            [("region".to_string(), "north".to_string())].into();
        let answers = json!({"region": "north"});
        let answers = answers.as_object().unwrap();
        let choice = |name| ChoiceColumns {
            name,
            columns: &cols,
        };
        assert!(choice_passes(&f, answers, choice("a")));
        assert!(!choice_passes(&f, answers, choice("x")));
        assert!(!choice_passes(&f, &Map::new(), choice("a")));
        // Calculated answers.
        assert_eq!(calculated(Value::Number(2.5)), Some(json!(2.5)));
        assert_eq!(calculated(Value::Number(4.0)), Some(json!(4)));
        assert_eq!(calculated(Value::Number(-0.0)), Some(json!(0)));
        assert_eq!(calculated(Value::Number(f64::NAN)), None);
        assert_eq!(calculated(Value::Number(f64::INFINITY)), None);
        assert_eq!(calculated(Value::Text(String::new())), None);
        assert_eq!(calculated(Value::Text("x".into())), Some(json!("x")));
        assert_eq!(calculated(Value::Bool(false)), Some(json!(false)));
        assert_eq!(calculated(Value::List(vec![])), None);
        assert_eq!(
            calculated(Value::List(vec!["a".into()])),
            Some(json!(["a"]))
        );
    }

    #[test]
    fn size_limits() {
        let deep = format!("{}1{}", "(".repeat(70), ")".repeat(70));
        let e = parse(&deep).unwrap_err();
        assert_eq!(e.column, 65);
        assert_eq!(
            e.message,
            "expression is nested too deeply (more than 64 levels)"
        );
        assert!(parse(&format!("{}1{}", "(".repeat(60), ")".repeat(60))).is_ok());
        assert!(parse(&format!("{}1", "-".repeat(70))).is_err());

        let long = format!("1{}", " + 1".repeat(600));
        let e = parse(&long).unwrap_err();
        assert_eq!(e.column, 1999);
        assert_eq!(
            e.message,
            "expression is too long (more than 500 levels of operators)"
        );
        let alternatives: Vec<String> = (0..200).map(|i| format!("${{q{i}}} = 'x'")).collect();
        let e = p(&alternatives.join(" or "));
        assert_eq!(e.references().len(), 200);
        let a = json!({"q199": "x"});
        assert!(eval_bool(&e, a.as_object().unwrap(), None));
    }

    #[test]
    fn to_js_is_safe_to_embed() {
        let e = p("${a.b-c_d} = 'say \"hi\" & </script><!-- \\ \u{2028}\u{1}' and 1 < 2 or 3 >= 2");
        let js = e.to_js();
        for bad in [
            '<', '>', '&', '\'', '|', '\u{2028}', '\u{2029}', '\u{1}', '\n',
        ] {
            assert!(!js.contains(bad), "{bad:?} in {js}");
        }
        assert!(js.contains("CP.v(a,\"a.b-c_d\")"), "{js}");
        assert!(
            js.contains(r#""say \"hi\" \u0026 \u003c/script\u003e\u003c!-- \\ \u2028\u0001""#),
            "{js}"
        );
        assert_eq!(p(".").to_js(), "CP.val(d)");
        assert_eq!(p("2.5").to_js(), "(2.5)");
    }

    #[test]
    fn number_text_and_text_number() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (1.2345e25, "1.2345e+25"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (x, want) in cases {
            assert_eq!(number_to_text(x), want, "{x:e}");
        }
        let texts = [
            ("12", Some(12.0)),
            (" -3.5\t", Some(-3.5)),
            ("5.", Some(5.0)),
            (".5", Some(0.5)),
            ("-.5", Some(-0.5)),
            ("007", Some(7.0)),
            ("", None),
            (" ", None),
            (".", None),
            ("-", None),
            ("+1", None),
            ("1e3", None),
            ("0x10", None),
            ("1 2", None),
            ("1.2.3", None),
            ("--1", None),
            ("Infinity", None),
            ("NaN", None),
            ("\u{a0}1", None),
            ("１", None),
        ];
        for (s, want) in texts {
            assert_eq!(text_to_number(s), want, "{s:?}");
        }
    }

    /// Expressions evaluated in Rust and in node; results must be identical.
    const TABLE: &[&str] = &[
        "1 + 2 * 3 = 7",
        "1 + 2 * 3",
        "(1 + 2) * 3",
        "not(1 = 2) and 3 > 2 or 0",
        "'10' > '9'",
        "'abc' < 'abd'",
        "'B' < 'a'",
        "'\u{ffff}' < '😀'",
        "${age} > 18",
        "${age} < 18",
        "${age} = 18",
        "${age} = ''",
        "${age} != ''",
        "${age} >= 18 and ${age} <= 60",
        "${age} + 1",
        "${age} * 2 div 4",
        "-${age}",
        "- -3",
        "7 mod 3",
        "-7 mod 3",
        "7.5 mod 2",
        "5 mod 0",
        "1 div 0",
        "-1 div 0",
        "0 div 0",
        "0.1 + 0.2",
        "${x} + ${y}",
        "${x} - ${y}",
        "${x} div ${y}",
        "${x} mod ${y}",
        "${x} = ${y}",
        "${x} < ${y}",
        "${x} >= ${y}",
        "${x} * 1000000000000",
        "${x} div 3",
        "${x} or ${y}",
        "${y} and 1",
        "not(${x})",
        "selected(${cats}, 'food')",
        "selected(${cats}, 'shelter')",
        "selected(${cats}, 'a b')",
        "count-selected(${cats})",
        "count-selected(${cats}) >= 2",
        "${cats}",
        "${cats} = 'food water'",
        "${cats} = ''",
        "selected(., 'a')",
        "count-selected(.)",
        ".",
        ". > 10",
        ". = ''",
        ". + 1",
        "string-length(${name})",
        "string-length(.) <= 3",
        "string-length(${emoji})",
        "string-length(${x})",
        "${consent} = 'yes'",
        "${consent} = true()",
        "${consent} != false()",
        "${flag} = 'true'",
        "${flag} = true()",
        "${flag} + 1",
        "true() and not(false())",
        "true() = 1",
        "false() < true()",
        "true() + 1",
        "3 > 2 > 1",
        "${name}",
        "${name} = '</script><!--'",
        "${name} != 'say \"hi\" & <b> \\'",
        "${unicode} = 'é'",
        "${unicode} < 'f'",
        "'é' = \"é\"",
        "\"it's\"",
        "${missing}",
        "${nul} = ''",
        "${constructor} = ''",
        "${constructor}",
        "${__proto__}",
        "${a.b-c_d}",
        "${prénom} = 'Zoë'",
        "'5' = 5",
        "' 5 ' = 5",
        "'5.0' = '5'",
        "'abc' = 0",
        "'abc' != 0",
        "'' < 1",
        "'' > -1",
        "-(2 + 3) * 2",
        "2 - -3",
        "10 - 2 - 3",
        "2 * 3 mod 4",
        "${txt} > ${s9}",
        "${score} > 5",
        "${score} * 2",
        "${score}",
        "count-selected('a  b c')",
        "selected('a b', '')",
        "count-selected(${score})",
        "string-length(${score})",
        "if(${age} > 18, 'adult', 'minor')",
        "if(${x}, ${x} * 2, 'none')",
        "if(${cats}, ${cats}, ${missing})",
        "concat(${name}, '-', ${age})",
        "concat(${cats})",
        "concat(1 div 3, true(), ${score})",
        "coalesce(${missing}, 'dflt')",
        "coalesce(${age}, 0) + 1",
        "coalesce(${cats}, 'none')",
        "round(2.5)",
        "round(-2.5)",
        "round(${x}, 2)",
        "round(${y}, ${x})",
        "round(1.005, 2)",
        "round(12345.678, -2)",
        "round(${score}, 1)",
        "round(0.49999999999999994)",
        "round(1 div 0)",
        "round(2.5, 'x')",
        "round(${x} * 1.1, 3)",
        "round(-0.4)",
        "today() = today()",
        "string-length(today())",
        "${date} < today()",
        "region = ${region}",
        "name != 'b' and region = ${region}",
        "concat(name, '/', region, '/', missing_column)",
        "name",
    ];

    /// The choice each answer set's choice filters are tested on (name, columns).
    fn choice_sets() -> Vec<Json> {
        vec![
            json!({"name": "a", "region": "north"}),
            json!({"name": "b", "region": "north"}),
            json!({"name": "a", "region": "south"}),
            json!({"name": "c"}),
            json!({"name": "a", "region": ""}),
            json!({"name": "b", "region": "south"}),
        ]
    }

    fn answer_sets() -> Vec<(Json, Option<Json>)> {
        vec![
            (json!({}), None),
            (
                json!({
                    "age": 25, "name": "Amina", "consent": "yes", "cats": ["food", "water"],
                    "score": "10", "empty": "", "nul": null, "x": 3, "y": 0, "s9": "9",
                    "txt": "abc", "emoji": "😀a", "unicode": "é", "flag": true,
                    "a.b-c_d": "ok", "prénom": "Zoë", "region": "north", "date": "2001-02-03",
                }),
                Some(json!("42")),
            ),
            (
                json!({
                    "age": "17", "name": "</script><!--", "consent": "no",
                    "cats": "food shelter", "x": "-2.5", "y": "abc", "s9": "10", "txt": "ABC",
                    "emoji": "", "unicode": "e", "flag": false, "score": " 7 ",
                    "region": "south", "date": "9999-12-31",
                }),
                Some(json!(7)),
            ),
            (
                json!({
                    "age": " 18 ", "name": "O'Brien \"Jr\" \\ \u{2028}", "cats": [],
                    "consent": "", "x": 1e21, "y": 1e-7, "txt": "abd", "unicode": "É",
                    "flag": "true", "__proto__": "p", "score": 2.5,
                }),
                Some(json!(["a", "b"])),
            ),
            (
                json!({
                    "age": "abc", "name": "", "cats": "  ", "x": 0.1, "y": 0.2, "txt": "",
                    "s9": "9.0", "score": [1, true, null, "z", 2.5], "constructor": {"k": 1},
                }),
                Some(Json::Null),
            ),
            (
                json!({
                    "age": 18, "cats": ["a b", "c"], "x": -7, "y": 3, "consent": "yes",
                    "name": "say \"hi\" & <b> \\", "emoji": "😀😀", "prénom": "Zoe",
                    "flag": "", "score": "-0",
                }),
                Some(json!("a b c")),
            ),
        ]
    }

    /// A result as the node script encodes it: [kind, value].
    fn encode(v: &Value) -> Json {
        match v {
            Value::Number(x) => json!(["n", number_to_text(*x)]),
            Value::Text(s) => json!(["s", s]),
            Value::Bool(b) => json!(["b", b]),
            Value::List(items) => json!(["l", items]),
        }
    }

    fn js_string(s: &str) -> String {
        let mut out = String::new();
        push_js_string(&mut out, s);
        out
    }

    /// Run `script` in node; None (after saying why) when node is not installed.
    fn run_node(script: &str) -> Option<String> {
        let mut child = None;
        for program in ["node", "/usr/bin/node", "nodejs"] {
            match Command::new(program)
                .arg("-")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
            {
                Ok(c) => {
                    child = Some(c);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("could not start {program}: {e}"),
            }
        }
        let Some(mut child) = child else {
            eprintln!("skipping the Rust/JavaScript comparison: `node` was not found");
            return None;
        };
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(script.as_bytes())
            .expect("write the script to node");
        let out = child.wait_with_output().expect("run node");
        assert!(
            out.status.success(),
            "node failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(String::from_utf8(out.stdout).expect("utf-8 from node"))
    }

    #[test]
    fn rust_and_javascript_agree() {
        assert!(TABLE.len() >= 40);
        let sets = answer_sets();
        let choices = choice_sets();
        assert_eq!(choices.len(), sets.len());
        // Parsed as choice filters, so bare names are choice columns.
        let exprs: Vec<Expr> = TABLE
            .iter()
            .map(|s| parse_choice_filter(s).unwrap_or_else(|e| panic!("{s:?}: {e}")))
            .collect();

        // Numbers whose text must match JavaScript's String(x).
        let mut numbers: Vec<f64> = vec![
            0.1 + 0.2,
            1e21,
            1e20,
            1e-6,
            1e-7,
            123e-20,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            -1.5e300,
            2f64.powi(53) + 2.0,
            1.0 / 3.0,
            100.0,
            0.5e-6,
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        while numbers.len() < 600 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let x = if numbers.len().is_multiple_of(2) {
                f64::from_bits(seed)
            } else {
                // moderately sized numbers, where the fixed notation is used
                (seed % 10_000_000) as f64 / 10f64.powi((seed >> 40) as i32 % 12)
            };
            if x.is_finite() {
                numbers.push(x);
            }
        }
        let texts = [
            "12",
            " -3.5\t",
            "5.",
            ".5",
            "-.5",
            "007",
            "-0",
            "",
            " ",
            ".",
            "-",
            "+1",
            "1e3",
            "0x10",
            "1 2",
            "1.2.3",
            "--1",
            "Infinity",
            "NaN",
            "\u{a0}1",
            "１",
            "1_000",
            "123456789012345678901234567890",
            "0.1000000000000000055511151231257827",
            "\n42\r",
        ];

        let mut script = String::from(JS_RUNTIME);
        script.push_str("\nvar fns = [\n");
        for e in &exprs {
            script.push_str(&format!(
                "function (a, d, c) {{ return {}; }},\n",
                e.to_js()
            ));
        }
        script.push_str("];\n");
        let answers: Vec<&Json> = sets.iter().map(|(a, _)| a).collect();
        let dots: Vec<&Option<Json>> = sets.iter().map(|(_, d)| d).collect();
        for (name, data) in [
            ("answers", serde_json::to_string(&answers).unwrap()),
            ("dots", serde_json::to_string(&dots).unwrap()),
            ("choices", serde_json::to_string(&choices).unwrap()),
            ("numbers", serde_json::to_string(&numbers).unwrap()),
            ("texts", serde_json::to_string(&texts).unwrap()),
        ] {
            script.push_str(&format!("var {name} = JSON.parse({});\n", js_string(&data)));
        }
        script.push_str(
            r#"
function enc(x) {
  if (typeof x === "number") { return ["n", String(x)]; }
  if (typeof x === "string") { return ["s", x]; }
  if (typeof x === "boolean") { return ["b", x]; }
  if (Object.prototype.toString.call(x) === "[object Array]") { return ["l", x]; }
  return ["?", String(x)];
}
var results = [];
for (var i = 0; i < fns.length; i++) {
  var row = [];
  for (var j = 0; j < answers.length; j++) {
    var v = fns[i](answers[j], dots[j], choices[j]);
    row.push([enc(v), CP.t(v)]);
  }
  results.push(row);
}
process.stdout.write(JSON.stringify({
  results: results,
  numbers: numbers.map(String),
  texts: texts.map(function (t) { return String(CP.n(t)); })
}));
"#,
        );

        let Some(out) = run_node(&script) else {
            return;
        };
        let out: Json = serde_json::from_str(&out).expect("JSON from node");
        let mut wrong = Vec::new();
        for (i, e) in exprs.iter().enumerate() {
            for (j, (a, d)) in sets.iter().enumerate() {
                let c = choices[j].as_object().unwrap();
                let columns: std::collections::BTreeMap<String, String> = c
                    .iter()
                    .filter(|(k, _)| *k != "name")
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect();
                let env = Env {
                    answers: a.as_object().unwrap(),
                    dot: d.as_ref(),
                    choice: Some(ChoiceColumns {
                        name: c["name"].as_str().unwrap(),
                        columns: &columns,
                    }),
                };
                let value = eval_in(e, env);
                let rust = json!([encode(&value), value.truthy()]);
                let js = &out["results"][i][j];
                if rust != *js {
                    wrong.push(format!(
                        "{:?} on answer set {j}: Rust {rust}, JS {js}",
                        TABLE[i]
                    ));
                }
            }
        }
        for (k, x) in numbers.iter().enumerate() {
            let rust = number_to_text(*x);
            if out["numbers"][k] != json!(rust) {
                wrong.push(format!(
                    "number {x:e}: Rust {rust}, JS {}",
                    out["numbers"][k]
                ));
            }
        }
        for (k, t) in texts.iter().enumerate() {
            let rust = number_to_text(Value::Text(t.to_string()).to_number());
            if out["texts"][k] != json!(rust) {
                wrong.push(format!("text {t:?}: Rust {rust}, JS {}", out["texts"][k]));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} disagreements:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
        println!(
            "Rust and JavaScript agree on {} expressions x {} answer sets, {} numbers, {} texts",
            exprs.len(),
            sets.len(),
            numbers.len(),
            texts.len()
        );
    }
}
