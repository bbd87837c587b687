//! `report html`: one self-contained HTML page (inline CSS and JS, nothing fetched) from one
//! or more `--json` reports, side by side: a summary by section and by requirement level, a
//! grid of cases x implementations, and each case with its quoted requirement, steps, reason,
//! findings, diagnostics and decoded wire transcript.
//!
//! Pure: reports in, a string out. Everything taken from a report is escaped (a report
//! carries IUT-controlled text), and every list is bounded so a long run gives a readable file.

use super::report::{markup_escape as escape, Verdict};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The most transcript rows one case shows per implementation; the JSON report has the rest.
pub const MAX_TRANSCRIPT_ROWS: usize = 300;
/// The longest hex a transcript row shows.
const MAX_HEX_CHARS: usize = 4096;

/// The order verdicts are shown in: worst first.
const VERDICT_ORDER: [Verdict; 7] =
    [Verdict::Fail, Verdict::Error, Verdict::NotRun, Verdict::NonStrict, Verdict::Informational, Verdict::Unsupported, Verdict::Pass];

/// One `--json` report, checked and reduced to what the page shows.
#[derive(Debug, Clone)]
pub struct ReportView {
    /// The column heading: the IUT's name, its variant or defect, and where needed the file.
    pub label: String,
    pub revision: Option<String>,
    pub strict: bool,
    pub stopped: Option<String>,
    pub cases: Vec<CaseView>,
}

#[derive(Debug, Clone)]
pub struct CaseView {
    pub id: String,
    pub section: String,
    pub verdict: Verdict,
    pub known_failure: bool,
    pub requirement: String,
    pub level: String,
    pub quote: String,
    pub reason: Option<String>,
    pub findings: Vec<Value>,
    pub diagnostics: Vec<String>,
    pub steps: Vec<Value>,
    pub duration_ms: u64,
    /// At most [`MAX_TRANSCRIPT_ROWS`] entries: the first ones.
    pub transcript: Vec<Value>,
    /// How many entries the report had.
    pub transcript_total: usize,
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn list_at(v: &Value, key: &str) -> Vec<Value> {
    v.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Reads a `--json` report; `source` names it in errors (its path).
pub fn parse_report(text: &str, source: &str) -> Result<ReportView, String> {
    read_report(text.as_bytes(), source)
}

/// Reads a `--json` report from `reader` case by case: memory holds one case's JSON at a
/// time, and each case keeps at most [`MAX_TRANSCRIPT_ROWS`] transcript entries.
pub fn read_report(reader: impl std::io::Read, source: &str) -> Result<ReportView, String> {
    let raw: RawReport = serde_json::from_reader(std::io::BufReader::new(reader)).map_err(|e| {
        if e.is_data() {
            format!("{source}: not a sidepool-conformance --json report ({e})")
        } else {
            format!("{source}: not JSON ({e})")
        }
    })?;
    let Some(iut) = raw.iut.filter(Value::is_object) else {
        return Err(format!("{source}: not a sidepool-conformance --json report (no \"iut\" object)"));
    };
    let mut label = str_at(&iut, "name").unwrap_or("unnamed IUT").to_owned();
    for extra in ["variant", "defect"] {
        if let Some(x) = str_at(&iut, extra) {
            let _ = write!(label, " ({extra} {x})");
        }
    }
    let revision = raw.spec.as_ref().and_then(|s| str_at(s, "revision")).or_else(|| str_at(&iut, "spec")).map(str::to_owned);
    Ok(ReportView { label, revision, strict: raw.strict.unwrap_or(false), stopped: raw.stopped, cases: raw.cases.0 })
}

#[derive(serde::Deserialize)]
struct RawReport {
    #[serde(default)]
    iut: Option<Value>,
    #[serde(default)]
    spec: Option<Value>,
    #[serde(default)]
    strict: Option<bool>,
    #[serde(default)]
    stopped: Option<String>,
    cases: Cases,
}

/// The `cases` list, read one case at a time.
struct Cases(Vec<CaseView>);

impl<'de> serde::Deserialize<'de> for Cases {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Cases;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of cases")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Cases, A::Error> {
                let mut out = Vec::new();
                while let Some(c) = seq.next_element::<Value>()? {
                    out.push(case_view(c, out.len()).map_err(serde::de::Error::custom)?);
                }
                Ok(Cases(out))
            }
        }
        d.deserialize_seq(Visit)
    }
}

