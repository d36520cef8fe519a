//! The files: each list as CSV or XLSX, `truth.csv`, `households.csv`, `population.csv`,
//! `README.txt` and `manifest.json`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};

use crate::{
    FileFormat, HeaderStyle, List, ListKind, OrgKind, Population, Result, SupportKind, SynthError,
};

/// What [`write_files`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Manifest {
    pub seed: u64,
    pub people: usize,
    pub households: usize,
    pub female_headed_households: usize,
    pub directory: PathBuf,
    pub lists: Vec<ListManifest>,
    /// `households.csv`, `population.csv`, `truth.csv`, `README.txt`.
    pub files: Vec<FileManifest>,
}

/// One list file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListManifest {
    /// File stem and the name `truth.csv` gives the list (`relief_committee`, …).
    pub name: String,
    pub path: PathBuf,
    pub title_fa: String,
    pub organisation: OrgKind,
    pub list_kind: ListKind,
    /// The support the list's programmes give; `None` for a survey.
    pub support_kind: Option<SupportKind>,
    pub programmes: Vec<ProgrammeManifest>,
    pub format: FileFormat,
    pub header_style: HeaderStyle,
    pub headers: Vec<String>,
    /// Data rows (the header not counted), invalid ones included.
    pub rows: usize,
    /// Rows made deliberately unusable (an import must reject them).
    pub invalid_rows: usize,
    /// Distinct people in the list.
    pub people: usize,
}

/// A programme of a list and how many rows it has.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProgrammeManifest {
    pub code: String,
    pub label_fa: String,
    pub support_kind: SupportKind,
    pub rows: usize,
}

/// Another file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileManifest {
    pub name: String,
    pub path: PathBuf,
    pub rows: usize,
}

impl List {
    /// The header row as written.
    pub fn headers(&self) -> Vec<String> {
        let persian = self.header_style == HeaderStyle::Persian;
        let h = |canonical: &'static str, fa: &'static str| {
            if persian { fa } else { canonical }.to_owned()
        };
        // A case number, never «ردیف»: a row counter is not an identity (the importer ignores it).
        let source_id = if self.format == FileFormat::Xlsx {
            "کد پرونده"
        } else {
            "شماره پرونده"
        };
        let mut out = vec![h("source_id", source_id), h("national_code", "کد ملی")];
        if self.full_name_only {
            out.push(h("full_name", "نام و نام خانوادگی"));
        } else {
            out.push(h("first_name", "نام"));
            out.push(h("last_name", "نام خانوادگی"));
        }
        out.extend([
            h("father_name", "نام پدر"),
            h("birth_date", "تاریخ تولد"),
            h("gender", "جنسیت"),
            h("phone", "تلفن همراه"),
            h("province", "استان"),
            h("county", "شهرستان"),
            h("address", "نشانی"),
        ]);
        out.extend(self.extra_columns.iter().map(|c| (*c).to_owned()));
        out
    }

