//! Capability market: its rules (pure: no web, no database). Orders and payments move through
//! state machines whose every step is appended to a history; money is integer rials with
//! checked arithmetic; a bank account is a Sheba number checked with ISO 13616 mod 97.

pub mod ledger;
pub mod money;
pub mod order;
pub mod policy;
pub mod sheba;

/// The product categories a producer lists under (codes; names in the catalogs).
pub const CATEGORIES: [&str; 7] = [
    "food",
    "clothing",
    "masks_gowns",
    "handicraft",
    "beauty",
    "home",
    "other",
];

/// Whether `code` is one of [`CATEGORIES`].
pub fn is_category(code: &str) -> bool {
    CATEGORIES.contains(&code)
}

/// Limits on what one order, one product and one text field may hold.
pub mod limits {
    /// Lines in one order (one per product).
    pub const MAX_ITEMS: usize = 50;
    /// Pieces of one product in one order line.
    pub const MAX_QUANTITY: i64 = 1_000;
    /// A product's price, in rials (10 billion rials).
    pub const MAX_PRICE_RIALS: i64 = 10_000_000_000;
    /// A product's stock.
    pub const MAX_STOCK: i64 = 1_000_000;
    /// A title, a name.
    pub const MAX_TITLE: usize = 120;
    /// A description, an address.
    pub const MAX_TEXT: usize = 2_000;
}
