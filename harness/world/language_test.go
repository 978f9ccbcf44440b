package world

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tive-dev/tive/harness/data"
)

// TestLanguageAnswersAreInTheText: every record of the language corpus can
// be answered from its own text, per skill, and the corpus is a pure
// function of (seed, purpose, index).
func TestLanguageAnswersAreInTheText(t *testing.T) {
	cfg := Config{Profile: "tiny", Assets: "shapes", Seed: 4}
	recs, skills, err := Language(cfg, "language", 0, 1200, 3)
	if err != nil {
		t.Fatal(err)
	}
	seen, copies, choiceForms := map[string]int{}, map[bool]int{}, map[string]int{}
	vizwiz, answerable := map[string]int{}, map[bool]int{}
	facts, factYes := map[string]int{}, map[bool]int{}
	for i, r := range recs {
		if len(r.Conversations) != 2 || r.Image != "" || strings.Contains(r.Conversations[0].Value, "<image>") {
			t.Fatalf("record %d is not one text-only question: %+v", i, r)
		}
		text, a := r.Conversations[0].Value, r.Conversations[1].Value
		ctx, q, _ := strings.Cut(text, "\n")
		seen[skills[i]]++
		switch skills[i] {
		case "yesno":
			obj := strings.SplitN(strings.SplitN(q, " in ", 2)[0], " ", 4)[3]
			_, shows, _ := strings.Cut(ctx, "The image shows ")
			shows, _, _ = strings.Cut(shows, ".")
			shows = " " + strings.ReplaceAll(shows, ",", "") + " "
			listed := strings.Contains(shows, " "+obj+" ") || strings.Contains(shows, " "+plural(obj)+" ")
			if a != "Yes" && a != "No" || (a == "Yes") != listed {
				t.Errorf("record %d: %q about %q answered %q, listed in the text: %v\n%s", i, q, obj, a, listed, ctx)
			}
		case "fact":
			q, _, _ = strings.Cut(strings.TrimSuffix(q, mmeSuffix), "\n")
			form, known := factKnown(t, q, ctx)
			facts[form]++
			if a != yesNo(known) {
				t.Errorf("record %d: %q answered %q from the text %q", i, q, a, ctx)
			}
			factYes[a == "Yes"]++
		case "echo":
			if !strings.Contains(strings.ToLower(q), strings.ToLower(a)) {
				t.Errorf("record %d: echo answer %q is not in the question %q", i, a, q)
			}
		case "copy": // from the sign in the text, or from TextVQA's reference OCR token, never both
			ocr := strings.Contains(q, "\nReference OCR token: "+a)
			if ocr == strings.Contains(ctx, "reads \""+a+"\"") {
				t.Errorf("record %d: the copy answer %q is in the text %v, in the OCR tokens %v\n%s", i, a, !ocr, ocr, text)
			}
			copies[ocr]++
		case "colour":
			if !strings.Contains(strings.ToLower(ctx), strings.ToLower(a)) {
				t.Errorf("record %d: the %s answer %q is not in the text %q", i, skills[i], a, ctx)
			}
		case "side":
			if !strings.Contains(ctx, strings.ToLower(a)) && !(a == "Middle" && (strings.Contains(ctx, "center") || strings.Contains(ctx, "at the"))) {
				t.Errorf("record %d: side %q not in %q", i, a, ctx)
			}
		case "choice":
			opt := ""
			for _, l := range strings.Split(q, "\n") {
				if strings.HasPrefix(l, a+". ") {
					opt = strings.TrimPrefix(l, a+". ")
				}
			}
			choiceForms[strings.SplitN(q, " ", 3)[1]]++
			if many, ok := strings.CutPrefix(q, "How many "); ok { // "2 rams", or one named with an article
				objs, _, _ := strings.Cut(many, " are there?")
				if opt == "1" && regexp.MustCompile(`\b[2-9] `+regexp.QuoteMeta(objs)+`\b`).MatchString(ctx) || opt != "1" && !strings.Contains(ctx, opt+" "+objs) {
					t.Errorf("record %d: %q answered %q from the text %q", i, q, opt, ctx)
				}
			} else if opt == "" || !strings.Contains(strings.ToLower(ctx), strings.ToLower(opt)) {
				t.Errorf("record %d: option %s (%q) is not in the text %q", i, a, opt, ctx)
			}
		case "unanswerable": // VizWiz's questions, with its hint
			if !strings.HasSuffix(q, "\n"+vizwizHint) || strings.Count(ctx, "The image shows") != 1 {
				t.Fatalf("record %d: not a VizWiz question about one text: %q", i, text)
			}
			q, _, _ = strings.Cut(q, "\n")
			vizwiz[q]++
			var known bool
			switch q {
			case "What does this say?", "What is written here?":
				known = strings.Contains(ctx, "reads \""+a+"\"") && !strings.Contains(ctx, "too blurry")
				if a == "Unanswerable" {
					known = strings.Contains(ctx, "reads \"") && !strings.Contains(ctx, "too blurry")
				}
			case "What is this?", "Can you tell me what this is?":
				known = strings.Contains(ctx, "The image shows "+Article(strings.ToLower(a))+" ")
			case "What color is this?":
				known = strings.Contains(ctx, "mostly "+strings.ToLower(a)+".")
			default:
				t.Fatalf("record %d: %q is not one of VizWiz's questions", i, q)
			}
			if known == (a == "Unanswerable") {
				t.Errorf("record %d: %q answered %q from the text %q", i, q, a, ctx)
			}
			answerable[a != "Unanswerable"]++
		}
	}
	if len(vizwiz) != 5 || answerable[true] < 10 || answerable[false] < 10 {
		t.Errorf("VizWiz questions %v; answerable / not: %d / %d", vizwiz, answerable[true], answerable[false])
	}
	if len(choiceForms) != 5 {
		t.Errorf("multiple-choice questions by their second word: %v, want the five forms", choiceForms)
	}
	if len(facts) != 6 || factYes[true] < 20 || factYes[false] < 20 {
		t.Errorf("yes/no facts by form %v; yes / no: %d / %d", facts, factYes[true], factYes[false])
	}
	if copies[true] < 15 || copies[false] < 15 {
		t.Errorf("copy questions from the text / from OCR tokens: %d / %d", copies[false], copies[true])
	}
	for _, s := range Skills {
		if seen[s] < 30 {
			t.Errorf("skill %s: %d of 600 records", s, seen[s])
		}
	}
	again, _, _ := Language(cfg, "language", 100, 5, 3)
	if d := cmp.Diff(recs[100:105], again, cmpopts.IgnoreUnexported(data.Record{})); d != "" {
		t.Errorf("records 100-104 drawn alone differ from the same records drawn with the rest (-want +got):\n%s", d)
	}
	other, _, _ := Language(cfg, "language-eval", 100, 5, 3)
	if reflect.DeepEqual(other, recs[100:105]) || fmt.Sprint(other[0].ID) == recs[100].ID {
		t.Error("another purpose gives the same records")
	}
}