    /// A row's cells in header order.
    pub fn cells<'r>(&self, row: &'r crate::ListRow) -> Vec<&'r str> {
        let mut out = vec![row.source_id.as_str(), row.national_code.as_str()];
        if self.full_name_only {
            out.push(&row.full_name);
        } else {
            out.push(&row.first_name);
            out.push(&row.last_name);
        }
        out.extend([
            row.father_name.as_str(),
            &row.birth_date,
            &row.gender,
            &row.phone,
            &row.province,
            &row.county,
            &row.address,
        ]);
        out.extend(row.extra.iter().map(String::as_str));
        out
    }

    /// The file's name in the output directory.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.name, self.format.extension())
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        match self.format {
            FileFormat::Csv { bom } => self.csv_to(bom, Vec::new()),
            FileFormat::Xlsx => self.xlsx_bytes(),
        }
    }

    /// Writes the file into `dir` (a CSV a row at a time) and gives its path.
    fn write_file(&self, dir: &Path) -> Result<PathBuf> {
        let path = dir.join(self.file_name());
        let io = |e| SynthError::Io(path.display().to_string(), e);
        let mut file = File::create(&path).map_err(io)?;
        match self.format {
            FileFormat::Csv { bom } => {
                self.csv_to(bom, &mut file)?;
            }
            FileFormat::Xlsx => file.write_all(&self.xlsx_bytes()?).map_err(io)?,
        }
        file.sync_all().map_err(io)?;
        Ok(path)
    }

    /// The list as CSV (with a byte-order mark when `bom`), written to `buf` a row at a time.
    fn csv_to<W: Write>(&self, bom: bool, mut buf: W) -> Result<W> {
        if bom {
            buf.write_all("\u{feff}".as_bytes())
                .map_err(|e| SynthError::Io(self.file_name(), e))?;
        }
        let mut w = csv::Writer::from_writer(buf);
        let err = |e| SynthError::Csv(self.file_name(), e);
        w.write_record(self.headers()).map_err(err)?;
        for row in &self.rows {
            w.write_record(self.cells(row)).map_err(err)?;
        }
        w.into_inner()
            .map_err(|e| SynthError::Io(self.file_name(), e.into_error()))
    }

    fn xlsx_bytes(&self) -> Result<Vec<u8>> {
        let err = |e| SynthError::Xlsx(self.file_name(), e);
        let mut wb = Workbook::new();
        // A fixed creation time keeps the bytes the same for the same seed.
        let created = ExcelDateTime::from_ymd(2020, 11, 21).map_err(err)?;
        wb.set_properties(
            &DocProperties::new()
                .set_title(self.title_fa)
                .set_comment("Synthetic demo data (داده ساختگی) — Hamdeli")
                .set_creation_datetime(&created),
        );
        let ws = wb.add_worksheet();
        ws.set_right_to_left(true);
        for (c, h) in self.headers().iter().enumerate() {
            ws.write_string(0, c as u16, h).map_err(err)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in self.cells(row).into_iter().enumerate() {
                let c = c as u16;
                if cell.is_empty() {
                    continue;
                }
                if c == 1
                    && row.code_as_number
                    && let Ok(n) = cell.parse::<f64>()
                {
                    ws.write_number(r, c, n).map_err(err)?;
                    continue;
                }
                ws.write_string(r, c, cell).map_err(err)?;
            }
        }
        wb.save_to_buffer().map_err(err)
    }
}

/// A CSV file written as its rows are made: the first error is kept and returned by
/// [`CsvOut::finish`].
struct CsvOut<W: Write> {
    name: &'static str,
    writer: csv::Writer<W>,
    rows: usize,
    error: Option<csv::Error>,
}

impl<W: Write> CsvOut<W> {
    fn new(name: &'static str, headers: &[&str], w: W) -> Result<CsvOut<W>> {
        let mut writer = csv::Writer::from_writer(w);
        writer
            .write_record(headers)
            .map_err(|e| SynthError::Csv(name.to_owned(), e))?;
        Ok(CsvOut {
            name,
            writer,
            rows: 0,
            error: None,
        })
    }

    fn push(&mut self, row: Vec<String>) {
        if self.error.is_none()
            && let Err(e) = self.writer.write_record(&row)
        {
            self.error = Some(e);
        }
        self.rows += 1;
    }

    fn finish(self) -> Result<(W, usize)> {
        if let Some(e) = self.error {
            return Err(SynthError::Csv(self.name.to_owned(), e));
        }
        let w = self
            .writer
            .into_inner()
            .map_err(|e| SynthError::Io(self.name.to_owned(), e.into_error()))?;
        Ok((w, self.rows))
    }
}

