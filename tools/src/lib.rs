//! Spec traceability tools, exposed as `sidepool-conformance spec ...`.
