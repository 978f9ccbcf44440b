package world

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tive-dev/tive/harness/world/assets"
)

// mmeSubtasks: 10 perception and 4 cognition subtasks; the five with the
// images/ + questions_answers_YN/ layout are marked.
var mmeSubtasks = []struct {
	name   string
	nested bool
}{
	{"existence", false}, {"count", false}, {"position", false}, {"color", false}, {"posters", true},
	{"celebrity", true}, {"scene", true}, {"landmark", true}, {"artwork", true}, {"OCR", false},
	{"commonsense_reasoning", false}, {"numerical_calculation", false}, {"text_translation", false}, {"code_reasoning", false},
}

const mmeSuffix = " Please answer yes or no."

// mme writes MME: per subtask, images with one yes and one no question.
//
//	llava_mme.jsonl                                     questions, an image's two consecutive
//	MME_Benchmark_release_version/<subtask>/<img>.png   + <img>.txt ("question Please answer yes or no.\tYes")
//	  or <subtask>/images/<img>.png + <subtask>/questions_answers_YN/<img>.txt
func (s *suite) mme(r *rand.Rand, n int) {
	var questions []any
	per := max(2, n/25)
	for _, st := range mmeSubtasks {
		for i := range per {
			sc, yes, no := s.mmeItem(r, st.name)
			img := fmt.Sprintf("%04d.png", i+1)
			rel := st.name + "/" + img
			txt := st.name + "/" + strings.TrimSuffix(img, ".png") + ".txt"
			if st.nested {
				rel = st.name + "/images/" + img
				txt = st.name + "/questions_answers_YN/" + strings.TrimSuffix(img, ".png") + ".txt"
			}
			s.image("MME_Benchmark_release_version/"+rel, sc)
			pair := [][2]string{{yes, "Yes"}, {no, "No"}}
			if r.IntN(2) == 0 {
				pair[0], pair[1] = pair[1], pair[0]
			}
			var b strings.Builder
			for _, p := range pair {
				fmt.Fprintf(&b, "%s%s\t%s\n", p[0], mmeSuffix, p[1])
				questions = append(questions, llavaQ{QuestionID: rel, Image: rel, Text: p[0] + "\n" + shortHint, Category: st.name})
			}
			s.add("MME_Benchmark_release_version/"+txt, []byte(b.String()))
		}
	}
	s.addJSONL("llava_mme.jsonl", questions)
	s.n = len(questions)
}

