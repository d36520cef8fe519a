//! The allocation engine (issue 4, DESIGN.md capability C): what a pool of indivisible units
//! (packages, or rials) gives each request. No IO here beyond the `files` module's CSVs.
//!
//! **Water-fill** (weighted max-min), the default: every request is served the fraction
//! `min(1, λ·weight)` of its need, with one level `λ` shared by all requests whose group is not
//! held by its quota (a held group has its own, lower level), as high as the pool allows. The
//! total allocated is the pool, or everything the needs and quotas allow if that is less. Units
//! are indivisible: each allocation is the floor or the ceiling of its exact share; the units left
//! after flooring go to the largest remainders (ties: higher weight, then earlier row).
//!
//! **Priority** serves requests fully in order of weight (ties: earlier row), within quotas.

pub mod files;
#[cfg(test)]
mod properties;
mod radix;
mod waterfill;

pub use waterfill::allocate;

/// One request: a whole number of units needed, a positive weight, an optional group.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub need: u64,
    pub weight: f64,
    /// Index into the quota table (see [`Quotas`]); `None` for no group.
    pub group: Option<u32>,
}

/// The most units each group may receive; `None` for a group without a quota.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quotas {
    pub max_units: Vec<Option<u64>>,
}

impl Quotas {
    pub fn of(&self, group: Option<u32>) -> Option<u64> {
        group.and_then(|g| self.max_units.get(g as usize).copied().flatten())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    #[default]
    WaterFill,
    Priority,
}

impl Policy {
    pub fn parse(s: &str) -> Option<Policy> {
        match s {
            "water-fill" | "waterfill" => Some(Policy::WaterFill),
            "priority" => Some(Policy::Priority),
            _ => None,
        }
    }
}

/// Why a request got what it got, for the explanation shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// It needs nothing.
    ZeroNeed,
    /// Its whole need is met.
    FullNeed,
    /// The pool's level: `λ·weight` of its need (water-fill).
    Level,
    /// Its group's quota holds it at a lower level than the others.
    GroupQuota,
    /// Priority: the pool ran out before (or while) reaching it.
    PoolExhausted,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::ZeroNeed => "zero_need",
            Reason::FullNeed => "full_need",
            Reason::Level => "level",
            Reason::GroupQuota => "group_quota",
            Reason::PoolExhausted => "pool_exhausted",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// Units per request, in input order.
    pub units: Vec<u64>,
    /// The exact (real-valued) share per request before rounding.
    pub exact: Vec<f64>,
    pub reasons: Vec<Reason>,
    /// The shared level λ (water-fill; infinite when every need the quotas allow is met).
    pub level: f64,
    /// The level of each group (index as in [`Quotas`]); equal to `level` unless held.
    pub group_levels: Vec<f64>,
    pub total: u64,
}

impl Allocation {
    /// The fraction of its need a request received (1 for a zero need).
    pub fn served_fraction(&self, i: usize, need: u64) -> f64 {
        if need == 0 {
            1.0
        } else {
            self.units[i] as f64 / need as f64
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("request {index}: weight must be a finite number above 0, not {weight}")]
    BadWeight { index: usize, weight: f64 },
    #[error("request {index}: group {group} has no entry in the quota table")]
    UnknownGroup { index: usize, group: u32 },
}

/// Checks what the engine assumes about its input.
pub fn validate(requests: &[Request], quotas: &Quotas) -> Result<(), InputError> {
    for (index, r) in requests.iter().enumerate() {
        if !(r.weight.is_finite() && r.weight > 0.0) {
            return Err(InputError::BadWeight {
                index,
                weight: r.weight,
            });
        }
        if let Some(g) = r.group
            && g as usize >= quotas.max_units.len()
        {
            return Err(InputError::UnknownGroup { index, group: g });
        }
    }
    Ok(())
}
