package world

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ScienceQA

type sqaProblem struct {
	Question string   `json:"question"`
	Choices  []string `json:"choices"`
	Answer   int      `json:"answer"`
	Hint     string   `json:"hint"`
	Image    *string  `json:"image"`
	Task     string   `json:"task"`
	Grade    string   `json:"grade"`
	Subject  string   `json:"subject"`
	Topic    string   `json:"topic"`
	Category string   `json:"category"`
	Skill    string   `json:"skill"`
	Lecture  string   `json:"lecture"`
	Solution string   `json:"solution"`
	Split    string   `json:"split"`
}

// scienceqa writes ScienceQA (test split), about half the problems with an image:
//
//	problems.json                 {pid: problem}
//	pid_splits.json               {"test": [pids], ...}
//	llava_test_CQM-A.json         LLaVA conversations ("<image>\nContext: ...\nQ\nA. ..")
//	images/test/<pid>/image.png
func (s *suite) scienceqa(r *rand.Rand, n int) {
	g := s.g
	problems := map[string]sqaProblem{}
	var pids []string
	var convs []any
	for i := range max(4, n) {
		pid := strconv.Itoa(1 + i*3 + r.IntN(3))
		k := 2 + r.IntN(3)
		p := sqaProblem{Task: "closed choice", Grade: fmt.Sprintf("grade%d", 1+r.IntN(8)), Split: "test"}
		withImage := r.IntN(2) == 0
		var sc Scene
		if withImage {
			switch r.IntN(3) {
			case 0:
				sc = s.scene(r, sceneOpts{min: 1, max: 1}, false)
				o := sc.Objects[0]
				p.Question = fmt.Sprintf("Which %s is shown in the picture?", g.groupOf(o))
				var pool []string
				for _, c := range g.byGroup[g.groupOf(o)] {
					pool = append(pool, g.concepts[c].Name)
				}
				pool = append(pool, g.conceptNames()...)
				p.Choices, p.Answer = choices(r, g.name(o), pool, k)
				p.Subject, p.Topic, p.Category, p.Skill = "natural science", "classification", "Identify "+g.groupOf(o)+"s", "Identify things"
			case 1:
				sc = s.scene(r, sceneOpts{min: 1, max: 1}, false)
				o := sc.Objects[0]
				p.Hint = fmt.Sprintf("This picture shows %s.", Article(g.name(o)))
				p.Question = fmt.Sprintf("What kind of thing is the %s?", g.name(o))
				p.Choices, p.Answer = choices(r, g.kindOf(o), g.kinds, k)
				p.Subject, p.Topic, p.Category, p.Skill = "natural science", "classification", "Classify things", "Classify things by kind"
			default:
				sc = s.scene(r, sceneOpts{min: 1, max: 2}, false)
				p.Hint = "Look at the picture of a place."
				p.Question = "Which place is shown?"
				p.Choices, p.Answer = choices(r, places[sc.Place].name, placeNames(), k)
				p.Subject, p.Topic, p.Category, p.Skill = "social science", "geography", "Identify places", "Identify places"
			}
			img := "image.png"
			p.Image = &img
			s.image("images/test/"+pid+"/image.png", sc)
		} else {
			switch r.IntN(3) {
			case 0:
				kind := pick(r, g.kinds)
				c := pick(r, g.byKind[kind])
				var pool []string
				for x, cn := range g.concepts {
					if cn.Kind != kind && x != c {
						pool = append(pool, cn.Name)
					}
				}
				p.Question = fmt.Sprintf("Which of these is a %s?", kind)
				p.Choices, p.Answer = choices(r, g.concepts[c].Name, pool, k)
				p.Subject, p.Topic, p.Category, p.Skill = "natural science", "classification", "Classify things", "Classify things by kind"
			case 1:
				a, b := r.IntN(20), r.IntN(20)
				p.Hint = fmt.Sprintf("Kai has %s. Lena gives him %d more.", countNoun(a, "marble"), b)
				p.Question = "How many marbles does Kai have now?"
				var pool []string
				for d := -3; d <= 3; d++ {
					if d != 0 && a+b+d >= 0 {
						pool = append(pool, fmt.Sprint(a+b+d))
					}
				}
				p.Choices, p.Answer = choices(r, fmt.Sprint(a+b), pool, k)
				p.Subject, p.Topic, p.Category, p.Skill = "natural science", "arithmetic", "Add numbers", "Add within 40"
			default:
				w := pick(r, french)
				var pool []string
				for _, f := range french {
					pool = append(pool, f[1])
				}
				p.Question = fmt.Sprintf("What does the French word \"%s\" mean?", strings.ToLower(w[0]))
				p.Choices, p.Answer = choices(r, w[1], pool, k)
				p.Subject, p.Topic, p.Category, p.Skill = "language science", "vocabulary", "Translate words", "Translate French words"
			}
		}
		problems[pid] = p
		pids = append(pids, pid)
		var v strings.Builder
		if withImage {
			v.WriteString("<image>\n")
		}
		if p.Hint != "" {
			fmt.Fprintf(&v, "Context: %s\n", p.Hint)
		}
		v.WriteString(mc(p.Question, p.Choices))
		c := map[string]any{"id": pid}
		if withImage {
			c["image"] = pid + "/image.png"
		}
		c["conversations"] = []Turn{{"human", v.String()}, {"gpt", string(rune('A' + p.Answer))}}
		convs = append(convs, c)
	}
	mini := pids[:max(1, len(pids)/10)]
	s.addJSON("problems.json", problems)
	s.addJSON("pid_splits.json", map[string][]string{"train": {}, "val": {}, "test": pids, "trainval": {}, "minitrain": {}, "minival": {}, "minitest": mini})
	s.addJSON("llava_test_CQM-A.json", convs)
	s.n = len(pids)
}

