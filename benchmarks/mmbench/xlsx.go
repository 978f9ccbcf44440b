package mmbench

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strconv"
)

// WriteSubmissionXLSX writes the submission sheet as the .xlsx file
// convert_mmbench_for_submission.py writes with pandas and openpyxl: one
// sheet "Sheet1", the header row, then one row per TSV row with "index" as
// a number and every other cell as an inline string; NaN cells (missing
// options, rows without an answer) are empty. It uses only the standard
// library (a minimal SpreadsheetML package).
func WriteSubmissionXLSX(path, tsv, answers string) error {
	cols, rows, err := submission(tsv, answers)
	if err != nil {
		return err
	}
	var sheet bytes.Buffer
	sheet.WriteString(xml.Header)
	sheet.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	writeRow := func(r int, cells []string, numeric func(c int) bool) {
		fmt.Fprintf(&sheet, `<row r="%d">`, r)
		for c, v := range cells {
			ref := colName(c) + strconv.Itoa(r)
			switch {
			case numeric(c):
				fmt.Fprintf(&sheet, `<c r="%s" t="n"><v>%s</v></c>`, ref, v)
			case v == "":
				fmt.Fprintf(&sheet, `<c r="%s" t="inlineStr"/>`, ref)
			default:
				fmt.Fprintf(&sheet, `<c r="%s" t="inlineStr"><is><t xml:space="preserve">`, ref)
				xml.EscapeText(&sheet, []byte(v))
				sheet.WriteString(`</t></is></c>`)
			}
		}
		sheet.WriteString(`</row>`)
	}
	writeRow(1, cols, func(int) bool { return false })
	for i, rec := range rows {
		writeRow(i+2, rec, func(c int) bool { return cols[c] == "index" })
	}
	sheet.WriteString(`</sheetData></worksheet>`)

	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?>` +
			`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`</Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?>` +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
			`</Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?>` +
			`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?>` +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`</Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet.String()},
	}
	for _, p := range parts {
		w, err := z.Create(p.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			return err
		}
	}
	if err := z.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// colName is the spreadsheet column name of 0-based column c (A, B, ..., AA).
func colName(c int) string {
	name := ""
	for c++; c > 0; c = (c - 1) / 26 {
		name = string(rune('A'+(c-1)%26)) + name
	}
	return name
}
