//! Graded assertions: what a missed assertion means for a case's verdict.
//!
//! A verdict is a claim about the spec. Only an assertion that rests on a MUST
//! or MUST NOT can fail a case; a missed SHOULD is `non_strict`; a MAY the IUT
//! did not take, or a difference from one of the reference's readings of an
//! open or ambiguous text (ERRATA), is `informational`, and the report says what
//! was seen and what the reference does.

use super::case::Level;
use serde::Deserialize;

/// The level an assertion rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Grade {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    #[serde(rename = "MAY")]
    May,
    /// A choice the spec leaves open or words it leaves ambiguous: the
    /// reference's reading (an ERRATA entry), never the rule.
    #[serde(rename = "reading")]
    Reading,
}

impl Grade {
    pub fn from_level(level: Level) -> Grade {
        match level {
            Level::Must => Grade::Must,
            Level::MustNot => Grade::MustNot,
            Level::Should => Grade::Should,
            Level::ShouldNot => Grade::ShouldNot,
            Level::May => Grade::May,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Must => "MUST",
            Grade::MustNot => "MUST NOT",
            Grade::Should => "SHOULD",
            Grade::ShouldNot => "SHOULD NOT",
            Grade::May => "MAY",
            Grade::Reading => "reading",
        }
    }

    /// Whether a miss of this grade fails the case.
    pub fn is_strict(self) -> bool {
        matches!(self, Grade::Must | Grade::MustNot)
    }

    /// What a miss of this grade makes of the case.
    pub fn miss(self) -> Miss {
        match self {
            Grade::Must | Grade::MustNot => Miss::Fail,
            Grade::Should | Grade::ShouldNot => Miss::NonStrict,
            Grade::May | Grade::Reading => Miss::Informational,
        }
    }
}

/// The consequence of a missed assertion, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Miss {
    Informational,
    NonStrict,
    Fail,
}

/// One assertion that was not met, as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// 1-based index of the step in the expanded case.
    pub step: usize,
    pub grade: Grade,
    /// The requirement the assertion rests on.
    pub requirement: String,
    /// With `Grade::Reading`: the ERRATA entry.
    pub reading: Option<String>,
    /// What was seen (or not seen).
    pub seen: String,
    /// What the reference does, or why the assertion is at this grade.
    pub note: Option<String>,
}

impl Finding {
    /// One line for terminals and reports: `step 4 [MAY sp10.rejecting-peerswap.2]: ...`.
    pub fn line(&self) -> String {
        let mut s = format!("step {} [{}", self.step, self.grade.as_str());
        if let Some(r) = &self.reading {
            s.push(' ');
            s.push_str(r);
        }
        s.push(' ');
        s.push_str(&self.requirement);
        s.push_str("]: ");
        s.push_str(&self.seen);
        if let Some(n) = &self.note {
            s.push_str(" (");
            s.push_str(n);
            s.push(')');
        }
        s
    }
}

/// The worst consequence among the findings, if any.
pub fn worst(findings: &[Finding]) -> Option<Miss> {
    findings.iter().map(|f| f.grade.miss()).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(grade: Grade) -> Finding {
        Finding { step: 1, grade, requirement: "r".into(), reading: None, seen: "x".into(), note: None }
    }

    #[test]
    fn only_must_and_must_not_fail() {
        assert_eq!(worst(&[finding(Grade::May), finding(Grade::Reading)]), Some(Miss::Informational));
        assert_eq!(worst(&[finding(Grade::Should), finding(Grade::May)]), Some(Miss::NonStrict));
        assert_eq!(worst(&[finding(Grade::ShouldNot)]), Some(Miss::NonStrict));
        assert_eq!(worst(&[finding(Grade::May), finding(Grade::MustNot)]), Some(Miss::Fail));
        assert_eq!(worst(&[finding(Grade::Must)]), Some(Miss::Fail));
        assert_eq!(worst(&[]), None);
    }

    #[test]
    fn grades_read_from_yaml_words() {
        let g: Vec<Grade> = serde_json::from_str(r#"["MUST","MUST NOT","SHOULD","SHOULD NOT","MAY","reading"]"#).unwrap();
        assert_eq!(g, [Grade::Must, Grade::MustNot, Grade::Should, Grade::ShouldNot, Grade::May, Grade::Reading]);
        assert!(serde_json::from_str::<Grade>(r#""must""#).is_err());
    }

    #[test]
    fn a_finding_line_names_grade_reading_and_requirement() {
        let f = Finding { step: 4, grade: Grade::Reading, requirement: "sp10.x.1".into(), reading: Some("E-60".into()), seen: "a part equals the maximum".into(), note: Some("the reference reads the maximum as inclusive".into()) };
        assert_eq!(f.line(), "step 4 [reading E-60 sp10.x.1]: a part equals the maximum (the reference reads the maximum as inclusive)");
    }
}
