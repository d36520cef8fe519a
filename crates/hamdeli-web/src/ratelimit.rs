//! Sign-in and sign-up limits live in the application layer
//! ([`hamdeli_app::accounts::limits`]); this name stays for the pages that count sign-ups.

pub use hamdeli_app::accounts::limits::*;
