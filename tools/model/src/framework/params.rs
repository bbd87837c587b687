//! Parameters a spec author can turn: their definitions, and `--set NAME=VALUE`
//! parsing with errors that say what was wrong and what is allowed.

use std::collections::BTreeMap;
use std::fmt;

use super::property::SpecQuote;

/// What values a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number in `min..=max`.
    Int { min: i64, max: i64 },
    /// One of the listed names.
    Choice(&'static [&'static str]),
    /// `true` or `false`.
    Bool,
}

/// One parameter of a system's model.
#[derive(Clone, Copy, Debug)]
pub struct ParamDef {
    pub name: &'static str,
    /// The default, written as a user would write it after `=`.
    pub default: &'static str,
    pub kind: ParamKind,
    /// What it means, in one or two sentences.
    pub doc: &'static str,
    /// The spec sentence the default comes from, when it is one of the spec's numbers.
    pub spec: Option<SpecQuote>,
}

impl ParamDef {
    /// The allowed values, for `model list` and error messages.
    pub fn range(&self) -> String {
        match self.kind {
            ParamKind::Int { min, max } => format!("{min}..={max}"),
            ParamKind::Choice(names) => names.join("|"),
            ParamKind::Bool => "true|false".into(),
        }
    }

    /// Parses `text` as a value of this parameter.
    pub fn parse(&self, text: &str) -> Result<Value, ParamError> {
        let text = text.trim();
        match self.kind {
            ParamKind::Int { min, max } => {
                let v: i64 = text.replace('_', "").parse().map_err(|_| ParamError::NotANumber {
                    name: self.name,
                    value: text.to_string(),
                })?;
                if v < min || v > max {
                    return Err(ParamError::OutOfRange { name: self.name, value: v, range: self.range() });
                }
                Ok(Value::Int(v))
            }
            ParamKind::Choice(names) => names.iter().find(|n| **n == text).map(|n| Value::Choice(n)).ok_or_else(|| {
                ParamError::NotAChoice { name: self.name, value: text.to_string(), range: self.range() }
            }),
            ParamKind::Bool => match text {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(ParamError::NotAChoice { name: self.name, value: text.to_string(), range: self.range() }),
            },
        }
    }
}

