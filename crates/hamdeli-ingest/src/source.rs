//! Opening a list file: XLSX (first sheet) or CSV in UTF-8, UTF-8 with BOM or Windows-1256
//! (detected), with `,`, `;` or tab as the delimiter (detected from the header line). Rows come
//! out as cells of text; a row that cannot be split is still a row, with the reason.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};

use crate::IngestError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Windows1256,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum FileFormat {
    Csv { encoding: Encoding, delimiter: char },
    Xlsx,
}

impl FileFormat {
    pub fn name(&self) -> &'static str {
        match self {
            FileFormat::Csv { .. } => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }
}

/// One data row: its number as a spreadsheet shows it (the header is row 1) and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub row: u64,
    pub cells: Result<Vec<String>, String>,
}

pub struct Source {
    pub format: FileFormat,
    pub headers: Vec<String>,
    pub rows: Box<dyn Iterator<Item = RawRow> + Send>,
}

pub fn open(path: &Path) -> Result<Source, IngestError> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::Io(path.display().to_string(), e))?;
    from_bytes(bytes)
}

pub fn from_bytes(bytes: Vec<u8>) -> Result<Source, IngestError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return xlsx(bytes);
    }
    csv_source(bytes)
}

fn decode(bytes: Vec<u8>) -> (String, Encoding) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (
            String::from_utf8_lossy(rest).into_owned(),
            Encoding::Utf8Bom,
        );
    }
    match String::from_utf8(bytes) {
        Ok(s) => (s, Encoding::Utf8),
        Err(e) => {
            let (text, _, _) = encoding_rs::WINDOWS_1256.decode(e.as_bytes());
            (text.into_owned(), Encoding::Windows1256)
        }
    }
}

fn detect_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| (first.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

fn csv_source(bytes: Vec<u8>) -> Result<Source, IngestError> {
    let (text, encoding) = decode(bytes);
    let delimiter = detect_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(Cursor::new(text.into_bytes()));
    let mut header = csv::StringRecord::new();
    match reader.read_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return Err(IngestError::Empty),
        Err(e) => return Err(IngestError::Header(e.to_string())),
    }
    let headers: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
    let mut row = 1u64;
    let mut record = csv::StringRecord::new();
    let rows = std::iter::from_fn(move || {
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => return None,
                Ok(true) => {
                    // The reader skips blank lines: rows are numbered as records after the header.
                    row += 1;
                    // Blank lines between rows are not rows.
                    if record.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    return Some(RawRow {
                        row,
                        cells: Ok(record.iter().map(str::to_owned).collect()),
                    });
                }
                Err(e) => {
                    row += 1;
                    return Some(RawRow {
                        row,
                        cells: Err(e.to_string()),
                    });
                }
            }
        }
    });
    Ok(Source {
        format: FileFormat::Csv {
            encoding,
            delimiter: delimiter as char,
        },
        headers,
        rows: Box::new(rows),
    })
}

/// A cell as text: whole numbers without `.0` (national codes arrive as numbers), dates as ISO.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match hamdeli_text::from_excel_serial(d.as_f64()) {
            Ok(iso) => iso.to_string(),
            Err(_) => d.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
    }
}

fn xlsx(bytes: Vec<u8>) -> Result<Source, IngestError> {
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| IngestError::Xlsx(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or(IngestError::Empty)?
        .map_err(|e| IngestError::Xlsx(e.to_string()))?;
    let first_row = range.start().map(|(r, _)| u64::from(r)).unwrap_or(0);
    let mut rows = range.rows();
    let headers: Vec<String> = rows
        .next()
        .ok_or(IngestError::Empty)?
        .iter()
        .map(|c| cell_text(c).trim().to_owned())
        .collect();
    let data: Vec<RawRow> = rows
        .enumerate()
        .map(|(i, cells)| RawRow {
            row: first_row + i as u64 + 2,
            cells: Ok(cells.iter().map(cell_text).collect()),
        })
        .filter(|r| {
            r.cells
                .as_ref()
                .map(|c| c.iter().any(|s| !s.trim().is_empty()))
                .unwrap_or(true)
        })
        .collect();
    Ok(Source {
        format: FileFormat::Xlsx,
        headers,
        rows: Box::new(data.into_iter()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(s: Source) -> Vec<RawRow> {
        s.rows.collect()
    }

    #[test]
    fn utf8_bom_and_semicolons() {
        let s = from_bytes(
            "\u{feff}کد ملی;نام\n0010350829;زهرا\n\n;مریم\n"
                .as_bytes()
                .to_vec(),
        )
        .unwrap();
        assert_eq!(
            s.format,
            FileFormat::Csv {
                encoding: Encoding::Utf8Bom,
                delimiter: ';'
            }
        );
        assert_eq!(s.headers, vec!["کد ملی", "نام"]);
        let r = rows(s);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].row, 3, "blank lines are not rows");
    }

    #[test]
    fn windows_1256_is_detected() {
        // Windows-1256 has only the Arabic yeh (ي): that is what such exports contain.
        let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode("نام,نام خانوادگي\nفاطمه,كريمي\n");
        let s = from_bytes(bytes.into_owned()).unwrap();
        assert_eq!(
            s.format,
            FileFormat::Csv {
                encoding: Encoding::Windows1256,
                delimiter: ','
            }
        );
        assert_eq!(s.headers[1], "نام خانوادگي");
        assert_eq!(
            rows(s)[0].cells,
            Ok(vec!["فاطمه".to_owned(), "كريمي".to_owned()])
        );
    }

    #[test]
    fn xlsx_numbers_and_dates() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "کد ملی").unwrap();
        sheet.write_string(0, 1, "تاریخ تولد").unwrap();
        sheet.write_number(1, 0, 10350829.0).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1981, 8, 3).unwrap();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_datetime_with_format(1, 1, &date, &fmt).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let s = from_bytes(bytes).unwrap();
        assert_eq!(s.format, FileFormat::Xlsx);
        let r = rows(s);
        assert_eq!(r[0].row, 2);
        assert_eq!(
            r[0].cells,
            Ok(vec!["10350829".to_owned(), "1981-08-03".to_owned()])
        );
    }

    #[test]
    fn empty_files_are_refused() {
        assert!(matches!(from_bytes(vec![]), Err(IngestError::Empty)));
    }
}
