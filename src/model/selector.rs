//! Label selectors as a Flux controller's `--watch-label-selector` takes them: the grammar
//! of k8s.io/apimachinery `labels.Parse`, parsed into requirements and evaluated against
//! an object's labels, so assignment is what the controller itself would watch.

use std::fmt;

/// What one requirement asks of a label.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `key=v`, `key==v`, `key in (v, ...)`: present with one of the values.
    In(Vec<String>),
    /// `key!=v`, `key notin (v, ...)`: absent, or with none of the values.
    NotIn(Vec<String>),
    /// `key`: present.
    Exists,
    /// `!key`: absent.
    DoesNotExist,
    /// `key>n`: present with an integer value greater than n.
    Gt(i64),
    /// `key<n`: present with an integer value less than n.
    Lt(i64),
}

/// One comma-separated requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// What it asks of that label.
    pub op: Operator,
}

/// A parsed selector: every requirement must hold (an empty selector matches everything).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Selector {
    /// The requirements, in the order written.
    pub requirements: Vec<Requirement>,
}

/// Why a selector does not parse, as the controller would refuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError(pub String);

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SelectorError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
}

fn lex(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '!' | '=' => {
                chars.next();
                let eq = chars.peek() == Some(&'=');
                if eq {
                    chars.next();
                }
                out.push(match (c, eq) {
                    ('!', true) => Token::NotEq,
                    ('!', false) => Token::Not,
                    (_, true) => Token::DoubleEq,
                    _ => Token::Eq,
                });
            }
            '>' | '<' | '(' | ')' | ',' => {
                chars.next();
                out.push(match c {
                    '>' => Token::Gt,
                    '<' => Token::Lt,
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "!=<>(),".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Ident(word));
            }
        }
    }
    out
}

/// A DNS-1123 label-ish name segment: what a label key's name and a label value may hold.
fn valid_name(s: &str, max: usize) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    s.len() <= max
        && s.chars().next().is_some_and(alnum)
        && s.chars().last().is_some_and(alnum)
        && s.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
}

fn check_key(key: &str) -> Result<(), SelectorError> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        p.len() <= 253
            && !p.is_empty()
            && p.split('.').all(|part| {
                valid_name(part, 63)
                    && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
    });
    if prefix_ok && valid_name(name, 63) {
        Ok(())
    } else {
        Err(SelectorError(format!("invalid label key {key:?}")))
    }
}

fn check_value(v: &str) -> Result<(), SelectorError> {
    if v.is_empty() || valid_name(v, 63) {
        Ok(())
    } else {
        Err(SelectorError(format!("invalid label value {v:?}")))
    }
}

/// Parses a selector as `labels.Parse` does: `a=b`, `a==b`, `a!=b`, `a in (b,c)`,
/// `a notin (b,c)`, `a`, `!a`, `a>1`, `a<1`, comma-separated.
pub fn parse(selector: &str) -> Result<Selector, SelectorError> {
    let tokens = lex(selector);
    let mut requirements = Vec::new();
    let mut i = 0;
    let ident = |i: usize| match tokens.get(i) {
        Some(Token::Ident(w)) => Some(w.clone()),
        _ => None,
    };
    let err = |what: &str| SelectorError(format!("invalid selector {selector:?}: {what}"));
    if tokens.is_empty() {
        return Ok(Selector::default());
    }
    loop {
        let negated = tokens.get(i) == Some(&Token::Not);
        if negated {
            i += 1;
        }
        let key = ident(i).ok_or_else(|| err("a label key is missing"))?;
        check_key(&key)?;
        i += 1;
        let at_end = matches!(tokens.get(i), None | Some(Token::Comma));
        let op = if negated {
            if !at_end {
                return Err(err("`!key` takes no operator"));
            }
            Operator::DoesNotExist
        } else if at_end {
            Operator::Exists
        } else {
            let tok = tokens[i].clone();
            i += 1;
            match tok {
                Token::Eq | Token::DoubleEq | Token::NotEq => {
                    // An empty value is allowed (`a=` matches an empty label).
                    let value = ident(i).inspect(|_| i += 1).unwrap_or_default();
                    check_value(&value)?;
                    if tok == Token::NotEq { Operator::NotIn(vec![value]) } else { Operator::In(vec![value]) }
                }
                Token::Gt | Token::Lt => {
                    let n = ident(i)
                        .and_then(|v| v.parse::<i64>().ok())
                        .ok_or_else(|| err("`>` and `<` take an integer"))?;
                    i += 1;
                    if tok == Token::Gt { Operator::Gt(n) } else { Operator::Lt(n) }
                }
                Token::Ident(w) if w == "in" || w == "notin" => {
                    if tokens.get(i) != Some(&Token::Open) {
                        return Err(err("`in` and `notin` take a parenthesised list"));
                    }
                    i += 1;
                    let mut values = Vec::new();
                    loop {
                        match tokens.get(i) {
                            Some(Token::Ident(v)) => {
                                check_value(v)?;
                                values.push(v.clone());
                                i += 1;
                            }
                            // An empty entry (`(a,,b)`) is the empty value.
                            Some(Token::Comma | Token::Close) => values.push(String::new()),
                            _ => return Err(err("unclosed value list")),
                        }
                        match tokens.get(i) {
                            Some(Token::Comma) => i += 1,
                            Some(Token::Close) => {
                                i += 1;
                                break;
                            }
                            _ => return Err(err("unclosed value list")),
                        }
                    }
                    // `in ()` lexes as one empty entry: the set may not be empty.
                    if values.iter().all(String::is_empty) && values.len() == 1 {
                        return Err(err("`in` and `notin` need at least one value"));
                    }
                    values.sort();
                    values.dedup();
                    if w == "in" { Operator::In(values) } else { Operator::NotIn(values) }
                }
                _ => return Err(err("an operator is expected after the key")),
            }
        };
        requirements.push(Requirement { key, op });
        match tokens.get(i) {
            None => break,
            Some(Token::Comma) => i += 1,
            Some(_) => return Err(err("a comma is expected between requirements")),
        }
    }
    Ok(Selector { requirements })
}

impl Requirement {
    /// Whether a label value (`None` when the label is absent) satisfies this requirement.
    pub fn matches(&self, value: Option<&str>) -> bool {
        let int = || value.and_then(|v| v.parse::<i64>().ok());
        match &self.op {
            Operator::In(vs) => value.is_some_and(|v| vs.iter().any(|x| x == v)),
            Operator::NotIn(vs) => value.is_none_or(|v| !vs.iter().any(|x| x == v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::Gt(n) => int().is_some_and(|v| v > *n),
            Operator::Lt(n) => int().is_some_and(|v| v < *n),
        }
    }
}

impl Selector {
    /// Whether labels (looked up by key) satisfy every requirement.
    pub fn matches<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| r.matches(label(&r.key)))
    }

    /// The requirement on `key`, if any.
    pub fn on(&self, key: &str) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter().filter(move |r| r.key == key)
    }
}