/// A parameter's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    Int(i64),
    Choice(&'static str),
    Bool(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Choice(c) => f.write_str(c),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Why a `--set` could not be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamError {
    /// Not of the form `NAME=VALUE`.
    Malformed(String),
    UnknownName { name: String, known: Vec<&'static str> },
    NotANumber { name: &'static str, value: String },
    OutOfRange { name: &'static str, value: i64, range: String },
    NotAChoice { name: &'static str, value: String, range: String },
    /// The same parameter set twice.
    Repeated(&'static str),
    /// A combination of values the model cannot take (the system says why).
    Inconsistent(String),
    /// A parameter definition whose default does not parse (a bug in a system's table).
    BadDefault { name: &'static str, why: String },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Malformed(s) => write!(f, "`--set {s}`: expected NAME=VALUE"),
            ParamError::UnknownName { name, known } => {
                write!(f, "unknown parameter `{name}`; known: {}", known.join(", "))
            }
            ParamError::NotANumber { name, value } => write!(f, "`{name}={value}`: not a whole number"),
            ParamError::OutOfRange { name, value, range } => write!(f, "`{name}={value}`: outside {range}"),
            ParamError::NotAChoice { name, value, range } => write!(f, "`{name}={value}`: expected one of {range}"),
            ParamError::Repeated(name) => write!(f, "`{name}` is set more than once"),
            ParamError::Inconsistent(why) => f.write_str(why),
            ParamError::BadDefault { name, why } => write!(f, "parameter `{name}` has a default that does not parse: {why}"),
        }
    }
}

impl std::error::Error for ParamError {}

/// Every parameter of one system, each with its value (default or set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// In the order of the system's definitions.
    values: Vec<(&'static str, Value)>,
    /// The names set explicitly (the rest are defaults).
    set: Vec<&'static str>,
}

impl Settings {
    /// The defaults, then each `NAME=VALUE` of `assignments` in turn.
    pub fn resolve(defs: &[ParamDef], assignments: &[String]) -> Result<Settings, ParamError> {
        let mut values = Vec::with_capacity(defs.len());
        for d in defs {
            let v = d.parse(d.default).map_err(|e| ParamError::BadDefault { name: d.name, why: e.to_string() })?;
            values.push((d.name, v));
        }
        let mut set: Vec<&'static str> = Vec::new();
        let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, d) in defs.iter().enumerate() {
            by_name.insert(d.name, i);
        }
        for a in assignments {
            let (name, text) = a.split_once('=').ok_or_else(|| ParamError::Malformed(a.clone()))?;
            let name = name.trim();
            let i = *by_name.get(name).ok_or_else(|| ParamError::UnknownName {
                name: name.to_string(),
                known: defs.iter().map(|d| d.name).collect(),
            })?;
            let (Some(d), Some(slot)) = (defs.get(i), values.get_mut(i)) else {
                return Err(ParamError::UnknownName { name: name.to_string(), known: Vec::new() });
            };
            if set.contains(&d.name) {
                return Err(ParamError::Repeated(d.name));
            }
            slot.1 = d.parse(text)?;
            set.push(d.name);
        }
        Ok(Settings { values, set })
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The value of an `Int` parameter; `None` when there is no such parameter or it is not a number.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Int(v) => Some(v),
            _ => None,
        }
    }

    pub fn choice(&self, name: &str) -> Option<&'static str> {
        match self.get(name)? {
            Value::Choice(c) => Some(c),
            _ => None,
        }
    }

    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Every parameter with its value, in definition order.
    pub fn values(&self) -> &[(&'static str, Value)] {
        &self.values
    }

    /// Every value as `name=value`, as a check report shows its settings.
    pub fn shown(&self) -> Vec<String> {
        self.values.iter().map(|(n, v)| format!("{n}={v}")).collect()
    }

    /// Whether `name` was set explicitly.
    pub fn is_set(&self, name: &str) -> bool {
        self.set.contains(&name)
    }

    /// `name=value` for the parameters set explicitly, in the order given (for report headers).
    pub fn explicit(&self) -> Vec<String> {
        self.set.iter().filter_map(|n| self.get(n).map(|v| format!("{n}={v}"))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFS: &[ParamDef] = &[
        ParamDef { name: "margin", default: "4032", kind: ParamKind::Int { min: 0, max: 100_000 }, doc: "", spec: None },
        ParamDef { name: "script", default: "as_written", kind: ParamKind::Choice(&["as_written", "fixed"]), doc: "", spec: None },
        ParamDef { name: "crash", default: "false", kind: ParamKind::Bool, doc: "", spec: None },
    ];

    fn set(a: &[&str]) -> Result<Settings, ParamError> {
        Settings::resolve(DEFS, &a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn defaults_then_assignments() {
        let s = set(&[]).unwrap();
        assert_eq!((s.int("margin"), s.choice("script"), s.flag("crash")), (Some(4032), Some("as_written"), Some(false)));
        let s = set(&["margin=2_000", "script = fixed", "crash=true"]).unwrap();
        assert_eq!((s.int("margin"), s.choice("script"), s.flag("crash")), (Some(2000), Some("fixed"), Some(true)));
        assert!(s.is_set("margin") && !set(&[]).unwrap().is_set("margin"));
        assert_eq!(s.explicit(), vec!["margin=2000", "script=fixed", "crash=true"]);
        assert_eq!(s.int("script"), None);
    }

    #[test]
    fn every_error_names_the_problem() {
        let msg = |a: &[&str]| set(a).unwrap_err().to_string();
        assert_eq!(msg(&["margin"]), "`--set margin`: expected NAME=VALUE");
        assert_eq!(msg(&["gap=1"]), "unknown parameter `gap`; known: margin, script, crash");
        assert_eq!(msg(&["margin=lots"]), "`margin=lots`: not a whole number");
        assert_eq!(msg(&["margin=-1"]), "`margin=-1`: outside 0..=100000");
        assert_eq!(msg(&["script=fix"]), "`script=fix`: expected one of as_written|fixed");
        assert_eq!(msg(&["crash=yes"]), "`crash=yes`: expected one of true|false");
        assert_eq!(msg(&["margin=1", "margin=2"]), "`margin` is set more than once");
    }

    #[test]
    fn a_bad_default_is_reported_not_panicked() {
        let bad = [ParamDef { name: "x", default: "nine", kind: ParamKind::Int { min: 0, max: 9 }, doc: "", spec: None }];
        assert!(matches!(Settings::resolve(&bad, &[]), Err(ParamError::BadDefault { name: "x", .. })));
    }
}
