//! `hamdeli allocate`'s files: `requests.csv` (`request_id,need,weight[,group]`), optional
//! `quotas.csv` (`group,max_units`), and `allocations.csv`
//! (`request_id,allocated,served_fraction,reason`, in input order).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{Allocation, Policy, Quotas, Request, allocate};

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}, row {row}: {reason}")]
    Row {
        path: PathBuf,
        row: u64,
        reason: String,
    },
    #[error("{path}: the header must start with {expected}")]
    Header {
        path: PathBuf,
        expected: &'static str,
    },
    #[error(transparent)]
    Input(#[from] crate::InputError),
}

pub struct FileJob {
    pub requests: PathBuf,
    pub pool: u64,
    pub quotas: Option<PathBuf>,
    pub policy: Policy,
    pub out: PathBuf,
}

#[derive(Debug, Clone)]
pub struct JobReport {
    pub rows: usize,
    pub total_allocated: u64,
    pub level: f64,
    pub read: Duration,
    pub allocate: Duration,
    pub write: Duration,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FilesError + '_ {
    move |source| FilesError::Io {
        path: path.to_owned(),
        source,
    }
}

fn row_error(path: &Path, row: u64, reason: impl Into<String>) -> FilesError {
    FilesError::Row {
        path: path.to_owned(),
        row,
        reason: reason.into(),
    }
}

fn reader(path: &Path) -> Result<csv::Reader<File>, FilesError> {
    let file = File::open(path).map_err(io(path))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(file))
}

fn field(rec: &csv::ByteRecord, i: usize) -> &str {
    std::str::from_utf8(rec.get(i).unwrap_or(b""))
        .unwrap_or("")
        .trim()
}

/// Reads quotas into a table and the name → index map the requests use.
fn read_quotas(path: &Path) -> Result<(Quotas, HashMap<String, u32>), FilesError> {
    let mut rdr = reader(path)?;
    let header = rdr
        .byte_headers()
        .map_err(|e| row_error(path, 1, e.to_string()))?
        .clone();
    if field(&header, 0) != "group" || field(&header, 1) != "max_units" {
        return Err(FilesError::Header {
            path: path.to_owned(),
            expected: "group,max_units",
        });
    }
    let mut quotas = Quotas::default();
    let mut index = HashMap::new();
    let mut rec = csv::ByteRecord::new();
    let mut row = 1;
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| row_error(path, row + 1, e.to_string()))?
    {
        row += 1;
        let name = field(&rec, 0).to_owned();
        let max: u64 = field(&rec, 1).parse().map_err(|_| {
            row_error(
                path,
                row,
                format!("max_units {:?} is not a whole number ≥ 0", field(&rec, 1)),
            )
        })?;
        if index.contains_key(&name) {
            return Err(row_error(
                path,
                row,
                format!("group {name:?} appears twice"),
            ));
        }
        index.insert(name, quotas.max_units.len() as u32);
        quotas.max_units.push(Some(max));
    }
    Ok((quotas, index))
}

/// The requests with their ids kept as one byte buffer (millions of small strings are slow).
#[derive(Default)]
pub struct RequestsFile {
    id_bytes: Vec<u8>,
    id_ends: Vec<usize>,
    pub requests: Vec<Request>,
}

impl RequestsFile {
    pub fn id(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.id_ends[i - 1] };
        &self.id_bytes[start..self.id_ends[i]]
    }

    fn push(&mut self, id: &[u8], request: Request) {
        self.id_bytes.extend_from_slice(id);
        self.id_ends.push(self.id_bytes.len());
        self.requests.push(request);
    }
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

fn parse_need(b: &[u8]) -> Option<u64> {
    let b = trim(b);
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

fn parse_weight(b: &[u8]) -> Option<f64> {
    std::str::from_utf8(trim(b))
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|w| w.is_finite() && *w > 0.0)
}

