//! A small subset of CEL, enough for typical webhook `matchConditions`: literals,
//! `request`/`object`/`oldObject` field access and indexing, `has()`, `size()`,
//! `startsWith`/`endsWith`/`contains`, `in`, comparisons, `!`, `&&`, `||` and
//! parentheses. Anything else is an evaluation error (which `failurePolicy` decides).

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CelError {
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("{0}")]
    Evaluation(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Int(i64),
    Op(&'static str),
}

const OPERATORS: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ".", ",",
];

fn tokenize(text: &str) -> Result<Vec<Token>, CelError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|&x| x == c)
                .ok_or_else(|| CelError::Syntax("unterminated string".into()))?;
            tokens.push(Token::Str(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c.is_ascii_digit() {
            let len = chars[i..].iter().take_while(|x| x.is_ascii_digit()).count();
            let digits: String = chars[i..i + len].iter().collect();
            tokens.push(Token::Int(
                digits
                    .parse()
                    .map_err(|_| CelError::Syntax(digits.clone()))?,
            ));
            i += len;
        } else if c.is_alphabetic() || c == '_' {
            let len = chars[i..]
                .iter()
                .take_while(|x| x.is_alphanumeric() || **x == '_')
                .count();
            tokens.push(Token::Ident(chars[i..i + len].iter().collect()));
            i += len;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| CelError::Syntax(format!("unexpected {c:?}")))?;
            tokens.push(Token::Op(op));
            i += op.len();
        }
    }
    Ok(tokens)
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Literal(Value),
    Var(String),
    List(Vec<Expr>),
    Field(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Call(Option<Box<Expr>>, String, Vec<Expr>),
    Not(Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let matched = matches!(self.peek(), Some(Token::Op(o)) if *o == op);
        if matched {
            self.at += 1;
        }
        matched
    }

    fn expect_op(&mut self, op: &str) -> Result<(), CelError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(CelError::Syntax(format!("expected {op}")))
        }
    }

    fn or(&mut self) -> Result<Expr, CelError> {
        let mut left = self.and()?;
        while self.eat_op("||") {
            left = Expr::Binary("||", Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, CelError> {
        let mut left = self.relation()?;
        while self.eat_op("&&") {
            left = Expr::Binary("&&", Box::new(left), Box::new(self.relation()?));
        }
        Ok(left)
    }

    fn relation(&mut self) -> Result<Expr, CelError> {
        let left = self.unary()?;
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.eat_op(op) {
                return Ok(Expr::Binary(op, Box::new(left), Box::new(self.unary()?)));
            }
        }
        if self.peek() == Some(&Token::Ident("in".into())) {
            self.at += 1;
            return Ok(Expr::Binary("in", Box::new(left), Box::new(self.unary()?)));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, CelError> {
        if self.eat_op("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.member()
    }

    fn arguments(&mut self) -> Result<Vec<Expr>, CelError> {
        let mut args = Vec::new();
        if self.eat_op(")") {
            return Ok(args);
        }
        loop {
            args.push(self.or()?);
            if self.eat_op(")") {
                return Ok(args);
            }
            self.expect_op(",")?;
        }
    }

    fn member(&mut self) -> Result<Expr, CelError> {
        let mut expr = self.primary()?;
        loop {
            if self.eat_op(".") {
                let Some(Token::Ident(name)) = self.peek().cloned() else {
                    return Err(CelError::Syntax("expected a field name".into()));
                };
                self.at += 1;
                expr = if self.eat_op("(") {
                    Expr::Call(Some(Box::new(expr)), name, self.arguments()?)
                } else {
                    Expr::Field(Box::new(expr), name)
                };
            } else if self.eat_op("[") {
                let index = self.or()?;
                self.expect_op("]")?;
                expr = Expr::Index(Box::new(expr), Box::new(index));
            } else {
                return Ok(expr);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, CelError> {
        let token = self
            .peek()
            .cloned()
            .ok_or_else(|| CelError::Syntax("unexpected end".into()))?;
        self.at += 1;
        match token {
            Token::Str(s) => Ok(Expr::Literal(json!(s))),
            Token::Int(n) => Ok(Expr::Literal(json!(n))),
            Token::Ident(name) => match name.as_str() {
                "true" => Ok(Expr::Literal(json!(true))),
                "false" => Ok(Expr::Literal(json!(false))),
                "null" => Ok(Expr::Literal(Value::Null)),
                _ if self.eat_op("(") => Ok(Expr::Call(None, name, self.arguments()?)),
                _ => Ok(Expr::Var(name)),
            },
            Token::Op("(") => {
                let inner = self.or()?;
                self.expect_op(")")?;
                Ok(inner)
            }
            Token::Op("[") => {
                let mut items = Vec::new();
                if !self.eat_op("]") {
                    loop {
                        items.push(self.or()?);
                        if self.eat_op("]") {
                            break;
                        }
                        self.expect_op(",")?;
                    }
                }
                Ok(Expr::List(items))
            }
            Token::Op(op) => Err(CelError::Syntax(format!("unexpected {op}"))),
        }
    }
}

fn parse(text: &str) -> Result<Expr, CelError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
    };
    let expr = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err(CelError::Syntax("trailing input".into()));
    }
    Ok(expr)
}

fn no_such_key(key: &str) -> CelError {
    CelError::Evaluation(format!("no such key: {key}"))
}

fn eval(expr: &Expr, vars: &Value) -> Result<Value, CelError> {
    match expr {
        Expr::Literal(v) => Ok(v.clone()),
        Expr::Var(name) => vars
            .get(name)
            .cloned()
            .ok_or_else(|| CelError::Evaluation(format!("undeclared reference to '{name}'"))),
        Expr::List(items) => Ok(Value::Array(
            items
                .iter()
                .map(|i| eval(i, vars))
                .collect::<Result<_, _>>()?,
        )),
        Expr::Field(target, name) => eval(target, vars)?
            .get(name)
            .cloned()
            .ok_or_else(|| no_such_key(name)),
        Expr::Index(target, index) => {
            let (target, index) = (eval(target, vars)?, eval(index, vars)?);
            match (&target, &index) {
                (Value::Object(map), Value::String(key)) => {
                    map.get(key).cloned().ok_or_else(|| no_such_key(key))
                }
                (Value::Array(items), Value::Number(n)) => n
                    .as_u64()
                    .and_then(|i| items.get(i as usize))
                    .cloned()
                    .ok_or_else(|| CelError::Evaluation("index out of range".into())),
                _ => Err(CelError::Evaluation("unsupported index".into())),
            }
        }
        Expr::Not(inner) => match eval(inner, vars)? {
            Value::Bool(b) => Ok(json!(!b)),
            _ => Err(CelError::Evaluation("! needs a bool".into())),
        },
        Expr::Binary(op @ ("&&" | "||"), left, right) => {
            let short = *op == "||";
            match eval(left, vars) {
                Ok(Value::Bool(b)) if b == short => Ok(json!(short)),
                Ok(Value::Bool(_)) => as_bool(eval(right, vars)?).map(|b| json!(b)),
                Ok(_) => Err(CelError::Evaluation(format!("{op} needs bools"))),
                // CEL is commutative here: an error on one side loses to a decisive other side.
                Err(e) => match eval(right, vars) {
                    Ok(Value::Bool(b)) if b == short => Ok(json!(short)),
                    _ => Err(e),
                },
            }
        }
        Expr::Binary(op, left, right) => compare(op, &eval(left, vars)?, &eval(right, vars)?),
        Expr::Call(None, name, args) if name == "has" => match args.as_slice() {
            [Expr::Field(target, field)] => Ok(json!(eval(target, vars)?.get(field).is_some())),
            _ => Err(CelError::Evaluation("has() needs a field selection".into())),
        },
        Expr::Call(None, name, args) if name == "size" && args.len() == 1 => {
            size(&eval(&args[0], vars)?)
        }
        Expr::Call(Some(target), name, args) => {
            let target = eval(target, vars)?;
            let args: Vec<Value> = args
                .iter()
                .map(|a| eval(a, vars))
                .collect::<Result<_, _>>()?;
            match (name.as_str(), &target, args.as_slice()) {
                ("size", _, []) => size(&target),
                ("startsWith", Value::String(s), [Value::String(p)]) => {
                    Ok(json!(s.starts_with(p.as_str())))
                }
                ("endsWith", Value::String(s), [Value::String(p)]) => {
                    Ok(json!(s.ends_with(p.as_str())))
                }
                ("contains", Value::String(s), [Value::String(p)]) => {
                    Ok(json!(s.contains(p.as_str())))
                }
                _ => Err(CelError::Evaluation(format!("unsupported function {name}"))),
            }
        }
        Expr::Call(None, name, _) => {
            Err(CelError::Evaluation(format!("unsupported function {name}")))
        }
    }
}

fn as_bool(value: Value) -> Result<bool, CelError> {
    value
        .as_bool()
        .ok_or_else(|| CelError::Evaluation("expected a bool".into()))
}

fn size(value: &Value) -> Result<Value, CelError> {
    match value {
        Value::String(s) => Ok(json!(s.chars().count())),
        Value::Array(a) => Ok(json!(a.len())),
        Value::Object(m) => Ok(json!(m.len())),
        _ => Err(CelError::Evaluation("size() of a scalar".into())),
    }
}

fn compare(op: &str, left: &Value, right: &Value) -> Result<Value, CelError> {
    let ordering = || match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    let result = match op {
        "==" => left == right,
        "!=" => left != right,
        "in" => match right {
            Value::Array(items) => items.contains(left),
            Value::Object(map) => left.as_str().is_some_and(|k| map.contains_key(k)),
            _ => return Err(CelError::Evaluation("in needs a list or map".into())),
        },
        _ => {
            let ordering = ordering()
                .ok_or_else(|| CelError::Evaluation(format!("cannot compare with {op}")))?;
            match op {
                "<" => ordering.is_lt(),
                "<=" => ordering.is_le(),
                ">" => ordering.is_gt(),
                _ => ordering.is_ge(),
            }
        }
    };
    Ok(json!(result))
}

/// Evaluates a match condition; `variables` maps `request`, `object`, `oldObject`…
pub fn evaluate(expression: &str, variables: &Value) -> Result<bool, CelError> {
    as_bool(eval(&parse(expression)?, variables)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> Value {
        json!({
            "request": {"operation": "UPDATE", "dryRun": false, "namespace": "team-a",
                        "userInfo": {"username": "system:serviceaccount:kube-system:gc", "groups": ["system:serviceaccounts"]}},
            "object": {"metadata": {"name": "s", "labels": {"app": "web"}}, "data": {"a": "MQ==", "b": "Mg=="}},
            "oldObject": null
        })
    }

    #[test]
    fn expression_table() {
        let cases = [
            ("literal", "true", Ok(true)),
            ("equality", "request.operation == 'UPDATE'", Ok(true)),
            ("negation", "!request.dryRun", Ok(true)),
            (
                "string method",
                "request.userInfo.username.startsWith('system:serviceaccount:kube-system:')",
                Ok(true),
            ),
            (
                "in list",
                "request.namespace in ['kube-system', 'kube-public']",
                Ok(false),
            ),
            ("in map", "'app' in object.metadata.labels", Ok(true)),
            ("index", "object.metadata.labels['app'] == 'web'", Ok(true)),
            ("has present", "has(object.metadata.labels)", Ok(true)),
            ("has absent", "has(object.metadata.annotations)", Ok(false)),
            (
                "size",
                "size(object.data) > 1 && object.data.size() == 2",
                Ok(true),
            ),
            (
                "or short circuit",
                "request.operation == 'UPDATE' || object.missing.deeper",
                Ok(true),
            ),
            (
                "error absorbed by decisive side",
                "object.missing == 1 && false",
                Ok(false),
            ),
            (
                "grouping",
                "!(request.operation == 'CREATE' || request.operation == 'DELETE')",
                Ok(true),
            ),
            ("null comparison", "oldObject == null", Ok(true)),
        ];
        for (name, expression, expected) in cases {
            assert_eq!(evaluate(expression, &variables()), expected, "{name}");
        }
    }

    #[test]
    fn errors_table() {
        for expression in [
            "object.missing == 1",
            "unknownVar",
            "request.operation",
            "1 +",
            "'open",
            "object.data.frobnicate()",
        ] {
            assert!(evaluate(expression, &variables()).is_err(), "{expression}");
        }
    }
}
