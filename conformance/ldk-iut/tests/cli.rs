//! The `sidepool-ldk-iut` binary: its help, its errors, its announcement.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const EXE: &str = env!("CARGO_BIN_EXE_sidepool-ldk-iut");

fn announcement(args: &[&str]) -> serde_json::Value {
    let mut child = Command::new(EXE).args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

#[test]
fn help_names_every_option() {
    let out = Command::new(EXE).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in ["--listen", "--adapter-listen", "--no-adapter", "--seed", "--db", "--timer-tick", "--spec", "--verbose"] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

#[test]
fn bad_seeds_and_addresses_are_usage_errors() {
    for args in [&["--seed", "zz"][..], &["--seed", "00"], &["--listen", "nowhere"], &["--spec", "draft"]] {
        let out = Command::new(EXE).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}: says why");
    }
}

#[test]
fn a_seed_fixes_the_node_id_and_the_announcement_names_both_listeners() {
    let seed = "11".repeat(32);
    let a = announcement(&["--seed", &seed]);
    let b = announcement(&["--seed", &seed, "--no-adapter"]);
    assert_eq!(a["node_id"], b["node_id"]);
    assert_eq!(a["node_id"].as_str().unwrap().len(), 66);
    assert!(a["listen"][0].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(a["adapter"].as_str().unwrap().starts_with("tcp://127.0.0.1:"));
    assert!(b.get("adapter").is_none());
    let c = announcement(&[]);
    assert_ne!(a["node_id"], c["node_id"], "without --seed the key is random");
    assert_eq!(c["spec"], "upstream-50799b4", "the newest upstream revision by default");
    assert_eq!(announcement(&["--spec", "seed", "--no-adapter"])["spec"], "seed");
}
