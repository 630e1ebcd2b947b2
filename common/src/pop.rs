//! Proof of possession of a trusted certificate's key (being written).
