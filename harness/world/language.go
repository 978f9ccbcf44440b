package world

import (
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/world/assets"
)

// The language corpus: text-only records that teach the decoder to read
// (Vicuna's role in LLaVA's recipe). Each record states a scene in words, in
// the place where an image record has its <image> token, and asks about it
// in the wordings of the mixture and the suites; the answer is read off the
// scene graph, so it is always in the text (or, for "unanswerable", VizWiz's
// questions, the sign's word is not: no sign, or a blurred one). Filler
// sentences of random number go first, so that the question does not
// always sit at the same position (the visual tokens shift it in image
// records).

// Skills are the question families of the language corpus.
var Skills = []string{"yesno", "colour", "count", "side", "choice", "copy", "echo", "unanswerable", "caption", "fact"}

// fillers are neutral sentences put before a scene's text.
var fillers = []string{
	"Here is a short note about a picture.", "Read the description below.", "The following text describes a scene.",
	"Someone wrote this about an image.", "This is what the picture shows.", "A friend describes a photo.",
	"Look at the description carefully.", "The note was written by hand.",
}

// LanguageRecord is record i of the language corpus of world seed: a pure
// function of (seed, purpose, i) like every other stream of the world.
// purpose separates the training corpus ("language") from held-out texts
// for evaluation. maxFill is the most filler sentences put in front.
// k narrows the texts to one skill or fewer objects; its zero value draws
// every skill and 1-4 objects.
func (w *world) languageRecord(seed uint64, purpose string, i, maxFill int, k TextKind) (Record, string) {
	r := stream(seed, purpose, i)
	skill := Skills[r.IntN(len(Skills))]
	if k.Skill != "" {
		skill = k.Skill
	}
	var texts []string
	if skill == "copy" || skill == "unanswerable" || r.IntN(5) == 0 {
		texts = []string{pick(r, signWords)}
	}
	objects := k.objects()
	if skill == "unanswerable" {
		if r.IntN(2) == 0 {
			texts = nil
		}
		objects = 1 // VizWiz's pictures: one thing, or one sign
	}
	s := w.textScene(r, texts, objects)
	q, a, ctx := w.textQA(r, skill, &s)
	var b strings.Builder
	for range r.IntN(maxFill + 1) {
		b.WriteString(pick(r, fillers))
		b.WriteByte(' ')
	}
	b.WriteString(ctx)
	human := b.String() + "\n" + q
	rec := Record{ID: fmt.Sprintf("%s-%08d", purpose, i), Dataset: "language",
		Conversations: []Turn{{"human", human}, {"gpt", a}}}
	return rec, skill
}

// isThere is a yes/no question whether name is in the image, in one of the
// wordings of the mixture and the suites.
func isThere(r *rand.Rand, name string) string {
	return pick(r, []string{
		fmt.Sprintf("Is there %s in the image?", Article(name)),
		fmt.Sprintf("Is there %s in the picture?", Article(name)),
		fmt.Sprintf("Is there %s in this image?%s", Article(name), mmeSuffix),
		fmt.Sprintf("Is there %s in the image?\n%s", Article(name), shortHint),
	})
}

