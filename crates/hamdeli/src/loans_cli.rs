//! `hamdeli loans …`: the loan schedule calculator (no database) and the loans benchmark.

use clap::Subcommand;

use hamdeli_domain::loans::schedule::{
    self, Deferral, FeeRate, ScheduleError, Terms, parse_jalali, parse_whole,
};

#[derive(Subcommand)]
pub enum LoansCommand {
    /// Print a qard al-hasan loan's repayment schedule as CSV (no database needed):
    /// n,due_jalali,due_gregorian,principal_rials,fee_rials,total_rials,balance_rials
    Schedule {
        /// Principal in rials (a whole number; Persian digits accepted).
        #[arg(long)]
        principal: Option<String>,
        /// Number of monthly instalments (1–240).
        #[arg(long)]
        months: Option<String>,
        /// Service fee in percent a year (e.g. 4 or 2.5; up to 4 decimals).
        #[arg(long)]
        fee_percent: Option<String>,
        /// Start date, Jalali YYYY/MM/DD (its day of the month is the due day).
        #[arg(long)]
        start: Option<String>,
        /// Months of grace before the first instalment's month (0–60).
        #[arg(long, default_value = "0")]
        grace_months: String,
        /// Defer instalments from this one (1…n) to the last …
        #[arg(long, requires = "defer_months")]
        defer_from: Option<String>,
        /// … by this many months (1–60).
        #[arg(long, requires = "defer_from")]
        defer_months: Option<String>,
    },
    /// Benchmark: schedules for N loans, and a bulk deferral of N loans of one province
    /// previewed and committed in the configured database (use a fresh one: it adds rows).
    Bench {
        /// Loans to generate.
        #[arg(long, default_value_t = 1_000_000)]
        loans: usize,
        /// Only time schedule generation (no database).
        #[arg(long)]
        schedules_only: bool,
    },
}

/// The schedule's CSV, or a one-line error.
pub fn schedule_csv(
    principal: &str,
    months: &str,
    fee_percent: &str,
    start: &str,
    grace_months: &str,
    defer_from: Option<&str>,
    defer_months: Option<&str>,
) -> Result<String, String> {
    let months_n = parse_whole(months)
        .and_then(|m| u32::try_from(m).ok())
        .filter(|m| (1..=schedule::MAX_MONTHS).contains(m))
        .ok_or_else(|| ScheduleError::Months.to_string())?;
    let principal = parse_whole(principal).ok_or_else(|| {
        ScheduleError::Principal {
            min: i64::from(months_n),
            max: schedule::MAX_PRINCIPAL,
        }
        .to_string()
    })?;
    let fee = FeeRate::parse(fee_percent).map_err(|e| e.to_string())?;
    let start = parse_jalali(start).ok_or_else(|| ScheduleError::Start.to_string())?;
    let grace_months = parse_whole(grace_months)
        .and_then(|g| u32::try_from(g).ok())
        .ok_or_else(|| ScheduleError::Grace.to_string())?;
    let mut deferrals = vec![];
    if let (Some(from), Some(m)) = (defer_from, defer_months) {
        let from = parse_whole(from)
            .and_then(|g| u32::try_from(g).ok())
            .ok_or_else(|| ScheduleError::DeferFrom.to_string())?;
        let m = parse_whole(m)
            .and_then(|g| u32::try_from(g).ok())
            .ok_or_else(|| ScheduleError::DeferMonths.to_string())?;
        deferrals.push(Deferral { from, months: m });
    }
    let terms = Terms {
        principal,
        months: months_n,
        fee,
        start,
        grace_months,
    };
    let rows = schedule::schedule(&terms, &deferrals).map_err(|e| e.to_string())?;
    Ok(schedule::to_csv(&rows))
}

fn required(v: &Option<String>, flag: &str) -> Result<(), String> {
    match v {
        Some(_) => Ok(()),
        None => Err(format!("{flag} is required")),
    }
}

