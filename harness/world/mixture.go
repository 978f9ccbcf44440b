package world

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"strings"
)

// A task is one source of the LLaVA-665K mixture.
type task struct {
	name   string // the record's dataset label
	count  int    // records in llava_v1_5_mix665k.json (LLaVA issue 702)
	groups int    // records per image group (A-OKVQA: 4 rotated copies)
	// records draws the task's next records from r, the i-th draw of a
	// block of n records.
	records func(g *gen, r *rand.Rand, i, n int) []Record
	// image draws a fresh image path and id of the task's source, for a
	// near copy (redundancy.go); nil for COCO's.
	image func(g *gen, r *rand.Rand) (path string, id any)
}

// tasks are the ten sources in the file's block order.
var tasks = []task{
	{"llava_instruct", 157712, 1, func(g *gen, r *rand.Rand, i, n int) []Record { return []Record{g.llavaInstruct(r, i, n)} }, nil},
	{"vqav2", 82783, 1, one((*gen).vqav2), nil},
	{"okvqa", 8998, 1, one((*gen).okvqa), nil},
	{"aokvqa", 66160, 4, func(g *gen, r *rand.Rand, _, _ int) []Record { return g.aokvqa(r) }, nil},
	{"refcoco", 48447, 1, one((*gen).refcoco), nil},
	{"vg", 86417, 1, one((*gen).vg), vgImage},
	{"gqa", 72140, 1, one((*gen).gqa), gqaImage},
	{"ocrvqa", 80000, 1, one((*gen).ocrvqa), ocrImage},
	{"textcaps", 21953, 1, one((*gen).textcaps), textcapsImage},
	{"sharegpt", 40688, 1, one((*gen).sharegpt), nil},
}

// one makes a task's records of a generator of one record at a time.
func one(f func(*gen, *rand.Rand) Record) func(*gen, *rand.Rand, int, int) []Record {
	return func(g *gen, r *rand.Rand, _, _ int) []Record { return []Record{f(g, r)} }
}

// TaskNames lists the ten dataset labels of the mixture in block order.
func TaskNames() []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.name
	}
	return out
}

// TaskSizes is the number of records of each task (its dataset label) in
// the mixture of a world of the named profile, as Generate writes it.
func TaskSizes(profile string) (map[string]int, error) {
	p, ok := profiles[profile]
	if !ok {
		return nil, fmt.Errorf("world: unknown profile %q (want one of %s)", profile, strings.Join(Profiles(), ", "))
	}
	sizes := map[string]int{}
	for _, t := range tasks {
		sizes[t.name] = taskCount(t, p.divisor)
	}
	return sizes, nil
}

// taskCount is the number of records of t in a world of the given divisor:
// the 665K count divided and rounded (in whole image groups), at least one group.
func taskCount(t task, divisor int) int {
	g := int(math.Round(float64(t.count) / float64(t.groups) / float64(divisor)))
	return max(1, g) * t.groups
}

// gen accumulates the images and records of a world.
type gen struct {
	*world
	jobs      []job
	trainKeys map[uint64]bool
	ids       ids
}

// job is one image to render: path relative to the output folder.
type job struct {
	path  string
	scene Scene
}

func (g *gen) trainImage(path string, s Scene) {
	g.trainKeys[s.key()] = true
	g.jobs = append(g.jobs, job{"images/" + path, s})
}

func (g *gen) scene(r *rand.Rand, o sceneOpts) Scene {
	if o.styles == nil {
		o.styles = g.train
	}
	return g.sample(r, o)
}

// mixture generates the training records, block by block.
func (g *gen) mixture(divisor int) []Record {
	var out []Record
	for ti, t := range tasks {
		n := taskCount(t, divisor)
		var recs []Record
		for i := 0; len(recs) < n; i++ {
			r := stream(g.cfg.Seed, "mixture/"+t.name, i)
			recs = append(recs, t.records(g, r, i, n)...)
		}
		recs = g.plant(stream(g.cfg.Seed, "redundancy", ti), t.name, recs)
		out = append(out, recs...)
	}
	return out
}

