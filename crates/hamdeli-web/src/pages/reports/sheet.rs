//! Reading an uploaded spreadsheet (XLSX through hamdeli-ingest's guarded, streamed reader, or
//! CSV) into rows of text cells, within limits, for bulk entry and indicator imports.

/// The most rows and columns read from an upload.
pub(crate) const MAX_ROWS: u32 = 2_100;
pub(crate) const MAX_COLS: u32 = 400;

/// The rows of the first worksheet (or of a CSV file): (row number from 1, cells).
pub(crate) fn read_rows(bytes: &[u8]) -> Result<Vec<(u64, Vec<String>)>, &'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        // The registry import's guarded reader (hamdeli-ingest): the zip checked before a part
        // is unpacked (no part or shared-strings bomb), a declared dimension past the limits
        // refused before a cell is read, the cells streamed and counted.
        let limits = hamdeli_ingest::Limits {
            max_file_bytes: 8 * 1024 * 1024,
            max_rows: u64::from(MAX_ROWS),
            max_columns: u64::from(MAX_COLS),
            max_cells: u64::from(MAX_ROWS) * u64::from(MAX_COLS),
            max_part_bytes: 64 << 20,
            max_sheet_bytes: 256 << 20,
            ..hamdeli_ingest::Limits::IMPORT
        };
        let refused = |e: hamdeli_ingest::IngestError| match e {
            hamdeli_ingest::IngestError::TooLarge(_) => "reports-upload-too-large",
            _ => "reports-upload-unreadable",
        };
        let mut rows: Vec<(u64, Vec<String>)> = vec![];
        for row in hamdeli_ingest::sheet_rows(bytes.to_vec(), &limits).map_err(refused)? {
            let row = row.map_err(refused)?;
            let cells = row.cells.map_err(|_| "reports-upload-unreadable")?;
            let cells: Vec<String> = cells
                .iter()
                .map(|c| match c.trim() {
                    "true" => "1".to_owned(),
                    "false" => "0".to_owned(),
                    t => t.to_owned(),
                })
                .collect();
            if cells.iter().any(|c| !c.is_empty()) {
                rows.push((row.row, cells));
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
        assert_eq!(
            read_rows(b"PK\x03\x04garbage"),
            Err("reports-upload-unreadable")
        );
        // A hostile workbook: two far-apart cells (a dense range of them is 17 billion cells),
        // refused by its declared dimension before a cell is read.
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "province").unwrap();
        ws.write_number(1_048_575, 16_383, 1.0).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        assert_eq!(read_rows(&bytes), Err("reports-upload-too-large"));
    }
}
