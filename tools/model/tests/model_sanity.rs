//! The model itself: its quotes are the spec's sentences, its property table matches
//! its checks, and no run gets stuck before it is over (which would leave the money
//! properties unjudged on that run).

use std::path::Path;

use sidepool_model::framework::{Bounds, System};
use sidepool_model::sidepool::{params, properties, Config, SidepoolModel, World};
use sidepool_spec_tools::quotes::{self, Quote, SpecSet, Verdict};
use stateright::{Checker, Model, Property};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Every sentence a property rests on, and every parameter's source sentence, is in the
/// pinned text; so is every `// SIDEPOOL-NN: "..."` quote in the crate's code.
#[test]
fn every_quote_is_the_spec_s_sentence() {
    let spec = SpecSet::load(repo()).unwrap();
    let mut qs: Vec<Quote> = Vec::new();
    let quoted = properties::DEFS.iter().flat_map(|p| p.rests_on.iter()).chain(params::PARAMS.iter().filter_map(|p| p.spec.as_ref()));
    for q in quoted {
        let (doc, revision) = match q.doc.split_once('@') {
            Some((d, r)) => (d, Some(r.to_string())),
            None => (q.doc, None),
        };
        qs.push(Quote { file: "tools/model (tables)".into(), line: 0, doc: doc.into(), revision, text: q.text.into(), unterminated: false });
    }
    assert!(qs.len() >= 25, "only {} table quotes", qs.len());
    qs.extend(quotes::scan_paths(repo(), &[repo().join("tools/model/src")]).unwrap());
    let checked = quotes::check_all(&spec, &qs);
    let bad: Vec<_> = checked.iter().filter(|c| !matches!(c.verdict, Verdict::Matched(_))).collect();
    assert!(bad.is_empty(), "{}", quotes::report(&spec, &checked));
}

#[test]
fn the_property_table_matches_the_checks() {
    let model = SidepoolModel::new(Config::from_settings(&sidepool_model::sidepool::Sidepool.settings(None, &[]).unwrap()).unwrap());
    let names: Vec<&str> = model.properties().iter().map(|p| p.name).collect();
    let described: Vec<&str> = properties::DEFS.iter().map(|d| d.name).collect();
    assert_eq!(names, described);
    assert_eq!(sidepool_model::sidepool::Sidepool.properties().len(), described.len());
    // Every parameter's default is valid and shows up in a report's settings.
    let s = sidepool_model::sidepool::Sidepool.settings(None, &[]).unwrap();
    assert_eq!(s.values().len(), params::PARAMS.len());
}

/// The SIDEPOOL-10 model with one more property: a state with no step left is over
/// (`settled`), so the money properties are judged on every run.
#[derive(Clone)]
struct NoDeadEnds(SidepoolModel);

impl Model for NoDeadEnds {
    type State = World;
    type Action = sidepool_model::sidepool::Step;
    fn init_states(&self) -> Vec<World> {
        self.0.init_states()
    }
    fn actions(&self, w: &World, out: &mut Vec<Self::Action>) {
        self.0.actions(w, out)
    }
    fn next_state(&self, w: &World, a: Self::Action) -> Option<World> {
        self.0.next_state(w, a)
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::always("no_dead_end", |m: &NoDeadEnds, w: &World| {
            let mut next = Vec::new();
            m.0.actions(w, &mut next);
            m.0.settled(w) || next.into_iter().any(|a| m.0.next_state(w, a).is_some())
        })]
    }
}

#[test]
fn no_run_gets_stuck_before_it_is_over() {
    for sets in [&["script=fixed", "disconnects=1"][..], &["forwarders=0", "crashes=1", "script=fixed"][..]] {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let cfg = Config::from_settings(&sidepool_model::sidepool::Sidepool.settings(None, &sets).unwrap()).unwrap();
        let checker = NoDeadEnds(SidepoolModel::new(cfg)).checker().target_state_count(Bounds::default().max_states.unwrap_or(1)).spawn_bfs().join();
        assert!(checker.is_done());
        assert!(checker.discovery("no_dead_end").is_none(), "{sets:?}: {:?}", checker.discovery("no_dead_end").map(|p| p.into_actions()));
    }
}

/// Vectors name the nodes in the ids' order: the engine orders peers by name, and a replay
/// must see them as the model did.
#[test]
fn vector_names_sort_like_the_ids() {
    use sidepool_model::sidepool::ids::NodeId;
    let ids = [NodeId::O, NodeId::F1, NodeId::F2, NodeId::A, NodeId::L];
    let mut names: Vec<&str> = ids.iter().map(|n| n.vector_name()).collect();
    names.sort();
    assert_eq!(names, ids.iter().map(|n| n.vector_name()).collect::<Vec<_>>());
    assert!(names.iter().all(|n| !n.chars().all(|c| c.is_ascii_hexdigit())));
}
