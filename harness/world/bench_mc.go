package world

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// mcItem is one multiple-choice question about a scene.
type mcItem struct {
	scene    Scene
	question string
	hint     string
	options  []string
	answer   int
}

// quadrant names the image quarter holding a box centre.
func quadrant(o Object, size int) string {
	b := o.Box
	v, h := "top", "left"
	if b.Min.Y+b.Max.Y >= size {
		v = "bottom"
	}
	if b.Min.X+b.Max.X >= size {
		h = "right"
	}
	return v + " " + h
}

var quadrants = []string{"top left", "top right", "bottom left", "bottom right"}

// choices puts right among distinct wrong options (k options in all) in random order.
func choices(r *rand.Rand, right string, pool []string, k int) ([]string, int) {
	opts := []string{right}
	for _, i := range r.Perm(len(pool)) {
		if len(opts) < k && !containsStr(opts, pool[i]) {
			opts = append(opts, pool[i])
		}
	}
	r.Shuffle(len(opts), func(a, b int) { opts[a], opts[b] = opts[b], opts[a] })
	for i, o := range opts {
		if o == right {
			return opts, i
		}
	}
	panic("unreachable")
}

// countOptions are the options of a multiple-choice counting question.
var countOptions = []string{"1", "2", "3", "4", "5"}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (g *gen) conceptNames() []string {
	out := make([]string, len(g.concepts))
	for i, c := range g.concepts {
		out[i] = c.Name
	}
	return out
}

func placeNames() []string {
	out := make([]string, len(places))
	for i, p := range places {
		out[i] = p.name
	}
	return out
}

// mmbenchCategories: category, l2-category.
var mmbenchCategories = [][2]string{
	{"image_scene", "coarse_perception"},
	{"image_style", "coarse_perception"},
	{"object_localization", "finegrained_perception (instance-level)"},
	{"attribute_recognition", "finegrained_perception (instance-level)"},
	{"OCR", "finegrained_perception (instance-level)"},
	{"spatial_relationship", "finegrained_perception (cross-instance)"},
	{"function_reasoning", "attribute_reasoning"},
	{"nature_relation", "relation_reasoning"},
	{"structuralized_imagetext_understanding", "logic_reasoning"},
}

// mmbenchItem draws one question of a category, held-out art style except
// for image_style.
func (s *suite) mmbenchItem(r *rand.Rand, cat string, k int) mcItem {
	g := s.g
	var it mcItem
	switch cat {
	case "image_scene":
		it.scene = s.scene(r, sceneOpts{min: 1, max: 3}, true)
		it.question = "Which place is shown in the image?"
		it.options, it.answer = choices(r, places[it.scene.Place].name, placeNames(), k)
	case "image_style":
		st := r.IntN(len(g.pack.Styles()))
		it.scene = s.scene(r, sceneOpts{min: 1, max: 3, styles: []int{st}}, false)
		it.question = "Which art style is this picture drawn in?"
		it.options, it.answer = choices(r, g.pack.Styles()[st], g.pack.Styles(), k)
	case "object_localization":
		it.scene = s.scene(r, sceneOpts{min: 1, max: 1}, true)
		o := it.scene.Objects[0]
		it.question = fmt.Sprintf("In which part of the image is the %s?", g.name(o))
		it.options, it.answer = choices(r, quadrant(o, it.scene.Size), quadrants, k)
	case "attribute_recognition":
		it.scene = s.scene(r, sceneOpts{min: 1, max: 1}, true)
		o := it.scene.Objects[0]
		it.question = fmt.Sprintf("What color is the %s?", g.name(o))
		it.options, it.answer = choices(r, o.Colour, otherColours(""), k)
	case "OCR":
		w := pick(r, signWords)
		it.scene = s.scene(r, sceneOpts{min: 0, max: 2, texts: []string{w}}, true)
		it.question = "What word is written on the sign?"
		it.options, it.answer = choices(r, w, signWords, k)
		if r.IntN(4) == 0 {
			it.hint = "The sign is a small plate with printed letters."
		}
	case "spatial_relationship":
		for {
			it.scene = s.scene(r, sceneOpts{min: 2, max: 2}, true)
			u := it.scene.unique()
			if len(u) == 2 && (u[0].Box.Max.X <= u[1].Box.Min.X || u[1].Box.Max.X <= u[0].Box.Min.X) {
				a, b := u[0], u[1]
				if !leftOf(a.Box, b.Box) {
					a, b = b, a
				}
				it.question = fmt.Sprintf("Which object is to the left of the %s?", g.name(b))
				it.options, it.answer = choices(r, g.name(a), append([]string{g.name(b)}, g.conceptNames()...), k)
				break
			}
		}
	case "function_reasoning":
		it.scene = s.scene(r, sceneOpts{min: 1, max: 1}, true)
		o := it.scene.Objects[0]
		it.question = fmt.Sprintf("What kind of thing is the %s in the image?", g.name(o))
		it.options, it.answer = choices(r, g.kindOf(o), g.kinds, k)
	case "nature_relation":
		it.scene = s.scene(r, sceneOpts{min: 1, max: 1}, true)
		o := it.scene.Objects[0]
		sib := g.byKind[g.kindOf(o)]
		var same []string
		for _, c := range sib {
			if c != o.Concept {
				same = append(same, g.concepts[c].Name)
			}
		}
		var others []string
		for c, x := range g.concepts {
			if x.Kind != g.kindOf(o) && c != o.Concept {
				others = append(others, x.Name)
			}
		}
		if len(same) == 0 { // a kind with one member: ask for the object itself
			same = []string{g.name(o)}
		}
		it.question = fmt.Sprintf("Which of these is the same kind of thing as the %s in the image?", g.name(o))
		it.options, it.answer = choices(r, pick(r, same), others, k)
		if r.IntN(3) == 0 {
			it.hint = "Things of one kind share many features."
		}
	case "structuralized_imagetext_understanding":
		a, b := 1+r.IntN(9), 1+r.IntN(9)
		it.scene = s.scene(r, sceneOpts{texts: []string{fmt.Sprintf("%d+%d=", a, b)}, mono: true}, true)
		it.question = "What is the result of the arithmetic shown in the image?"
		var pool []string
		for d := -3; d <= 3; d++ {
			if d != 0 && a+b+d >= 0 {
				pool = append(pool, fmt.Sprint(a+b+d))
			}
		}
		it.options, it.answer = choices(r, fmt.Sprint(a+b), pool, k)
	}
	return it
}

