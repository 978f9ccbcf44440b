package world

import (
	"fmt"
	"math/rand/v2"
)

// briefPrompts are LLaVA's stage-1 (LCS-558K) caption instructions.
var briefPrompts = []string{
	"Describe the image concisely.", "Provide a brief description of the given image.",
	"Offer a succinct explanation of the picture presented.", "Summarize the visual content of the image.",
	"Give a short and clear explanation of the subsequent image.", "Share a concise interpretation of the image provided.",
	"Present a compact description of the photo's key features.", "Relay a brief, clear account of the picture shown.",
	"Render a clear and concise summary of the photo.", "Write a terse but informative summary of the picture.",
	"Create a compact narrative representing the image presented.",
}

// pretrain returns n caption records in LLaVA's pretraining format
// (id = 9-digit number, image pretrain/<first 5 digits>/<id>.png).
func (g *gen) pretrain(n int) []Record {
	var out []Record
	for i := range n {
		r := stream(g.cfg.Seed, "pretrain", i)
		var texts []string
		if r.IntN(6) == 0 {
			texts = []string{pick(r, signWords)}
		}
		s := g.scene(r, sceneOpts{min: 1, max: 4, texts: texts})
		id := fmt.Sprintf("%09d", g.ids.take(r, "pretrain", 100000))
		path := fmt.Sprintf("pretrain/%s/%s.png", id[:5], id)
		g.trainImage(path, s)
		out = append(out, Record{ID: id, Image: path, Conversations: qa([][2]string{{pick(r, briefPrompts), g.caption(r, &s)}}, "", r.IntN(2) == 0)})
	}
	return out
}

// caption is a one-line caption of a scene.
func (g *gen) caption(r *rand.Rand, s *Scene) string {
	c := fmt.Sprintf("%s %s", list(g.names(s.visible())), places[s.Place].phrase)
	if len(s.Texts) > 0 {
		c += fmt.Sprintf(" with a sign that says %s", s.Texts[0].Words)
	}
	if r.IntN(2) == 0 {
		return capitalise(c)
	}
	return capitalise(c) + "."
}
