//! Capability loans: its use cases (authorise, transaction, store, audit, commit).
//!
//! Cooperatives (by hand and by import), loan products, applications with eligibility checked
//! against the registry, review and approval, contract, disbursement with the schedule of
//! `hamdeli_domain::loans::schedule`, repayments (by an office or from a bank statement), one
//! loan's deferral and bulk deferrals of an area. Every request that moves money (disbursement,
//! repayment, statement, bulk deferral) carries an idempotency key: the same key and request
//! answer the first result and do nothing twice; the same key with another request is a
//! conflict.

use serde::{Serialize, de::DeserializeOwned};

use hamdeli_domain::loans::journal;
use hamdeli_domain::loans::policy::{LoanAction, LoanScope, loan_scope};
use hamdeli_domain::loans::schedule::{self, FeeRate, Terms};
use hamdeli_domain::{Action, Place, Principal, Role};
use hamdeli_store::Store;
use hamdeli_store::loans::{self as st, BulkSelection, Claim};

use crate::policy_doc::{UseCase, own_place};
use crate::{Caller, Error, Result, audit_read, audit_write};

pub use hamdeli_store::loans::{
    BulkResult, Comment, Cooperative, DeferralRow, LateLoan, Loan, LoanFilter, Member, Payment,
    PortfolioLine, PreviewLine, PreviewSample, Product, StoredInstalment,
};

fn other_place() -> Place {
    Place::county("07", "0701")
}

/// The rows of `docs/access.md` for capability loans.
pub(crate) const DOC_USE_CASES: &[UseCase] = &[
    UseCase {
        name: "loans: list and open loans, cooperatives and schedules (own scope; a partner its originated loans; a producer her own)",
        inside: |p| p.allows(&Action::Loan(LoanAction::View)),
        outside: |_| false,
    },
    UseCase {
        name: "loans: register a cooperative, its members and board; import a cooperatives list",
        inside: |p| p.allows(&Action::Loan(LoanAction::ManageCooperative(&own_place(p)))),
        outside: |p| p.allows(&Action::Loan(LoanAction::ManageCooperative(&other_place()))),
    },
    UseCase {
        name: "loans: define loan products (fee, maximum, term, grace, applicants, source of funds)",
        inside: |p| p.allows(&Action::Loan(LoanAction::ManageProducts)),
        outside: |p| p.allows(&Action::Loan(LoanAction::ManageProducts)),
    },
    UseCase {
        name: "loans: apply for a loan herself (a producer)",
        inside: |p| p.allows(&Action::Loan(LoanAction::ApplyOwn)),
        outside: |_| false,
    },
    UseCase {
        name: "loans: enter an application for an applicant",
        inside: |p| p.allows(&Action::Loan(LoanAction::EnterApplication(&own_place(p)))),
        outside: |p| p.allows(&Action::Loan(LoanAction::EnterApplication(&other_place()))),
    },
    UseCase {
        name: "loans: comment on an application",
        inside: |p| p.allows(&Action::Loan(LoanAction::Comment(&own_place(p)))),
        outside: |p| p.allows(&Action::Loan(LoanAction::Comment(&other_place()))),
    },
    UseCase {
        name: "loans: approve or reject, contract, disburse, decide a deferral",
        inside: |p| p.allows(&Action::Loan(LoanAction::Decide(&own_place(p)))),
        outside: |p| p.allows(&Action::Loan(LoanAction::Decide(&other_place()))),
    },
    UseCase {
        name: "loans: record a repayment",
        inside: |p| p.allows(&Action::Loan(LoanAction::RecordRepayment(&own_place(p)))),
        outside: |p| p.allows(&Action::Loan(LoanAction::RecordRepayment(&other_place()))),
    },
    UseCase {
        name: "loans: upload a bank statement (matched against the loans in scope)",
        inside: |p| p.allows(&Action::Loan(LoanAction::ImportStatement)),
        outside: |_| false,
    },
    UseCase {
        name: "loans: ask for a deferral of a loan",
        inside: |p| p.allows(&Action::Loan(LoanAction::RequestDeferral)),
        outside: |_| false,
    },
    UseCase {
        name: "loans: preview and commit a bulk deferral of an area",
        inside: |p| p.allows(&Action::Loan(LoanAction::BulkDeferral(&own_place(p)))),
        outside: |p| p.allows(&Action::Loan(LoanAction::BulkDeferral(&other_place()))),
    },
    UseCase {
        name: "loans: portfolio and delinquency call lists",
        inside: |p| p.allows(&Action::Loan(LoanAction::ViewPortfolio)),
        outside: |_| false,
    },
];

/// Longest free text (purpose, comment, reason, documents).
const MAX_TEXT: usize = 1000;

fn text(s: &str, max: usize, code: &'static str) -> Result<String> {
    let t = s.trim();
    if t.chars().count() > max {
        return Err(Error::Invalid(code));
    }
    Ok(t.to_owned())
}

fn valid_key(key: &str) -> Result<String> {
    let k = key.trim();
    if (8..=200).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(k.to_owned())
    } else {
        Err(Error::Invalid("loans-key-invalid"))
    }
}

/// What a request with an idempotency key answered.
#[derive(Debug, Clone)]
pub enum Keyed<T> {
    /// Done now.
    Done(T),
    /// The same key and request were done before: the first answer.
    Replayed(T),
}

impl<T> Keyed<T> {
    pub fn value(&self) -> &T {
        match self {
            Keyed::Done(v) | Keyed::Replayed(v) => v,
        }
    }
    pub fn into_value(self) -> T {
        match self {
            Keyed::Done(v) | Keyed::Replayed(v) => v,
        }
    }
    pub fn replayed(&self) -> bool {
        matches!(self, Keyed::Replayed(_))
    }
}

/// Claims a key in `tx`; `Some(answer)` when it was used by the same request (the caller rolls
/// back and returns it), a conflict when it was used by another.
async fn claim<T: DeserializeOwned>(
    tx: &mut hamdeli_store::Tx,
    key: &str,
    action: &str,
    fingerprint: &str,
) -> Result<Option<T>> {
    match st::claim_key(tx, key, action, fingerprint).await? {
        Claim::New => Ok(None),
        Claim::Used {
            action: a,
            fingerprint: f,
            result,
        } => {
            if a == action && f == fingerprint {
                let v = serde_json::from_str(&result)
                    .map_err(|_| Error::Conflict("loans-key-reused"))?;
                Ok(Some(v))
            } else {
                Err(Error::Conflict("loans-key-reused"))
            }
        }
    }
}