var mmbenchHeader = []string{"index", "question", "hint", "A", "B", "C", "D", "answer", "category", "source", "l2-category", "comment", "split", "image"}

// mmbench writes mmbench_dev_20230712.tsv with the circular copies as rows:
// row k·1,000,000 + i is question i with its options rotated left by k.
func (s *suite) mmbench(r *rand.Rand, n int) {
	type row struct {
		it      mcItem
		cat, l2 string
		img     string
		index   int
	}
	var rows []row
	for i := range max(len(mmbenchCategories), n*2/5) {
		c := mmbenchCategories[i%len(mmbenchCategories)]
		k := 4
		if x := r.IntN(20); x < 2 {
			k = 2
		} else if x < 5 {
			k = 3
		}
		it := s.mmbenchItem(r, c[0], k)
		rows = append(rows, row{it: it, cat: c[0], l2: c[1], img: base64.StdEncoding.EncodeToString(encodePNG(s.g.render(&it.scene))), index: i + 1})
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = '\t'
	w.Write(mmbenchHeader)
	for k := range 4 {
		for _, rw := range rows {
			opts := rw.it.options
			if k >= len(opts) {
				continue
			}
			rot := append(append([]string{}, opts[k:]...), opts[:k]...)
			rec := []string{strconv.Itoa(k*1000000 + rw.index), rw.it.question, rw.it.hint}
			for j := range 4 {
				if j < len(rot) {
					rec = append(rec, rot[j])
				} else {
					rec = append(rec, "")
				}
			}
			ans := string(rune('A' + (rw.it.answer-k+len(opts))%len(opts)))
			rec = append(rec, ans, rw.cat, "tive-world", rw.l2, "", "dev", rw.img)
			w.Write(rec)
			s.n++
		}
	}
	w.Flush()
	s.add(mmbenchTSV, buf.Bytes())
}

// mmbenchPrompt is the prompt of model_vqa_mmbench.py --single-pred-prompt.
func mmbenchPrompt(question, hint string, opts []string) string {
	q := question
	if hint != "" {
		q = hint + "\n" + q
	}
	return mc(q, opts) + "\n" + mcHint
}

// mmbenchTSV is MMBench's question file, in the suite's folder.
const mmbenchTSV = "mmbench_dev_20230712.tsv"

// readMMBench reads the suite's TSV in dir: its rows and each column's
// index by header name (an error wrapping fs.ErrNotExist without it).
func readMMBench(dir string) (rows [][]string, col map[string]int, err error) {
	f, err := os.Open(filepath.Join(dir, mmbenchTSV))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comma = '\t'
	head, err := cr.Read()
	if err != nil {
		return nil, nil, err
	}
	col = map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, col, nil
		}
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, rec)
	}
}