func oracleScienceQA(dir string) ([]Answer, error) {
	var items []struct {
		ID            string `json:"id"`
		Image         string `json:"image"`
		Conversations []Turn `json:"conversations"`
	}
	if err := readJSON(filepath.Join(dir, "llava_test_CQM-A.json"), &items); err != nil {
		return nil, err
	}
	var problems map[string]sqaProblem
	if err := readJSON(filepath.Join(dir, "problems.json"), &problems); err != nil {
		return nil, err
	}
	var out []Answer
	for _, it := range items {
		p, ok := problems[it.ID]
		if !ok {
			return nil, fmt.Errorf("pid %s is not in problems.json", it.ID)
		}
		q := strings.TrimPrefix(it.Conversations[0].Value, "<image>\n")
		prompt := q + "\n" + mcHint
		if it.Image != "" {
			prompt = "<image>\n" + prompt
		}
		out = append(out, Answer{QuestionID: it.ID, Prompt: prompt, Text: string(rune('A' + p.Answer))})
	}
	return out, nil
}

// TextVQA

type textvqaItem struct {
	Question       string   `json:"question"`
	ImageID        string   `json:"image_id"`
	ImageClasses   []string `json:"image_classes"`
	ImageWidth     int      `json:"image_width"`
	ImageHeight    int      `json:"image_height"`
	Answers        []string `json:"answers"`
	QuestionTokens []string `json:"question_tokens"`
	QuestionID     int      `json:"question_id"`
	SetName        string   `json:"set_name"`
}

// tenAnswers returns ten human-style answers: the canonical one at least
// six times, the rest plausible slips.
func tenAnswers(r *rand.Rand, canon string, slips []string) []string {
	k := 6 + r.IntN(5)
	var out []string
	for range k {
		out = append(out, canon)
	}
	for len(out) < 10 {
		out = append(out, pick(r, slips))
	}
	r.Shuffle(10, func(a, b int) { out[a], out[b] = out[b], out[a] })
	return out
}