fn flag(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

impl Population {
    /// `households.csv`: one line per person with the household's attributes.
    pub fn households_csv(&self) -> Result<(Vec<u8>, usize)> {
        self.households_csv_to(Vec::new())
    }

    /// [`Self::households_csv`] written to `w` a row at a time (a national population does not fit in
    /// memory twice).
    pub fn households_csv_to<W: Write>(&self, w: W) -> Result<(W, usize)> {
        let headers = [
            "household_ref",
            "national_code",
            "relation",
            "female_head",
            "reason",
            "zone",
            "province",
            "county",
            "dependants",
            "disability",
            "chronic_illness",
            "elderly",
            "income_decile",
            "bereaved_by_covid",
        ];
        let mut rows = CsvOut::new("households.csv", &headers, w)?;
        for h in &self.households {
            for &i in &h.members {
                let p = &self.persons[i];
                rows.push(vec![
                    h.household_ref.clone(),
                    p.national_code.clone(),
                    p.relation.code().to_owned(),
                    flag(h.female_head),
                    h.reason.map(|r| r.code()).unwrap_or_default().to_owned(),
                    h.zone.code().to_owned(),
                    self.geography.provinces[h.province].name_fa.clone(),
                    self.geography.counties[h.county].name_fa.clone(),
                    h.dependants.to_string(),
                    flag(h.disability),
                    flag(h.chronic_illness),
                    flag(h.elderly),
                    h.income_decile.to_string(),
                    flag(h.bereaved_by_covid),
                ]);
            }
        }
        rows.finish()
    }

    /// `population.csv`: everyone, clean, in canonical columns (a reference list).
    pub fn population_csv(&self) -> Result<(Vec<u8>, usize)> {
        self.population_csv_to(Vec::new())
    }

    /// [`Self::population_csv`] written to `w` a row at a time (a national population does not fit in
    /// memory twice).
    pub fn population_csv_to<W: Write>(&self, w: W) -> Result<(W, usize)> {
        let headers = [
            "source_id",
            "national_code",
            "first_name",
            "last_name",
            "father_name",
            "birth_date",
            "gender",
            "phone",
            "province",
            "county",
            "address",
            "household_ref",
            "relation",
            "zone",
            "household_phone",
            "disability",
            "chronic_illness",
        ];
        let mut rows = CsvOut::new("population.csv", &headers, w)?;
        for h in &self.households {
            for &i in &h.members {
                let p = &self.persons[i];
                rows.push(vec![
                    format!("P{:07}", i + 1),
                    p.national_code.clone(),
                    p.first_name.clone(),
                    p.last_name.clone(),
                    p.father_name.clone(),
                    p.birth_date.to_string(),
                    p.gender.code().to_owned(),
                    p.mobile.clone().unwrap_or_default(),
                    self.geography.provinces[h.province].name_fa.clone(),
                    self.geography.counties[h.county].name_fa.clone(),
                    h.address.clone(),
                    h.household_ref.clone(),
                    p.relation.code().to_owned(),
                    h.zone.code().to_owned(),
                    h.phone.clone(),
                    flag(p.disability),
                    flag(p.chronic_illness),
                ]);
            }
        }
        rows.finish()
    }

    /// `truth.csv`: for every list row, the person it is about (their true national code) and
    /// their household; both empty for the deliberately invalid rows.
    pub fn truth_csv(&self) -> Result<(Vec<u8>, usize)> {
        self.truth_csv_to(Vec::new())
    }

    /// [`Self::truth_csv`] written to `w` a row at a time (a national population does not fit in
    /// memory twice).
    pub fn truth_csv_to<W: Write>(&self, w: W) -> Result<(W, usize)> {
        let headers = ["list", "source_id", "person_key", "household_ref"];
        let mut rows = CsvOut::new("truth.csv", &headers, w)?;
        for l in &self.lists {
            for r in &l.rows {
                let (key, hh) = match r.person {
                    Some(p) => (
                        self.persons[p].national_code.clone(),
                        self.household_of(p).household_ref.clone(),
                    ),
                    None => (String::new(), String::new()),
                };
                rows.push(vec![l.name.to_owned(), r.source_id.clone(), key, hh]);
            }
        }
        rows.finish()
    }

    fn readme(&self) -> String {
        let mut s = String::new();
        s.push_str(
            "SYNTHETIC DATA — داده ساختگی\n\n\
             Every person, national code, name, phone number and address in these files was drawn at\n\
             random by hamdeli-synth for Hamdeli's demo. None is a real person. National codes have\n\
             valid check digits by construction and may coincide with real codes by chance: do not\n\
             use them for anything but the demo.\n\n",
        );
        s.push_str(&format!(
            "seed {}, {} people in {} households.\n\n",
            self.options.seed,
            self.persons.len(),
            self.households.len()
        ));
        for l in &self.lists {
            s.push_str(&format!(
                "{}  {} ({}, {}), {} rows\n",
                l.file_name(),
                l.title_fa,
                l.organisation.code(),
                l.support_kind.map_or(l.list_kind.code(), |k| k.code()),
                l.rows.len()
            ));
        }
        s.push_str(
            "\nhouseholds.csv  household reference data (one line per person)\n\
             population.csv  everyone, clean\n\
             truth.csv       list, source_id → person_key (true national code), household_ref\n",
        );
        s
    }
}

/// Writes every file into `dir` (created if missing) and returns what was written.
pub fn write_files(pop: &Population, dir: &Path) -> Result<Manifest> {
    std::fs::create_dir_all(dir).map_err(|e| SynthError::Io(dir.display().to_string(), e))?;
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| SynthError::Io(path.display().to_string(), e))?;
        Ok(path)
    };
    let mut lists = Vec::new();
    for l in &pop.lists {
        let path = l.write_file(dir)?;
        let mut people: Vec<usize> = l.rows.iter().filter_map(|r| r.person).collect();
        people.sort_unstable();
        people.dedup();
        let programmes = l
            .programmes
            .iter()
            .map(|p| ProgrammeManifest {
                code: p.code.to_owned(),
                label_fa: p.label_fa.to_owned(),
                support_kind: p.support_kind,
                rows: l
                    .rows
                    .iter()
                    .filter(|r| {
                        !r.invalid
                            && (l.programmes.len() == 1
                                || r.extra.iter().any(|e| e == p.code || e == p.label_fa))
                    })
                    .count(),
            })
            .collect();
        lists.push(ListManifest {
            name: l.name.to_owned(),
            path,
            title_fa: l.title_fa.to_owned(),
            organisation: l.organisation,
            list_kind: l.list_kind,
            support_kind: l.support_kind,
            programmes,
            format: l.format,
            header_style: l.header_style,
            headers: l.headers(),
            rows: l.rows.len(),
            invalid_rows: l.rows.iter().filter(|r| r.invalid).count(),
            people: people.len(),
        });
    }
    let mut files = Vec::new();
    type Writer<'a> = fn(&'a Population, File) -> Result<(File, usize)>;
    let reference: [(&str, Writer); 3] = [
        ("households.csv", |p, f| p.households_csv_to(f)),
        ("population.csv", |p, f| p.population_csv_to(f)),
        ("truth.csv", |p, f| p.truth_csv_to(f)),
    ];
    for (name, write_to) in reference {
        let path = dir.join(name);
        let io = |e| SynthError::Io(path.display().to_string(), e);
        let file = File::create(&path).map_err(io)?;
        let (file, rows) = write_to(pop, file)?;
        file.sync_all().map_err(io)?;
        files.push(FileManifest {
            name: name.to_owned(),
            path,
            rows,
        });
    }
    let path = write("README.txt", pop.readme().as_bytes())?;
    files.push(FileManifest {
        name: "README.txt".to_owned(),
        path,
        rows: 0,
    });
    let manifest = Manifest {
        seed: pop.options.seed,
        people: pop.persons.len(),
        households: pop.households.len(),
        female_headed_households: pop.households.iter().filter(|h| h.female_head).count(),
        directory: dir.to_path_buf(),
        lists,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(SynthError::Json)?;
    write("manifest.json", &json)?;
    Ok(manifest)
}