fn group_of(name: &[u8], quotas: &mut Quotas, groups: &mut HashMap<String, u32>) -> Option<u32> {
    let name = trim(name);
    if name.is_empty() {
        return None;
    }
    let name = String::from_utf8_lossy(name);
    Some(match groups.get(name.as_ref()) {
        Some(g) => *g,
        None => {
            let g = quotas.max_units.len() as u32;
            quotas.max_units.push(None);
            groups.insert(name.into_owned(), g);
            g
        }
    })
}

/// Reads requests; a group not in the quota table gets an entry with no quota. Files without
/// quoted fields take a fast path over the raw bytes; others go through the csv reader.
pub fn read_requests(
    path: &Path,
    quotas: &mut Quotas,
    groups: &mut HashMap<String, u32>,
) -> Result<RequestsFile, FilesError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut lines = bytes.split(|b| *b == b'\n');
    let header: Vec<&[u8]> = lines
        .next()
        .unwrap_or(b"")
        .split(|b| *b == b',')
        .map(trim)
        .collect();
    if header.len() < 3
        || header[0] != b"request_id"
        || header[1] != b"need"
        || header[2] != b"weight"
    {
        return Err(FilesError::Header {
            path: path.to_owned(),
            expected: "request_id,need,weight[,group]",
        });
    }
    let has_group = header.get(3) == Some(&&b"group"[..]);
    if bytes.contains(&b'"') {
        return read_requests_quoted(path, has_group, quotas, groups);
    }
    let mut out = RequestsFile::default();
    out.requests.reserve(bytes.len() / 16);
    for (n, line) in lines.enumerate() {
        let row = n as u64 + 2;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let mut fields = line.splitn(5, |b| *b == b',');
        let id = fields.next().unwrap_or(b"");
        let need_b = fields.next().unwrap_or(b"");
        let weight_b = fields.next().unwrap_or(b"");
        let group_b = fields.next().unwrap_or(b"");
        let need = parse_need(need_b).ok_or_else(|| {
            row_error(
                path,
                row,
                format!(
                    "need {:?} is not a whole number ≥ 0",
                    String::from_utf8_lossy(need_b)
                ),
            )
        })?;
        let weight = parse_weight(weight_b).ok_or_else(|| {
            row_error(
                path,
                row,
                format!(
                    "weight {:?} is not a number > 0",
                    String::from_utf8_lossy(weight_b)
                ),
            )
        })?;
        let group = if has_group {
            group_of(group_b, quotas, groups)
        } else {
            None
        };
        out.push(
            trim(id),
            Request {
                need,
                weight,
                group,
            },
        );
    }
    Ok(out)
}

fn read_requests_quoted(
    path: &Path,
    has_group: bool,
    quotas: &mut Quotas,
    groups: &mut HashMap<String, u32>,
) -> Result<RequestsFile, FilesError> {
    let mut rdr = reader(path)?;
    let mut out = RequestsFile::default();
    let mut rec = csv::ByteRecord::new();
    let mut row = 1u64;
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| row_error(path, row + 1, e.to_string()))?
    {
        row += 1;
        let need = parse_need(rec.get(1).unwrap_or(b"")).ok_or_else(|| {
            row_error(
                path,
                row,
                format!("need {:?} is not a whole number ≥ 0", field(&rec, 1)),
            )
        })?;
        let weight = parse_weight(rec.get(2).unwrap_or(b"")).ok_or_else(|| {
            row_error(
                path,
                row,
                format!("weight {:?} is not a number > 0", field(&rec, 2)),
            )
        })?;
        let group = if has_group {
            group_of(rec.get(3).unwrap_or(b""), quotas, groups)
        } else {
            None
        };
        out.push(
            trim(rec.get(0).unwrap_or(b"")),
            Request {
                need,
                weight,
                group,
            },
        );
    }
    Ok(out)
}

