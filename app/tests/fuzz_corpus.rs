//! The console's JSON fuzz target's saved corpus, replayed as an ordinary test (issue 17): the
//! first load's parser reads each text as serde_json does.

#[test]
fn the_saved_json_corpus_replays_without_a_finding() {
    assert!(anchorage_common::fuzzing::replay("wire", anchorage_app::fuzzing::wire) > 0, "fuzz/seeds/wire has seeds");
}