// GridLanguage returns texts first..first+n-1 of the grid corpus of purpose:
// text i states scene i of the vision stream of purpose (VisionScenes, not
// rendered) as grid(scene), the words the built-in model's word tokens
// read the image as, one per visual token, joined by spaces, with nothing
// in front (where the image sits in an image record); then a line break
// and a question of the corpus's wordings. Half the questions (all, where
// the grid answers nothing else) ask whether a concept is in it (a concept
// of the scene half the time, any concept otherwise); the other half ask,
// at even odds among the forms the grid can answer (gridForms), one of the
// suites' other questions about the
// image: yes/no whether it is taken at a place, whether it is a photo of a
// concept, whether its object is of a colour (MME's wordings), what it is
// or what colour it is (VizWiz's), or what colour its object is. A language
// model drilled on them reads the scene in the form the aligned projector
// hands it (README, "Word tokens"). The second result is each text's form:
// "there" or a gridForms form.
func GridLanguage(cfg Config, purpose string, first, n int, grid func(VisionScene) []string) ([]data.Record, []string, error) {
	scenes, w, err := visionScenes(cfg, purpose, first, n, false)
	if err != nil {
		return nil, nil, err
	}
	recs, forms := make([]data.Record, n), make([]string, n)
	for k, s := range scenes {
		r := stream(w.cfg.Seed, "grid/"+purpose, first+k)
		words := grid(s)
		q, a, form := w.gridThere(r, s)
		if fs := gridForms(s, words); len(fs) > 0 && r.IntN(2) == 0 {
			form = pick(r, fs)
			q, a = w.gridQA(r, form, s)
		}
		recs[k] = data.Record{Index: first + k, ID: fmt.Sprintf("grid-%s-%08d", purpose, first+k), Dataset: "language", Task: "language",
			Conversations: []data.Turn{
				{From: "human", Value: strings.Join(words, " ") + "\n" + q},
				{From: "gpt", Value: a}}}
		forms[k] = form
	}
	return recs, forms, nil
}

// gridThere is a yes/no question whether a concept is in s (one of s's
// half the time, any concept otherwise) and its answer.
func (w *world) gridThere(r *rand.Rand, s VisionScene) (q, a, form string) {
	c := s.Objects[r.IntN(len(s.Objects))].Concept
	if r.IntN(2) == 0 {
		c = r.IntN(len(w.concepts))
	}
	there := slices.ContainsFunc(s.Objects, func(o VisionObject) bool { return o.Concept == c })
	return isThere(r, w.concepts[c].Name), yesNo(there), "there"
}

// gridForms are the questions other than "Is there" that words, the grid
// of s, can answer: "place" where a word is the place's name (a background
// token); about the only object of a one-object scene, "photo" and "what"
// where a word is neither the place nor a colour (the object has a token),
// and "colour", "colour-yesno" and "colour-this" where a word is its colour.
func gridForms(s VisionScene, words []string) []string {
	var forms []string
	if slices.Contains(words, s.Place) {
		forms = append(forms, "place")
	}
	if len(s.Objects) != 1 {
		return forms
	}
	if slices.ContainsFunc(words, func(x string) bool { return x != s.Place && !slices.Contains(assets.ColourNames, x) }) {
		forms = append(forms, "photo", "what")
	}
	if slices.Contains(words, assets.ColourNames[s.Objects[0].Colour]) {
		forms = append(forms, "colour", "colour-yesno", "colour-this")
	}
	return forms
}

// gridQA is the question of a gridForms form about s and its answer; the
// yes/no ones are true at even odds.
func (w *world) gridQA(r *rand.Rand, form string, s VisionScene) (q, a string) {
	o := s.Objects[0]
	name, colour := w.concepts[o.Concept].Name, assets.ColourNames[o.Colour]
	yes := r.IntN(2) == 0
	switch form {
	case "place":
		p := slices.IndexFunc(places, func(p place) bool { return p.name == s.Place })
		if !yes {
			p = otherThan(r, p, len(places))
		}
		return yesNoWording(r, fmt.Sprintf("Is this picture taken %s?", places[p].phrase)), yesNo(yes)
	case "photo":
		c := o.Concept
		if !yes {
			c = otherThan(r, c, len(w.concepts))
		}
		return yesNoWording(r, fmt.Sprintf("Is this a photo of %s?", Article(w.concepts[c].Name))), yesNo(yes)
	case "what":
		return pick(r, []string{"What is this?", "Can you tell me what this is?"}) + "\n" + vizwizHint, capitalise(name)
	case "colour":
		return fmt.Sprintf("What color is the %s?\n%s", name, shortHint), capitalise(colour)
	case "colour-yesno":
		c := colour
		if !yes {
			c = pick(r, otherColours(c))
		}
		return yesNoWording(r, fmt.Sprintf("Is the %s in the image %s?", name, c)), yesNo(yes)
	}
	return "What color is this?\n" + vizwizHint, capitalise(colour)
}