/// Runs a `hamdeli loans` command. A bad argument prints one line on stderr and exits with 2.
pub async fn run(config: &hamdeli::Config, command: LoansCommand) -> anyhow::Result<()> {
    match command {
        LoansCommand::Schedule {
            principal,
            months,
            fee_percent,
            start,
            grace_months,
            defer_from,
            defer_months,
        } => match required(&principal, "--principal")
            .and_then(|_| required(&months, "--months"))
            .and_then(|_| required(&fee_percent, "--fee-percent"))
            .and_then(|_| required(&start, "--start"))
            .and_then(|_| {
                schedule_csv(
                    principal.as_deref().unwrap_or_default(),
                    months.as_deref().unwrap_or_default(),
                    fee_percent.as_deref().unwrap_or_default(),
                    start.as_deref().unwrap_or_default(),
                    &grace_months,
                    defer_from.as_deref(),
                    defer_months.as_deref(),
                )
            }) {
            Ok(csv) => {
                use std::io::Write;
                std::io::stdout().write_all(csv.as_bytes())?;
                Ok(())
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        },
        LoansCommand::Bench {
            loans,
            schedules_only,
        } => bench(config, loans, schedules_only).await,
    }
}

/// The process's peak resident memory since the last reset, in MiB (Linux; 0 elsewhere).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Resets the peak resident memory to the current one (Linux ≥ 4.0).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// `hamdeli loans bench`: schedules for N loans (single thread), then — unless
/// `schedules_only` — N disbursed loans of one province written set-based and a bulk deferral of
/// all of them previewed and committed through the use cases, timed, with the process's peak
/// memory per phase.
async fn bench(config: &hamdeli::Config, n: usize, schedules_only: bool) -> anyhow::Result<()> {
    use std::time::Instant;
    let fees = [0_i64, 25_000, 40_000, 15_000];
    let t = Instant::now();
    let mut instalments = 0_usize;
    let mut checksum = 0_i64;
    for i in 0..n {
        let months = 12 + (i % 25) as u32;
        let year = 1404 + (i % 2) as i32;
        let month = 1 + (i % 12) as u8;
        let last = hamdeli_text::jalali_month_days(year, month).unwrap_or(29);
        let start = hamdeli_text::JalaliDate::new(year, month, (1 + (i % 31) as u8).min(last))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let terms = Terms {
            principal: 10_000_000 + (i as i64 % 1000) * 100_000,
            months,
            fee: FeeRate::from_units(fees[i % fees.len()]).map_err(|e| anyhow::anyhow!("{e}"))?,
            start,
            grace_months: (i % 4) as u32,
        };
        let rows = schedule::schedule(&terms, &[]).map_err(|e| anyhow::anyhow!("{e}"))?;
        instalments += rows.len();
        checksum = checksum.wrapping_add(rows.last().map(|r| r.total).unwrap_or(0));
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "schedules: {n} loans, {instalments} instalments (12–36 months, Jalali dates and Gregorian), one thread: {secs:.2} s ({:.0} schedules/s; checksum {checksum})",
        n as f64 / secs.max(1e-9)
    );
    if schedules_only {
        return Ok(());
    }
    let store = hamdeli::open_store(config).await?;
    let engine = store.engine().name();
    let principal = hamdeli_app::system_principal();
    let caller = hamdeli_app::Caller::new(&principal, "bench");
    anyhow::ensure!(
        hamdeli_store::loans::product_by_code(&store, "bench")
            .await?
            .is_none(),
        "this database already holds the loans benchmark; use a fresh one"
    );
    let product = hamdeli_app::loans::create_product(
        &store,
        &caller,
        &hamdeli_app::loans::ProductInput {
            code: "bench".into(),
            name_fa: "وام آزمون کارایی".into(),
            name_en: "Benchmark loan".into(),
            fee_percent: "4".into(),
            max_amount: 1_000_000_000,
            term_months: 12,
            grace_months: 0,
            applicants: vec!["person".into()],
            female_head_only: true,
            fund_source: "fund".into(),
            fund_name: "bench".into(),
        },
    )
    .await?;
    let provinces = hamdeli_store::geo::all_provinces(&store).await?;
    let province = provinces
        .iter()
        .find(|p| p.name_en == "Tehran")
        .or(provinces.first())
        .ok_or_else(|| anyhow::anyhow!("no provinces"))?
        .code
        .clone();
    let counties: Vec<String> =
        hamdeli_store::geo::counties_of(&store, &province, &hamdeli_domain::PlaceFilter::All)
            .await?
            .into_iter()
            .map(|c| c.code)
            .collect();
    reset_peak();
    let t = Instant::now();
    let written =
        hamdeli_store::loans::bench::seed(&store, product, &province, &counties, n as i64).await?;
    println!(
        "{engine}: wrote {written} disbursed loans ({} instalments) of province {province} in {:.1} s (peak {:.0} MiB)",
        written * 12,
        t.elapsed().as_secs_f64(),
        peak_mib()
    );
    let input = hamdeli_app::loans::BulkInput {
        province: province.clone(),
        county: None,
        female_head_only: true,
        product_id: None,
        due_from: "1405/09/01".into(),
        due_to: "1405/11/30".into(),
        months: 3,
    };
    reset_peak();
    let t = Instant::now();
    let (lines, sample) = hamdeli_app::loans::bulk_preview(&store, &caller, &input).await?;
    let previewed: i64 = lines.iter().map(|l| l.loans).sum();
    let moved: i64 = lines.iter().map(|l| l.instalments).sum();
    println!(
        "{engine}: bulk deferral preview: {previewed} loans, {moved} instalments in {} counties, sample of {}: {:.1} s (peak {:.0} MiB)",
        lines.len(),
        sample.len(),
        t.elapsed().as_secs_f64(),
        peak_mib()
    );
    reset_peak();
    let t = Instant::now();
    let r = hamdeli_app::loans::bulk_commit(
        &store,
        &caller,
        &input,
        "bench: COVID deferral of a province",
        "bench-bulk-deferral-0001",
    )
    .await?
    .into_value();
    println!(
        "{engine}: bulk deferral commit (one audited transaction): {} loans, {} instalments moved: {:.1} s (peak {:.0} MiB)",
        r.loans,
        r.instalments,
        t.elapsed().as_secs_f64(),
        peak_mib()
    );
    let check = hamdeli_store::loans::bench::moved_instalments(&store, product).await?;
    anyhow::ensure!(
        check == r.instalments && r.loans == previewed,
        "check failed: {check} instalments moved, {} reported",
        r.instalments
    );
    println!("{engine}: check: {check} instalments carry the new due month");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_line() {
        for (p, m, f, s) in [
            ("x", "12", "4", "1405/01/31"),
            ("1000000", "0", "4", "1405/01/31"),
            ("1000000", "12", "4,5", "1405/01/31"),
            ("1000000", "12", "4", "1405/13/01"),
        ] {
            let e = schedule_csv(p, m, f, s, "0", None, None).expect_err("bad");
            assert!(!e.contains('\n'), "{e}");
        }
        let ok = schedule_csv("۱۰۰۰۰۰۰", "۲", "۴", "۱۴۰۵/۰۱/۰۱", "0", None, None).expect("ok");
        assert_eq!(ok.lines().count(), 3);
    }
}
