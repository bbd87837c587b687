//! BIP-341 "Constructing and spending Taproot outputs": a script tree, its leaf
//! hashes and Merkle root, the TapTweak, the output key, and one control block
//! per leaf. The SIDEPOOL-06 HTLC key and the converted BIP-341 wallet vectors
//! both go through [`taproot_output`].

use core::fmt;

use bitcoin::hashes::Hash;
use bitcoin::key::{TweakedPublicKey, XOnlyPublicKey};
use bitcoin::secp256k1::{Parity, Scalar, Secp256k1};
use bitcoin::taproot::{LeafVersion, TapLeafHash, TapNodeHash, TapTweakHash};
use bitcoin::{Address, Network, ScriptBuf};

/// BIP-341: a control block carries at most 128 Merkle path elements.
pub const MAX_TREE_DEPTH: usize = 128;

/// A script tree: leaves, or branches of two subtrees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapTree {
    /// A script with its leaf version (0xc0 for BIP-342 tapscript).
    Leaf { script: Vec<u8>, version: u8 },
    /// A node with two children; BIP-341 sorts the two hashes, so their order does not matter.
    Branch(Box<TapTree>, Box<TapTree>),
}

/// Why a Taproot output could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaprootError {
    /// The internal key is not the x coordinate of a curve point.
    InvalidInternalKey,
    /// A leaf version that BIP-341 does not allow (odd, or 0x50).
    InvalidLeafVersion(u8),
    /// The tree is deeper than 128 levels.
    TreeTooDeep,
    /// The tweak is not below n, or tweaking gave the point at infinity (negligible odds).
    InvalidTweak,
}

impl TaprootError {
    pub fn code(&self) -> &'static str {
        match self {
            TaprootError::InvalidInternalKey => "invalid_internal_key",
            TaprootError::InvalidLeafVersion(_) => "invalid_leaf_version",
            TaprootError::TreeTooDeep => "tree_too_deep",
            TaprootError::InvalidTweak => "invalid_tweak",
        }
    }
}

impl fmt::Display for TaprootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaprootError::InvalidInternalKey => f.write_str("internal key is not an x-only point"),
            TaprootError::InvalidLeafVersion(v) => write!(f, "leaf version 0x{v:02x} is not allowed"),
            TaprootError::TreeTooDeep => write!(f, "script tree deeper than {MAX_TREE_DEPTH}"),
            TaprootError::InvalidTweak => f.write_str("TapTweak is not a usable scalar"),
        }
    }
}

/// A Taproot output with every intermediate of its construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaprootOutput {
    pub internal_key: [u8; 32],
    /// Leaf hashes in tree order (depth first, left to right).
    pub leaf_hashes: Vec<[u8; 32]>,
    /// `None` for a key-path-only output (no script tree).
    pub merkle_root: Option<[u8; 32]>,
    /// `hashTapTweak(internal_key || merkle_root)` (merkle root omitted when there is no tree).
    pub tweak: [u8; 32],
    pub output_key: [u8; 32],
    /// 0 when the output point has even y, 1 when odd.
    pub output_key_parity: u8,
    /// One per leaf, in the order of `leaf_hashes`.
    pub control_blocks: Vec<Vec<u8>>,
}

impl TaprootOutput {
    /// `OP_1 <32-byte output key>`.
    pub fn script_pubkey(&self) -> Vec<u8> {
        let mut spk = Vec::with_capacity(34);
        spk.extend_from_slice(&[0x51, 0x20]);
        spk.extend_from_slice(&self.output_key);
        spk
    }

    /// The BIP-350 (bech32m) address of the output on `network`.
    pub fn address(&self, network: Network) -> Result<String, TaprootError> {
        let key = XOnlyPublicKey::from_slice(&self.output_key).map_err(|_| TaprootError::InvalidInternalKey)?;
        Ok(Address::p2tr_tweaked(TweakedPublicKey::dangerous_assume_tweaked(key), network).to_string())
    }
}

/// A leaf's hash and its Merkle path (sibling hashes, deepest first) within a subtree.
struct LeafPath {
    hash: TapLeafHash,
    path: Vec<TapNodeHash>,
}