// textvqa writes TextVQA val (with OCR tokens):
//
//	TextVQA_0.5.1_val.json              {"data": [...]}, ten answers per question
//	llava_textvqa_val_v051_ocr.jsonl    question_id = image_id, "Reference OCR token:" line
//	train_images/<image_id>.png
func (s *suite) textvqa(r *rand.Rand, n int) {
	g := s.g
	var data []textvqaItem
	var lines []any
	for qid := 0; len(data) < max(2, n); {
		words := []string{pick(r, signWords)}
		if r.IntN(3) == 0 {
			w2 := pick(r, signWords)
			if w2 != words[0] {
				words = append(words, w2)
			}
		}
		sc := s.scene(r, sceneOpts{min: 1, max: 2, texts: words}, false)
		id := randString(r, 16, "0123456789abcdef")
		s.image("train_images/"+id+".png", sc)
		type qa struct{ q, a string }
		qs := []qa{{"what does the sign say?", strings.ToLower(words[0])}}
		if len(words) == 2 {
			top := sc.Texts[0]
			if sc.Texts[1].Box.Min.Y < top.Box.Min.Y {
				top = sc.Texts[1]
			}
			qs = []qa{{"what word is written at the top?", strings.ToLower(top.Words)}, {"what are the words in the image?", strings.ToLower(words[0] + " " + words[1])}}
		} else if o := sc.visible(); len(o) > 0 && r.IntN(2) == 0 {
			qs = append(qs, qa{fmt.Sprintf("what word is shown next to the %s?", g.name(o[0])), strings.ToLower(words[0])})
		}
		tokens := append([]string{}, words...)
		if r.IntN(4) == 0 {
			tokens = append(tokens, strings.ToLower(pick(r, signWords))[:2])
		}
		for _, q := range qs {
			qid++
			data = append(data, textvqaItem{Question: q.q, ImageID: id, ImageClasses: []string{}, ImageWidth: sc.Size, ImageHeight: sc.Size,
				Answers:        tenAnswers(r, q.a, []string{"unanswerable", q.a + "s", strings.ToLower(pick(r, signWords))}),
				QuestionTokens: strings.Fields(strings.TrimSuffix(q.q, "?")), QuestionID: 30000 + qid, SetName: "val"})
			lines = append(lines, llavaQ{QuestionID: id, Image: id + ".png",
				Text: capitalise(q.q) + "\nReference OCR token: " + strings.Join(tokens, ", ") + "\n" + shortHint})
		}
	}
	s.addJSON("TextVQA_0.5.1_val.json", map[string]any{"dataset_type": "val", "dataset_name": "textvqa", "dataset_version": "0.5.1", "data": data})
	s.addJSONL("llava_textvqa_val_v051_ocr.jsonl", lines)
	s.n = len(data)
}

