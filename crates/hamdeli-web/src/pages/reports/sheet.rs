//! Reading an uploaded spreadsheet (XLSX with calamine, streamed, or CSV) into rows of text
//! cells, within limits, for bulk entry and indicator imports.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};

/// The most rows and columns read from an upload.
pub(crate) const MAX_ROWS: u32 = 2_100;
pub(crate) const MAX_COLS: u32 = 400;

fn cell_text(c: &DataRef<'_>) -> String {
    match c {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.trim().to_owned(),
        DataRef::SharedString(s) => s.trim().to_owned(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        _ => String::new(),
    }
}

/// The rows of the first worksheet (or of a CSV file): (row number from 1, cells).
pub(crate) fn read_rows(bytes: &[u8]) -> Result<Vec<(u64, Vec<String>)>, &'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        let mut book: Xlsx<_> =
            Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|_| "reports-upload-unreadable")?;
        let name = book
            .sheet_names()
            .first()
            .cloned()
            .ok_or("reports-upload-unreadable")?;
        let mut cells = book
            .worksheet_cells_reader(&name)
            .map_err(|_| "reports-upload-unreadable")?;
        let mut rows: Vec<(u64, Vec<String>)> = vec![];
        while let Some(cell) = cells.next_cell().map_err(|_| "reports-upload-unreadable")? {
            let (r, c) = cell.get_position();
            if r >= MAX_ROWS {
                return Err("reports-bulk-too-many");
            }
            if c >= MAX_COLS {
                continue;
            }
            let text = cell_text(cell.get_value());
            if text.is_empty() {
                continue;
            }
            let row_no = u64::from(r) + 1;
            if rows.last().is_none_or(|(n, _)| *n != row_no) {
                rows.push((row_no, vec![]));
            }
            if let Some((_, cells)) = rows.last_mut() {
                let c = c as usize;
                if cells.len() <= c {
                    cells.resize(c + 1, String::new());
                }
                cells[c] = text;
            }
        }
        Ok(rows)
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| "reports-upload-unreadable")?;
        let text = text.trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut rows = vec![];
        for (i, rec) in reader.records().enumerate() {
            if i as u32 >= MAX_ROWS {
                return Err("reports-bulk-too-many");
            }
            let rec = rec.map_err(|_| "reports-upload-unreadable")?;
            rows.push((
                i as u64 + 1,
                rec.iter()
                    .take(MAX_COLS as usize)
                    .map(|s| s.trim().to_owned())
                    .collect(),
            ));
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_xlsx_read_alike() {
        let rows = read_rows("\u{feff}province,value\n23,12.5\n".as_bytes()).unwrap();
        assert_eq!(rows[1], (2, vec!["23".to_owned(), "12.5".to_owned()]));
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "province").unwrap();
        ws.write_string(0, 1, "value").unwrap();
        ws.write_string(1, 0, "23").unwrap();
        ws.write_number(1, 1, 40.0).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let rows = read_rows(&bytes).unwrap();
        assert_eq!(rows[1], (2, vec!["23".to_owned(), "40".to_owned()]));
        assert!(read_rows(b"PK\x03\x04garbage").is_err());
    }
}