// mmeItem draws the scene of one subtask image and its yes and no questions.
func (s *suite) mmeItem(r *rand.Rand, sub string) (Scene, string, string) {
	g := s.g
	switch sub {
	case "existence":
		sc := s.scene(r, sceneOpts{min: 1, max: 4}, false)
		o := pick(r, sc.visible())
		c := g.otherConcepts(r, 1, sc.has)[0]
		return sc, fmt.Sprintf("Is there %s in this image?", Article(g.name(o))), fmt.Sprintf("Is there %s in this image?", Article(g.concepts[c].Name))
	case "count":
		c := r.IntN(len(g.concepts))
		k := 1 + r.IntN(4)
		cs := make([]int, k)
		for i := range cs {
			cs[i] = c
		}
		sc := s.scene(r, sceneOpts{concepts: cs}, false)
		wrong := k + 1 + r.IntN(2)
		if k > 1 && r.IntN(2) == 0 {
			wrong = k - 1
		}
		nm := g.concepts[c].Name
		return sc, fmt.Sprintf("Are there %s in the image?", countPhrase(k, nm)), fmt.Sprintf("Are there %s in the image?", countPhrase(wrong, nm))
	case "position":
		for {
			sc := s.scene(r, sceneOpts{min: 2, max: 2}, false)
			u := sc.unique()
			if len(u) < 2 {
				continue
			}
			a, b := u[0], u[1]
			if !leftOf(a.Box, b.Box) {
				a, b = b, a
			}
			if a.Box.Max.X > b.Box.Min.X { // not clearly apart
				continue
			}
			return sc, fmt.Sprintf("Is the %s on the left of the %s?", g.name(a), g.name(b)), fmt.Sprintf("Is the %s on the right of the %s?", g.name(a), g.name(b))
		}
	case "color":
		sc := s.scene(r, sceneOpts{min: 1, max: 1}, false)
		o := sc.Objects[0]
		wrong := pick(r, otherColours(o.Colour))
		return sc, fmt.Sprintf("Is the %s in the image %s?", g.name(o), o.Colour), fmt.Sprintf("Is the %s in the image %s?", g.name(o), wrong)
	case "posters", "OCR":
		w := pick(r, signWords)
		sc := s.scene(r, sceneOpts{min: 1, max: 1, texts: []string{w}, panel: sub == "posters"}, false)
		wrong := pick(r, signWords)
		for wrong == w {
			wrong = pick(r, signWords)
		}
		if sub == "posters" {
			return sc, fmt.Sprintf("Is this poster titled \"%s\"?", w), fmt.Sprintf("Is this poster titled \"%s\"?", wrong)
		}
		return sc, fmt.Sprintf("Is the word in the image \"%s\"?", w), fmt.Sprintf("Is the word in the image \"%s\"?", wrong)
	case "celebrity", "landmark":
		pool := g.landmark
		if sub == "celebrity" {
			pool = nil
			for c, x := range g.concepts {
				if x.Group != "place" {
					pool = append(pool, c)
				}
			}
		}
		c := pick(r, pool)
		sc := s.scene(r, sceneOpts{concepts: []int{c}}, false)
		sib := g.byKind[g.concepts[c].Kind]
		other := pick(r, pool)
		if len(sib) > 1 && r.IntN(3) > 0 {
			other = pick(r, sib)
		}
		for other == c {
			other = pick(r, pool)
		}
		return sc, fmt.Sprintf("Is this a photo of %s?", Article(g.concepts[c].Name)), fmt.Sprintf("Is this a photo of %s?", Article(g.concepts[other].Name))
	case "scene":
		sc := s.scene(r, sceneOpts{min: 1, max: 2}, false)
		other := otherThan(r, sc.Place, len(places))
		return sc, fmt.Sprintf("Is this picture taken %s?", places[sc.Place].phrase), fmt.Sprintf("Is this picture taken %s?", places[other].phrase)
	case "artwork":
		st := r.IntN(len(g.pack.Styles()))
		sc := s.scene(r, sceneOpts{min: 1, max: 3, styles: []int{st}}, false)
		other := otherThan(r, st, len(g.pack.Styles()))
		return sc, fmt.Sprintf("Is this artwork drawn in the %s style?", g.pack.Styles()[st]), fmt.Sprintf("Is this artwork drawn in the %s style?", g.pack.Styles()[other])
	case "commonsense_reasoning":
		sc := s.scene(r, sceneOpts{min: 1, max: 1}, false)
		o := sc.Objects[0]
		q := fmt.Sprintf("Can the %s in the picture be eaten?", g.name(o))
		nq := fmt.Sprintf("Is the %s in the picture a kind of %s?", g.name(o), otherKind(r, g, g.kindOf(o)))
		if edible(g.groupOf(o)) {
			return sc, q, nq
		}
		return sc, fmt.Sprintf("Is the %s in the picture a kind of %s?", g.name(o), g.kindOf(o)), q
	case "numerical_calculation":
		a, b := 1+r.IntN(9), 1+r.IntN(9)
		sc := s.scene(r, sceneOpts{texts: []string{fmt.Sprintf("%d+%d=", a, b)}, mono: true}, false)
		return sc, fmt.Sprintf("Is the answer to the arithmetic question in the image %d?", a+b), fmt.Sprintf("Is the answer to the arithmetic question in the image %d?", a+b+1+r.IntN(3))
	case "text_translation":
		w := pick(r, french)
		o := pick(r, french)
		for o == w {
			o = pick(r, french)
		}
		sc := s.scene(r, sceneOpts{texts: []string{w[0]}}, false)
		return sc, fmt.Sprintf("Is it appropriate to translate the French word in the image into English \"%s\"?", w[1]),
			fmt.Sprintf("Is it appropriate to translate the French word in the image into English \"%s\"?", o[1])
	case "code_reasoning":
		a, b := 1+r.IntN(9), 2+r.IntN(8)
		sc := s.scene(r, sceneOpts{texts: []string{fmt.Sprintf("print(%d*%d)", a, b)}, mono: true}, false)
		return sc, fmt.Sprintf("The image shows a python code. Is the output of the code '%d'?", a*b),
			fmt.Sprintf("The image shows a python code. Is the output of the code '%d'?", a*b+1+r.IntN(5))
	}
	panic("world: unknown MME subtask " + sub)
}

func countPhrase(k int, name string) string {
	if k == 1 {
		return "only one " + name
	}
	return fmt.Sprintf("a total of %d %s", k, plural(name))
}

func otherColours(c string) []string {
	var out []string
	for _, x := range assets.ColourNames {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}

// otherKind is a kind other than k ("spaceship" if the vocabulary has one kind).
func otherKind(r *rand.Rand, g *gen, k string) string {
	if len(g.kinds) < 2 {
		return "spaceship"
	}
	for {
		if o := pick(r, g.kinds); o != k {
			return o
		}
	}
}

func oracleMME(dir string) ([]Answer, error) {
	qs, err := readJSONL[llavaQ](filepath.Join(dir, "llava_mme.jsonl"))
	if err != nil {
		return nil, err
	}
	gt := map[string]string{}
	var out []Answer
	for _, q := range qs {
		id := q.QuestionID.(string)
		cat, img := strings.SplitN(id, "/", 2)[0], path.Base(id)
		stem := strings.TrimSuffix(img, path.Ext(img))
		base := filepath.Join(dir, "MME_Benchmark_release_version", cat)
		txt := filepath.Join(base, stem+".txt")
		if _, err := os.Stat(filepath.Join(base, "images")); err == nil {
			txt = filepath.Join(base, "questions_answers_YN", stem+".txt")
		}
		if _, ok := gt[txt+"\x00"]; !ok {
			f, err := os.Open(txt)
			if err != nil {
				return nil, err
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				q, a, _ := strings.Cut(sc.Text(), "\t")
				gt[txt+"\x00"+q] = a
			}
			f.Close()
			gt[txt+"\x00"] = ""
		}
		question := strings.TrimSuffix(q.Text, "\n"+shortHint) + mmeSuffix
		a, ok := gt[txt+"\x00"+question]
		if !ok {
			return nil, fmt.Errorf("%s: no ground truth for %q", txt, question)
		}
		out = append(out, Answer{QuestionID: id, Prompt: q.Text, Text: a})
	}
	return out, nil
}