/// The subtree's node hash and its leaves with their paths so far.
fn tree_hashes(tree: &TapTree, depth: usize) -> Result<(TapNodeHash, Vec<LeafPath>), TaprootError> {
    if depth > MAX_TREE_DEPTH {
        return Err(TaprootError::TreeTooDeep);
    }
    match tree {
        TapTree::Leaf { script, version } => {
            let ver = LeafVersion::from_consensus(*version).map_err(|_| TaprootError::InvalidLeafVersion(*version))?;
            let hash = TapLeafHash::from_script(&ScriptBuf::from_bytes(script.clone()), ver);
            Ok((TapNodeHash::from(hash), vec![LeafPath { hash, path: Vec::new() }]))
        }
        TapTree::Branch(left, right) => {
            let (lh, mut ll) = tree_hashes(left, depth + 1)?;
            let (rh, mut rl) = tree_hashes(right, depth + 1)?;
            ll.iter_mut().for_each(|leaf| leaf.path.push(rh));
            rl.iter_mut().for_each(|leaf| leaf.path.push(lh));
            ll.append(&mut rl);
            Ok((TapNodeHash::from_node_hashes(lh, rh), ll))
        }
    }
}

/// The leaf versions of the tree's leaves, in tree order.
fn leaf_versions(tree: &TapTree, out: &mut Vec<u8>) {
    match tree {
        TapTree::Leaf { version, .. } => out.push(*version),
        TapTree::Branch(l, r) => {
            leaf_versions(l, out);
            leaf_versions(r, out);
        }
    }
}

