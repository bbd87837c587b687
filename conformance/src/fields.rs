//! The JSON field view of messages (stub; filled in below).