func oracleMMBench(dir string) ([]Answer, error) {
	rows, col, err := readMMBench(dir)
	if err != nil {
		return nil, err
	}
	var out []Answer
	for _, rec := range rows {
		idx, err := strconv.Atoi(rec[col["index"]])
		if err != nil {
			return nil, err
		}
		var opts, chars []string
		for _, c := range []string{"A", "B", "C", "D"} {
			v := rec[col[c]]
			if v == "" || strings.EqualFold(v, "nan") || strings.EqualFold(v, "none") {
				break
			}
			opts, chars = append(opts, v), append(chars, c)
		}
		zero := 0
		out = append(out, Answer{QuestionID: idx, RoundID: &zero, Prompt: mmbenchPrompt(rec[col["question"]], rec[col["hint"]], opts),
			Text: rec[col["answer"]], Options: opts, OptionChar: chars})
	}
	return out, nil
}

// seedTypes are SEED-Bench's 12 question types; 1-9 are image types.
var seedTypes = []string{"Scene Understanding", "Instance Identity", "Instance Attributes", "Instance Location", "Instances Counting",
	"Spatial Relation", "Instance Interaction", "Visual Reasoning", "Text Understanding", "Action Recognition", "Action Prediction", "Procedure Understanding"}

type seedQuestion struct {
	Answer         string `json:"answer"`
	ChoiceA        string `json:"choice_a"`
	ChoiceB        string `json:"choice_b"`
	ChoiceC        string `json:"choice_c"`
	ChoiceD        string `json:"choice_d"`
	DataID         string `json:"data_id"`
	DataType       string `json:"data_type"`
	Question       string `json:"question"`
	QuestionID     string `json:"question_id"`
	QuestionTypeID int    `json:"question_type_id"`
}

// seedItem draws a question of SEED image type t (1-9), always 4 choices,
// in the held-out art style.
func (s *suite) seedItem(r *rand.Rand, t int) mcItem {
	g := s.g
	var it mcItem
	switch t {
	case 1:
		it.scene = s.scene(r, sceneOpts{min: 1, max: 3}, true)
		it.question = "Which place does this image show?"
		it.options, it.answer = choices(r, places[it.scene.Place].name, placeNames(), 4)
	case 2:
		it.scene = s.scene(r, sceneOpts{min: 1, max: 1}, true)
		it.question = "What is the main object in the image?"
		it.options, it.answer = choices(r, g.name(it.scene.Objects[0]), g.conceptNames(), 4)
	case 3:
		it.scene = s.scene(r, sceneOpts{min: 1, max: 1}, true)
		o := it.scene.Objects[0]
		it.question = fmt.Sprintf("What is the color of the %s?", g.name(o))
		it.options, it.answer = choices(r, o.Colour, otherColours(""), 4)
	case 4:
		it.scene = s.scene(r, sceneOpts{min: 1, max: 1}, true)
		o := it.scene.Objects[0]
		it.question = fmt.Sprintf("Where is the %s located in the image?", g.name(o))
		it.options, it.answer = choices(r, "the "+quadrant(o, it.scene.Size), []string{"the top left", "the top right", "the bottom left", "the bottom right"}, 4)
	case 5:
		c := r.IntN(len(g.concepts))
		k := 1 + r.IntN(4)
		cs := make([]int, k)
		for i := range cs {
			cs[i] = c
		}
		it.scene = s.scene(r, sceneOpts{concepts: cs}, true)
		it.question = fmt.Sprintf("How many %s are in the image?", plural(g.concepts[c].Name))
		it.options, it.answer = choices(r, fmt.Sprint(k), countOptions, 4)
	case 6:
		for {
			it.scene = s.scene(r, sceneOpts{min: 2, max: 2}, true)
			u := it.scene.unique()
			if len(u) == 2 && (u[0].Box.Max.X <= u[1].Box.Min.X || u[1].Box.Max.X <= u[0].Box.Min.X) {
				side := "to the right of"
				if leftOf(u[0].Box, u[1].Box) {
					side = "to the left of"
				}
				it.question = fmt.Sprintf("Where is the %s relative to the %s?", g.name(u[0]), g.name(u[1]))
				it.options, it.answer = choices(r, side, []string{"to the left of", "to the right of", "inside", "far away from"}, 4)
				break
			}
		}
	case 7:
		it.scene = s.scene(r, sceneOpts{min: 2, max: 2}, true)
		vis := it.scene.visible()
		it.question = fmt.Sprintf("Which object shares the scene with the %s?", g.name(vis[0]))
		right := g.name(vis[len(vis)-1])
		if len(vis) == 1 {
			right = g.name(vis[0])
		}
		var pool []string
		for c, x := range g.concepts {
			if !it.scene.has(c) {
				pool = append(pool, x.Name)
			}
		}
		it.options, it.answer = choices(r, right, pool, 4)
	case 8:
		it.scene = s.scene(r, sceneOpts{min: 1, max: 1}, true)
		o := it.scene.Objects[0]
		it.question = fmt.Sprintf("What can be said about the %s?", g.name(o))
		it.options, it.answer = choices(r, "it is a "+g.kindOf(o), func() []string {
			var p []string
			for _, k := range g.kinds {
				p = append(p, "it is a "+k)
			}
			return p
		}(), 4)
	case 9:
		w := pick(r, signWords)
		it.scene = s.scene(r, sceneOpts{min: 0, max: 2, texts: []string{w}}, true)
		it.question = "What does the sign in the image say?"
		it.options, it.answer = choices(r, w, signWords, 4)
	}
	for len(it.options) < 4 { // vocabularies smaller than four
		it.options = append(it.options, fmt.Sprintf("none of these (%d)", len(it.options)))
	}
	return it
}