// textScene is a scene graph for words only: 1 to maxObjects objects of
// distinct positions in any style, colours as the pack gives them, and texts.
func (w *world) textScene(r *rand.Rand, texts []string, maxObjects int) Scene {
	styles := make([]int, len(w.pack.Styles()))
	for i := range styles {
		styles[i] = i
	}
	s := Scene{Size: w.size, Place: r.IntN(len(places))}
	n := 1 + r.IntN(maxObjects)
	cells := r.Perm(9)
	for k := range n {
		c := r.IntN(len(w.concepts))
		if k > 0 && r.IntN(4) == 0 { // repeats make counting questions
			c = s.Objects[r.IntN(k)].Concept
		}
		st := pick(r, styles)
		col, _ := w.pack.Colour(c, st)
		cell := cells[k]
		third := w.size / 3
		x0, y0 := (cell%3)*third, (cell/3)*third
		s.Objects = append(s.Objects, Object{Concept: c, Style: st, Size: third, X: x0, Y: y0,
			Box: image.Rect(x0+1, y0+1, x0+third-1, y0+third-1), Colour: col})
	}
	for _, t := range texts {
		s.Texts = append(s.Texts, Text{Words: t})
	}
	return s
}

// textQA returns a question of skill about s, its answer, and the text that
// states s (saying as much as the question needs, and often more).
func (w *world) textQA(r *rand.Rand, skill string, s *Scene) (q, a, ctx string) {
	vis := s.visible()
	o := pick(r, vis)
	nm := w.name(o)
	if (skill == "colour" || skill == "side") && len(s.unique()) == 0 {
		skill = "count" // every object is repeated: nothing has one colour or side
	}
	form := ""
	switch skill {
	case "choice":
		form = pick(r, choiceForms(s))
	case "unanswerable":
		form = pick(r, []string{"sign", "object", "colour"})
	case "fact":
		form = pick(r, factForms(s))
	}
	detailed := skill == "colour" || skill == "side" || form == "colour" || form == "position" || r.IntN(2) == 0
	ctx = w.sceneText(r, s, detailed)
	switch skill {
	case "yesno":
		c := o.Concept
		if r.IntN(2) == 0 {
			c = r.IntN(len(w.concepts))
		}
		return isThere(r, w.concepts[c].Name), yesNo(s.has(c)), ctx
	case "colour":
		o = pick(r, s.unique())
		return fmt.Sprintf("What color is the %s?\n%s", w.name(o), shortHint), capitalise(o.Colour), ctx
	case "count":
		return fmt.Sprintf("How many %s are there?\n%s", plural(nm), shortHint), fmt.Sprint(s.count(o.Concept)), ctx
	case "side":
		o = pick(r, s.unique())
		return fmt.Sprintf("Which side is the %s on?\n%s", w.name(o), shortHint), capitalise(horiz(o.Box, s.Size)), ctx
	case "choice":
		q, right, pool := w.choiceQA(r, form, s, o)
		opts, ans := choices(r, right, pool, 2+r.IntN(3))
		return mc(q, opts) + "\n" + mcHint, string(rune('A' + ans)), ctx
	case "echo":
		// Repeating what the question names teaches the model to carry the
		// question's words to where it answers (the other skills then look
		// them up in the text).
		c := o.Concept
		if r.IntN(2) == 0 {
			c = r.IntN(len(w.concepts))
		}
		cn := w.concepts[c].Name
		return fmt.Sprintf("Which object does this question ask about: is there %s in the image?\n%s", Article(cn), shortHint), capitalise(cn), ctx
	case "copy":
		q = pick(r, []string{"What does the sign say?", "What is written on the sign?", "What word is on the sign?"})
		if r.IntN(2) == 0 {
			// TextVQA's prompt: the sign's word given as a reference OCR
			// token after the question (sometimes beside a stray two-letter
			// token, as the suite's), and not in the scene's text.
			tokens := []string{s.Texts[0].Words}
			if r.IntN(4) == 0 {
				tokens = append(tokens, strings.ToLower(pick(r, signWords))[:2])
			}
			unsigned := *s
			unsigned.Texts = nil
			return q + "\nReference OCR token: " + strings.Join(tokens, ", ") + "\n" + shortHint, s.Texts[0].Words, w.sceneText(r, &unsigned, detailed)
		}
		return q + "\n" + shortHint, s.Texts[0].Words, ctx
	case "unanswerable":
		return w.vizwizQA(r, form, s, o, ctx)
	case "fact":
		q, yes := w.factQA(r, form, s, o)
		return yesNoWording(r, q), yesNo(yes), ctx
	}
	return pick(r, briefPrompts), w.captionText(s), w.sceneText(r, s, true)
}