// TestLanguageOfNarrows: a TextKind draws texts of its skill only, with at
// most its number of objects; its zero value (and MaxObjects 4) is the
// whole corpus record for record; a skill or count outside the corpus is
// rejected by name.
func TestLanguageOfNarrows(t *testing.T) {
	cfg := Config{Profile: "tiny", Assets: "shapes", Seed: 4}
	whole, _, err := Language(cfg, "language", 0, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []TextKind{{}, {MaxObjects: 4}} {
		same, _, err := LanguageOf(cfg, "language", k, 0, 50, 3)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(whole, same, cmpopts.IgnoreUnexported(data.Record{})); d != "" {
			t.Errorf("%+v: not the whole corpus (-want +got):\n%s", k, d)
		}
	}
	recs, skills, err := LanguageOf(cfg, "language", TextKind{Skill: "yesno", MaxObjects: 1}, 0, 200, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		text := r.Conversations[0].Value
		_, shows, _ := strings.Cut(text, "The image shows ")
		shows, _, _ = strings.Cut(shows, ".")
		if skills[i] != "yesno" || !strings.Contains(text, "\nIs there") || strings.Contains(shows, ",") || strings.Contains(shows, " and ") {
			t.Errorf("record %d (%s) is not a yes/no question about one object: %q", i, skills[i], text)
		}
	}
	for _, k := range []TextKind{{Skill: "poetry"}, {MaxObjects: 5}, {MaxObjects: -1}} {
		if _, _, err := LanguageOf(cfg, "language", k, 0, 1, 3); err == nil {
			t.Errorf("%+v accepted", k)
		}
	}
}

// factKnown is the form of a yes/no question of the fact skill and whether
// the text ctx says it is so, read off ctx as a reader would: the object's
// colour ("X is ..., and it is mostly C."), the thirds two objects are in
// (from "left" or "right" in where each is), the one object shown, the
// place, the count ("2 Xs", or an article and no digit), the sign.
func factKnown(t *testing.T, q, ctx string) (string, bool) {
	t.Helper()
	third := func(obj string) int {
		m := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(obj) + ` is ([^,]*) of the picture`).FindStringSubmatch(ctx)
		if m == nil {
			t.Fatalf("%q: the text does not say where the %s is: %q", q, obj, ctx)
		}
		switch {
		case strings.Contains(m[1], "left"):
			return 0
		case strings.Contains(m[1], "right"):
			return 2
		}
		return 1
	}
	_, shows, _ := strings.Cut(ctx, "The image shows ")
	if m := regexp.MustCompile(`^Is the (.+) in the image (\w+)\?$`).FindStringSubmatch(q); m != nil {
		return "colour", regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(m[1]) + ` is [^.]*, and it is mostly ` + m[2] + `\.`).MatchString(ctx)
	}
	if m := regexp.MustCompile(`^Is the (.+) on the (left|right) of the (.+)\?$`).FindStringSubmatch(q); m != nil {
		a, b := third(m[1]), third(m[3])
		if a == b {
			t.Fatalf("%q: both in one third: %q", q, ctx)
		}
		return "position", (a < b) == (m[2] == "left")
	}
	if obj, ok := strings.CutPrefix(q, "Is this a photo of "); ok {
		obj = strings.TrimSuffix(obj, "?")
		if list := strings.SplitN(shows, ".", 2)[0]; strings.Contains(list, ",") || strings.Contains(list, " and ") {
			t.Fatalf("%q about a text of more than one object: %q", q, ctx)
		}
		return "photo", strings.HasPrefix(shows, obj+" ")
	}
	if p, ok := strings.CutPrefix(q, "Is this picture taken "); ok {
		return "place", strings.Contains(strings.SplitN(shows, ".", 2)[0], " "+strings.TrimSuffix(p, "?"))
	}
	if m := regexp.MustCompile(`^Are there (?:only one (.+)|a total of (\d) (.+)) in the image\?$`).FindStringSubmatch(q); m != nil {
		list := strings.SplitN(shows, ".", 2)[0]
		if m[1] != "" {
			return "count", regexp.MustCompile(`(^|, | and )an? ` + regexp.QuoteMeta(m[1]) + `( |,|$)`).MatchString(list)
		}
		return "count", regexp.MustCompile(`(^|, | and )` + m[2] + ` ` + regexp.QuoteMeta(m[3]) + `( |,|$)`).MatchString(list)
	}
	if w, ok := strings.CutPrefix(q, "Is the word in the image \""); ok {
		return "sign", strings.Contains(ctx, "reads \""+strings.TrimSuffix(w, "\"?")+"\"")
	}
	t.Fatalf("%q is not a yes/no fact", q)
	return "", false
}

