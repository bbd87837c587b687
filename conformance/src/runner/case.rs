//! Conformance cases as data: `conformance/cases/*.yaml`.
//!
//! A case names its spec requirement (an id from
//! spec-mirror/sidepool/<revision>/requirements.yaml), quotes it, gives its
//! level, says which revisions of the texts it applies to, and scripts the
//! runner's side of the exchange. Every assertion step is *graded*: it states
//! the level it rests on (the case's own level unless the step says otherwise),
//! so that only a MUST / MUST NOT miss fails a case (see [`super::grade`]).

use super::grade::Grade;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// What the file covers, for humans.
    pub title: String,
    /// Anchored values (`&init`) the cases refer to; not read by the runner.
    #[serde(default)]
    pub definitions: Option<Value>,
    /// Named step lists that cases splice in with `- fixture: name`.
    #[serde(default)]
    pub fixtures: std::collections::BTreeMap<String, Vec<StepSpec>>,
    pub cases: Vec<Case>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Names its spec section, e.g. `sp10.receiving.timeouts.3`; unique across all files.
    pub id: String,
    /// The requirement id (spec-mirror/sidepool/<revision>/requirements.yaml) this case checks.
    pub requirement: String,
    /// The requirement's sentence, verbatim (as one of the revisions the case applies to words it).
    pub quote: String,
    /// The requirement's level: the default grade of the case's assertions.
    pub level: Level,
    /// Further requirement ids the case also exercises (each through a step naming it).
    #[serde(default)]
    pub covers: Vec<String>,
    /// What the target must offer for the case to run: `adapter` (world set-up
    /// and events) and optional capabilities the IUT declares (`forwarding`, ...).
    #[serde(default)]
    pub needs: Vec<Need>,
    #[serde(default)]
    pub comment: Option<String>,
    /// The revisions of the texts the case applies to (`seed`, `upstream-50799b4`, `upstream`);
    /// empty: every revision. A run at another revision does not run it.
    #[serde(default)]
    pub revisions: Vec<String>,
    /// Definitions (spec-mirror/sidepool/definitions.yaml) its expected values are computed from.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// For a case that applies to some revisions only: how the revisions differ here. A failure
    /// carries it, so an implementation of another revision sees why.
    #[serde(default)]
    pub revision_note: Option<String>,
    pub steps: Vec<StepSpec>,
}

impl Case {
    /// Whether the case applies to revision `rev`.
    pub fn applies_to(&self, rev: SpecRevision) -> bool {
        self.revisions.is_empty() || self.revisions.iter().any(|r| SpecRevision::from_name(r).is_ok_and(|x| x == rev))
    }
}

pub use sidepool_reference::revision::SpecRevision;

impl Case {
    /// The case's steps as reports show them, nested steps after their parent
    /// with a greater `depth`: what each does, and the grade and requirement it
    /// asserts at where the step sets them.
    pub fn step_outline(&self) -> Vec<Value> {
        fn walk(steps: &[StepSpec], depth: usize, out: &mut Vec<Value>) {
            for s in steps {
                let mut line = serde_json::Map::new();
                line.insert("depth".into(), Value::from(depth));
                line.insert("step".into(), Value::from(s.step.brief()));
                if let Some(level) = s.meta.level {
                    line.insert("level".into(), Value::from(level.as_str()));
                }
                if let Some(r) = &s.meta.requirement {
                    line.insert("requirement".into(), Value::from(r.as_str()));
                }
                out.push(Value::Object(line));
                walk(s.step.children(), depth + 1, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.steps, 0, &mut out);
        out
    }
}


/// A requirement level: the same type the requirement index uses.
pub use sidepool_spec_tools::text::Level;

/// What a case needs from its target.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// World set-up and events (conformance/ADAPTER.md); passive mode has none.
    Adapter,
    /// The IUT forwards peerswaps (SIDEPOOL-10: "Sidepool participants SHOULD
    /// implement forwardable peerswaps in sidepools."), declared in `hello`.
    Forwarding,
    /// The IUT can simulate a restart (the adapter's `restart`), declared in `hello`.
    Restart,
}

impl Need {
    /// The capability name an IUT declares in `hello` (`None`: not a capability).
    pub fn capability(self) -> Option<&'static str> {
        match self {
            Need::Adapter => None,
            Need::Forwarding => Some("forwarding"),
            Need::Restart => Some("restart"),
        }
    }
}