/// BIP-341: tweak `internal_key` with the Merkle root of `tree` (or with nothing,
/// for a key-path-only output) and build the control block of every leaf.
pub fn taproot_output(internal_key: &[u8; 32], tree: Option<&TapTree>) -> Result<TaprootOutput, TaprootError> {
    let secp = Secp256k1::verification_only();
    let internal = XOnlyPublicKey::from_slice(internal_key).map_err(|_| TaprootError::InvalidInternalKey)?;
    let (merkle_root, leaves, versions) = match tree {
        None => (None, Vec::new(), Vec::new()),
        Some(t) => {
            let (root, leaves) = tree_hashes(t, 0)?;
            let mut versions = Vec::new();
            leaf_versions(t, &mut versions);
            (Some(root), leaves, versions)
        }
    };
    // t = hashTapTweak(p || km) ; Q = P + t·G with P = lift_x(p)
    let tweak = TapTweakHash::from_key_and_tweak(internal, merkle_root);
    let t = Scalar::from_be_bytes(tweak.to_byte_array()).map_err(|_| TaprootError::InvalidTweak)?;
    let (output, parity) = internal.add_tweak(&secp, &t).map_err(|_| TaprootError::InvalidTweak)?;
    let parity_bit: u8 = match parity {
        Parity::Even => 0,
        Parity::Odd => 1,
    };
    // Control block: [leaf version | parity] || internal key || path (deepest first).
    let control_blocks = leaves
        .iter()
        .zip(&versions)
        .map(|(leaf, version)| {
            let mut cb = Vec::with_capacity(33 + 32 * leaf.path.len());
            cb.push(version | parity_bit);
            cb.extend_from_slice(internal_key);
            leaf.path.iter().for_each(|h| cb.extend_from_slice(h.as_byte_array()));
            cb
        })
        .collect();
    Ok(TaprootOutput {
        internal_key: *internal_key,
        leaf_hashes: leaves.iter().map(|l| l.hash.to_byte_array()).collect(),
        merkle_root: merkle_root.map(|r| r.to_byte_array()),
        tweak: tweak.to_byte_array(),
        output_key: output.serialize(),
        output_key_parity: parity_bit,
        control_blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::taproot::ControlBlock;

    fn arr32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    #[test]
    fn bip341_two_leaf_case_and_control_blocks_verify() {
        // bip-0341/wallet-test-vectors.json scriptPubKey[4] (full conversion in vectors/external/).
        let tree = TapTree::Branch(
            Box::new(TapTree::Leaf { script: hex::decode("2044b178d64c32c4a05cc4f4d1407268f764c940d20ce97abfd44db5c3592b72fdac").unwrap(), version: 0xc0 }),
            Box::new(TapTree::Leaf { script: hex::decode("07546170726f6f74").unwrap(), version: 0xc0 }),
        );
        let out = taproot_output(&arr32("f9f400803e683727b14f463836e1e78e1c64417638aa066919291a225f0e8dd8"), Some(&tree)).unwrap();
        assert_eq!(hex::encode(out.merkle_root.unwrap()), "ab179431c28d3b68fb798957faf5497d69c883c6fb1e1cd9f81483d87bac90cc");
        assert_eq!(hex::encode(out.output_key), "77e30a5522dd9f894c3f8b8bd4c4b2cf82ca7da8a3ea6a239655c39c050ab220");
        assert_eq!(out.address(Network::Bitcoin).unwrap(), "bc1pwl3s54fzmk0cjnpl3w9af39je7pv5ldg504x5guk2hpecpg2kgsqaqstjq");
        let secp = Secp256k1::verification_only();
        let output_key = XOnlyPublicKey::from_slice(&out.output_key).unwrap();
        for (cb, script) in out.control_blocks.iter().zip(["2044b178d64c32c4a05cc4f4d1407268f764c940d20ce97abfd44db5c3592b72fdac", "07546170726f6f74"]) {
            let cb = ControlBlock::decode(cb).unwrap();
            assert!(cb.verify_taproot_commitment(&secp, output_key, &ScriptBuf::from_bytes(hex::decode(script).unwrap())));
        }
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert_eq!(taproot_output(&[0u8; 32], None).err(), Some(TaprootError::InvalidInternalKey));
        let g = arr32("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
        let odd_version = TapTree::Leaf { script: vec![0x51], version: 0xc1 };
        assert_eq!(taproot_output(&g, Some(&odd_version)).err(), Some(TaprootError::InvalidLeafVersion(0xc1)));
        let mut deep = TapTree::Leaf { script: vec![0x51], version: 0xc0 };
        for _ in 0..=MAX_TREE_DEPTH {
            deep = TapTree::Branch(Box::new(deep), Box::new(TapTree::Leaf { script: vec![0x52], version: 0xc0 }));
        }
        assert_eq!(taproot_output(&g, Some(&deep)).err(), Some(TaprootError::TreeTooDeep));
    }

    /// The codes are the names vectors and the `htlc-key` command print
    /// (through `HtlcKeyError::Taproot`): fixed, and one per error.
    #[test]
    fn error_codes_are_the_documented_names() {
        let codes = [
            TaprootError::InvalidInternalKey,
            TaprootError::InvalidLeafVersion(0xc1),
            TaprootError::TreeTooDeep,
            TaprootError::InvalidTweak,
        ]
        .map(|e| e.code());
        assert_eq!(codes, ["invalid_internal_key", "invalid_leaf_version", "tree_too_deep", "invalid_tweak"]);
    }

    /// The depth limit counts both sides: a tree that only grows to the right is
    /// refused one level past 128 too.
    #[test]
    fn a_right_deep_tree_is_limited_like_a_left_deep_one() {
        let g = arr32("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
        let right_deep = |levels: usize| {
            let mut t = TapTree::Leaf { script: vec![0x51], version: 0xc0 };
            for _ in 0..levels {
                t = TapTree::Branch(Box::new(TapTree::Leaf { script: vec![0x52], version: 0xc0 }), Box::new(t));
            }
            t
        };
        assert_eq!(taproot_output(&g, Some(&right_deep(MAX_TREE_DEPTH))).map(|o| o.leaf_hashes.len()), Ok(MAX_TREE_DEPTH + 1));
        assert_eq!(taproot_output(&g, Some(&right_deep(MAX_TREE_DEPTH + 1))).err(), Some(TaprootError::TreeTooDeep));
    }

    /// BIP-341: a control block holds at most 128 hashes, so a leaf at depth 128 is fine
    /// and only one deeper is refused.
    #[test]
    fn a_leaf_at_depth_128_is_allowed() {
        let g = arr32("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
        let mut deep = TapTree::Leaf { script: vec![0x51], version: 0xc0 };
        for _ in 0..MAX_TREE_DEPTH {
            deep = TapTree::Branch(Box::new(deep), Box::new(TapTree::Leaf { script: vec![0x52], version: 0xc0 }));
        }
        let out = taproot_output(&g, Some(&deep)).unwrap();
        assert_eq!(out.leaf_hashes.len(), MAX_TREE_DEPTH + 1);
    }
}