// vizwizQA asks one of VizWiz's questions (with its hint) about ctx, the
// text of s: form "sign", what the sign says ("Unanswerable" without a sign
// or with a blurred one); "object" or "colour", what o (the only object) is
// or what colour it is. (With texts that name nothing but the place
// answered "Unanswerable" as well, language stage version 5, the tuned
// models answered "No" to 433 of POPE's 540 questions: README, "Rehearsal".)
func (w *world) vizwizQA(r *rand.Rand, form string, s *Scene, o Object, ctx string) (q, a, text string) {
	switch form {
	case "sign":
		q = pick(r, []string{"What does this say?", "What is written here?"}) + "\n" + vizwizHint
		if len(s.Texts) == 0 {
			return q, "Unanswerable", ctx
		}
		if r.IntN(2) == 0 {
			return q, "Unanswerable", ctx + " The sign is too blurry to read."
		}
		return q, s.Texts[0].Words, ctx
	case "object":
		return pick(r, []string{"What is this?", "Can you tell me what this is?"}) + "\n" + vizwizHint, capitalise(w.name(o)), ctx
	}
	return "What color is this?\n" + vizwizHint, capitalise(o.Colour), ctx
}

// factForms are the yes/no questions other than "Is there" that a text
// about s can answer, as MME asks them: an object's colour (when an object
// is the only one of its kind), which of two objects is left of the other
// (when two are the only ones of their kind and in different thirds), what
// the picture is of (when it shows one object), the place, how many, and
// the sign's word (when there is a sign).
func factForms(s *Scene) []string {
	forms := []string{"place", "count"}
	u := s.unique()
	if len(u) > 0 {
		forms = append(forms, "colour")
	}
	if len(apart(u, s.Size)) > 0 {
		forms = append(forms, "position")
	}
	if len(s.visible()) == 1 {
		forms = append(forms, "photo")
	}
	if len(s.Texts) > 0 {
		forms = append(forms, "sign")
	}
	return forms
}

// apart is the pairs of objects in us (each the only one of its kind) in
// different thirds of the picture from left to right, left one first.
func apart(us []Object, size int) [][2]Object {
	third := map[string]int{"left": 0, "middle": 1, "right": 2}
	var out [][2]Object
	for i, a := range us {
		for _, b := range us[i+1:] {
			switch ta, tb := third[horiz(a.Box, size)], third[horiz(b.Box, size)]; {
			case ta < tb:
				out = append(out, [2]Object{a, b})
			case tb < ta:
				out = append(out, [2]Object{b, a})
			}
		}
	}
	return out
}