fn case_view(mut c: Value, n: usize) -> Result<CaseView, String> {
    let id = str_at(&c, "id").ok_or_else(|| format!("case {n} has no \"id\""))?.to_owned();
    let verdict_name = str_at(&c, "verdict").ok_or_else(|| format!("case {id} has no \"verdict\""))?;
    let verdict = Verdict::from_name(verdict_name).ok_or_else(|| format!("case {id}: unknown verdict {verdict_name:?}"))?;
    let mut transcript = c.get_mut("transcript").map(Value::take).and_then(|t| match t {
        Value::Array(a) => Some(a),
        _ => None,
    });
    let total = transcript.as_ref().map_or(0, Vec::len);
    if let Some(t) = transcript.as_mut() {
        t.truncate(MAX_TRANSCRIPT_ROWS);
    }
    let req = c.get("requirement").cloned().unwrap_or(Value::Null);
    Ok(CaseView {
        section: str_at(&c, "section").map_or_else(|| super::report::section_of(&id), str::to_owned),
        verdict,
        known_failure: c.get("known_failure").and_then(Value::as_bool).unwrap_or(false),
        requirement: str_at(&req, "id").unwrap_or_default().to_owned(),
        level: str_at(&req, "level").unwrap_or_default().to_owned(),
        quote: str_at(&req, "quote").unwrap_or_default().to_owned(),
        reason: str_at(&c, "reason").map(str::to_owned),
        findings: list_at(&c, "findings"),
        diagnostics: list_at(&c, "diagnostics").iter().filter_map(|d| d.as_str().map(str::to_owned)).collect(),
        steps: list_at(&c, "steps"),
        duration_ms: c.get("duration_ms").and_then(Value::as_u64).unwrap_or(0),
        transcript: transcript.unwrap_or_default(),
        transcript_total: total,
        id,
    })
}

/// Makes column labels unique (`name`, `name #2`) so a reader can tell two runs of one IUT apart.
fn unique_labels(reports: &[ReportView]) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    reports
        .iter()
        .map(|r| {
            let n = seen.entry(r.label.as_str()).or_default();
            *n += 1;
            if *n == 1 { r.label.clone() } else { format!("{} #{n}", r.label) }
        })
        .collect()
}

fn badge(v: Verdict, text: &str) -> String {
    format!("<span class=\"v v-{}\">{}</span>", v.name(), escape(text))
}

