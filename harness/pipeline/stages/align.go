package stages

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"strings"

	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/seeds"
	"github.com/tive-dev/tive/harness/world"
)

// alignParams configure the pretrain stage's word alignment (spec.Align).
type alignParams struct {
	World  world.Config      `json:"world"`
	Images int               `json:"images"` // scenes of the vision stream (purpose "align")
	Eval   int               `json:"eval"`   // new scenes scored in eval.json
	Train  model.TrainConfig `json:"train"`
}

// align trains m's projector on p.Images fresh scenes by model.AlignWords,
// each visual token's word given by tokenWords, and writes eval.json
// (alignEval on p.Eval new scenes) into out.
func align(ctx context.Context, m *model.Model, p alignParams, out string, progress func(done, total int)) error {
	concepts, colours, err := world.VisionLabels(p.World)
	if err != nil {
		return err
	}
	scenes, err := world.VisionScenes(p.World, "align", 0, p.Images)
	if err != nil {
		return err
	}
	imgs := make([]image.Image, len(scenes))
	words := make([][]int32, len(scenes))
	for i, s := range scenes {
		imgs[i] = s.Image
		if words[i], err = tokenWords(m, concepts, colours, s); err != nil {
			return err
		}
	}
	if _, err := model.AlignWords(ctx, m, imgs, words, p.Train, progress); err != nil {
		return err
	}
	eval, err := alignEval(ctx, m, p.World, concepts, colours, p.Eval)
	if err != nil {
		return err
	}
	return pipeline.WriteJSON(filepath.Join(out, evalFile), eval)
}

// tokenWordStrings gives each visual token of scene s, under cfg's patch
// grid, the word it should read as: for the object that covers most of its
// patch (model.Config.TokenObjects), the last word of the object's name on
// the object's 1st, 3rd, ... token in row-major order and its colour on its
// 2nd, 4th, ...; the place's name where no object covers the patch. A
// decoder trained on text reads such a grid of words, object names and
// colours alike (README, "Word tokens"), and the language stage's grid
// drills teach it to (world.GridLanguage).
func tokenWordStrings(cfg model.Config, concepts, colours []string, s world.VisionScene) []string {
	objs := make([]model.TowerObject, len(s.Objects))
	for k, o := range s.Objects {
		objs[k].Box = o.Box
	}
	seen := make([]int, len(s.Objects))
	var words []string
	for _, k := range cfg.TokenObjects(objs) {
		w := s.Place
		if k >= 0 {
			if w = lastWord(concepts[s.Objects[k].Concept]); seen[k]%2 == 1 {
				w = colours[s.Objects[k].Colour]
			}
			seen[k]++
		}
		words = append(words, w)
	}
	return words
}

// tokenWords is tokenWordStrings as ids of m's vocabulary, under m's patch
// grid; a word outside the vocabulary is an error.
func tokenWords(m *model.Model, concepts, colours []string, s world.VisionScene) ([]int32, error) {
	var ids []int32
	for _, w := range tokenWordStrings(m.Cfg, concepts, colours, s) {
		id := m.Vocab.Encode(w)
		if len(id) != 1 || id[0] == model.UnkTok {
			return nil, fmt.Errorf("pipeline: %q is not a word of the language model's vocabulary", w)
		}
		ids = append(ids, id[0])
	}
	return ids, nil
}

// lastWord is the last run of letters of a name ("truck" of "delivery
// truck", "shirt" of "t-shirt").
func lastWord(name string) string {
	f := strings.FieldsFunc(name, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
	if len(f) == 0 {
		return name
	}
	return f[len(f)-1]
}

// AlignScore is what the aligned base model reads in n new scenes of the
// vision stream (purpose "align-eval"): the share of visual tokens whose
// word is tokenWords' (on object tokens and on background ones), and its
// zero-shot accuracy on "Is there <concept> in the image?" (half about an
// object of the scene, half about a random concept) with the scene's image
// and with a black one.
type AlignScore struct {
	Scenes     int     `json:"scenes"`
	ObjectWord float64 `json:"object_word"`
	Background float64 `json:"background_word"`
	YesNoImage float64 `json:"yesno_image"`
	YesNoBlack float64 `json:"yesno_black"`
}

// alignEval scores m (a word-token model) on n new scenes of the world cfg,
// whose labels are concepts and colours (world.VisionLabels); n = 0 scores
// nothing.
func alignEval(ctx context.Context, m *model.Model, cfg world.Config, concepts, colours []string, n int) (AlignScore, error) {
	sc := AlignScore{Scenes: n}
	if n <= 0 {
		return sc, nil
	}
	scenes, err := world.VisionScenes(cfg, "align-eval", 0, n)
	if err != nil {
		return sc, err
	}
	imgs := make(model.MapImages, n+1)
	imgs["black"] = image.NewNRGBA(image.Rect(0, 0, m.Cfg.ImageSize, m.Cfg.ImageSize))
	list := make([]image.Image, n)
	r := seeds.Rand(cfg.Seed, "align-eval")
	var real, black []model.Prompt
	var answers []string
	for i, s := range scenes {
		name := fmt.Sprintf("%d", i)
		imgs[name], list[i] = s.Image, s.Image
		c := s.Objects[r.IntN(len(s.Objects))].Concept
		if r.IntN(2) == 0 {
			c = r.IntN(len(concepts))
		}
		ans := "No"
		for _, o := range s.Objects {
			if o.Concept == c {
				ans = "Yes"
			}
		}
		q := fmt.Sprintf("<image>\nIs there %s in the image?", world.Article(concepts[c]))
		real, black = append(real, model.Prompt{Image: name, Text: q}), append(black, model.Prompt{Image: "black", Text: q})
		answers = append(answers, ans)
	}
	var obj, objN, bg, bgN int
	for i, got := range model.VisualWords(m, list) {
		want, err := tokenWords(m, concepts, colours, scenes[i])
		if err != nil {
			return sc, err
		}
		for p, w := range want {
			right := 0
			if got[p] == w {
				right = 1
			}
			if m.Vocab.Words[w] == scenes[i].Place {
				bg, bgN = bg+right, bgN+1
			} else {
				obj, objN = obj+right, objN+1
			}
		}
	}
	sc.ObjectWord, sc.Background = ratio(obj, objN), ratio(bg, bgN)
	yesNo := func(prompts []model.Prompt) (float64, error) {
		right, err := shortAnswers(ctx, m, prompts, imgs, answers)
		return ratio(right, n), err
	}
	if sc.YesNoImage, err = yesNo(real); err != nil {
		return sc, err
	}
	sc.YesNoBlack, err = yesNo(black)
	return sc, err
}

// shortAnswers is how many of prompts m answers with exactly answers[i]
// (greedy, up to two tokens, surrounding space and a final full stop
// ignored).
func shortAnswers(ctx context.Context, m *model.Model, prompts []model.Prompt, images model.ImageSource, answers []string) (int, error) {
	got, err := model.Generate(ctx, m, prompts, images, 2)
	right := 0
	for i, g := range got {
		if strings.TrimSuffix(strings.TrimSpace(g), ".") == answers[i] {
			right++
		}
	}
	return right, err
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
