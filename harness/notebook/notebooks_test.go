package notebook

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var notebooksDir = flag.String("notebooks", filepath.Join(root, "notebooks"),
	"folder of executed notebooks whose tables TestNotebookTables compares with results/ (scripts/run-notebooks.sh passes its output)")

// ipynb is the part of a Jupyter notebook (nbformat 4) the test reads.
type ipynb struct {
	Metadata struct {
		Tive struct {
			Tables []string `json:"tables"`
		} `json:"tive"`
	} `json:"metadata"`
	Cells []struct {
		CellType string          `json:"cell_type"`
		Source   json.RawMessage `json:"source"`
		Metadata struct {
			Tags []string `json:"tags"`
		} `json:"metadata"`
		ExecutionCount *int `json:"execution_count"`
		Outputs        []struct {
			OutputType string                     `json:"output_type"`
			Data       map[string]json.RawMessage `json:"data"`
			Ename      string                     `json:"ename"`
			Evalue     string                     `json:"evalue"`
		} `json:"outputs"`
	} `json:"cells"`
}

// text joins a notebook string field, written as a string or a list of lines.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var lines []string
	json.Unmarshal(raw, &lines)
	return strings.Join(lines, "")
}

var profileLine = regexp.MustCompile(`(?m)^\s*profile\s*=\s*"([^"]*)"`)

// wallTimes matches the numbers of the cost table, which are the wall times
// of whichever store ran the stages.
var wallTimes = regexp.MustCompile(`\d+\.\d`)

// TestNotebookTables checks every executed notebook (the committed ones, or
// those of -notebooks): every code cell ran without an error, it shows at
// least one plot, and every table it shows (a Markdown output opening with
// "Table:") is the file results/<profile>/<name>.md of a table its metadata
// lists (tive.tables), each listed table shown, for the profile its
// parameters cell names. The cost table's cells are wall times, different
// in every store: only its caption, rows and columns are compared.
func TestNotebookTables(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(*notebooksDir, "*.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no notebooks in %s", *notebooksDir)
	}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), ".") {
			continue // a copy scripts/run-notebooks.sh is running
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var nb ipynb
			if err := json.Unmarshal(b, &nb); err != nil {
				t.Fatal(err)
			}
			profile := ""
			images := 0
			var shown []string
			for i, c := range nb.Cells {
				if c.CellType != "code" {
					continue
				}
				if slices.Contains(c.Metadata.Tags, "parameters") {
					if m := profileLine.FindStringSubmatch(text(c.Source)); m != nil {
						profile = m[1]
					}
				}
				if c.ExecutionCount == nil {
					t.Errorf("cell %d did not run (run scripts/run-notebooks.sh --in-place)", i)
				}
				for _, o := range c.Outputs {
					if o.OutputType == "error" {
						t.Errorf("cell %d: %s: %s", i, o.Ename, o.Evalue)
					}
					if _, ok := o.Data["image/png"]; ok {
						images++
					}
					if md, ok := o.Data["text/markdown"]; ok && strings.HasPrefix(text(md), "Table:") {
						shown = append(shown, text(md))
					}
				}
			}
			if profile == "" {
				t.Fatal(`no cell tagged "parameters" with a line profile = "..."`)
			}
			if images == 0 {
				t.Error("shows no plot")
			}
			dir := filepath.Join(root, "results", profile)
			want := map[string]string{}
			for _, name := range nb.Metadata.Tive.Tables {
				b, err := os.ReadFile(filepath.Join(dir, name+".md"))
				if err != nil {
					t.Fatalf("metadata tive.tables: %v", err)
				}
				want[name] = string(b)
			}
			seen := map[string]bool{}
			for _, md := range shown {
				name := ""
				for n, w := range want {
					if md == w || (n == "cost" && wallTimes.ReplaceAllString(md, "#") == wallTimes.ReplaceAllString(w, "#")) {
						name = n
					}
				}
				if name == "" {
					t.Errorf("shows a table that is none of results/%s/{%s}.md (run scripts/run-notebooks.sh --profile %s --in-place, or tive reproduce --profile %s):\n%s",
						profile, strings.Join(nb.Metadata.Tive.Tables, ","), profile, profile, md)
					continue
				}
				seen[name] = true
			}
			for _, name := range nb.Metadata.Tive.Tables {
				if !seen[name] {
					t.Errorf("does not show the table %s (results/%s/%s.md)", name, profile, name)
				}
			}
		})
	}
}
