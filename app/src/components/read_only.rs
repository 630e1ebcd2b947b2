//! Reader mode: to a user whose role is reader, every control that changes something is shown
//! disabled, with a tooltip saying why. (The server refuses their changes with 403 anyway.)

use crate::session::Session;

/// The tooltip of a control disabled for a reader.
pub const READ_ONLY: &str = "Read-only: your role is reader";

/// The `title` of a control that changes something: [`READ_ONLY`] while the user is a reader
/// (tracked).
pub fn title(session: Session) -> impl Fn() -> Option<&'static str> + Copy + 'static {
    move || session.read_only().then_some(READ_ONLY)
}
