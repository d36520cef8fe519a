//! Benchmark: `cargo run --release -p hamdeli-alloc --example bench_allocate [N]` writes N
//! (default 3,000,000) random requests with 50 groups and quotas to a temporary CSV, runs the
//! file job end to end, then the engine alone, and prints the times and peak memory.
#![allow(clippy::unwrap_used)] // a test or benchmark program: a failed step should stop it loudly

use std::io::Write;
use std::time::Instant;

use hamdeli_alloc::files::{FileJob, read_requests, run_file_job};
use hamdeli_alloc::{Policy, Quotas, allocate};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3_000_000);
    let dir = std::env::temp_dir().join(format!("hamdeli-bench-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let requests = dir.join("requests.csv");
    let quotas = dir.join("quotas.csv");
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut total_need = 0u64;
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&requests).unwrap());
        writeln!(w, "request_id,need,weight,group").unwrap();
        for i in 0..n {
            let need = rng.next() % 40;
            total_need += need;
            let weight = 1 + rng.next() % 100;
            writeln!(
                w,
                "r{i},{need},{}.{:02},g{}",
                weight / 10,
                weight % 100,
                rng.next() % 50
            )
            .unwrap();
        }
        let mut q = std::fs::File::create(&quotas).unwrap();
        writeln!(q, "group,max_units").unwrap();
        for g in 0..10 {
            writeln!(q, "g{g},{}", total_need / 200).unwrap();
        }
    }
    let pool = total_need / 3;
    let job = FileJob {
        requests: requests.clone(),
        pool,
        quotas: Some(quotas),
        policy: Policy::WaterFill,
        out: dir.join("allocations.csv"),
    };
    let t = Instant::now();
    let report = run_file_job(&job).unwrap();
    let wall = t.elapsed();
    println!("hamdeli allocate (file job), {n} requests, pool {pool}:");
    println!(
        "  end to end  {:>8.3} s  (read {:.3} s, allocate {:.3} s, write {:.3} s)",
        wall.as_secs_f64(),
        report.read.as_secs_f64(),
        report.allocate.as_secs_f64(),
        report.write.as_secs_f64()
    );
    println!(
        "  allocated   {} units, level {:.6}",
        report.total_allocated, report.level
    );
    let mut q = Quotas::default();
    let mut groups = Default::default();
    let file = read_requests(&requests, &mut q, &mut groups).unwrap();
    let t = Instant::now();
    let a = allocate(&file.requests, pool, &q, Policy::WaterFill).unwrap();
    println!(
        "  engine only {:>8.3} s  (total {})",
        t.elapsed().as_secs_f64(),
        a.total
    );
    println!("  peak RSS    {:>8.0} MB", peak_rss_mb());
    let _ = std::fs::remove_dir_all(&dir);
}
