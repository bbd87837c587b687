//! Conformance cases as data: `conformance/cases/*.yaml`.
//!
//! A case names its spec requirement (an id from
//! spec-mirror/sidepool/<revision>/requirements.yaml), quotes it, gives its
//! level, says which revisions of the texts it applies to, and scripts the
//! runner's side of the exchange.

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
    pub fixtures: std::collections::BTreeMap<String, Vec<Step>>,
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
    pub level: Level,
    /// Further requirement ids the case also exercises.
    #[serde(default)]
    pub covers: Vec<String>,
    /// What the target must offer for the case to run: `adapter` (world set-up and events).
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
    pub steps: Vec<Step>,
}

impl Case {
    /// Whether the case applies to revision `rev`.
    pub fn applies_to(&self, rev: SpecRevision) -> bool {
        self.revisions.is_empty() || self.revisions.iter().any(|r| SpecRevision::from_name(r).is_ok_and(|x| x == rev))
    }
}

pub use sidepool_reference::revision::SpecRevision;

/// A requirement level: the same type the requirement index uses.
pub use sidepool_spec_tools::text::Level;

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    Adapter,
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
    /// Sugar for expecting `peerswap_reject` with a reason code, id and hash as sent.
    ExpectReject(ExpectRejectStep),
    /// No sidepool message (or none named `message`) from the peer within the time.
    ExpectNothing { peer: String, within_ms: u64, #[serde(default)] message: Option<String> },
    /// The IUT closes the connection within the time.
    ExpectDisconnect { peer: String, within_ms: u64 },
    /// A non-sidepool Lightning message of this BOLT type (e.g. 19 for `pong`).
    ExpectType { peer: String, #[serde(rename = "type")] type_id: u16, #[serde(default)] within_ms: Option<u64> },
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
    Adapter { method: String, #[serde(default)] params: Value },
    /// Advance the IUT's simulated clock.
    AdvanceClock { seconds: u64 },
    /// Wait for an adapter event matching the field matchers.
    ExpectEvent(ExpectEventStep),
    /// No adapter event of this name (matching `fields`, if given) within the time.
    ExpectNoEvent { event: String, #[serde(default)] fields: serde_json::Map<String, Value>, within_ms: u64 },
    /// Every inner expectation must be met, in whatever order the messages arrive.
    AnyOrder(Vec<Step>),
    /// Exactly one of the inner expectations is met by the next message.
    OneOf(Vec<Step>),
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
    /// The expected `peerswap_reject_reason_code`.
    pub code: u16,
    /// The capture holding the `peerswap_init` sent (default `sent.peerswap_init`).
    #[serde(default)]
    pub of: Option<String>,
    #[serde(default)]
    pub within_ms: Option<u64>,
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
    Ok(file)
}

/// Replaces every `fixture` step by the fixture's steps (fixtures may not nest).
fn expand_fixtures(file: &mut CaseFile) -> Result<(), String> {
    for case in &mut file.cases {
        let mut steps = Vec::with_capacity(case.steps.len());
        for step in case.steps.drain(..) {
            match step {
                Step::Fixture(name) => {
                    let body = file.fixtures.get(&name).ok_or_else(|| format!("case {}: no fixture {name}", case.id))?;
                    if body.iter().any(|s| matches!(s, Step::Fixture(_))) {
                        return Err(format!("fixture {name} uses another fixture"));
                    }
                    steps.extend(body.iter().cloned());
                }
                other => steps.push(other),
            }
        }
        case.steps = steps;
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