/// One step with its grading metadata. In YAML a step is a map with one step
/// key (`expect: {...}`) and optional metadata keys beside it:
///
/// ```yaml
/// - expect_reject: {peer: alice, code: 3}
///   level: MAY                        # the grade of this assertion (default: the case's level)
///   requirement: sp10.rejecting-peerswap.2   # the requirement it rests on (default: the case's)
///   reading: E-80                     # with `level: reading`: the ERRATA entry
///   note: "the reference sends 3"     # shown when the assertion is not met
///   label: offer                      # names the step, for `after:`
///   after: offer                      # expectations: only evidence that arrived after that step
/// ```
#[derive(Clone, Debug)]
pub struct StepSpec {
    pub step: Step,
    pub meta: StepMeta,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StepMeta {
    #[serde(default)]
    pub level: Option<Grade>,
    #[serde(default)]
    pub requirement: Option<String>,
    #[serde(default)]
    pub reading: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
    /// Further requirements the assertion exercises at the same grade (for
    /// `spec coverage`; the runner reports misses against `requirement`).
    #[serde(default)]
    pub covers: Vec<String>,
}

const META_KEYS: &[&str] = &["level", "requirement", "reading", "note", "label", "after", "covers"];

impl<'de> Deserialize<'de> for StepSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(d)?;
        let Value::Object(mut map) = value else {
            return Err(D::Error::custom("a step is a map: `- send: {...}`"));
        };
        let mut meta = serde_json::Map::new();
        for key in META_KEYS {
            if let Some(v) = map.remove(*key) {
                meta.insert((*key).to_owned(), v);
            }
        }
        if map.len() != 1 {
            let keys: Vec<&String> = map.keys().collect();
            return Err(D::Error::custom(format!("a step has exactly one step key beside {META_KEYS:?}, found {keys:?}")));
        }
        let step: Step = serde_json::from_value(Value::Object(map)).map_err(D::Error::custom)?;
        let meta: StepMeta = serde_json::from_value(Value::Object(meta)).map_err(D::Error::custom)?;
        if meta.level == Some(Grade::Reading) && meta.reading.is_none() {
            return Err(D::Error::custom("`level: reading` needs `reading: E-NN` (the ERRATA entry)"));
        }
        Ok(StepSpec { step, meta })
    }
}

impl From<Step> for StepSpec {
    fn from(step: Step) -> StepSpec {
        StepSpec { step, meta: StepMeta::default() }
    }
}