// TestGridLanguage: each grid text is grid(scene), a line break and a
// question of its form whose answer is the scene's truth (whether it has
// the concept named, its place, its object's name and colour); a form asks
// only what the grid states (a colour only where the grid has the colour
// word); the texts are a pure function of (seed, purpose, index) and of no
// rendering.
func TestGridLanguage(t *testing.T) {
	cfg := Config{Profile: "tiny", Assets: "shapes", Seed: 4}
	concepts, colours, err := VisionLabels(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The grid names the place and each object; it gives an object's colour
	// only when the object is wide, as word tokens give a colour only to an
	// object of two tokens or more.
	grid := func(s VisionScene) []string {
		if s.Image != nil {
			t.Fatal("grid texts render their scenes")
		}
		words := []string{s.Place}
		for _, o := range s.Objects {
			words = append(words, concepts[o.Concept])
			if o.Box.Dx() >= 20 {
				words = append(words, colours[o.Colour])
			}
		}
		return words
	}
	const n = 3000
	recs, forms, err := GridLanguage(cfg, "grid-test", 0, n, grid)
	if err != nil {
		t.Fatal(err)
	}
	scenes, err := VisionScenes(cfg, "grid-test", 0, n)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]map[string]int{}
	for i, r := range recs {
		human, a := r.Conversations[0].Value, r.Conversations[1].Value
		head, q, _ := strings.Cut(human, "\n")
		s := VisionScene{Place: scenes[i].Place, Objects: scenes[i].Objects}
		words := grid(s)
		if want := strings.Join(words, " "); head != want {
			t.Fatalf("text %d states %q, want its scene's grid %q", i, head, want)
		}
		q, _, _ = strings.Cut(strings.TrimSuffix(q, mmeSuffix), "\n")
		o := s.Objects[0]
		name, colour := concepts[o.Concept], colours[o.Colour]
		if forms[i] != "there" && forms[i] != "place" && len(s.Objects) != 1 {
			t.Fatalf("text %d: form %s about a scene of %d objects", i, forms[i], len(s.Objects))
		}
		if strings.HasPrefix(forms[i], "colour") && !slices.Contains(words, colour) {
			t.Errorf("text %d: %q asks a colour the grid %q does not state", i, q, head)
		}
		var want string
		switch forms[i] {
		case "there":
			there := false
			for _, o := range s.Objects {
				there = there || q == fmt.Sprintf("Is there %s in the image?", Article(concepts[o.Concept])) ||
					q == fmt.Sprintf("Is there %s in the picture?", Article(concepts[o.Concept])) ||
					q == fmt.Sprintf("Is there %s in this image?", Article(concepts[o.Concept]))
			}
			if !strings.HasPrefix(q, "Is there ") {
				t.Errorf("text %d: form there asks %q", i, q)
			}
			want = yesNo(there)
		case "place":
			p := slices.IndexFunc(places, func(p place) bool { return p.name == s.Place })
			if !slices.ContainsFunc(places, func(p place) bool { return q == "Is this picture taken "+p.phrase+"?" }) {
				t.Errorf("text %d: form place asks %q", i, q)
			}
			want = yesNo(q == "Is this picture taken "+places[p].phrase+"?")
		case "photo":
			if !strings.HasPrefix(q, "Is this a photo of ") {
				t.Errorf("text %d: form photo asks %q", i, q)
			}
			want = yesNo(q == "Is this a photo of "+Article(name)+"?")
		case "what":
			want = capitalise(name)
		case "colour":
			if q != "What color is the "+name+"?" {
				t.Errorf("text %d: form colour asks %q", i, q)
			}
			want = capitalise(colour)
		case "colour-this":
			if q != "What color is this?" {
				t.Errorf("text %d: form colour-this asks %q", i, q)
			}
			want = capitalise(colour)
		case "colour-yesno":
			if !strings.HasPrefix(q, "Is the "+name+" in the image ") {
				t.Errorf("text %d: form colour-yesno asks %q", i, q)
			}
			want = yesNo(q == "Is the "+name+" in the image "+colour+"?")
		default:
			t.Fatalf("text %d: form %q", i, forms[i])
		}
		if a != want {
			t.Errorf("text %d (%s): %q answered %q, want %q", i, forms[i], human, a, want)
		}
		if answers[forms[i]] == nil {
			answers[forms[i]] = map[string]int{}
		}
		answers[forms[i]][a]++
	}
	for _, f := range []string{"there", "place", "photo", "colour-yesno"} {
		if y, no := answers[f]["Yes"], answers[f]["No"]; y < 10 || no < 10 || y+no < 30 {
			t.Errorf("form %s answered %v: want both answers, about half each", f, answers[f])
		}
	}
	for _, f := range []string{"what", "colour", "colour-this"} {
		if len(answers[f]) < 3 {
			t.Errorf("form %s answered %v: want several answers", f, answers[f])
		}
	}
	again, againForms, _ := GridLanguage(cfg, "grid-test", 100, 5, grid)
	if d := cmp.Diff(recs[100:105], again, cmpopts.IgnoreUnexported(data.Record{})); d != "" {
		t.Errorf("texts 100-104 drawn alone differ from the same texts drawn with the rest (-want +got):\n%s", d)
	}
	if !slices.Equal(forms[100:105], againForms) {
		t.Errorf("forms of texts 100-104 drawn alone %v, with the rest %v", againForms, forms[100:105])
	}
}