func (g *gen) cocoID(r *rand.Rand) (string, string) {
	id := fmt.Sprintf("%012d", g.ids.take(r, "coco", 9000))
	return id, "coco/train2017/" + id + ".png"
}

// Facts about objects, used by many tasks.

func (g *gen) kindOf(o Object) string  { return g.concepts[o.Concept].Kind }
func (g *gen) groupOf(o Object) string { return g.concepts[o.Concept].Group }

func edible(group string) bool { return group == "food" || group == "drink" }

// purpose is a one-clause statement of what a thing of this group is for.
func purpose(c string, group, kind string) string {
	switch group {
	case "animal":
		return fmt.Sprintf("the %s is an animal, a %s, so it is alive and may move around", c, kind)
	case "plant":
		return fmt.Sprintf("the %s is a %s that grows from the ground and needs light and water", c, kind)
	case "food":
		return fmt.Sprintf("the %s is %s, something people eat", c, kind)
	case "drink":
		return fmt.Sprintf("the %s is a drink, something people drink when they are thirsty", c)
	case "place":
		return fmt.Sprintf("the %s is a %s, a place people visit", c, kind)
	case "vehicle":
		return fmt.Sprintf("the %s is a %s that carries people or goods", c, kind)
	case "weather":
		return fmt.Sprintf("the %s is about the weather and the sky", c)
	case "activity":
		return fmt.Sprintf("the %s belongs to a %s, something people do for fun", c, kind)
	case "shape":
		return fmt.Sprintf("the %s is a %s drawn in a single colour", c, kind)
	}
	return fmt.Sprintf("the %s is a %s, an everyday object people use", c, kind)
}

// The ten tasks. Each draws its scene from r and returns finished records.

var detailPrompts = []string{
	"Describe the following image.", "What do you see happening in this image?",
	"Can you elaborate on the elements of the picture provided?", "What's happening in the scene?",
	"Explain the visual content of the image in great detail.", "What is this photo about'?",
	"Can you describe the main features of this image for me?", "Write a detailed description of the given image.",
	"What do you think is going on in this snapshot?", "Analyze the image in a comprehensive and detailed manner.",
	"What are the key elements in this picture?",
}

func (g *gen) llavaInstruct(r *rand.Rand, i, n int) Record {
	var texts []string
	if r.IntN(4) == 0 {
		texts = []string{pick(r, signWords)}
	}
	s := g.scene(r, sceneOpts{min: 1, max: 5, repeat: true, texts: texts})
	id, path := g.cocoID(r)
	g.trainImage(path, s)
	suffix := r.IntN(2) == 0
	var pairs [][2]string
	switch {
	case i < n*367/1000: // conversation: 3-5 pairs
		qs := g.conversation(r, &s)
		pairs = qs[:min(len(qs), 3+r.IntN(3))]
	case i < n*514/1000: // detail
		pairs = [][2]string{{pick(r, detailPrompts), g.describe(&s)}}
	default: // complex reasoning
		pairs = [][2]string{g.reason(r, &s)}
	}
	return Record{ID: id, Image: path, Conversations: qa(pairs, "", suffix), Dataset: "llava_instruct"}
}