/// One step of a script. In YAML each step is a one-key map: `- send: {...}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Open a BOLT 8 connection as a named peer and run `init` (and the SIDEPOOL-01 feature exchange).
    Connect(ConnectStep),
    /// Close a peer's connection.
    Disconnect { peer: String },
    /// Send a message built from fields, or raw bytes.
    Send(SendStep),
    /// Wait for a sidepool message matching the field matchers.
    Expect(ExpectStep),
    /// The answer to `sent.peerswap_init` (or `of`) must be a `peerswap_reject`
    /// (an accept, or no answer, misses at the step's level) echoing the init's
    /// id and hash; its reason code is compared with `code` at MAY level (the
    /// code table is optional). Inside `any_order` / `one_of` it only matches.
    ExpectReject(ExpectRejectStep),
    /// The answer to `sent.peerswap_init` (or `of`) is a `peerswap_accept`
    /// echoing the init's id and hash, with `fields` (at the step's level). A
    /// reject instead is MAY-level ("The receiver MAY reject the peerswap for
    /// other reasons."); no answer at all is a reading (ERRATA E-101).
    ExpectAccept(ExpectAcceptStep),
    /// No sidepool message (or none named `message`, or none of it matching
    /// `fields`: "no init above this amount") from the peer within the time.
    ExpectNothing {
        peer: String,
        within_ms: u64,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        fields: serde_json::Map<String, Value>,
    },
    /// The IUT closes the connection cleanly (EOF, or a BOLT 1 `warning` /
    /// `error` and then EOF) within the time, after the provoking step.
    ExpectDisconnect { peer: String, within_ms: u64 },
    /// A non-sidepool Lightning message of this BOLT type. A `pong` (19) must
    /// answer a `ping` the case sent in the window, with its `num_pong_bytes`.
    ExpectType {
        peer: String,
        #[serde(rename = "type")]
        type_id: u16,
        #[serde(default)]
        within_ms: Option<u64>,
    },
    /// Assert on a captured value (e.g. `iut.init_features.alice`), with a field matcher.
    Check { path: String, is: Value },
    /// Compute the SIDEPOOL-06 HTLC output key (x-only hex) from a captured
    /// `peerswap_init` and `peerswap_accept`, and capture it.
    DeriveHtlcKey { init: String, accept: String, capture: String },
    /// Decrypt a captured `peerswap_success` key with the receiver's ephemeral
    /// secret (hex) and check it is the scalar behind the sender's ephemeral key.
    CheckHandover { success: String, receiver_secret: String, sender_ephemeral: String },
    /// The steps of a named fixture of the same file (spliced in at load time).
    Fixture(String),
    /// One adapter request; the IUT must answer ok.
    Adapter {
        method: String,
        #[serde(default)]
        params: Value,
    },
    /// Advance the IUT's simulated clock.
    AdvanceClock { seconds: u64 },
    /// Wait for an adapter event matching the field matchers.
    ExpectEvent(ExpectEventStep),
    /// No adapter event of this name (matching `fields`, if given) within the time.
    ExpectNoEvent {
        event: String,
        #[serde(default)]
        fields: serde_json::Map<String, Value>,
        within_ms: u64,
    },
    /// Every inner expectation must be met, in whatever order the messages arrive.
    AnyOrder(Vec<StepSpec>),
    /// One of the inner expectations is met (the spec allows several outcomes).
    OneOf(Vec<StepSpec>),
    /// Every inner expectation is met, each one's evidence before the next one's:
    /// on one source by arrival order; across sources by a sync barrier taken
    /// when the later evidence arrives (conformance/CASES.md).
    InOrder(Vec<StepSpec>),
    /// The in-Lightning payment of one peerswap to `peer`: `htlc_add` events
    /// collected until they total `amount_msat`, each checked against the spec's
    /// per-payment rules, then no further part (conformance/CASES.md).
    ExpectPayment(ExpectPaymentStep),
    /// Captures a literal value (e.g. the id and hash of a raw message the case
    /// sends, for `expect_reject: {of: ...}`).
    Remember {
        #[serde(rename = "as")]
        name: String,
        value: Value,
    },
    /// Runs its (stimulus) steps once for each item of a captured list, the
    /// item captured under `as` (`- for_each: {in: up, as: part, steps: [...]}`).
    ForEach(ForEachStep),
    /// A liveness probe: a `ping` on the peer's connection and its matching
    /// `pong`, so that an absence asserted before it is the IUT's choice, not a
    /// hang (BOLT 1 via SIDEPOOL-01's "normal Lightning Network communications protocol").
    Alive { peer: String },
}