fn counts_cell(counts: &BTreeMap<Verdict, usize>) -> String {
    let parts: Vec<String> = VERDICT_ORDER.iter().filter_map(|v| counts.get(v).filter(|n| **n > 0).map(|n| badge(*v, &format!("{n} {}", v.name())))).collect();
    if parts.is_empty() { "&ndash;".to_owned() } else { parts.join(" ") }
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1.05em;margin:0}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.v{display:inline-block;padding:0 5px;border-radius:3px;font-weight:600;white-space:nowrap}\
#filters label{margin-right:.6em}.v-pass{background:#cdeccd}.v-fail{background:#f6b5b5}.v-error,.v-not_run{background:#f3c98b}\
.v-non_strict{background:#f9e79f}.v-informational{background:#cfe2f3}.v-unsupported{background:#e2e2e2}\
td.cell a{text-decoration:none;color:inherit}blockquote{margin:.3em 0;padding:.2em .8em;border-left:4px solid #999;background:#fafafa}\
.case{border-top:1px solid #ddd;padding:.6em 0}.steps{margin:.2em 0;padding-left:1.5em}.meta{color:#555}\
code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}\
details>summary{cursor:pointer}[hidden]{display:none!important}#filters{margin:.5em 0;padding:.4em;background:#f6f6f6}";

/// Applies the verdict and section filters (the page reads fine without it: the filters stay hidden).
const SCRIPT: &str = "(function(){var f=document.getElementById('filters');if(!f)return;f.hidden=false;\
function apply(){var on={};f.querySelectorAll('input[data-verdict]').forEach(function(b){on[b.getAttribute('data-verdict')]=b.checked;});\
var sec=document.getElementById('section-filter').value;var shown=0;\
document.querySelectorAll('[data-case]').forEach(function(el){var vs=el.getAttribute('data-verdicts').split(' ');\
var show=vs.some(function(v){return on[v];})&&(sec===''||el.getAttribute('data-section')===sec);el.hidden=!show;\
if(show&&el.tagName==='TR')shown++;});document.getElementById('shown').textContent=String(shown);}\
f.addEventListener('change',apply);apply();document.body.setAttribute('data-scripts','ran');})();";

/// The page for `reports` (one column each, in the order given).
pub fn render(reports: &[ReportView]) -> String {
    let labels = unique_labels(reports);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>sidepool-conformance report</title>\n");
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    out.push_str("<h1>sidepool-conformance report</h1>\n");
    implementations(&mut out, reports, &labels);
    summary(&mut out, reports, &labels);
    // Case ids in first-seen order across the reports.
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut known: BTreeSet<&str> = BTreeSet::new();
    for r in reports {
        for c in &r.cases {
            if known.insert(c.id.as_str()) {
                order.push((c.id.as_str(), c.section.as_str()));
            }
        }
    }
    let lookup: Vec<BTreeMap<&str, &CaseView>> = reports.iter().map(|r| r.cases.iter().map(|c| (c.id.as_str(), c)).collect()).collect();
    filters(&mut out, &order);
    grid(&mut out, &order, &lookup, &labels);
    out.push_str("<h2>Cases</h2>\n");
    for (n, (id, section)) in order.iter().enumerate() {
        case_details(&mut out, n, id, section, &lookup, &labels);
    }
    let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

fn implementations(out: &mut String, reports: &[ReportView], labels: &[String]) {
    out.push_str("<h2>Implementations</h2>\n<table id=\"implementations\">\n<tr><th>implementation</th><th>spec revision</th><th>strict</th><th>cases</th><th>verdicts</th></tr>\n");
    for (r, label) in reports.iter().zip(labels) {
        let mut counts = BTreeMap::new();
        for c in &r.cases {
            *counts.entry(c.verdict).or_insert(0) += 1;
        }
        let stopped = r.stopped.as_deref().map(|s| format!("<br><b>run stopped:</b> {}", escape(s))).unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{stopped}</td></tr>",
            escape(label),
            escape(r.revision.as_deref().unwrap_or("not stated")),
            if r.strict { "yes" } else { "no" },
            r.cases.len(),
            counts_cell(&counts)
        );
    }
    out.push_str("</table>\n");
}

fn summary(out: &mut String, reports: &[ReportView], labels: &[String]) {
    for (title, key) in [("by spec section", true), ("by requirement level", false)] {
        let mut rows: BTreeMap<&str, Vec<BTreeMap<Verdict, usize>>> = BTreeMap::new();
        for (i, r) in reports.iter().enumerate() {
            for c in &r.cases {
                let row = if key { c.section.as_str() } else { c.level.as_str() };
                let cells = rows.entry(row).or_insert_with(|| vec![BTreeMap::new(); reports.len()]);
                if let Some(cell) = cells.get_mut(i) {
                    *cell.entry(c.verdict).or_insert(0) += 1;
                }
            }
        }
        let id = if key { "summary-sections" } else { "summary-levels" };
        let _ = write!(out, "<h2>Summary {title}</h2>\n<table id=\"{id}\">\n<tr><th>{}</th>", if key { "section" } else { "level" });
        for l in labels {
            let _ = write!(out, "<th>{}</th>", escape(l));
        }
        out.push_str("</tr>\n");
        for (row, cells) in &rows {
            let _ = write!(out, "<tr><td>{}</td>", escape(if row.is_empty() { "not stated" } else { row }));
            for cell in cells {
                let _ = write!(out, "<td>{}</td>", counts_cell(cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
}

fn filters(out: &mut String, order: &[(&str, &str)]) {
    out.push_str("<div id=\"filters\" hidden><b>Show:</b> ");
    for v in VERDICT_ORDER {
        let _ = write!(out, "<label><input type=\"checkbox\" data-verdict=\"{0}\" checked> {0}</label> ", v.name());
    }
    out.push_str(" <label>section <select id=\"section-filter\"><option value=\"\">all</option>");
    let sections: BTreeSet<&str> = order.iter().map(|(_, s)| *s).collect();
    for s in sections {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", escape(s));
    }
    out.push_str("</select></label> <span class=\"meta\">(<span id=\"shown\"></span> cases shown)</span></div>\n");
}

/// The verdicts a case row carries for the filters: one per implementation that ran it.
fn verdict_names(id: &str, lookup: &[BTreeMap<&str, &CaseView>]) -> String {
    let names: BTreeSet<&str> = lookup.iter().filter_map(|m| m.get(id).map(|c| c.verdict.name())).collect();
    names.into_iter().collect::<Vec<_>>().join(" ")
}

fn grid(out: &mut String, order: &[(&str, &str)], lookup: &[BTreeMap<&str, &CaseView>], labels: &[String]) {
    out.push_str("<h2>Cases &times; implementations</h2>\n<table id=\"grid\">\n<tr><th>case</th><th>level</th>");
    for l in labels {
        let _ = write!(out, "<th>{}</th>", escape(l));
    }
    out.push_str("</tr>\n");
    for (n, (id, section)) in order.iter().enumerate() {
        let level = lookup.iter().find_map(|m| m.get(id)).map(|c| c.level.as_str()).unwrap_or_default();
        let _ = write!(
            out,
            "<tr data-case data-section=\"{}\" data-verdicts=\"{}\"><td><a href=\"#case-{n}\">{}</a></td><td>{}</td>",
            escape(section),
            verdict_names(id, lookup),
            escape(id),
            escape(level)
        );
        for (i, m) in lookup.iter().enumerate() {
            match m.get(id) {
                Some(c) => {
                    let known = if c.known_failure { " (known)" } else { "" };
                    let _ = write!(out, "<td class=\"cell\"><a href=\"#c{n}-{i}\">{}</a></td>", badge(c.verdict, &format!("{}{known}", c.verdict.name())));
                }
                None => out.push_str("<td class=\"cell meta\">not in this report</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn case_details(out: &mut String, n: usize, id: &str, section: &str, lookup: &[BTreeMap<&str, &CaseView>], labels: &[String]) {
    let Some(first) = lookup.iter().find_map(|m| m.get(id)) else { return };
    let _ = writeln!(out, "<div class=\"case\" id=\"case-{n}\" data-case data-section=\"{}\" data-verdicts=\"{}\">", escape(section), verdict_names(id, lookup));
    let _ = writeln!(out, "<h3>{}</h3>", escape(id));
    let _ = writeln!(
        out,
        "<div class=\"meta\">requirement <code>{}</code> ({})</div>\n<blockquote>{}</blockquote>",
        escape(&first.requirement),
        escape(&first.level),
        escape(&first.quote)
    );
    if !first.steps.is_empty() {
        out.push_str("<details><summary>steps</summary>\n<ol class=\"steps\">");
        for s in &first.steps {
            let depth = s.get("depth").and_then(Value::as_u64).unwrap_or(0).min(8);
            let mut grade = String::new();
            if let Some(l) = str_at(s, "level") {
                let _ = write!(grade, " <span class=\"meta\">[{}]</span>", escape(l));
            }
            if let Some(r) = str_at(s, "requirement") {
                let _ = write!(grade, " <span class=\"meta\">{}</span>", escape(r));
            }
            let _ = write!(out, "<li style=\"margin-left:{}em\"><code>{}</code>{grade}</li>", depth * 2, escape(str_at(s, "step").unwrap_or("?")));
        }
        out.push_str("</ol></details>\n");
    }
    for (i, m) in lookup.iter().enumerate() {
        let Some(c) = m.get(id) else { continue };
        let label = labels.get(i).map(String::as_str).unwrap_or_default();
        let open = if c.verdict == Verdict::Pass { "" } else { " open" };
        let _ = writeln!(out, "<details id=\"c{n}-{i}\"{open}><summary>{} {} <span class=\"meta\">{} ms</span></summary>", badge(c.verdict, c.verdict.name()), escape(label), c.duration_ms);
        if c.known_failure {
            out.push_str("<p>a known failure (from the baseline)</p>\n");
        }
        if let Some(reason) = &c.reason {
            let _ = writeln!(out, "<p><b>reason:</b> {}</p>", escape(reason));
        }
        findings(out, &c.findings);
        if !c.diagnostics.is_empty() {
            out.push_str("<p><b>diagnostics:</b></p><ul>");
            for d in &c.diagnostics {
                let _ = write!(out, "<li>{}</li>", escape(d));
            }
            out.push_str("</ul>\n");
        }
        transcript(out, &c.transcript, c.transcript_total);
        out.push_str("</details>\n");
    }
    out.push_str("</div>\n");
}

fn findings(out: &mut String, findings: &[Value]) {
    if findings.is_empty() {
        return;
    }
    out.push_str("<table class=\"findings\"><tr><th>step</th><th>grade</th><th>requirement</th><th>seen</th><th>note</th></tr>\n");
    for f in findings {
        let grade = str_at(f, "grade").unwrap_or_default();
        let reading = str_at(f, "reading").map(|r| format!(" {r}")).unwrap_or_default();
        let step = f.get("step").map(|s| s.to_string()).unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&step),
            escape(&format!("{grade}{reading}")),
            escape(str_at(f, "requirement").unwrap_or_default()),
            escape(str_at(f, "seen").unwrap_or_default()),
            escape(str_at(f, "note").unwrap_or_default())
        );
    }
    out.push_str("</table>\n");
}

/// The message's name as the transcript decodes it (a BOLT message's `name`, a sidepool message's `message`).
fn message_name(decoded: &Value) -> String {
    str_at(decoded, "message").or_else(|| str_at(decoded, "name")).map_or_else(|| "?".to_owned(), str::to_owned)
}

fn transcript(out: &mut String, entries: &[Value], total: usize) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(out, "<details class=\"transcript\"><summary>wire transcript ({total} entries)</summary>");
    out.push_str("<table><tr><th>ms</th><th>peer</th><th>direction</th><th>message</th><th>fields</th><th>hex</th></tr>\n");
    for e in entries.iter().take(MAX_TRANSCRIPT_ROWS) {
        let at = e.get("at_ms").map(|a| a.to_string()).unwrap_or_default();
        let peer = escape(str_at(e, "peer").unwrap_or_default());
        let Some(direction) = str_at(e, "direction") else {
            // A marker (elision, the connection's ending, an overflow): its own fields say what.
            let mut rest = e.clone();
            if let Some(o) = rest.as_object_mut() {
                o.remove("peer");
                o.remove("at_ms");
            }
            let _ = writeln!(out, "<tr><td>{}</td><td>{peer}</td><td colspan=\"4\"><i class=\"mono\">{}</i></td></tr>", escape(&at), escape(&rest.to_string()));
            continue;
        };
        let arrow = if direction == "runner_to_iut" { "runner &rarr; IUT" } else { "IUT &rarr; runner" };
        let decoded = e.get("decoded").cloned().unwrap_or(Value::Null);
        let fields = decoded.get("fields").map_or_else(String::new, Value::to_string);
        let hex = str_at(e, "hex").unwrap_or_default();
        let hex_cell = if hex.is_empty() {
            String::new()
        } else {
            let shown = hex.get(..MAX_HEX_CHARS).unwrap_or(hex);
            let more = if shown.len() < hex.len() { format!(" ... ({} more hex digits)", hex.len() - shown.len()) } else { String::new() };
            format!("<details><summary>{} bytes</summary><code>{}{more}</code></details>", hex.len() / 2, escape(shown))
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{peer}</td><td>{arrow}</td><td>{}</td><td class=\"mono\">{}</td><td>{hex_cell}</td></tr>",
            escape(&at),
            escape(&message_name(&decoded)),
            escape(&fields)
        );
    }
    let shown = entries.len().min(MAX_TRANSCRIPT_ROWS);
    if total > shown {
        let _ = writeln!(out, "<tr><td colspan=\"6\" class=\"meta\">{} more entries: see the JSON report</td></tr>", total - shown);
    }
    out.push_str("</table></details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(escape("<script>alert('x')</script> & \"y\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;");
    }

    #[test]
    fn labels_of_two_runs_of_one_iut_differ() {
        let r = ReportView { label: "node".into(), revision: None, strict: false, stopped: None, cases: vec![] };
        assert_eq!(unique_labels(&[r.clone(), r]), vec!["node".to_string(), "node #2".to_string()]);
    }
}