// conversation returns shuffled full-sentence question/answer pairs.
func (g *gen) conversation(r *rand.Rand, s *Scene) [][2]string {
	vis := s.visible()
	var out [][2]string
	names := g.names(vis)
	out = append(out, [2]string{"What objects can be seen in the image?",
		fmt.Sprintf("The image shows %s %s.", list(names), places[s.Place].phrase)})
	o := pick(r, vis)
	nm := g.name(o)
	if c := s.count(o.Concept); c == 1 {
		out = append(out, [2]string{fmt.Sprintf("How many %s are in the image?", plural(nm)), fmt.Sprintf("There is one %s in the image.", nm)})
	} else {
		out = append(out, [2]string{fmt.Sprintf("How many %s are in the image?", plural(nm)), fmt.Sprintf("There are %d %s in the image.", c, plural(nm))})
	}
	if u := s.unique(); len(u) > 0 {
		a := pick(r, u)
		an := g.name(a)
		out = append(out, [2]string{fmt.Sprintf("Where is the %s located in the image?", an), fmt.Sprintf("The %s is %s of the image.", an, where(a.Box, s.Size))})
		out = append(out, [2]string{fmt.Sprintf("What color is the %s?", an), fmt.Sprintf("The %s is mostly %s.", an, a.Colour)})
		out = append(out, [2]string{fmt.Sprintf("What kind of %s is the %s?", g.groupOf(a), an), fmt.Sprintf("The %s is a %s.", an, g.kindOf(a))})
		if len(u) > 1 {
			b := u[0]
			if b.Concept == a.Concept {
				b = u[1]
			}
			side := "right"
			if leftOf(a.Box, b.Box) {
				side = "left"
			}
			out = append(out, [2]string{fmt.Sprintf("Is the %s to the left or to the right of the %s?", an, g.name(b)),
				fmt.Sprintf("The %s is to the %s of the %s.", an, side, g.name(b))})
		}
	}
	out = append(out, [2]string{"What is the setting of the image?", fmt.Sprintf("The scene takes place %s.", places[s.Place].phrase)})
	if len(s.Texts) > 0 {
		out = append(out, [2]string{"Is there any text in the image?", fmt.Sprintf("Yes, a sign in the image reads \"%s\".", s.Texts[0].Words)})
	} else {
		out = append(out, [2]string{"Is there any text in the image?", "No, there is no visible text in the image."})
	}
	r.Shuffle(len(out)-1, func(a, b int) { out[a+1], out[b+1] = out[b+1], out[a+1] })
	return out
}

func (g *gen) names(objs []Object) []string {
	var out []string
	seen := map[int]bool{}
	for _, o := range objs {
		if seen[o.Concept] {
			continue
		}
		seen[o.Concept] = true
		n := 0
		for _, p := range objs {
			if p.Concept == o.Concept {
				n++
			}
		}
		if n == 1 {
			out = append(out, Article(g.name(o)))
		} else {
			out = append(out, fmt.Sprintf("%d %s", n, plural(g.name(o))))
		}
	}
	return out
}

// describe is a detailed multi-sentence description of the scene graph.
func (g *gen) describe(s *Scene) string {
	vis := s.visible()
	var b strings.Builder
	fmt.Fprintf(&b, "The image shows %s %s.", list(g.names(vis)), places[s.Place].phrase)
	for _, o := range vis {
		fmt.Fprintf(&b, " %s is %s of the picture, and it is mostly %s.", capitalise(Article(g.name(o))), where(o.Box, s.Size), o.Colour)
	}
	if len(s.Texts) > 0 {
		fmt.Fprintf(&b, "\n\nA small sign with the word \"%s\" can also be seen in the scene.", s.Texts[0].Words)
	}
	if places[s.Place].indoor {
		b.WriteString("\n\nThe setting is indoors, which suggests a homely, everyday situation.")
	} else {
		b.WriteString("\n\nThe setting is outdoors, giving the scene an open and natural feel.")
	}
	return b.String()
}

// reason is one complex-reasoning question with a knowledge-based answer.
func (g *gen) reason(r *rand.Rand, s *Scene) [2]string {
	vis := s.visible()
	o := pick(r, vis)
	nm, grp, kind := g.name(o), g.groupOf(o), g.kindOf(o)
	p := places[s.Place]
	switch r.IntN(3) {
	case 0:
		return [2]string{fmt.Sprintf("What might be the purpose of the %s in this scene?", nm),
			fmt.Sprintf("In the image, %s. Seen %s, it may have been brought along or placed there on purpose, "+
				"so the scene likely shows a moment where someone is about to use or enjoy it.", purpose(nm, grp, kind), p.phrase)}
	case 1:
		ans := "Yes"
		if !edible(grp) {
			ans = "No"
		}
		return [2]string{fmt.Sprintf("Would it be a good idea to eat the %s?", nm),
			fmt.Sprintf("%s. In the image, %s, which is why %s.", ans, purpose(nm, grp, kind),
				map[bool]string{true: "eating it would be reasonable", false: "it should not be eaten"}[edible(grp)])}
	}
	return [2]string{"What can be inferred about the location where this picture was taken?",
		fmt.Sprintf("The picture appears to have been taken %s. The background and the objects, such as %s, suggest a %s setting.",
			p.phrase, list(g.names(vis)), map[bool]string{true: "domestic, indoor", false: "natural, outdoor"}[p.indoor])}
}