impl Step {
    /// The name of the step kind, as the YAML key spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Connect(_) => "connect",
            Step::Disconnect { .. } => "disconnect",
            Step::Send(_) => "send",
            Step::Expect(_) => "expect",
            Step::ExpectReject(_) => "expect_reject",
            Step::ExpectAccept(_) => "expect_accept",
            Step::ExpectNothing { .. } => "expect_nothing",
            Step::ExpectDisconnect { .. } => "expect_disconnect",
            Step::ExpectType { .. } => "expect_type",
            Step::Check { .. } => "check",
            Step::DeriveHtlcKey { .. } => "derive_htlc_key",
            Step::CheckHandover { .. } => "check_handover",
            Step::Fixture(_) => "fixture",
            Step::Adapter { .. } => "adapter",
            Step::AdvanceClock { .. } => "advance_clock",
            Step::ExpectEvent(_) => "expect_event",
            Step::ExpectNoEvent { .. } => "expect_no_event",
            Step::AnyOrder(_) => "any_order",
            Step::OneOf(_) => "one_of",
            Step::InOrder(_) => "in_order",
            Step::ExpectPayment(_) => "expect_payment",
            Step::Alive { .. } => "alive",
            Step::ForEach(_) => "for_each",
            Step::Remember { .. } => "remember",
        }
    }

    /// What the step does, in one line for reports: its kind and its object
    /// (`send alice peerswap_init`, `expect_event payment_sent`, `any_order`).
    pub fn brief(&self) -> String {
        let object = match self {
            Step::Connect(c) => c.peer.clone(),
            Step::Disconnect { peer } | Step::ExpectDisconnect { peer, .. } | Step::Alive { peer } => peer.clone(),
            Step::Send(s) => format!("{} {}", s.peer, s.message.as_deref().unwrap_or("raw bytes")),
            Step::Expect(e) => format!("{} {}", e.peer, e.message),
            Step::ExpectReject(e) => format!("{} peerswap_reject", e.peer),
            Step::ExpectAccept(e) => format!("{} peerswap_accept", e.peer),
            Step::ExpectNothing { peer, message, .. } => format!("{peer} {}", message.as_deref().unwrap_or("any message")),
            Step::ExpectType { peer, type_id, .. } => format!("{peer} type {type_id}"),
            Step::Check { path, .. } => path.clone(),
            Step::DeriveHtlcKey { capture, .. } => capture.clone(),
            Step::CheckHandover { success, .. } => success.clone(),
            Step::Fixture(name) => name.clone(),
            Step::Adapter { method, .. } => method.clone(),
            Step::AdvanceClock { seconds } => format!("{seconds} s"),
            Step::ExpectEvent(e) => e.event.clone(),
            Step::ExpectNoEvent { event, .. } => event.clone(),
            Step::AnyOrder(_) | Step::OneOf(_) | Step::InOrder(_) => String::new(),
            Step::ExpectPayment(p) => p.peer.clone(),
            Step::ForEach(f) => format!("{} as {}", f.list, f.item),
            Step::Remember { name, .. } => name.clone(),
        };
        if object.is_empty() {
            self.kind().to_owned()
        } else {
            format!("{} {object}", self.kind())
        }
    }

    /// The steps nested in this one (`any_order`, `one_of`, `in_order`, `for_each`).
    pub fn children(&self) -> &[StepSpec] {
        match self {
            Step::AnyOrder(s) | Step::OneOf(s) | Step::InOrder(s) => s,
            Step::ForEach(f) => &f.steps,
            _ => &[],
        }
    }

    /// Whether the step acts on the IUT (its evidence window starts new expectations).
    pub fn is_stimulus(&self) -> bool {
        matches!(self, Step::Connect(_) | Step::Disconnect { .. } | Step::Send(_) | Step::Adapter { .. } | Step::AdvanceClock { .. } | Step::ForEach(_))
    }

    /// Whether the step asserts something about the IUT (and so carries a grade).
    pub fn is_assertion(&self) -> bool {
        matches!(
            self,
            Step::Expect(_)
                | Step::ExpectReject(_)
                | Step::ExpectAccept(_)
                | Step::ExpectNothing { .. }
                | Step::ExpectDisconnect { .. }
                | Step::ExpectType { .. }
                | Step::Check { .. }
                | Step::CheckHandover { .. }
                | Step::ExpectEvent(_)
                | Step::ExpectNoEvent { .. }
                | Step::AnyOrder(_)
                | Step::OneOf(_)
                | Step::InOrder(_)
                | Step::ExpectPayment(_)
                | Step::Alive { .. }
        )
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectStep {
    pub peer: String,
    /// BOLT feature bits for our `init` (default: 1263 only). `[]` signals no sidepool support.
    #[serde(default)]
    pub init_features: Option<Vec<u32>>,
    /// Our SIDEPOOL feature bits, sent once the IUT's init signals 1263 (default: [1]). `null`: send none.
    #[serde(default = "default_sidepool_features")]
    pub sidepool_features: Option<Vec<u64>>,
    /// Raw hex of `my_sidepool_features`'s TLV value, overriding `sidepool_features` (for malformed sets).
    #[serde(default)]
    pub sidepool_features_raw: Option<String>,
    /// Wait for the IUT's `my_sidepool_features` before the next step (default true when we send ours).
    #[serde(default)]
    pub wait_ready: Option<bool>,
}

fn default_sidepool_features() -> Option<Vec<u64>> {
    Some(vec![1])
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendStep {
    pub peer: String,
    /// A message name; its `fields` use the JSON field view (`$capture` strings substituted).
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub fields: Option<Value>,
    #[serde(default)]
    pub unknown_tlvs: Option<Value>,
    /// A whole Lightning message as hex (2-byte type first), sent as is.
    #[serde(default)]
    pub raw: Option<String>,
    /// Capture the sent fields under this name (default: `sent.<message>`).
    #[serde(default)]
    pub capture: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectStep {
    pub peer: String,
    pub message: String,
    /// Field path (dots into composite fields) -> matcher.
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    #[serde(default)]
    pub within_ms: Option<u64>,
    /// Capture the received fields under this name (default: `got.<message>`).
    #[serde(default)]
    pub capture: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectRejectStep {
    pub peer: String,
    /// The reason code the reference sends here. Compared at MAY level: the
    /// spec's table is optional ("`peerswap_reject_reason_code` MAY have the
    /// following values"), so another code is informational, never a failure.
    #[serde(default)]
    pub code: Option<u16>,
    /// The capture holding the `peerswap_init` sent (default `sent.peerswap_init`).
    #[serde(default)]
    pub of: Option<String>,
    #[serde(default)]
    pub within_ms: Option<u64>,
    /// Capture the reject's fields under this name (default: `got.peerswap_reject`).
    #[serde(default)]
    pub capture: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectAcceptStep {
    pub peer: String,
    /// The capture holding the `peerswap_init` sent (default `sent.peerswap_init`).
    #[serde(default)]
    pub of: Option<String>,
    /// Further matchers on the accept's fields.
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    #[serde(default)]
    pub within_ms: Option<u64>,
    /// Capture the accept's fields under this name (default: `got.peerswap_accept`).
    #[serde(default)]
    pub capture: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectEventStep {
    pub event: String,
    #[serde(default)]
    pub fields: serde_json::Map<String, Value>,
    #[serde(default)]
    pub within_ms: Option<u64>,
    #[serde(default)]
    pub capture: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForEachStep {
    /// A captured list (e.g. `payment`, the parts an `expect_payment` saw).
    #[serde(rename = "in")]
    pub list: String,
    /// The capture name each item is given in turn.
    #[serde(rename = "as")]
    pub item: String,
    /// Stimulus steps only (`send`, `adapter`, `advance_clock`).
    pub steps: Vec<StepSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectPaymentStep {
    /// The local offerrer the IUT pays (a node id, usually `$peer.<name>.node_id`).
    pub peer: String,
    /// The total the parts must reach exactly (`$capture` or a number).
    pub amount_msat: Value,
    /// The maximum HTLC towards the peer: each part MUST NOT exceed it (and, at
    /// `reading` level E-60, is below it).
    pub max_htlc_msat: Value,
    /// Matchers every part must meet (hash, `cltv_expiry`, onion fields ...);
    /// `part` names the part being checked (`{same_as: part.amount_msat}`).
    #[serde(default)]
    pub each: serde_json::Map<String, Value>,
    #[serde(default)]
    pub within_ms: Option<u64>,
    /// How long to watch for a part beyond the total (default 300 ms; `--quiet-ms` overrides).
    #[serde(default)]
    pub quiet_ms: Option<u64>,
    /// Capture the parts (a list of `htlc_add` events) under this name (default: `payment`).
    #[serde(default)]
    pub capture: Option<String>,
}

/// Every `*.yaml` under `dir`, parsed; a file that does not parse is an error naming it.
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, CaseFile)>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        let file = parse_case_file(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        for c in &file.cases {
            if !ids.insert(c.id.clone()) {
                return Err(format!("{}: case id {} is not unique", p.display(), c.id));
            }
            if let Some(bad) = c.revisions.iter().find(|r| SpecRevision::from_name(r).is_err()) {
                return Err(format!("{}: case {}: unknown revision `{bad}`", p.display(), c.id));
            }
        }
        out.push((p, file));
    }
    Ok(out)
}

/// One case file's text, parsed, with its fixtures spliced in (the fuzz
/// target `case_yaml` runs this on arbitrary text).
pub fn parse_case_file(text: &str) -> Result<CaseFile, String> {
    // Through a JSON value: serde_yaml reads enums only from YAML tags, the JSON
    // model takes the one-key-map form (`- send: {...}`) the case files use.
    let mut yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    // `<<: *anchor` merge keys let a case override one field of a shared message.
    yaml.apply_merge().map_err(|e| e.to_string())?;
    let value: Value = serde_json::to_value(&yaml).map_err(|e| e.to_string())?;
    let mut file: CaseFile = serde_json::from_value(value).map_err(|e| e.to_string())?;
    expand_fixtures(&mut file)?;
    check_labels(&file)?;
    Ok(file)
}

/// Replaces every `fixture` step by the fixture's steps (fixtures may not nest).
/// A fixture step's own metadata is not allowed (the fixture's steps carry theirs).
fn expand_fixtures(file: &mut CaseFile) -> Result<(), String> {
    for case in &mut file.cases {
        let mut steps = Vec::with_capacity(case.steps.len());
        for spec in case.steps.drain(..) {
            match spec.step {
                Step::Fixture(name) => {
                    if spec.meta != StepMeta::default() {
                        return Err(format!("case {}: fixture {name} cannot carry step metadata", case.id));
                    }
                    let body = file.fixtures.get(&name).ok_or_else(|| format!("case {}: no fixture {name}", case.id))?;
                    if body.iter().any(|s| matches!(s.step, Step::Fixture(_))) {
                        return Err(format!("fixture {name} uses another fixture"));
                    }
                    steps.extend(body.iter().cloned());
                }
                _ => steps.push(spec),
            }
        }
        case.steps = steps;
    }
    Ok(())
}

/// Every `after:` names a label of an earlier step of the same case (or
/// `case_start`), and labels are unique within a case.
fn check_labels(file: &CaseFile) -> Result<(), String> {
    for case in &file.cases {
        let mut seen = std::collections::BTreeSet::new();
        for (i, spec) in case.steps.iter().enumerate() {
            if let Some(after) = &spec.meta.after {
                if after != "case_start" && !seen.contains(after.as_str()) {
                    return Err(format!("case {}: step {} says `after: {after}`, but no earlier step has that label", case.id, i + 1));
                }
            }
            if let Some(label) = &spec.meta.label {
                if label == "case_start" || !seen.insert(label.as_str()) {
                    return Err(format!("case {}: label {label} is reserved or not unique", case.id));
                }
            }
        }
    }
    Ok(())
}

/// The cases directory: `$SIDEPOOL_CASES`, else `./conformance/cases`, else the source tree's.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SIDEPOOL_CASES") {
        return PathBuf::from(d);
    }
    let local = PathBuf::from("conformance/cases");
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}
