package stages

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/world"
)

// TestLanguagePhases checks the language stage's phases: the corpus, each
// drill's texts of its kind followed by its rehearsal texts of every skill
// (fresh texts, not the corpus's), and the instruct texts.
func TestLanguagePhases(t *testing.T) {
	cfg := world.Config{Profile: "tiny", Assets: "shapes", Seed: 2}.WithDefaults()
	corpus, _, err := world.Language(cfg, "language", 0, 40, 2)
	if err != nil {
		t.Fatal(err)
	}
	yesno := world.TextKind{Skill: "yesno", MaxObjects: 1}
	p := languageParams{World: cfg, Records: 40, Instruct: 10, MaxFill: 2,
		Drills: []spec.Drill{{TextKind: yesno, Texts: 6}, {TextKind: yesno, Texts: 5, Rehearse: 30}}}
	phases, err := languagePhases(corpus, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) != 4 || !reflect.DeepEqual(phases[0], corpus) || !reflect.DeepEqual(phases[3], corpus[:10]) {
		t.Fatalf("phases %d long, or the first and last are not the corpus and its first 10 texts", len(phases))
	}
	if len(phases[1]) != 6 || len(phases[2]) != 35 {
		t.Fatalf("drill phases have %d and %d texts, want 6 and 5+30", len(phases[1]), len(phases[2]))
	}
	drill, _, err := world.LanguageOf(cfg, "language-drill-1", yesno, 0, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	mix, skills, err := world.Language(cfg, "language-drill-1-rehearse", 0, 30, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(phases[2][:5], drill) || !reflect.DeepEqual(phases[2][5:], mix) {
		t.Error("the second drill is not its own texts followed by its rehearsal texts")
	}
	if reflect.DeepEqual(mix, corpus[:30]) {
		t.Error("rehearsal texts repeat the corpus")
	}
	other := 0
	for _, s := range skills {
		if s != "yesno" {
			other++
		}
	}
	if other == 0 {
		t.Error("no rehearsal text asks another skill than the drill's")
	}
}

// TestJoinedDrills: a drill with Join adds its texts, rehearsal included,
// to the phase before it (the same texts, under its own purpose, as it
// would train on in a phase of its own), and a drill after it without Join
// starts a phase again.
func TestJoinedDrills(t *testing.T) {
	cfg := world.Config{Profile: "tiny", Assets: "shapes", Seed: 2}.WithDefaults()
	corpus, _, err := world.Language(cfg, "language", 0, 20, 2)
	if err != nil {
		t.Fatal(err)
	}
	yesno, choice := world.TextKind{Skill: "yesno"}, world.TextKind{Skill: "choice"}
	drills := []spec.Drill{{TextKind: yesno, Texts: 6}, {TextKind: choice, Texts: 5, Rehearse: 4}, {TextKind: yesno, Texts: 3}}
	p := languageParams{World: cfg, Records: 20, MaxFill: 2, Drills: drills}
	apart, err := languagePhases(corpus, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Drills = slices.Clone(drills)
	p.Drills[1].Join = true
	joined, err := languagePhases(corpus, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(apart) != 4 || len(joined) != 3 {
		t.Fatalf("%d phases apart and %d joined, want 4 and 3", len(apart), len(joined))
	}
	if want := append(slices.Clone(apart[1]), apart[2]...); !reflect.DeepEqual(joined[1], want) {
		t.Errorf("the joined phase has %d texts, want the first drill's 6 then the second's 5+4, as apart", len(joined[1]))
	}
	if !reflect.DeepEqual(joined[2], apart[3]) {
		t.Error("the drill after the joined one is not a phase of its own")
	}
}

// TestGridDrill: a grid drill's texts state each scene of its vision stream
// as exactly the words the alignment trains its visual tokens to read as
// (tokenWordStrings under the stage's patch grid), then ask a question;
// its rehearsal texts follow, as in any drill.
func TestGridDrill(t *testing.T) {
	cfg := world.Config{Profile: "tiny", Assets: "shapes", Seed: 2}.WithDefaults()
	mc := model.DefaultConfig()
	p := languageParams{World: cfg, Model: mc, Records: 1, MaxFill: 2, Drills: []spec.Drill{{Grid: true, Texts: 40, Rehearse: 7}}}
	phases, err := languagePhases(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) != 2 || len(phases[1]) != 47 {
		t.Fatalf("%d phases, the drill's of %d texts; want 2, 40+7", len(phases), len(phases[1]))
	}
	concepts, colours, err := world.VisionLabels(cfg)
	if err != nil {
		t.Fatal(err)
	}
	scenes, err := world.VisionScenes(cfg, "language-drill-0", 0, 40)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range phases[1][:40] {
		grid, q, _ := strings.Cut(r.Conversations[0].Value, "\n")
		want := tokenWordStrings(mc, concepts, colours, scenes[i])
		if len(want) != 16 || grid != strings.Join(want, " ") || !strings.Contains(strings.Split(q, "\n")[0], "?") {
			t.Fatalf("text %d: %q, want the grid %q and a question", i, r.Conversations[0].Value, want)
		}
	}
	mix, _, err := world.Language(cfg, "language-drill-0-rehearse", 0, 7, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(phases[1][40:], mix) {
		t.Error("the grid drill's rehearsal is not the fresh texts of its purpose")
	}
}

// TestGridEvalRows: gridEval's first row, "grid", scores every held-out
// grid text, and one row per form, named grid/<form> in order of first
// appearance, scores that form's texts, which add up to the first row.
func TestGridEvalRows(t *testing.T) {
	cfg := world.Config{Profile: "tiny", Assets: "shapes", Seed: 2}.WithDefaults()
	mc := model.Config{ImageSize: 64, PatchSize: 16, Width: 16, Heads: 2, Layers: 1, VisionLayers: 1, MLPRatio: 2, MaxLen: 64}
	p := languageParams{World: cfg, Model: mc, Eval: 60}
	texts, forms, err := gridTexts(cfg, mc, "language-eval", p.Eval)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(mc, model.BuildVocab(texts, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := gridEval(context.Background(), m, p)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	n := map[string]int{}
	for _, f := range forms {
		if n[f]++; n[f] == 1 {
			want = append(want, "grid/"+f)
		}
	}
	if len(want) < 3 {
		t.Fatalf("forms %v: want several kinds of question in %d texts", n, p.Eval)
	}
	if len(rows) != 1+len(want) || rows[0].Skill != "grid" || rows[0].N != p.Eval {
		t.Fatalf("rows %+v: want grid over %d texts, then %v", rows, p.Eval, want)
	}
	right := 0
	for i, r := range rows[1:] {
		if f := strings.TrimPrefix(r.Skill, "grid/"); r.Skill != want[i] || r.N != n[f] || r.Accuracy != ratio(r.Right, r.N) {
			t.Errorf("row %d: %+v, want %s over %d texts", i+1, r, want[i], n[f])
		}
		right += r.Right
	}
	if right != rows[0].Right {
		t.Errorf("the forms' rows have %d right, the grid row %d", right, rows[0].Right)
	}
}
