package stages

import (
	"image"
	"slices"
	"testing"

	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/world"
)

// TestTokenWords: on a 4×4 grid of patches, an object covering the top-left
// 2×2 patches reads, in row-major order, as its name's last word, its
// colour, its name, its colour; one covering the last patch as its name;
// every other patch as the place. A word the vocabulary lacks is an error
// that names it.
func TestTokenWords(t *testing.T) {
	cfg := model.DefaultConfig()
	m, err := model.New(cfg, model.NewVocab([]string{"truck", "shirt", "red", "blue", "kitchen"}), 1)
	if err != nil {
		t.Fatal(err)
	}
	concepts, colours := []string{"delivery truck", "t-shirt"}, []string{"red", "blue"}
	s := world.VisionScene{Place: "kitchen", Objects: []world.VisionObject{
		{Concept: 0, Colour: 1, Box: image.Rect(0, 0, 32, 32)},
		{Concept: 1, Colour: 0, Box: image.Rect(48, 48, 64, 64)},
	}}
	ids, err := tokenWords(m, concepts, colours, s)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range ids {
		got = append(got, m.Vocab.Words[id])
	}
	k := "kitchen"
	want := []string{"truck", "blue", k, k, "truck", "blue", k, k, k, k, k, k, k, k, k, "shirt"}
	if !slices.Equal(got, want) {
		t.Errorf("token words\n got %q\nwant %q", got, want)
	}
	s.Place = "beach"
	if _, err := tokenWords(m, concepts, colours, s); err == nil || err.Error() != `pipeline: "beach" is not a word of the language model's vocabulary` {
		t.Errorf("a word outside the vocabulary: %v", err)
	}
}
