package mmbench

import (
	"archive/zip"
	"encoding/xml"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

// readXLSX reads the first sheet's inline-string and number cells, keyed by
// the "index" column.
func readXLSX(t *testing.T, path string) (header []string, rows map[string][]string) {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var sheet struct {
		Rows []struct {
			Cells []struct {
				R  string   `xml:"r,attr"`
				V  string   `xml:"v"`
				IS []string `xml:"is>t"`
			} `xml:"c"`
		} `xml:"sheetData>row"`
	}
	for _, f := range z.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			continue
		}
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if err := xml.Unmarshal(data, &sheet); err != nil {
			t.Fatal(err)
		}
	}
	rows = map[string][]string{}
	for i, r := range sheet.Rows {
		var cells []string
		for _, c := range r.Cells {
			cells = append(cells, c.V+strings.Join(c.IS, ""))
		}
		if i == 0 {
			header = cells
			continue
		}
		rows[cells[0]] = cells
	}
	return header, rows
}

// The xlsx written from the pack's TSV and the 13B answers holds the same
// cells as the sheet LLaVA uploaded (rows matched by index: the pack's TSV
// is in another row order).
func TestSubmissionXLSXMatchesUpload(t *testing.T) {
	dir := filepath.Join(testenv.LlavaEval(t), "mmbench")
	out := filepath.Join(t.TempDir(), "llava-v1.5-13b.xlsx")
	if err := WriteSubmissionXLSX(out, filepath.Join(dir, "mmbench_dev_20230712.tsv"), filepath.Join(dir, "answers", "mmbench_dev_20230712", "llava-v1.5-13b.jsonl")); err != nil {
		t.Fatal(err)
	}
	wantHeader, want := readXLSX(t, filepath.Join(dir, "answers_upload", "mmbench_dev_20230712", "llava-v1.5-13b.xlsx"))
	gotHeader, got := readXLSX(t, out)
	if strings.Join(gotHeader, ",") != strings.Join(wantHeader, ",") || strings.Join(gotHeader, ",") != "index,question,A,B,C,D,prediction,answer,split" {
		t.Fatalf("header %v, want %v", gotHeader, wantHeader)
	}
	if len(got) != len(want) || len(want) != 4377 {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	bad := 0
	for idx, w := range want {
		g := got[idx]
		if strings.Join(g, "\x00") != strings.Join(w, "\x00") {
			if bad++; bad <= 3 {
				t.Errorf("row %s:\n got %q\nwant %q", idx, g, w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d rows differ", bad)
	}
}

func TestColName(t *testing.T) {
	for c, want := range map[int]string{0: "A", 8: "I", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA"} {
		if got := colName(c); got != want {
			t.Errorf("colName(%d) = %s, want %s", c, got, want)
		}
	}
}