async fn finish<T: Serialize>(tx: &mut hamdeli_store::Tx, key: &str, v: &T) -> Result<()> {
    let json = serde_json::to_string(v).map_err(|_| Error::Invalid("loans-key-invalid"))?;
    st::finish_key(tx, key, &json).await?;
    Ok(())
}

fn place_of(loan: &Loan) -> Place {
    Place::county(&loan.province, &loan.county)
}

/// A loan the principal reads (else NotFound).
async fn readable(store: &Store, p: &Principal, id: i64) -> Result<Loan> {
    p.authorize(Action::Loan(LoanAction::View))?;
    let loan = st::loan(store, id).await?.ok_or(Error::NotFound)?;
    let ok = match loan_scope(p) {
        LoanScope::All => true,
        LoanScope::Province(pr) => loan.province == pr,
        LoanScope::County(c) => loan.county == c,
        LoanScope::Organisation(o) => loan.organisation_id == Some(o),
        LoanScope::Applicant(u) => loan.applicant_user_id == Some(u),
        LoanScope::Nothing => false,
    };
    if ok { Ok(loan) } else { Err(Error::NotFound) }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The loans the principal reads.
pub async fn list(store: &Store, caller: &Caller<'_>, filter: &LoanFilter) -> Result<Vec<Loan>> {
    let p = caller.principal;
    p.authorize(Action::Loan(LoanAction::View))?;
    Ok(st::loans(store, &loan_scope(p), filter).await?)
}

/// One loan with its schedule, payments, comments and deferrals.
#[derive(Debug, Clone, Serialize)]
pub struct LoanView {
    pub loan: Loan,
    pub instalments: Vec<StoredInstalment>,
    pub payments: Vec<Payment>,
    pub comments: Vec<Comment>,
    pub deferrals: Vec<DeferralRow>,
}

pub async fn view(store: &Store, caller: &Caller<'_>, id: i64) -> Result<LoanView> {
    let loan = readable(store, caller.principal, id).await?;
    audit_read(
        store,
        caller,
        "loans.view",
        "loan",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    Ok(LoanView {
        instalments: st::instalments(store, id).await?,
        payments: st::payments(store, id).await?,
        comments: st::comments(store, id).await?,
        deferrals: st::deferrals(store, id).await?,
        loan,
    })
}

pub async fn products(store: &Store, caller: &Caller<'_>) -> Result<Vec<Product>> {
    let p = caller.principal;
    if !(p.allows(&Action::Loan(LoanAction::View)) || p.allows(&Action::Loan(LoanAction::ApplyOwn)))
    {
        return Err(Error::Denied);
    }
    Ok(st::products(store).await?)
}

// ---------------------------------------------------------------------------------------------
// Products

/// A new product as entered.
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    /// Percent a year (`4`, `2.5`).
    pub fee_percent: String,
    pub max_amount: i64,
    pub term_months: i64,
    pub grace_months: i64,
    pub applicants: Vec<String>,
    pub female_head_only: bool,
    pub fund_source: String,
    pub fund_name: String,
}

pub async fn create_product(store: &Store, caller: &Caller<'_>, i: &ProductInput) -> Result<i64> {
    caller
        .principal
        .authorize(Action::Loan(LoanAction::ManageProducts))?;
    let code = i.code.trim();
    if code.is_empty()
        || code.len() > 40
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::Invalid("loans-product-code"));
    }
    let fee = FeeRate::parse(&i.fee_percent).map_err(|e| Error::Invalid(e.code()))?;
    if !(1..=schedule::MAX_PRINCIPAL).contains(&i.max_amount) {
        return Err(Error::Invalid("loans-error-principal"));
    }
    if !(1..=i64::from(schedule::MAX_MONTHS)).contains(&i.term_months) {
        return Err(Error::Invalid("loans-error-months"));
    }
    if !(0..=i64::from(schedule::MAX_GRACE)).contains(&i.grace_months) {
        return Err(Error::Invalid("loans-error-grace"));
    }
    let applicants: Vec<&str> = i
        .applicants
        .iter()
        .map(|a| a.trim())
        .filter(|a| hamdeli_domain::loans::APPLICANT_KINDS.contains(a))
        .collect();
    if applicants.is_empty() {
        return Err(Error::Invalid("loans-product-applicants"));
    }
    if !hamdeli_domain::loans::FUND_SOURCES.contains(&i.fund_source.trim()) {
        return Err(Error::Invalid("loans-product-fund"));
    }
    let name_fa = text(&i.name_fa, 200, "loans-product-name")?;
    if name_fa.is_empty() {
        return Err(Error::Invalid("loans-product-name"));
    }
    let product = Product {
        id: 0,
        code: code.to_owned(),
        name_fa,
        name_en: text(&i.name_en, 200, "loans-product-name")?,
        fee_units: fee.units(),
        max_amount: i.max_amount,
        term_months: i.term_months,
        grace_months: i.grace_months,
        applicants: applicants.join(","),
        female_head_only: i.female_head_only,
        fund_source: i.fund_source.trim().to_owned(),
        fund_name: text(&i.fund_name, 200, "loans-product-name")?,
        active: true,
    };
    let mut tx = store.begin().await?;
    let id = st::insert_product(&mut tx, &product).await?;
    audit_write(
        &mut tx,
        caller,
        "loans.product.create",
        "loan_product",
        id.to_string(),
        serde_json::json!({"code": product.code, "fee_units": product.fee_units}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// Cooperatives

#[derive(Debug, Clone, Default)]
pub struct CooperativeInput {
    pub registration_no: String,
    pub name: String,
    pub field: String,
    pub county: String,
}

pub async fn cooperatives(store: &Store, caller: &Caller<'_>) -> Result<Vec<Cooperative>> {
    let p = caller.principal;
    p.authorize(Action::Loan(LoanAction::View))?;
    Ok(st::cooperatives(store, &loan_scope(p)).await?)
}

pub async fn cooperative(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
) -> Result<(Cooperative, Vec<Member>)> {
    let p = caller.principal;
    p.authorize(Action::Loan(LoanAction::View))?;
    let c = st::cooperative(store, id).await?.ok_or(Error::NotFound)?;
    let ok = match loan_scope(p) {
        LoanScope::All => true,
        LoanScope::Province(pr) => c.province == pr,
        LoanScope::County(co) => c.county == co,
        LoanScope::Organisation(o) => c.organisation_id == Some(o),
        _ => false,
    };
    if !ok {
        return Err(Error::NotFound);
    }
    audit_read(
        store,
        caller,
        "loans.cooperative.view",
        "loan_cooperative",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    let m = st::members(store, id).await?;
    Ok((c, m))
}

async fn check_coop(
    store: &Store,
    p: &Principal,
    i: &CooperativeInput,
) -> Result<st::NewCooperative> {
    let reg = hamdeli_text::fold_digits(i.registration_no.trim());
    if reg.is_empty() || reg.chars().count() > 40 {
        return Err(Error::Invalid("loans-coop-registration"));
    }
    let name = text(&i.name, 200, "loans-coop-name")?;
    if name.is_empty() {
        return Err(Error::Invalid("loans-coop-name"));
    }
    let field = text(&i.field, 200, "loans-coop-field")?;
    let county = i.county.trim();
    let province = st::province_of_county(store, county)
        .await?
        .ok_or(Error::Invalid("loans-county-unknown"))?;
    p.authorize(Action::Loan(LoanAction::ManageCooperative(&Place::county(
        &province, county,
    ))))?;
    Ok(st::NewCooperative {
        registration_no: reg,
        name,
        field,
        province,
        county: county.to_owned(),
        organisation_id: if p.role == Role::PartnerOrg {
            p.scope.organisation()
        } else {
            None
        },
        created_by: p.user_id,
    })
}

pub async fn create_cooperative(
    store: &Store,
    caller: &Caller<'_>,
    i: &CooperativeInput,
) -> Result<i64> {
    let new = check_coop(store, caller.principal, i).await?;
    let mut tx = store.begin().await?;
    let id = st::insert_cooperative(&mut tx, &new).await?;
    audit_write(
        &mut tx,
        caller,
        "loans.cooperative.create",
        "loan_cooperative",
        id.to_string(),
        serde_json::json!({"county": new.county}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The statuses of a cooperative (a dissolved one stays dissolved).
pub const COOP_STATUSES: [&str; 3] = ["active", "suspended", "dissolved"];

/// The audit action of a cooperative's status change (its history is read from the audit log).
const COOP_STATUS_ACTION: &str = "loans.cooperative.status";

/// One change of a cooperative's status, newest first in its history.
#[derive(Debug, Clone, Serialize)]
pub struct CoopStatusChange {
    /// Unix milliseconds.
    pub at: i64,
    pub actor: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// Whether the caller may change this cooperative's status (the offices that decide loans in
/// its place: the national admin, the provincial officer of its province).
pub fn may_set_cooperative_status(p: &Principal, c: &Cooperative) -> bool {
    p.allows(&Action::Loan(LoanAction::Decide(&Place::county(
        &c.province,
        &c.county,
    ))))
}

/// Changes a cooperative's status (active, suspended, dissolved) with a reason, kept in its
/// history. A suspended or dissolved cooperative takes no new application; a dissolved one is
/// final.
pub async fn set_cooperative_status(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    status: &str,
    reason: &str,
) -> Result<()> {
    let (c, _) = cooperative(store, caller, id).await?;
    if !may_set_cooperative_status(caller.principal, &c) {
        return Err(Error::Denied);
    }
    let status = status.trim();
    if !COOP_STATUSES.contains(&status) {
        return Err(Error::Invalid("loans-coop-status-unknown"));
    }
    let reason = text(reason, MAX_TEXT, "loans-text-long")?;
    if reason.is_empty() {
        return Err(Error::Invalid("loans-coop-status-reason"));
    }
    if c.status == "dissolved" {
        return Err(Error::Conflict("loans-coop-status-final"));
    }
    if c.status == status {
        return Err(Error::Invalid("loans-coop-status-same"));
    }
    let mut tx = store.begin().await?;
    st::set_cooperative_status(&mut tx, id, status).await?;
    audit_write(
        &mut tx,
        caller,
        COOP_STATUS_ACTION,
        "loan_cooperative",
        id.to_string(),
        serde_json::json!({"from": c.status, "to": status, "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The status changes of a cooperative the caller opened with [`cooperative`], newest first
/// (at most 200).
pub async fn cooperative_status_history(
    store: &Store,
    caller: &Caller<'_>,
    c: &Cooperative,
) -> Result<Vec<CoopStatusChange>> {
    let id = c.id;
    caller.principal.authorize(Action::Loan(LoanAction::View))?;
    let rows = hamdeli_store::audit::list(
        store,
        &hamdeli_store::audit::Filter {
            action: Some(COOP_STATUS_ACTION.to_owned()),
            target_kind: Some("loan_cooperative".to_owned()),
            target_id: Some(id.to_string()),
            limit: 200,
            ..Default::default()
        },
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            let field = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            CoopStatusChange {
                at: e.at,
                actor: e.actor,
                from: field("from"),
                to: field("to"),
                reason: field("reason"),
            }
        })
        .collect())
}

/// Finds a person by national code (ASCII after folding) in the registry.
async fn person_by_code(store: &Store, code: &str) -> Result<i64> {
    let code = hamdeli_text::fold_digits(code.trim());
    let ids = st::persons_with_code(store, &code).await?;
    match ids.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::Invalid("loans-person-unknown")),
        _ => Err(Error::Conflict("loans-person-ambiguous")),
    }
}

/// Adds a registry person (by national code) to a cooperative, on its board or not.
pub async fn add_member(
    store: &Store,
    caller: &Caller<'_>,
    coop: i64,
    national_code: &str,
    board_role: Option<&str>,
) -> Result<()> {
    let (c, _) = cooperative(store, caller, coop).await?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::ManageCooperative(&Place::county(
            &c.province,
            &c.county,
        ))))?;
    let person = person_by_code(store, national_code).await?;
    let role = match board_role.map(str::trim) {
        None | Some("") => None,
        Some(r @ ("chair" | "deputy" | "secretary" | "treasurer" | "board")) => Some(r),
        Some(_) => return Err(Error::Invalid("loans-board-role")),
    };
    let mut tx = store.begin().await?;
    st::upsert_member(&mut tx, coop, person, role).await?;
    audit_write(
        &mut tx,
        caller,
        "loans.cooperative.member",
        "loan_cooperative",
        coop.to_string(),
        serde_json::json!({"person": person, "board_role": role}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One row of a cooperatives import's report.
#[derive(Debug, Clone, Serialize)]
pub struct ImportLine {
    pub row: usize,
    /// `created`, `exists` or `rejected`.
    pub status: &'static str,
    /// A catalog message id (empty when created).
    pub message: &'static str,
    pub registration_no: String,
}

/// Reads a CSV or XLSX of cooperatives: columns registration_no, name, field, county (a county
/// code; Persian headers شماره ثبت، نام، زمینه فعالیت، شهرستان accepted); at most 5,000 rows.
pub fn read_sheet(bytes: &[u8]) -> std::result::Result<Vec<Vec<String>>, &'static str> {
    const MAX_ROWS: usize = 5_001;
    if bytes.len() > 10 * 1024 * 1024 {
        return Err("loans-import-too-large");
    }
    if bytes.starts_with(b"PK") {
        // The registry import's guarded reader: the zip checked before a part is unpacked, the
        // declared dimension refused before a cell is read, the cells streamed (a dense range of
        // a hostile workbook's declared or far-apart cells would take the server's memory).
        let limits = hamdeli_ingest::Limits {
            max_file_bytes: 10 * 1024 * 1024,
            max_rows: 1_048_576,
            max_columns: 100,
            max_cells: 2_000_000,
            max_part_bytes: 64 << 20,
            max_sheet_bytes: 256 << 20,
            ..hamdeli_ingest::Limits::IMPORT
        };
        let too_large_or_unreadable = |e: hamdeli_ingest::IngestError| match e {
            hamdeli_ingest::IngestError::TooLarge(_) => "loans-import-too-large",
            _ => "loans-import-unreadable",
        };
        let rows =
            hamdeli_ingest::sheet_rows(bytes.to_vec(), &limits).map_err(too_large_or_unreadable)?;
        // Rows keep their places (an empty row in between stays an empty row), from the first
        // filled one, as a spreadsheet numbers them.
        let mut out: Vec<Vec<String>> = vec![];
        let mut first: Option<u64> = None;
        for row in rows {
            let row = row.map_err(too_large_or_unreadable)?;
            let start = *first.get_or_insert(row.row);
            let at = (row.row - start) as usize;
            if at >= MAX_ROWS {
                return Err("loans-import-too-large");
            }
            out.resize(at, vec![]);
            out.push(row.cells.map_err(|_| "loans-import-unreadable")?);
        }
        Ok(out)
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| "loans-import-unreadable")?;
        let text = text.trim_start_matches('\u{feff}');
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut out = vec![];
        for (i, rec) in r.records().enumerate() {
            // Past the limit the file is refused, never cut short in silence.
            if i >= MAX_ROWS {
                return Err("loans-import-too-large");
            }
            let rec = rec.map_err(|_| "loans-import-unreadable")?;
            out.push(rec.iter().map(str::to_owned).collect());
        }
        Ok(out)
    }
}

fn column(headers: &[String], names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| {
        let h = h.trim().to_lowercase();
        names.iter().any(|n| h == *n)
    })
}

pub async fn import_cooperatives(
    store: &Store,
    caller: &Caller<'_>,
    bytes: &[u8],
) -> Result<Vec<ImportLine>> {
    caller.principal.authorize(Action::Loan(LoanAction::View))?;
    let rows = read_sheet(bytes).map_err(Error::Invalid)?;
    let Some((headers, data)) = rows.split_first() else {
        return Err(Error::Invalid("loans-import-empty"));
    };
    let reg = column(headers, &["registration_no", "شماره ثبت"]);
    let name = column(headers, &["name", "نام", "نام تعاونی"]);
    let field = column(headers, &["field", "زمینه فعالیت", "زمینه"]);
    let county = column(headers, &["county", "county_code", "شهرستان", "کد شهرستان"]);
    let (Some(reg), Some(name), Some(county)) = (reg, name, county) else {
        return Err(Error::Invalid("loans-import-columns"));
    };
    if data.len() > 5_000 {
        return Err(Error::Invalid("loans-import-too-large"));
    }
    let mut report = vec![];
    for (i, row) in data.iter().enumerate() {
        let cell = |c: usize| row.get(c).cloned().unwrap_or_default();
        let input = CooperativeInput {
            registration_no: cell(reg),
            name: cell(name),
            field: field.map(cell).unwrap_or_default(),
            county: hamdeli_text::fold_digits(cell(county).trim()),
        };
        let row_no = i + 2;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let reg_no = hamdeli_text::fold_digits(input.registration_no.trim());
        if st::cooperative_by_registration(store, &reg_no)
            .await?
            .is_some()
        {
            report.push(ImportLine {
                row: row_no,
                status: "exists",
                message: "loans-coop-duplicate",
                registration_no: reg_no,
            });
            continue;
        }
        match create_cooperative(store, caller, &input).await {
            Ok(_) => report.push(ImportLine {
                row: row_no,
                status: "created",
                message: "",
                registration_no: reg_no,
            }),
            Err(Error::Invalid(m)) | Err(Error::Conflict(m)) => report.push(ImportLine {
                row: row_no,
                status: "rejected",
                message: m,
                registration_no: reg_no,
            }),
            Err(Error::Denied) => report.push(ImportLine {
                row: row_no,
                status: "rejected",
                message: "loans-out-of-scope",
                registration_no: reg_no,
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Applications

/// An application as entered.
#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    pub product_id: i64,
    /// person, home_business, cooperative
    pub applicant_kind: String,
    /// The applicant's national code (a person or a home business).
    pub national_code: Option<String>,
    /// The applicant's registry id (instead of a national code).
    pub person_id: Option<i64>,
    pub cooperative_id: Option<i64>,
    /// Rials.
    pub amount: i64,
    /// Months (default: the product's term).
    pub months: Option<i64>,
    pub purpose: String,
    /// The documents attached (their names / references).
    pub documents: String,
}

/// Applies (a producer for herself) or enters an application (an office, a partner). The
/// registry decides eligibility: a female-head-only product needs a person the registry marks
/// as a woman heading a female-headed household; the applicant's county is the registry's.
pub async fn apply(
    store: &Store,
    caller: &Caller<'_>,
    i: &ApplicationInput,
) -> Result<(i64, String)> {
    let p = caller.principal;
    let product = st::product(store, i.product_id)
        .await?
        .filter(|x| x.active)
        .ok_or(Error::Invalid("loans-product-unknown"))?;
    let kind = i.applicant_kind.trim();
    if !product.allows(kind) {
        return Err(Error::Invalid("loans-applicant-kind"));
    }
    if !(1..=product.max_amount).contains(&i.amount) {
        return Err(Error::Invalid("loans-amount-max"));
    }
    let months = i.months.unwrap_or(product.term_months);
    if !(1..=product.term_months).contains(&months) || i.amount < months {
        return Err(Error::Invalid("loans-error-months"));
    }
    let purpose = text(&i.purpose, MAX_TEXT, "loans-text-long")?;
    if purpose.is_empty() {
        return Err(Error::Invalid("loans-purpose-required"));
    }
    let documents = text(&i.documents, MAX_TEXT, "loans-text-long")?;
    let (person_id, coop_id, province, county, female_head) = if kind == "cooperative" {
        let cid = i
            .cooperative_id
            .ok_or(Error::Invalid("loans-coop-required"))?;
        let c = st::cooperative(store, cid)
            .await?
            .ok_or(Error::Invalid("loans-coop-required"))?;
        if c.status != "active" {
            return Err(Error::Invalid("loans-coop-inactive"));
        }
        (None, Some(cid), c.province, c.county, false)
    } else {
        let pid = match (i.person_id, i.national_code.as_deref()) {
            (Some(id), _) => id,
            (None, Some(code)) if !code.trim().is_empty() => person_by_code(store, code).await?,
            _ => return Err(Error::Invalid("loans-person-required")),
        };
        let a = st::applicant(store, pid)
            .await?
            .ok_or(Error::Invalid("loans-person-unknown"))?;
        let (Some(pr), Some(co)) = (a.province.clone(), a.county.clone()) else {
            return Err(Error::Invalid("loans-person-no-county"));
        };
        let fh = a.female && a.female_head;
        if product.female_head_only && !fh {
            return Err(Error::Invalid("loans-not-female-head"));
        }
        (Some(a.person_id), None, pr, co, fh)
    };
    let place = Place::county(&province, &county);
    let (applicant_user, organisation) = if p.allows(&Action::Loan(LoanAction::ApplyOwn)) {
        (p.user_id, None)
    } else {
        p.authorize(Action::Loan(LoanAction::EnterApplication(&place)))?;
        let org = if p.role == Role::PartnerOrg {
            p.scope.organisation()
        } else {
            None
        };
        (None, org)
    };
    let new = st::NewLoan {
        product_id: product.id,
        applicant_kind: kind.to_owned(),
        person_id,
        cooperative_id: coop_id,
        applicant_user_id: applicant_user,
        organisation_id: organisation,
        province,
        county,
        female_head,
        amount: i.amount,
        months,
        grace_months: product.grace_months,
        fee_units: product.fee_units,
        purpose,
        documents,
        created_by: p.user_id,
    };
    let mut tx = store.begin().await?;
    let (id, no) = st::insert_loan(&mut tx, &new).await?;
    st::add_comment(&mut tx, id, "applied", "", p.user_id, &p.name).await?;
    audit_write(
        &mut tx,
        caller,
        "loans.apply",
        "loan",
        id.to_string(),
        serde_json::json!({"product": product.id, "amount": i.amount, "county": new.county}),
    )
    .await?;
    tx.commit().await?;
    Ok((id, no))
}

/// A reviewer's comment.
pub async fn comment(store: &Store, caller: &Caller<'_>, id: i64, body: &str) -> Result<()> {
    let loan = readable(store, caller.principal, id).await?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::Comment(&place_of(&loan))))?;
    let body = text(body, MAX_TEXT, "loans-text-long")?;
    if body.is_empty() {
        return Err(Error::Invalid("loans-comment-required"));
    }
    let mut tx = store.begin().await?;
    st::add_comment(
        &mut tx,
        id,
        "comment",
        &body,
        caller.principal.user_id,
        &caller.principal.name,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "loans.comment",
        "loan",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Approves or rejects an application, with a comment.
pub async fn decide(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    approve: bool,
    note: &str,
) -> Result<()> {
    let loan = readable(store, caller.principal, id).await?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::Decide(&place_of(&loan))))?;
    let note = text(note, MAX_TEXT, "loans-text-long")?;
    let to = if approve { "approved" } else { "rejected" };
    let mut tx = store.begin().await?;
    st::transition(&mut tx, id, "applied", to).await?;
    st::add_comment(
        &mut tx,
        id,
        to,
        &note,
        caller.principal.user_id,
        &caller.principal.name,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        if approve {
            "loans.approve"
        } else {
            "loans.reject"
        },
        "loan",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the signed contract's number of an approved loan.
pub async fn contract(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    contract_no: &str,
) -> Result<()> {
    let loan = readable(store, caller.principal, id).await?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::Decide(&place_of(&loan))))?;
    let no = hamdeli_text::fold_digits(contract_no.trim());
    if no.is_empty() || no.chars().count() > 60 {
        return Err(Error::Invalid("loans-contract-required"));
    }
    let mut tx = store.begin().await?;
    st::set_contract(&mut tx, id, &no).await?;
    st::add_comment(
        &mut tx,
        id,
        "contract",
        &no,
        caller.principal.user_id,
        &caller.principal.name,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "loans.contract",
        "loan",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a disbursement did.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Disbursed {
    pub loan_id: i64,
    pub fee_total: i64,
    pub instalments: i64,
    pub first_due: String,
}

/// Disburses an approved loan with a contract: the schedule from `start` (Jalali), the journal
/// entry fund → loan receivable (principal) and fee income → loan receivable (fee), once per key.
pub async fn disburse(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    start: &str,
    key: &str,
) -> Result<Keyed<Disbursed>> {
    let loan = readable(store, caller.principal, id).await?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::Decide(&place_of(&loan))))?;
    let key = valid_key(key)?;
    let start_date = schedule::parse_jalali(start).ok_or(Error::Invalid("loans-error-start"))?;
    let terms = Terms {
        principal: loan.amount,
        months: u32::try_from(loan.months).map_err(|_| Error::Invalid("loans-error-months"))?,
        fee: FeeRate::from_units(loan.fee_units).map_err(|e| Error::Invalid(e.code()))?,
        start: start_date,
        grace_months: u32::try_from(loan.grace_months)
            .map_err(|_| Error::Invalid("loans-error-grace"))?,
    };
    let rows = schedule::schedule(&terms, &[]).map_err(|e| Error::Invalid(e.code()))?;
    if !st::CALENDAR_YEARS.contains(&rows.last().map(|r| r.due.year()).unwrap_or(0))
        || !st::CALENDAR_YEARS.contains(&start_date.year())
    {
        return Err(Error::Invalid("loans-error-calendar"));
    }
    let fingerprint = format!("{id}|{}", schedule::jalali_text(start_date));
    let mut tx = store.begin().await?;
    if let Some(done) = claim::<Disbursed>(&mut tx, &key, "disburse", &fingerprint).await? {
        tx.rollback().await?;
        return Ok(Keyed::Replayed(done));
    }
    if loan.contract_no.is_none() {
        return Err(Error::Conflict("loans-contract-missing"));
    }
    let fee_total = terms.total_fee();
    st::disburse(
        &mut tx,
        store.engine(),
        id,
        &schedule::jalali_text(start_date),
        fee_total,
        &rows,
        schedule::month_index(start_date),
        start_date.day(),
    )
    .await?;
    let posting = journal::disbursement(&loan.fund_source, loan.amount, fee_total)
        .map_err(|_| Error::Invalid("loans-journal-unbalanced"))?;
    st::journal(&mut tx, &format!("disburse:{id}"), id, &posting).await?;
    let out = Disbursed {
        loan_id: id,
        fee_total,
        instalments: rows.len() as i64,
        first_due: rows
            .first()
            .map(|r| schedule::jalali_text(r.due))
            .unwrap_or_default(),
    };
    st::add_comment(
        &mut tx,
        id,
        "disburse",
        &out.first_due,
        caller.principal.user_id,
        &caller.principal.name,
    )
    .await?;
    finish(&mut tx, &key, &out).await?;
    audit_write(
        &mut tx,
        caller,
        "loans.disburse",
        "loan",
        id.to_string(),
        serde_json::json!({"amount": loan.amount, "fee": fee_total}),
    )
    .await?;
    tx.commit().await?;
    Ok(Keyed::Done(out))
}

// ---------------------------------------------------------------------------------------------
// Repayments

/// Records a repayment by an office (partial or early payments included), once per key.
pub async fn repay(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    amount: i64,
    paid_on: &str,
    key: &str,
) -> Result<Keyed<Payment>> {
    let loan = readable(store, caller.principal, id).await?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::RecordRepayment(&place_of(&loan))))?;
    let key = valid_key(key)?;
    let paid_on = paid_on.trim();
    if hamdeli_store::registry::facts::noon_in_iran(paid_on).is_none() {
        return Err(Error::Invalid("loans-date-invalid"));
    }
    if amount <= 0 || amount > schedule::MAX_PRINCIPAL * 2 {
        return Err(Error::Invalid("loans-amount-positive"));
    }
    let fingerprint = format!("{id}|{amount}|{paid_on}");
    let mut tx = store.begin().await?;
    if let Some(done) = claim::<Payment>(&mut tx, &key, "repay", &fingerprint).await? {
        tx.rollback().await?;
        return Ok(Keyed::Replayed(done));
    }
    let pay = st::record_payment(
        &mut tx,
        id,
        amount,
        paid_on,
        "office",
        None,
        None,
        caller.principal.user_id,
    )
    .await?;
    finish(&mut tx, &key, &pay).await?;
    audit_write(
        &mut tx,
        caller,
        "loans.repay",
        "loan",
        id.to_string(),
        serde_json::json!({"amount": amount, "receipt": pay.receipt_no}),
    )
    .await?;
    tx.commit().await?;
    Ok(Keyed::Done(pay))
}

/// One row of a statement's report.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StatementLine {
    pub row: usize,
    pub loan_no: String,
    pub amount: i64,
    /// `matched`, `duplicate`, `unknown_loan`, `amount_mismatch`, `not_repaying`, `invalid`
    pub status: String,
    pub receipt_no: Option<String>,
}

/// Books a bank statement CSV (columns loan_no, amount (rials), date (ISO or Jalali), reference):
/// a row is matched when its loan is in the principal's scope and repaying, and its amount is the
/// next instalment's open amount or anything up to the outstanding total (partial and early
/// payments); a reference booked before is a duplicate. Once per key (a hash of the file is a
/// good key).
pub async fn import_statement(
    store: &Store,
    caller: &Caller<'_>,
    file_name: &str,
    bytes: &[u8],
    key: &str,
) -> Result<Keyed<Vec<StatementLine>>> {
    let p = caller.principal;
    p.authorize(Action::Loan(LoanAction::ImportStatement))?;
    let key = valid_key(key)?;
    let rows = read_sheet(bytes).map_err(Error::Invalid)?;
    let Some((headers, data)) = rows.split_first() else {
        return Err(Error::Invalid("loans-import-empty"));
    };
    let c_no = column(headers, &["loan_no", "شماره وام", "شماره تسهیلات"]);
    let c_amount = column(headers, &["amount", "amount_rials", "مبلغ"]);
    let c_date = column(headers, &["date", "paid_on", "تاریخ"]);
    let c_ref = column(headers, &["reference", "ref", "bank_ref", "شماره پیگیری"]);
    let (Some(c_no), Some(c_amount), Some(c_date), Some(c_ref)) = (c_no, c_amount, c_date, c_ref)
    else {
        return Err(Error::Invalid("loans-import-columns"));
    };
    let scope = loan_scope(p);
    let fingerprint = format!("{}|{}", file_name.len(), bytes.len());
    let mut tx = store.begin().await?;
    if let Some(done) =
        claim::<Vec<StatementLine>>(&mut tx, &key, "statement", &fingerprint).await?
    {
        tx.rollback().await?;
        return Ok(Keyed::Replayed(done));
    }
    let statement = st::insert_statement(
        &mut tx,
        &text(file_name, 200, "loans-text-long")?,
        data.len() as i64,
        p.user_id,
    )
    .await?;
    let mut out = vec![];
    let mut matched = 0;
    for (i, row) in data.iter().enumerate() {
        let cell = |c: usize| row.get(c).map(|s| s.trim().to_owned()).unwrap_or_default();
        let loan_no = hamdeli_text::fold_digits(&cell(c_no));
        let amount = schedule::parse_whole(&cell(c_amount)).unwrap_or(0);
        let bank_ref = hamdeli_text::fold_digits(&cell(c_ref));
        let date = iso_date(&cell(c_date));
        let mut line = StatementLine {
            row: i + 2,
            loan_no: loan_no.clone(),
            amount,
            status: String::new(),
            receipt_no: None,
        };
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let (Some(date), true, false) = (date, amount > 0, bank_ref.is_empty()) else {
            line.status = "invalid".into();
            out.push(line);
            continue;
        };
        if st::bank_ref_used(&mut tx, &bank_ref).await? {
            line.status = "duplicate".into();
            out.push(line);
            continue;
        }
        let Some((loan_id, province, county, status, _next_due, outstanding)) =
            st::loan_for_match(&mut tx, &loan_no).await?
        else {
            line.status = "unknown_loan".into();
            out.push(line);
            continue;
        };
        let in_scope = match &scope {
            LoanScope::All => true,
            LoanScope::Province(pr) => *pr == province,
            LoanScope::County(c) => *c == county,
            _ => false,
        };
        if !in_scope {
            line.status = "unknown_loan".into();
            out.push(line);
            continue;
        }
        if status != "disbursed" {
            line.status = "not_repaying".into();
            out.push(line);
            continue;
        }
        if amount > outstanding {
            line.status = "amount_mismatch".into();
            out.push(line);
            continue;
        }
        let pay = st::record_payment(
            &mut tx,
            loan_id,
            amount,
            &date,
            "bank",
            Some(&bank_ref),
            Some(statement),
            p.user_id,
        )
        .await?;
        matched += 1;
        line.status = "matched".into();
        line.receipt_no = Some(pay.receipt_no);
        out.push(line);
    }
    st::finish_statement(&mut tx, statement, matched).await?;
    finish(&mut tx, &key, &out).await?;
    audit_write(
        &mut tx,
        caller,
        "loans.statement",
        "loan_statement",
        statement.to_string(),
        serde_json::json!({"rows": data.len(), "matched": matched}),
    )
    .await?;
    tx.commit().await?;
    Ok(Keyed::Done(out))
}

/// An ISO date from ISO or Jalali text (any digits).
fn iso_date(s: &str) -> Option<String> {
    let s = hamdeli_text::fold_digits(s.trim());
    if let Some(j) = schedule::parse_jalali(&s).filter(|j| j.year() > 1300 && j.year() < 1500) {
        let g = j.to_iso();
        return Some(format!("{:04}-{:02}-{:02}", g.year(), g.month(), g.day()));
    }
    hamdeli_store::registry::facts::noon_in_iran(&s).map(|_| s)
}

// ---------------------------------------------------------------------------------------------
// Deferrals

/// Asks for a deferral of instalments `from_n` … n by `months` (the borrower herself or an
/// office for her).
pub async fn request_deferral(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    from_n: i64,
    months: i64,
    reason: &str,
) -> Result<i64> {
    let loan = readable(store, caller.principal, id).await?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::RequestDeferral))?;
    if loan.status != "disbursed" {
        return Err(Error::Conflict("loans-not-repaying"));
    }
    let d = schedule::Deferral {
        from: u32::try_from(from_n).map_err(|_| Error::Invalid("loans-error-defer-from"))?,
        months: u32::try_from(months).map_err(|_| Error::Invalid("loans-error-defer-months"))?,
    };
    schedule::validate_deferral(&d, loan.months as u32).map_err(|e| Error::Invalid(e.code()))?;
    let reason = text(reason, MAX_TEXT, "loans-text-long")?;
    let mut tx = store.begin().await?;
    let did = st::request_deferral(&mut tx, id, from_n, months, &reason).await?;
    st::add_comment(
        &mut tx,
        id,
        "deferral_request",
        &reason,
        caller.principal.user_id,
        &caller.principal.name,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "loans.deferral.request",
        "loan",
        id.to_string(),
        serde_json::json!({"from": from_n, "months": months}),
    )
    .await?;
    tx.commit().await?;
    Ok(did)
}

/// Decides a requested deferral of a loan (approving moves the instalments).
pub async fn decide_deferral(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    deferral: i64,
    approve: bool,
) -> Result<()> {
    let loan = readable(store, caller.principal, id).await?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::Decide(&place_of(&loan))))?;
    let ours = st::deferrals(store, id)
        .await?
        .iter()
        .any(|d| d.id == deferral);
    if !ours {
        return Err(Error::NotFound);
    }
    let mut tx = store.begin().await?;
    let d = st::decide_deferral(
        &mut tx,
        store.engine(),
        deferral,
        approve,
        caller.principal.user_id,
    )
    .await?;
    st::add_comment(
        &mut tx,
        id,
        "deferral_decision",
        &d.status,
        caller.principal.user_id,
        &caller.principal.name,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "loans.deferral.decide",
        "loan",
        id.to_string(),
        serde_json::json!({"deferral": deferral, "status": d.status, "months": d.months}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A bulk deferral as entered: the area, the period (Jalali dates) and the months.
#[derive(Debug, Clone, Default)]
pub struct BulkInput {
    pub province: String,
    pub county: Option<String>,
    pub female_head_only: bool,
    pub product_id: Option<i64>,
    pub due_from: String,
    pub due_to: String,
    pub months: i64,
}

async fn bulk_selection(store: &Store, p: &Principal, i: &BulkInput) -> Result<BulkSelection> {
    let province = i.province.trim().to_owned();
    let county = i
        .county
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    if let Some(c) = &county {
        let pr = st::province_of_county(store, c).await?;
        if pr.as_deref() != Some(province.as_str()) {
            return Err(Error::Invalid("loans-county-unknown"));
        }
    }
    let place = Place {
        province: province.clone(),
        county: county.clone(),
    };
    p.authorize(Action::Loan(LoanAction::BulkDeferral(&place)))?;
    let from = schedule::parse_jalali(&i.due_from).ok_or(Error::Invalid("loans-error-start"))?;
    let to = schedule::parse_jalali(&i.due_to).ok_or(Error::Invalid("loans-error-start"))?;
    let (from, to) = (from.to_iso().to_days(), to.to_iso().to_days());
    if to < from || to - from > 3 * 366 {
        return Err(Error::Invalid("loans-period-invalid"));
    }
    if !(1..=i64::from(schedule::MAX_DEFER)).contains(&i.months) {
        return Err(Error::Invalid("loans-error-defer-months"));
    }
    Ok(BulkSelection {
        province,
        county,
        female_head_only: i.female_head_only,
        product_id: i.product_id,
        due_from: from,
        due_to: to,
        months: i.months,
    })
}

/// Who a bulk deferral would take, per county, with a sample of borrowers' dates before and
/// after.
pub async fn bulk_preview(
    store: &Store,
    caller: &Caller<'_>,
    i: &BulkInput,
) -> Result<(Vec<PreviewLine>, Vec<PreviewSample>)> {
    let sel = bulk_selection(store, caller.principal, i).await?;
    let out = st::bulk_preview(store, &sel).await?;
    audit_read(
        store,
        caller,
        "loans.bulk.preview",
        "province",
        sel.province.clone(),
        serde_json::json!({"months": sel.months, "loans": out.0.iter().map(|l| l.loans).sum::<i64>()}),
    )
    .await?;
    Ok(out)
}

/// Commits a bulk deferral in one audited transaction, once per key.
pub async fn bulk_commit(
    store: &Store,
    caller: &Caller<'_>,
    i: &BulkInput,
    reason: &str,
    key: &str,
) -> Result<Keyed<BulkResult>> {
    let sel = bulk_selection(store, caller.principal, i).await?;
    let key = valid_key(key)?;
    let reason = text(reason, MAX_TEXT, "loans-text-long")?;
    if reason.is_empty() {
        return Err(Error::Invalid("loans-reason-required"));
    }
    let fingerprint =
        serde_json::to_string(&sel).map_err(|_| Error::Invalid("loans-key-invalid"))?;
    let mut tx = store.begin().await?;
    if let Some(done) =
        claim::<BulkResultJson>(&mut tx, &key, "bulk_deferral", &fingerprint).await?
    {
        tx.rollback().await?;
        return Ok(Keyed::Replayed(done.into()));
    }
    let r = st::bulk_commit(
        &mut tx,
        store.engine(),
        &sel,
        &reason,
        caller.principal.user_id,
    )
    .await?;
    finish(&mut tx, &key, &BulkResultJson::from(&r)).await?;
    audit_write(
        &mut tx,
        caller,
        "loans.bulk.commit",
        "loan_bulk_deferral",
        r.id.to_string(),
        serde_json::json!({"province": sel.province, "county": sel.county, "months": sel.months,
            "loans": r.loans, "instalments": r.instalments, "amount": r.amount}),
    )
    .await?;
    tx.commit().await?;
    Ok(Keyed::Done(r))
}

#[derive(Serialize, serde::Deserialize)]
struct BulkResultJson {
    id: i64,
    loans: i64,
    instalments: i64,
    amount: i64,
}

impl From<&BulkResult> for BulkResultJson {
    fn from(r: &BulkResult) -> Self {
        BulkResultJson {
            id: r.id,
            loans: r.loans,
            instalments: r.instalments,
            amount: r.amount,
        }
    }
}

impl From<BulkResultJson> for BulkResult {
    fn from(r: BulkResultJson) -> Self {
        BulkResult {
            id: r.id,
            loans: r.loans,
            instalments: r.instalments,
            amount: r.amount,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Delinquency and portfolio

/// The late loans of the principal's scope with their bucket, per county.
pub async fn late(store: &Store, caller: &Caller<'_>) -> Result<Vec<LateLoan>> {
    let p = caller.principal;
    p.authorize(Action::Loan(LoanAction::ViewPortfolio))?;
    let rows = st::late_loans(store, &loan_scope(p), 5_000).await?;
    audit_read(
        store,
        caller,
        "loans.late",
        "loans",
        "call_list".into(),
        serde_json::json!({"rows": rows.len()}),
    )
    .await?;
    Ok(rows)
}

/// The portfolio by `province`, `product` or `month`.
pub async fn portfolio(store: &Store, caller: &Caller<'_>, by: &str) -> Result<Vec<PortfolioLine>> {
    let p = caller.principal;
    p.authorize(Action::Loan(LoanAction::ViewPortfolio))?;
    Ok(st::portfolio(store, &loan_scope(p), by).await?)
}

/// The journal's balance per account (all loans, or one the principal reads).
pub async fn balances(
    store: &Store,
    caller: &Caller<'_>,
    loan: Option<i64>,
) -> Result<Vec<(String, i64)>> {
    match loan {
        Some(id) => {
            readable(store, caller.principal, id).await?;
        }
        None => caller
            .principal
            .authorize(Action::Loan(LoanAction::ViewPortfolio))?,
    }
    Ok(st::account_balances(store, loan).await?)
}