// seed writes SEED-Bench (image part):
//
//	SEED-Bench.json                     {"question_type": {...}, "questions": [...]}
//	llava-seed-bench.jsonl              questions with options and the letter hint; integer
//	                                    question_id (SEED-Bench.json has the same id as a string)
//	SEED-Bench-image/<data_id>          images
func (s *suite) seed(r *rand.Rand, n int) {
	types := map[string]int{}
	for i, t := range seedTypes {
		types[t] = i + 1
	}
	var qs []seedQuestion
	var lines []any
	for i := range max(9, n) {
		t := 1 + i%9
		it := s.seedItem(r, t)
		id := fmt.Sprintf("%d_%d", 1000000+i*13+r.IntN(13), r.IntN(1e9))
		dataID := id + ".png"
		s.image("SEED-Bench-image/"+dataID, it.scene)
		q := seedQuestion{Answer: string(rune('A' + it.answer)), ChoiceA: it.options[0], ChoiceB: it.options[1], ChoiceC: it.options[2], ChoiceD: it.options[3],
			DataID: dataID, DataType: "image", Question: it.question, QuestionID: strconv.Itoa(100000 + i), QuestionTypeID: t}
		qs = append(qs, q)
		lines = append(lines, llavaQ{QuestionID: 100000 + i, Image: "SEED-Bench-image/" + dataID, Text: mc(it.question, it.options) + "\n" + mcHint, Category: seedTypes[t-1]})
	}
	s.addJSON("SEED-Bench.json", map[string]any{"question_type": types, "questions": qs})
	s.addJSONL("llava-seed-bench.jsonl", lines)
	s.n = len(qs)
}

func oracleSEED(dir string) ([]Answer, error) {
	var data struct {
		Questions []seedQuestion `json:"questions"`
	}
	if err := readJSON(filepath.Join(dir, "SEED-Bench.json"), &data); err != nil {
		return nil, err
	}
	ans := map[string]string{}
	for _, q := range data.Questions {
		ans[q.QuestionID] = q.Answer
	}
	qs, err := readJSONL[llavaQ](filepath.Join(dir, "llava-seed-bench.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []Answer
	for _, q := range qs {
		id := fmt.Sprint(q.QuestionID)
		a, ok := ans[id]
		if !ok {
			return nil, fmt.Errorf("question %s is not in SEED-Bench.json", id)
		}
		out = append(out, Answer{QuestionID: q.QuestionID, Prompt: q.Text, Text: a})
	}
	return out, nil
}
