package world

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
)

// popeCategories in the order of llava_pope_test.jsonl, with their question-id offsets.
var popeCategories = []struct {
	name   string
	offset int
}{{"adversarial", 0}, {"random", 10000000}, {"popular", 20000000}}

type popeLabel struct {
	QuestionID int    `json:"question_id"`
	Image      string `json:"image"`
	Text       string `json:"text"`
	Label      string `json:"label"`
}

// pope writes POPE: per image three present objects and three absent ones,
// the absent ones drawn at random, from the most frequent training concepts
// (popular), or from the kinds of the present objects (adversarial).
//
//	llava_pope_test.jsonl            questions (adversarial, random, popular)
//	coco/coco_pope_<category>.json   labels, JSON Lines, matched by position
//	val2014/COCO_val2014_<id>.png    images
func (s *suite) pope(r *rand.Rand, n int) {
	g := s.g
	freq := make([]int, len(g.concepts))
	for _, j := range g.jobs {
		if !strings.HasPrefix(j.path, "images/") { // training and pretraining scenes only
			continue
		}
		for _, o := range j.scene.Objects {
			freq[o.Concept]++
		}
	}
	popular := make([]int, len(g.concepts))
	for i := range popular {
		popular[i] = i
	}
	sort.SliceStable(popular, func(a, b int) bool { return freq[popular[a]] > freq[popular[b]] })
	labels := map[string][]any{}
	var questions []any
	perCat := map[string][]popeLabel{}
	for i := range max(2, n/10) {
		sc := s.scene(r, sceneOpts{min: 3, max: 5}, false)
		img := fmt.Sprintf("COCO_val2014_%012d.png", 100000+i*7+r.IntN(7))
		s.image("val2014/"+img, sc)
		var present []int
		for _, o := range sc.visible() {
			if len(present) < 3 && !contains(present, o.Concept) {
				present = append(present, o.Concept)
			}
		}
		for _, cat := range popeCategories {
			var absent []int
			switch cat.name {
			case "random":
				absent = g.otherConcepts(r, len(present), sc.has)
			case "popular":
				for _, c := range popular {
					if len(absent) < len(present) && !sc.has(c) {
						absent = append(absent, c)
					}
				}
			case "adversarial":
				for _, p := range present {
					for _, c := range r.Perm(len(g.byKind[g.concepts[p].Kind])) {
						c = g.byKind[g.concepts[p].Kind][c]
						if !sc.has(c) && !contains(absent, c) {
							absent = append(absent, c)
							break
						}
					}
				}
				if len(absent) < len(present) {
					absent = append(absent, g.otherConcepts(r, len(present)-len(absent), func(c int) bool { return sc.has(c) || contains(absent, c) })...)
				}
			}
			for k := range present {
				for _, q := range []struct {
					c     int
					label string
				}{{present[k], "yes"}, {absent[k], "no"}} {
					perCat[cat.name] = append(perCat[cat.name], popeLabel{Image: img,
						Text: fmt.Sprintf("Is there %s in the image?", Article(g.concepts[q.c].Name)), Label: q.label})
				}
			}
		}
	}
	for _, cat := range popeCategories {
		for k, l := range perCat[cat.name] {
			l.QuestionID = k + 1
			labels[cat.name] = append(labels[cat.name], l)
			questions = append(questions, llavaQ{QuestionID: cat.offset + k + 1, Image: l.Image, Text: l.Text + "\n" + shortHint, Category: cat.name})
		}
		s.addJSONL("coco/coco_pope_"+cat.name+".json", labels[cat.name])
	}
	s.addJSONL("llava_pope_test.jsonl", questions)
	s.n = len(questions)
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func oraclePOPE(dir string) ([]Answer, error) {
	qs, err := readJSONL[llavaQ](filepath.Join(dir, "llava_pope_test.jsonl"))
	if err != nil {
		return nil, err
	}
	labels := map[string][]popeLabel{}
	next := map[string]int{}
	var out []Answer
	for _, q := range qs {
		if _, ok := labels[q.Category]; !ok {
			l, err := readJSONL[popeLabel](filepath.Join(dir, "coco", "coco_pope_"+q.Category+".json"))
			if err != nil {
				return nil, err
			}
			labels[q.Category] = l
		}
		i := next[q.Category]
		next[q.Category]++
		if i >= len(labels[q.Category]) {
			return nil, fmt.Errorf("more %s questions than labels", q.Category)
		}
		out = append(out, Answer{QuestionID: q.QuestionID, Prompt: q.Text, Text: capitalise(labels[q.Category][i].Label)})
	}
	return out, nil
}