// factQA is the yes/no question of a factForms form about s (o a visible
// object), true or false at even odds, and whether its answer is yes.
func (w *world) factQA(r *rand.Rand, form string, s *Scene, o Object) (q string, yes bool) {
	yes = r.IntN(2) == 0
	switch form {
	case "colour":
		o = pick(r, s.unique())
		c := o.Colour
		if !yes {
			c = pick(r, otherColours(c))
		}
		return fmt.Sprintf("Is the %s in the image %s?", w.name(o), c), yes
	case "position":
		p := pick(r, apart(s.unique(), s.Size))
		a, b, side := p[0], p[1], "left"
		if r.IntN(2) == 0 {
			a, b, side = b, a, "right"
		}
		if !yes {
			side = map[string]string{"left": "right", "right": "left"}[side]
		}
		return fmt.Sprintf("Is the %s on the %s of the %s?", w.name(a), side, w.name(b)), yes
	case "photo":
		c := o.Concept
		if !yes {
			c = w.otherConcepts(r, 1, s.has)[0]
		}
		return fmt.Sprintf("Is this a photo of %s?", Article(w.concepts[c].Name)), yes
	case "count":
		k := s.count(o.Concept)
		if !yes {
			k = pick(r, slices.DeleteFunc([]int{1, 2, 3, 4, 5}, func(n int) bool { return n == k }))
		}
		return fmt.Sprintf("Are there %s in the image?", countPhrase(k, w.concepts[o.Concept].Name)), yes
	case "sign":
		word := s.Texts[0].Words
		if !yes {
			word = pick(r, slices.DeleteFunc(slices.Clone(signWords), func(x string) bool { return x == word }))
		}
		return fmt.Sprintf("Is the word in the image \"%s\"?", word), yes
	}
	p := s.Place
	if !yes {
		p = otherThan(r, p, len(places))
	}
	return fmt.Sprintf("Is this picture taken %s?", places[p].phrase), yes
}

// yesNoWording ends a yes/no question q as the mixture and the suites do:
// bare, with MME's "Please answer yes or no.", or with the short-answer hint.
func yesNoWording(r *rand.Rand, q string) string {
	return pick(r, []string{q, q + mmeSuffix, q + "\n" + shortHint})
}

// choiceForms are the multiple-choice questions a text about s can
// answer, as the suites ask them: which object, what colour (when an object
// is the only one of its kind), how many, which place, and the sign's word
// (when there is a sign).
func choiceForms(s *Scene) []string {
	forms := []string{"object", "count", "place"}
	if len(s.unique()) > 0 {
		forms = append(forms, "colour")
	}
	if len(s.Texts) > 0 {
		forms = append(forms, "sign")
	}
	return forms
}

// choiceQA is the question of a choiceForms form about s (o a visible
// object), its right option and the pool of wrong ones, written as the
// suites write options (bench_mc.go: lower case, as the world names them).
func (w *world) choiceQA(r *rand.Rand, form string, s *Scene, o Object) (q, right string, pool []string) {
	switch form {
	case "colour":
		o = pick(r, s.unique())
		return fmt.Sprintf("What color is the %s?", w.name(o)), o.Colour, otherColours(o.Colour)
	case "count":
		return fmt.Sprintf("How many %s are there?", plural(w.name(o))), fmt.Sprint(s.count(o.Concept)), countOptions
	case "place":
		return "Which place is shown in the image?", places[s.Place].name, placeNames()
	case "sign":
		return "What word is written on the sign?", s.Texts[0].Words, signWords
	}
	for _, c := range w.otherConcepts(r, 8, s.has) {
		pool = append(pool, w.concepts[c].Name)
	}
	return "Which of these is in the image?", w.name(o), pool
}

