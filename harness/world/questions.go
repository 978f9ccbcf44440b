package world

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png" // benchmark images are PNG
	"os"
	"path/filepath"
)

// SuiteFiles names what a suite's scorer reads and where its question images
// are, for a world generated in DIR.
type SuiteFiles struct {
	Questions   string // LLaVA question file (MMBench: the dev TSV)
	Annotations string // ground truth, a file or folder as the official script takes it
	Images      string // folder the question file's image paths are relative to ("" for MMBench: images are in the TSV)
}

// Files returns the files of suite in the world at dir.
func Files(dir, suite string) (SuiteFiles, error) {
	d := filepath.Join(dir, "benchmarks", suite)
	j := func(p ...string) string { return filepath.Join(append([]string{d}, p...)...) }
	switch suite {
	case "mme":
		return SuiteFiles{j("llava_mme.jsonl"), j("MME_Benchmark_release_version"), j("MME_Benchmark_release_version")}, nil
	case "mmbench":
		return SuiteFiles{j(mmbenchTSV), j(mmbenchTSV), ""}, nil
	case "seed":
		return SuiteFiles{j("llava-seed-bench.jsonl"), j("SEED-Bench.json"), d}, nil
	case "scienceqa":
		return SuiteFiles{j("llava_test_CQM-A.json"), d, j("images", "test")}, nil
	case "pope":
		return SuiteFiles{j("llava_pope_test.jsonl"), j("coco"), j("val2014")}, nil
	case "textvqa":
		return SuiteFiles{j("llava_textvqa_val_v051_ocr.jsonl"), j("TextVQA_0.5.1_val.json"), j("train_images")}, nil
	case "gqa":
		return SuiteFiles{j("llava_gqa_testdev_balanced.jsonl"), j("testdev_balanced_questions.json"), j("images")}, nil
	case "vizwiz":
		return SuiteFiles{j("llava_val.jsonl"), j("Annotations", "val.json"), j("val")}, nil
	}
	return SuiteFiles{}, fmt.Errorf("world: unknown suite %q (valid: %v)", suite, Suites())
}

// A Question is one item of a suite to answer: the answer line to fill in
// (Text empty; Prompt is the text the model reads) and its image.
type Question struct {
	Answer   Answer
	Image    string      // path under SuiteFiles.Images; "" when Embedded is set or the question has no image
	Embedded image.Image // MMBench: the image decoded from the TSV
}

// Questions lists every question of suite in the world at dir, in
// question-file order: what a model must answer to write the suite's answer
// file.
func Questions(dir, suite string) ([]Question, error) {
	f, err := Files(dir, suite)
	if err != nil {
		return nil, err
	}
	ans, err := OracleAnswers(suite, filepath.Dir(f.Questions))
	if err != nil {
		return nil, err
	}
	qs := make([]Question, len(ans))
	for i := range ans {
		ans[i].Text = ""
		ans[i].ModelID, ans[i].AnswerID = "", ""
		qs[i].Answer = ans[i]
	}
	switch suite {
	case "mmbench":
		imgs, err := tsvImages(f.Questions)
		if err != nil {
			return nil, err
		}
		for i := range qs {
			img, ok := imgs[fmt.Sprint(qs[i].Answer.QuestionID)]
			if !ok {
				return nil, fmt.Errorf("world: %s: no image for question %v", f.Questions, qs[i].Answer.QuestionID)
			}
			qs[i].Embedded = img
		}
		return qs, nil
	case "scienceqa":
		var items []struct {
			Image string `json:"image"`
		}
		b, err := os.ReadFile(f.Questions)
		if err == nil {
			err = json.Unmarshal(b, &items)
		}
		if err != nil {
			return nil, fmt.Errorf("world: %s: %v", f.Questions, err)
		}
		return withImages(qs, items, func(it struct {
			Image string `json:"image"`
		}) string {
			return it.Image
		}, f.Questions)
	}
	lines, err := readJSONL[struct {
		Image string `json:"image"`
	}](f.Questions)
	if err != nil {
		return nil, fmt.Errorf("world: %s: %v", f.Questions, err)
	}
	return withImages(qs, lines, func(it struct {
		Image string `json:"image"`
	}) string {
		return it.Image
	}, f.Questions)
}

func withImages[T any](qs []Question, items []T, image func(T) string, file string) ([]Question, error) {
	if len(items) != len(qs) {
		return nil, fmt.Errorf("world: %s: %d questions, but %d answer lines", file, len(items), len(qs))
	}
	for i := range qs {
		qs[i].Image = image(items[i])
	}
	return qs, nil
}

// tsvImages decodes the base64 images of an MMBench TSV, by index.
func tsvImages(path string) (map[string]image.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bufio.NewReader(bytes.NewReader(b)))
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("world: %s: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	ii, okI := col["index"]
	im, okM := col["image"]
	if !okI || !okM {
		return nil, fmt.Errorf("world: %s: no index or image column", path)
	}
	out := map[string]image.Image{}
	for n, row := range rows[1:] {
		if im >= len(row) || ii >= len(row) {
			return nil, fmt.Errorf("world: %s:%d: short row", path, n+2)
		}
		raw, err := base64.StdEncoding.DecodeString(row[im])
		if err != nil {
			return nil, fmt.Errorf("world: %s:%d: image: %v", path, n+2, err)
		}
		img, _, err := image.Decode(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("world: %s:%d: image: %v", path, n+2, err)
		}
		out[row[ii]] = img
	}
	return out, nil
}