// shortQA returns up to n distinct short-answer questions about a scene,
// answers capitalised.
func (g *gen) shortQA(r *rand.Rand, s *Scene, n int) [][2]string {
	vis := s.visible()
	var out [][2]string
	asked := map[string]bool{}
	for tries := 0; len(out) < n && tries < 20*n; tries++ {
		o := pick(r, vis)
		nm := g.name(o)
		var p [2]string
		switch r.IntN(7) {
		case 0:
			p = [2]string{fmt.Sprintf("How many %s are there?", plural(nm)), fmt.Sprint(s.count(o.Concept))}
		case 1:
			if s.count(o.Concept) != 1 {
				continue
			}
			p = [2]string{fmt.Sprintf("What color is the %s?", nm), capitalise(o.Colour)}
		case 2:
			// Half the existence questions ask about an object in the
			// picture, half about a random concept (almost always absent),
			// so yes and no are about as frequent as in VQAv2.
			c := o.Concept
			if r.IntN(2) == 0 {
				c = r.IntN(len(g.concepts))
			}
			p = [2]string{fmt.Sprintf("Is there %s in the picture?", Article(g.concepts[c].Name)), yesNo(s.has(c))}
		case 3:
			p = [2]string{"Where is this?", capitalise(places[s.Place].name)}
		case 4:
			p = [2]string{"Is this indoors?", yesNo(places[s.Place].indoor)}
		case 5:
			if s.count(o.Concept) != 1 {
				continue
			}
			p = [2]string{fmt.Sprintf("Which side is the %s on?", nm), capitalise(horiz(o.Box, s.Size))}
		default:
			p = [2]string{fmt.Sprintf("Is %s in the image?", Article(nm)), "Yes"}
		}
		if !asked[p[0]] {
			asked[p[0]] = true
			out = append(out, p)
		}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

func (g *gen) vqav2(r *rand.Rand) Record {
	s := g.scene(r, sceneOpts{min: 1, max: 5, repeat: true})
	id, path := g.cocoID(r)
	g.trainImage(path, s)
	return Record{ID: id, Image: path, Conversations: qa(g.shortQA(r, &s, 3+r.IntN(4)), shortHint, false), Dataset: "vqav2"}
}

func (g *gen) okvqa(r *rand.Rand) Record {
	s := g.scene(r, sceneOpts{min: 1, max: 1})
	id, path := g.cocoID(r)
	g.trainImage(path, s)
	o := s.Objects[0]
	grp := g.groupOf(o)
	var p [2]string
	switch r.IntN(3) {
	case 0:
		p = [2]string{"Can you eat this?", yesNo(edible(grp))}
	case 1:
		p = [2]string{"What general category does this belong to?", capitalise(grp)}
	default:
		p = [2]string{fmt.Sprintf("What kind of %s is this?", grp), capitalise(g.kindOf(o))}
	}
	return Record{ID: id, Image: path, Conversations: qa([][2]string{p}, shortHint, false), Dataset: "okvqa"}
}

// mc formats a multiple-choice question with lettered options.
func mc(q string, opts []string) string {
	var b strings.Builder
	b.WriteString(q)
	for i, o := range opts {
		fmt.Fprintf(&b, "\n%c. %s", 'A'+i, o)
	}
	return b.String()
}

// aokvqa returns the four rotated copies of one question, sharing id and image.
func (g *gen) aokvqa(r *rand.Rand) []Record {
	s := g.scene(r, sceneOpts{min: 1, max: 4})
	id, path := g.cocoID(r)
	g.trainImage(path, s)
	q, opts, ans := g.choiceQuestion(r, &s)
	var out []Record
	for k := range 4 {
		rot := append(append([]string{}, opts[k:]...), opts[:k]...)
		letter := string(rune('A' + (ans-k+4)%4))
		out = append(out, Record{ID: id, Image: path, Conversations: qa([][2]string{{mc(q, rot), letter}}, mcHint, false), Dataset: "aokvqa"})
	}
	return out
}

// choiceQuestion builds a 4-option question about s; ans indexes opts.
func (g *gen) choiceQuestion(r *rand.Rand, s *Scene) (string, []string, int) {
	vis := s.visible()
	o := pick(r, vis)
	var q, right string
	var wrong []string
	switch r.IntN(3) {
	case 0:
		q, right = "Which of these things can be seen in the picture?", g.name(o)
		for _, c := range g.otherConcepts(r, 3, s.has) {
			wrong = append(wrong, g.concepts[c].Name)
		}
	case 1:
		q, right = fmt.Sprintf("What kind of %s is the %s?", g.groupOf(o), g.name(o)), g.kindOf(o)
		for _, k := range g.kinds {
			if k != right && len(wrong) < 3 && r.IntN(3) == 0 {
				wrong = append(wrong, k)
			}
		}
	default:
		q, right = "Where was this picture most likely taken?", places[s.Place].name
		for _, i := range r.Perm(len(places)) {
			if i != s.Place && len(wrong) < 3 {
				wrong = append(wrong, places[i].name)
			}
		}
	}
	for k := 0; len(wrong) < 3; k++ { // tiny vocabularies
		wrong = append(wrong, fmt.Sprintf("none of the %d others", k+2))
	}
	opts := append([]string{right}, wrong[:3]...)
	r.Shuffle(4, func(a, b int) { opts[a], opts[b] = opts[b], opts[a] })
	for i, x := range opts {
		if x == right {
			return q, opts, i
		}
	}
	panic("unreachable")
}

const (
	recPrompt = "Please provide the bounding box coordinate of the region this sentence describes: "
	regPrompt = "Please provide a short description for this region: "
)

// expression names o uniquely within s.
func (g *gen) expression(r *rand.Rand, s *Scene, o Object) string {
	nm := g.name(o)
	if s.count(o.Concept) > 1 {
		return fmt.Sprintf("%s %s", nm, where(o.Box, s.Size))
	}
	switch r.IntN(3) {
	case 0:
		return nm
	case 1:
		return fmt.Sprintf("%s %s", o.Colour, nm)
	}
	return fmt.Sprintf("%s %s", nm, where(o.Box, s.Size))
}

// grounding mixes REC and REG pairs about the visible objects (and text plates).
func (g *gen) grounding(r *rand.Rand, s *Scene, n int, region func(Object) string) [][2]string {
	vis := s.visible()
	var out [][2]string
	for len(out) < n {
		if len(s.Texts) > 0 && r.IntN(5) == 0 {
			t := s.Texts[0]
			e := fmt.Sprintf("sign that says %s", strings.ToLower(t.Words))
			out = append(out, g.groundPair(r, e, t.Box, s.Size))
			continue
		}
		o := pick(r, vis)
		out = append(out, g.groundPair(r, region(o), o.Box, s.Size))
	}
	return out
}

func (g *gen) groundPair(r *rand.Rand, expr string, b image.Rectangle, size int) [2]string {
	box := fmtBox(b, size)
	if r.IntN(2) == 0 {
		return [2]string{recPrompt + expr + ".", box}
	}
	return [2]string{regPrompt + box + ".", capitalise(expr) + "."}
}

func (g *gen) refcoco(r *rand.Rand) Record {
	s := g.scene(r, sceneOpts{min: 1, max: 5, repeat: true})
	id, path := g.cocoID(r)
	g.trainImage(path, s)
	pairs := g.grounding(r, &s, 1+r.IntN(10), func(o Object) string { return g.expression(r, &s, o) })
	return Record{ID: id, Image: path, Conversations: qa(pairs, "", false), Dataset: "refcoco"}
}

func (g *gen) vg(r *rand.Rand) Record {
	var texts []string
	if r.IntN(3) == 0 {
		texts = []string{pick(r, signWords)}
	}
	s := g.scene(r, sceneOpts{min: 2, max: 5, texts: texts})
	folder := "VG_100K"
	if r.IntN(5) < 2 {
		folder = "VG_100K_2"
	}
	id := fmt.Sprintf("%s/%d", folder, g.ids.take(r, "vg", 1000))
	g.trainImage("vg/"+id+".png", s)
	region := func(o Object) string {
		nm := g.name(o)
		switch r.IntN(4) {
		case 0:
			return fmt.Sprintf("%s %s", Article(nm), places[s.Place].phrase)
		case 1:
			return fmt.Sprintf("the %s is %s", nm, o.Colour)
		case 2:
			return fmt.Sprintf("%s %s %s", o.Colour, nm, where(o.Box, s.Size))
		}
		return Article(nm)
	}
	pairs := g.grounding(r, &s, 6+r.IntN(5), region)
	return Record{ID: id, Image: "vg/" + id + ".png", Conversations: qa(pairs, "", false), Dataset: "vg"}
}

func (g *gen) gqa(r *rand.Rand) Record {
	s := g.scene(r, sceneOpts{min: 2, max: 5})
	n := g.ids.take(r, "gqa", 2300000)
	path := fmt.Sprintf("gqa/images/%d.png", n)
	g.trainImage(path, s)
	var pairs [][2]string
	for _, q := range g.gqaQuestions(r, &s, 4+r.IntN(11)) {
		pairs = append(pairs, [2]string{q.question, capitalise(q.answer)})
	}
	return Record{ID: n, Image: path, Conversations: qa(pairs, shortHint, false), Dataset: "gqa"}
}

// gqaQ is a GQA-style question with its structural and semantic types.
type gqaQ struct {
	question, answer, full string
	structural, semantic   string
	detailed               string
}

// gqaQuestions draws n balanced-style questions; answers are lower case.
func (g *gen) gqaQuestions(r *rand.Rand, s *Scene, n int) []gqaQ {
	u := s.unique()
	var out []gqaQ
	for tries := 0; len(out) < n && tries < 10*n; tries++ {
		switch r.IntN(6) {
		case 0:
			// Balanced like GQA's: half present objects, half random concepts.
			c := r.IntN(len(g.concepts))
			if len(u) > 0 && r.IntN(2) == 0 {
				c = pick(r, u).Concept
			}
			nm := g.concepts[c].Name
			a := strings.ToLower(yesNo(s.has(c)))
			out = append(out, gqaQ{fmt.Sprintf("Is there %s in the image?", Article(nm)), a,
				fmt.Sprintf("%s, there is %s.", capitalise(a), map[bool]string{true: Article(nm), false: "no " + nm}[s.has(c)]), "verify", "obj", "exist"})
		case 1:
			if len(u) == 0 {
				continue
			}
			o := pick(r, u)
			out = append(out, gqaQ{fmt.Sprintf("What color is the %s?", g.name(o)), o.Colour,
				fmt.Sprintf("The %s is %s.", g.name(o), o.Colour), "query", "attr", "color"})
		case 2:
			if len(u) < 2 {
				continue
			}
			p := r.Perm(len(u))
			a, b := u[p[0]], u[p[1]]
			side := "right"
			if leftOf(a.Box, b.Box) {
				side = "left"
			}
			out = append(out, gqaQ{fmt.Sprintf("Is the %s to the left or to the right of the %s?", g.name(a), g.name(b)), side,
				fmt.Sprintf("The %s is to the %s of the %s.", g.name(a), side, g.name(b)), "choose", "rel", "relChooser"})
		case 3:
			cs := g.otherConcepts(r, 1, func(int) bool { return false })
			if len(u) == 0 || len(cs) == 0 {
				continue
			}
			o := pick(r, u)
			both := s.has(cs[0]) && s.has(o.Concept)
			a := strings.ToLower(yesNo(both))
			out = append(out, gqaQ{fmt.Sprintf("Are there both %s and %s in the picture?", plural(g.name(o)), plural(g.concepts[cs[0]].Name)), a,
				map[bool]string{true: "Yes, there are both.", false: "No, there are not both."}[both], "logical", "obj", "existAnd"})
		case 4:
			out = append(out, gqaQ{"What place is this?", places[s.Place].name,
				fmt.Sprintf("It is a %s.", places[s.Place].name), "query", "global", "place"})
		default:
			if len(u) == 0 {
				continue
			}
			o := pick(r, u)
			out = append(out, gqaQ{fmt.Sprintf("On which side of the picture is the %s?", g.name(o)), horiz(o.Box, s.Size),
				fmt.Sprintf("The %s is on the %s of the image.", g.name(o), horiz(o.Box, s.Size)), "query", "rel", "positionQuery"})
		}
	}
	if len(out) == 0 { // a scene whose objects are all hidden still has a place
		out = append(out, gqaQ{"What place is this?", places[s.Place].name, fmt.Sprintf("It is a %s.", places[s.Place].name), "query", "global", "place"})
	}
	return out
}

var (
	firstNames = []string{"Ann", "Bob", "Eve", "Kim", "Lee", "Max", "Ada", "Ian", "Joy", "Sam", "Tom", "Zoe", "Liv", "Ray", "Mia", "Ned"}
	lastNames  = []string{"Cole", "Park", "Shaw", "Ford", "Lund", "Moss", "Reed", "Wolf", "King", "Hale", "Nash", "Rowe", "Vale", "Bell"}
	genres     = map[string]string{"animal": "Pets & Animals", "plant": "Home & Garden", "food": "Cookbooks, Food & Wine",
		"drink": "Cookbooks, Food & Wine", "place": "Travel", "weather": "Science & Math", "vehicle": "Engineering & Transportation",
		"activity": "Sports & Outdoors", "object": "Crafts, Hobbies & Home", "shape": "Arts & Photography"}
	genreWords = map[string]string{"Pets & Animals": "pets", "Home & Garden": "gardening", "Cookbooks, Food & Wine": "cooking",
		"Travel": "travel", "Science & Math": "science", "Engineering & Transportation": "engineering",
		"Sports & Outdoors": "sports", "Crafts, Hobbies & Home": "crafts", "Arts & Photography": "arts"}
	genreList = []string{"Pets & Animals", "Home & Garden", "Cookbooks, Food & Wine", "Travel", "Science & Math",
		"Engineering & Transportation", "Sports & Outdoors", "Crafts, Hobbies & Home", "Arts & Photography"}
	signWords  = []string{"OPEN", "STOP", "EXIT", "SALE", "CAFE", "BAR", "SHOP", "PARK", "BUS", "TAXI", "HOTEL", "ZOO", "GYM", "BANK", "FOOD", "FRESH", "PIZZA", "BOOKS", "MILK", "TEA", "JAZZ", "MAIN", "WEST", "EAST", "NORTH", "SOUTH", "CITY", "ART", "CLUB", "BAKERY"}
	titleWords = []string{"Tales", "Days", "Guide", "Life", "Dreams", "Secrets", "World", "Notes", "Story", "Magic"}
)

// book is an OCR-VQA cover.
type book struct {
	title, author, genre string
}

func (g *gen) ocrvqa(r *rand.Rand) Record {
	c := r.IntN(len(g.concepts))
	cn := g.concepts[c]
	b := book{title: capitalise(strings.Fields(cn.Name)[0]) + " " + pick(r, titleWords),
		author: pick(r, firstNames) + " " + pick(r, lastNames), genre: genres[cn.Group]}
	s := g.scene(r, sceneOpts{concepts: []int{c}, texts: []string{strings.ToUpper(b.title), b.author}, panel: true})
	var id string
	if r.IntN(10) == 0 {
		id = fmt.Sprintf("%09dX", r.IntN(1e9))
	} else {
		id = fmt.Sprint(1e7 + r.IntN(9e9-1e7))
	}
	path := "ocr_vqa/images/" + id + ".png"
	g.trainImage(path, s)
	authorQ := pick(r, []string{"Who wrote this book?", "Who is the author of this book?"})
	genreQ := pick(r, []string{"What type of book is this?", "What is the genre of this book?"})
	pairs := [][2]string{{authorQ, b.author}, {"What is the title of this book?", b.title}, {genreQ, b.genre}}
	if r.IntN(8) == 0 {
		pairs[0], pairs[1] = pairs[1], pairs[0]
	}
	for k := 0; k < 1+r.IntN(2); k++ {
		gword := genreWords[b.genre]
		if k > 0 || r.IntN(6) == 0 {
			gword = genreWords[pick(r, genreList)]
		}
		pairs = append(pairs, [2]string{fmt.Sprintf("Is this %s book?", Article(gword)), yesNo(gword == genreWords[b.genre])})
	}
	return Record{ID: id, Image: path, Conversations: qa(pairs, shortHint, false), Dataset: "ocrvqa"}
}

func (g *gen) textcaps(r *rand.Rand) Record {
	words := []string{pick(r, signWords)}
	if r.IntN(3) == 0 {
		words = append(words, pick(r, signWords))
	}
	s := g.scene(r, sceneOpts{min: 1, max: 3, texts: words})
	id := randString(r, 16, "0123456789abcdef")
	path := "textvqa/train_images/" + id + ".png"
	g.trainImage(path, s)
	tokens := words
	if r.IntN(15) == 0 {
		tokens = nil // LLaVA-665K: a few records have no OCR tokens
	}
	q := "Provide a one-sentence caption for the provided image.\nReference OCR token: " + strings.Join(tokens, ", ")
	caption := fmt.Sprintf("A sign that says %s next to %s %s.", strings.Join(words, " and "), list(g.names(s.visible())), places[s.Place].phrase)
	return Record{ID: id, Image: path, Conversations: qa([][2]string{{q, caption}}, "", false), Dataset: "textcaps"}
}

var french = [][2]string{{"CHAT", "cat"}, {"CHIEN", "dog"}, {"POMME", "apple"}, {"MAISON", "house"}, {"SOLEIL", "sun"},
	{"ROUGE", "red"}, {"BLEU", "blue"}, {"VERT", "green"}, {"LUNE", "moon"}, {"ARBRE", "tree"}, {"FLEUR", "flower"},
	{"LIVRE", "book"}, {"PAIN", "bread"}, {"EAU", "water"}, {"FEU", "fire"}, {"NUIT", "night"}, {"JOUR", "day"},
	{"MER", "sea"}, {"ROI", "king"}, {"VILLE", "city"}}

func (g *gen) sharegpt(r *rand.Rand) Record {
	id := randString(r, 7, alnum) + "_0"
	var pairs [][2]string
	for k := 0; k < 1+r.IntN(3); k++ {
		switch r.IntN(5) {
		case 0:
			kind := pick(r, g.kinds)
			cs := g.byKind[kind]
			n := min(len(cs), 2+r.IntN(4))
			var lines []string
			for i, j := range r.Perm(len(cs))[:n] {
				lines = append(lines, fmt.Sprintf("%d. %s", i+1, capitalise(g.concepts[cs[j]].Name)))
			}
			pairs = append(pairs, [2]string{fmt.Sprintf("give me %d examples of a %s", n, kind), strings.Join(lines, "\n")})
		case 1:
			c := g.concepts[r.IntN(len(g.concepts))]
			pairs = append(pairs, [2]string{fmt.Sprintf("What is %s?", Article(c.Name)),
				fmt.Sprintf("%s is a kind of %s. In everyday terms, %s.", capitalise(Article(c.Name)), c.Kind, purpose(c.Name, c.Group, c.Kind))})
		case 2:
			a, b := r.IntN(50), r.IntN(50)
			pairs = append(pairs, [2]string{fmt.Sprintf("What is %d plus %d?", a, b), fmt.Sprintf("%d plus %d equals %d.", a, b, a+b)})
		case 3:
			w := pick(r, french)
			pairs = append(pairs, [2]string{fmt.Sprintf("Translate the French word \"%s\" into English.", strings.ToLower(w[0])),
				fmt.Sprintf("The French word \"%s\" means \"%s\" in English.", strings.ToLower(w[0]), w[1])})
		default:
			c := g.concepts[r.IntN(len(g.concepts))]
			pairs = append(pairs, [2]string{fmt.Sprintf("Can I eat %s?", Article(c.Name)),
				fmt.Sprintf("%s. %s.", yesNo(edible(c.Group)), capitalise(purpose(c.Name, c.Group, c.Kind)))})
		}
	}
	var conv []Turn
	for _, p := range pairs {
		conv = append(conv, Turn{"human", p[0]}, Turn{"gpt", p[1]})
	}
	empty := ""
	return Record{ID: id, Conversations: conv, Model: &empty, Dataset: "sharegpt"}
}