fn write_allocations(path: &Path, file: &RequestsFile, a: &Allocation) -> Result<(), FilesError> {
    let f = File::create(path).map_err(io(path))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut write = || -> std::io::Result<()> {
        w.write_all(b"request_id,allocated,served_fraction,reason\n")?;
        let mut line = Vec::with_capacity(128);
        for i in 0..file.requests.len() {
            line.clear();
            write_csv_field(&mut line, file.id(i));
            line.push(b',');
            push_u64(&mut line, a.units[i]);
            line.push(b',');
            push_fraction(&mut line, a.served_fraction(i, file.requests[i].need));
            line.push(b',');
            line.extend_from_slice(a.reasons[i].code().as_bytes());
            line.push(b'\n');
            w.write_all(&line)?;
        }
        w.flush()
    };
    write().map_err(io(path))
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[k..]);
}

/// A fraction in [0, 1] with six decimals.
fn push_fraction(out: &mut Vec<u8>, f: f64) {
    let micro = (f.clamp(0.0, 1.0) * 1e6).round() as u64;
    push_u64(out, micro / 1_000_000);
    out.push(b'.');
    let frac = micro % 1_000_000;
    let mut digits = [b'0'; 6];
    let mut n = frac;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits);
}

fn write_csv_field(out: &mut Vec<u8>, s: &[u8]) {
    if s.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for &b in s {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s);
    }
}

pub fn run_file_job(job: &FileJob) -> Result<JobReport, FilesError> {
    let t0 = Instant::now();
    let (mut quotas, mut groups) = match &job.quotas {
        Some(p) => read_quotas(p)?,
        None => (Quotas::default(), HashMap::new()),
    };
    let file = read_requests(&job.requests, &mut quotas, &mut groups)?;
    let t1 = Instant::now();
    let a = allocate(&file.requests, job.pool, &quotas, job.policy)?;
    let t2 = Instant::now();
    write_allocations(&job.out, &file, &a)?;
    let t3 = Instant::now();
    Ok(JobReport {
        rows: file.requests.len(),
        total_allocated: a.total,
        level: a.level,
        read: t1 - t0,
        allocate: t2 - t1,
        write: t3 - t2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_files_with_quotas() {
        let dir = std::env::temp_dir().join(format!("hamdeli-alloc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let requests = dir.join("r.csv");
        std::fs::write(&requests, "request_id,need,weight,group\na,10,1,north\n\"b,2\",10,1,north\nc,10,1,south\nd,10,1,\n").unwrap();
        let quotas = dir.join("q.csv");
        std::fs::write(&quotas, "group,max_units\nnorth,4\n").unwrap();
        let out = dir.join("o.csv");
        let job = FileJob {
            requests,
            pool: 20,
            quotas: Some(quotas),
            policy: Policy::WaterFill,
            out: out.clone(),
        };
        let report = run_file_job(&job).unwrap();
        assert_eq!(report.rows, 4);
        assert_eq!(report.total_allocated, 20);
        let text = std::fs::read_to_string(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "request_id,allocated,served_fraction,reason");
        assert_eq!(lines[1], "a,2,0.200000,group_quota");
        assert_eq!(lines[2], "\"b,2\",2,0.200000,group_quota");
        assert_eq!(lines[3], "c,8,0.800000,level");
        assert_eq!(lines[4], "d,8,0.800000,level");
    }

    #[test]
    fn bad_rows_are_named() {
        let dir = std::env::temp_dir().join(format!("hamdeli-alloc-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let requests = dir.join("r.csv");
        std::fs::write(&requests, "request_id,need,weight\na,10,1\nb,-3,1\n").unwrap();
        let job = FileJob {
            requests: requests.clone(),
            pool: 5,
            quotas: None,
            policy: Policy::WaterFill,
            out: dir.join("o.csv"),
        };
        let e = run_file_job(&job).unwrap_err().to_string();
        assert!(e.contains("row 3") && e.contains("need"), "{e}");
        std::fs::write(&requests, "request_id,need,weight\na,10,0\n").unwrap();
        let e = run_file_job(&job).unwrap_err().to_string();
        assert!(e.contains("row 2") && e.contains("weight"), "{e}");
        std::fs::write(&requests, "id,need,weight\n").unwrap();
        assert!(
            run_file_job(&job)
                .unwrap_err()
                .to_string()
                .contains("header")
        );
    }
}
