package pipeline

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// sharedNames are file names that more than one package may spell, and why.
var sharedNames = map[string]string{
	// The official layouts of the benchmarks: the world writes its suites as
	// the benchmark's own files, which benchmarks/<name> reads.
	"SEED-Bench.json": "SEED-Bench's file",
	"problems.json":   "ScienceQA's file",
	"pid_splits.json": "ScienceQA's file",
	// Unrelated files of one name: the records a stage hands the backend in
	// its work folder and scripts/genfeatures' example pool; a merged
	// feature store's matrix (grad) and genfeatures' example one.
	"records.json": "unrelated files",
	"features.npy": "unrelated files",
}

// fileName is a string literal that names a file by its extension.
var fileName = regexp.MustCompile(`"([\w-][\w.-]*\.(?:json|jsonl|npy|safetensors|tsv|csv|md|png|svg|tex|parquet))"`)

// TestNoPackageNamesAnothersFile: a file that a package writes is named in
// that package only; others reach it through the owner (world.MixtureFile,
// store.ReadManifest, ReadSelection, ReadChance, ReadBenchScores,
// report.SummaryFile, ...), so a renamed output cannot leave a reader
// behind. Test files may name anything.
func TestNoPackageNamesAnothersFile(t *testing.T) {
	root := filepath.Join("..", "..")
	names := map[string][]string{} // file name -> packages naming it
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		pkg, _ := filepath.Rel(root, filepath.Dir(p))
		for _, m := range fileName.FindAllSubmatch(b, -1) {
			if n := string(m[1]); !slices.Contains(names[n], pkg) {
				names[n] = append(names[n], pkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names["mixture.json"]) == 0 {
		t.Fatal("found no file names: is the walk at the module's root?")
	}
	for n, pkgs := range names {
		if _, ok := sharedNames[n]; !ok && len(pkgs) > 1 {
			slices.Sort(pkgs)
			t.Errorf("%q is named in %s: name it in the package that writes it and let the others use its constant or reader", n, strings.Join(pkgs, ", "))
		}
	}
}