// majority is the most frequent answer (ties: first in sorted order).
func majority(ans []string) string {
	count := map[string]int{}
	for _, a := range ans {
		count[a]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best := ""
	for _, k := range keys {
		if best == "" || count[k] > count[best] {
			best = k
		}
	}
	return best
}

func oracleTextVQA(dir string) ([]Answer, error) {
	var ann struct {
		Data []textvqaItem `json:"data"`
	}
	if err := readJSON(filepath.Join(dir, "TextVQA_0.5.1_val.json"), &ann); err != nil {
		return nil, err
	}
	gt := map[string]string{}
	for _, d := range ann.Data {
		gt[d.ImageID+"\x00"+strings.ToLower(d.Question)] = majority(d.Answers)
	}
	qs, err := readJSONL[llavaQ](filepath.Join(dir, "llava_textvqa_val_v051_ocr.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []Answer
	for _, q := range qs {
		key := fmt.Sprint(q.QuestionID) + "\x00" + strings.ToLower(strings.Split(q.Text, "\n")[0])
		a, ok := gt[key]
		if !ok {
			return nil, fmt.Errorf("no annotation for %q", key)
		}
		out = append(out, Answer{QuestionID: q.QuestionID, Prompt: q.Text, Text: capitalise(a)})
	}
	return out, nil
}

// GQA

type gqaEntry struct {
	Question   string            `json:"question"`
	Answer     string            `json:"answer"`
	FullAnswer string            `json:"fullAnswer"`
	ImageID    string            `json:"imageId"`
	IsBalanced bool              `json:"isBalanced"`
	Types      map[string]string `json:"types"`
	Semantic   []any             `json:"semantic"`
	Groups     map[string]any    `json:"groups"`
	Entailed   []string          `json:"entailed"`
	Equivalent []string          `json:"equivalent"`
	Annot      map[string]any    `json:"annotations"`
}

// gqa writes GQA testdev-balanced:
//
//	testdev_balanced_questions.json      {qid: {question, answer, types, ...}}
//	llava_gqa_testdev_balanced.jsonl     questions with the short-answer hint
//	images/<imageId>.png
func (s *suite) gqa(r *rand.Rand, n int) {
	g := s.g
	qs := map[string]gqaEntry{}
	var lines []any
	for img := 0; len(lines) < max(2, n); img++ {
		sc := s.scene(r, sceneOpts{min: 2, max: 5}, false)
		imageID := fmt.Sprintf("n%d", 100000+img*11+r.IntN(11))
		s.image("images/"+imageID+".png", sc)
		for k, q := range g.gqaQuestions(r, &sc, 3) {
			qid := fmt.Sprintf("20%07d", img*10+k)
			qs[qid] = gqaEntry{Question: q.question, Answer: q.answer, FullAnswer: q.full, ImageID: imageID, IsBalanced: true,
				Types:    map[string]string{"structural": q.structural, "semantic": q.semantic, "detailed": q.detailed},
				Semantic: []any{}, Groups: map[string]any{"global": nil, "local": q.detailed}, Entailed: []string{}, Equivalent: []string{qid},
				Annot: map[string]any{"answer": map[string]any{}, "question": map[string]any{}, "fullAnswer": map[string]any{}}}
			lines = append(lines, llavaQ{QuestionID: qid, Image: imageID + ".png", Text: q.question + "\n" + shortHint})
		}
	}
	s.addJSON("testdev_balanced_questions.json", qs)
	s.addJSONL("llava_gqa_testdev_balanced.jsonl", lines)
	s.n = len(lines)
}

func oracleGQA(dir string) ([]Answer, error) {
	var qs map[string]gqaEntry
	if err := readJSON(filepath.Join(dir, "testdev_balanced_questions.json"), &qs); err != nil {
		return nil, err
	}
	lines, err := readJSONL[llavaQ](filepath.Join(dir, "llava_gqa_testdev_balanced.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []Answer
	for _, l := range lines {
		e, ok := qs[fmt.Sprint(l.QuestionID)]
		if !ok {
			return nil, fmt.Errorf("question %v is not in testdev_balanced_questions.json", l.QuestionID)
		}
		out = append(out, Answer{QuestionID: l.QuestionID, Prompt: l.Text, Text: capitalise(e.Answer)})
	}
	return out, nil
}

// VizWiz

type vizwizAnswer struct {
	Answer     string `json:"answer"`
	Confidence string `json:"answer_confidence"`
}

type vizwizItem struct {
	Image      string         `json:"image"`
	Question   string         `json:"question"`
	Answers    []vizwizAnswer `json:"answers"`
	AnswerType string         `json:"answer_type"`
	Answerable int            `json:"answerable"`
}

const vizwizHint = "When the provided information is insufficient, respond with 'Unanswerable'.\n" + shortHint

// vizwiz writes VizWiz val with unanswerable questions (blurred text, or the
// object covered or cut off by the frame):
//
//	Annotations/val.json     [{image, question, answers[10], answer_type, answerable}]
//	llava_val.jsonl          question_id = index into val.json
//	val/VizWiz_val_<n>.png
func (s *suite) vizwiz(r *rand.Rand, n int) {
	g := s.g
	var items []vizwizItem
	var lines []any
	for i := range max(2, n) {
		unans := r.IntN(10) < 3
		img := fmt.Sprintf("VizWiz_val_%08d.png", i)
		var it vizwizItem
		switch r.IntN(3) {
		case 0:
			w := pick(r, signWords)
			deg := ""
			if unans {
				deg = "blur"
			}
			sc := s.scene(r, sceneOpts{texts: []string{w}, degrade: deg}, false)
			s.image("val/"+img, sc)
			it = vizwizItem{Question: pick(r, []string{"What does this say?", "What is written here?"}), AnswerType: "other"}
			it.Answers = vqaTen(r, strings.ToLower(w), unans)
		case 1:
			deg := ""
			if unans {
				deg = pick(r, []string{"occlude", "crop"})
			}
			sc := s.scene(r, sceneOpts{concepts: []int{r.IntN(len(g.concepts))}, degrade: deg}, false)
			if deg == "crop" {
				unans = sc.cutOff(sc.Objects[0]) // placement may have had to keep it whole
			}
			s.image("val/"+img, sc)
			it = vizwizItem{Question: pick(r, []string{"What is this?", "Can you tell me what this is?"}), AnswerType: "other"}
			it.Answers = vqaTen(r, g.name(sc.Objects[0]), unans)
		default:
			deg := ""
			if unans {
				deg = "occlude"
			}
			sc := s.scene(r, sceneOpts{min: 1, max: 1, degrade: deg}, false)
			s.image("val/"+img, sc)
			it = vizwizItem{Question: "What color is this?", AnswerType: "other"}
			it.Answers = vqaTen(r, sc.Objects[0].Colour, unans)
		}
		it.Image = img
		it.Answerable = 1
		if unans {
			it.Answerable, it.AnswerType = 0, "unanswerable"
		}
		items = append(items, it)
		lines = append(lines, llavaQ{QuestionID: i, Image: img, Text: it.Question + "\n" + vizwizHint})
	}
	s.addJSON("Annotations/val.json", items)
	s.addJSONL("llava_val.jsonl", lines)
	s.n = len(items)
}

func vqaTen(r *rand.Rand, canon string, unans bool) []vizwizAnswer {
	var ans []string
	if unans {
		ans = tenAnswers(r, "unanswerable", []string{canon, "blurry", "not sure"})
	} else {
		ans = tenAnswers(r, canon, []string{"unanswerable", "not sure"})
	}
	out := make([]vizwizAnswer, len(ans))
	for i, a := range ans {
		out[i] = vizwizAnswer{a, pick(r, []string{"yes", "yes", "maybe"})}
	}
	return out
}

func oracleVizWiz(dir string) ([]Answer, error) {
	var items []vizwizItem
	if err := readJSON(filepath.Join(dir, "Annotations", "val.json"), &items); err != nil {
		return nil, err
	}
	lines, err := readJSONL[llavaQ](filepath.Join(dir, "llava_val.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []Answer
	for _, l := range lines {
		i, ok := l.QuestionID.(float64)
		if !ok || int(i) < 0 || int(i) >= len(items) || items[int(i)].Image != l.Image {
			return nil, fmt.Errorf("question %v does not index val.json", l.QuestionID)
		}
		var as []string
		for _, a := range items[int(i)].Answers {
			as = append(as, a.Answer)
		}
		out = append(out, Answer{QuestionID: int(i), Prompt: l.Text, Text: capitalise(majority(as))})
	}
	return out, nil
}

// countNoun writes "1 marble", "3 marbles".
func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %s", n, plural(noun))
}