// sceneText states a scene: the caption's list of objects and place, and,
// when detailed, each object's position and colour; then its sign.
func (w *world) sceneText(r *rand.Rand, s *Scene, detailed bool) string {
	vis := s.visible()
	var b strings.Builder
	fmt.Fprintf(&b, "The image shows %s %s.", list(w.objectNames(vis)), places[s.Place].phrase)
	if detailed {
		order := r.Perm(len(vis))
		for _, k := range order {
			o := vis[k]
			if s.count(o.Concept) > 1 {
				continue
			}
			fmt.Fprintf(&b, " %s is %s of the picture, and it is mostly %s.", capitalise(Article(w.name(o))), where(o.Box, s.Size), o.Colour)
		}
	}
	if len(s.Texts) > 0 {
		fmt.Fprintf(&b, " A sign in the image reads \"%s\".", s.Texts[0].Words)
	}
	return b.String()
}

// captionText is a caption of s as the pretraining captions write it.
func (w *world) captionText(s *Scene) string {
	c := fmt.Sprintf("%s %s", list(w.objectNames(s.visible())), places[s.Place].phrase)
	if len(s.Texts) > 0 {
		c += fmt.Sprintf(" with a sign that says %s", s.Texts[0].Words)
	}
	return capitalise(c) + "."
}

// objectNames is names() on the world (counts of repeated concepts).
func (w *world) objectNames(objs []Object) []string {
	g := gen{world: w}
	return g.names(objs)
}

// Language returns records first..first+n-1 of the language corpus of the
// world cfg for purpose ("language" trains the decoder; another purpose,
// such as "language-eval", draws texts the training corpus does not have),
// with at most maxFill filler sentences before each text, and each record's
// skill (one of Skills). It needs the world's art pack for the concepts and
// their colours, and renders nothing.
func Language(cfg Config, purpose string, first, n, maxFill int) ([]data.Record, []string, error) {
	return LanguageOf(cfg, purpose, TextKind{}, first, n, maxFill)
}

// TextKind narrows the language corpus to texts of one skill and at most a
// number of objects, as a drill or a curriculum draws them. Its zero value
// is the whole corpus: every skill and 1-4 objects. The narrowed stream
// draws the same random numbers as the whole one, so Skill "" and
// MaxObjects 4 give Language's records.
type TextKind struct {
	Skill      string `yaml:"skill" json:"skill,omitempty"`             // one of Skills, or "" for all of them
	MaxObjects int    `yaml:"max_objects" json:"max_objects,omitempty"` // 1-4; 0 means 4
}

func (k TextKind) objects() int {
	if k.MaxObjects == 0 {
		return 4
	}
	return k.MaxObjects
}

// Validate reports a skill outside Skills or a MaxObjects outside 0-4.
func (k TextKind) Validate() error {
	if k.Skill != "" && !slices.Contains(Skills, k.Skill) {
		return fmt.Errorf("world: skill %q is not one of %s", k.Skill, strings.Join(Skills, ", "))
	}
	if k.MaxObjects < 0 || k.MaxObjects > 4 {
		return fmt.Errorf("world: max_objects %d is not between 1 and 4", k.MaxObjects)
	}
	return nil
}

// LanguageOf is Language narrowed to the texts of kind k. As in Language, a
// colour or side question about a scene whose objects all repeat asks for a
// count instead (under the skill it was drawn as).
func LanguageOf(cfg Config, purpose string, k TextKind, first, n, maxFill int) ([]data.Record, []string, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if err := k.Validate(); err != nil {
		return nil, nil, err
	}
	cfg = cfg.WithDefaults()
	pack, err := openPack(cfg)
	if err != nil {
		return nil, nil, err
	}
	w := newWorld(cfg, pack)
	recs, skills := make([]data.Record, n), make([]string, n)
	for i := range n {
		r, skill := w.languageRecord(cfg.Seed, purpose, first+i, maxFill, k)
		recs[i] = data.Record{Index: first + i, ID: fmt.Sprint(r.ID), Dataset: r.Dataset, Task: r.Dataset}
		for _, t := range r.Conversations {
			recs[i].Conversations = append(recs[i].Conversations, data.Turn{From: t.From, Value: t.Value})
		}
		skills[i] = skill
	}
	return recs, skills, nil
}
