//! The chain doctor's path building, shared by the console and the server (being written).
