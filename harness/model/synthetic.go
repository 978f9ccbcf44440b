package model

import (
	"fmt"
	"image"
	"image/color"
	"strings"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/seeds"
)

// Synthetic is a small built-in image-question task for tests and
// benchmarks that need no generated world: n records over n 64×64 scenes
// of one to three coloured shapes (square, circle, triangle; six colours)
// on a 3×3 grid, each with one question in LLaVA style (colour, position,
// yes/no presence, count, or a one-sentence description). Images are named
// "syn/<i>.png". Deterministic in (n, seed).
func Synthetic(n int, seed uint64) ([]data.Record, MapImages) {
	rng := seeds.Rand(seed, "synthetic")
	colors := []string{"red", "green", "blue", "yellow", "purple", "white"}
	rgb := []color.RGBA{{230, 40, 40, 255}, {40, 200, 60, 255}, {50, 80, 230, 255}, {240, 220, 40, 255}, {150, 60, 200, 255}, {245, 245, 245, 255}}
	shapes := []string{"square", "circle", "triangle"}
	places := []string{"top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"}
	counts := []string{"zero", "one", "two", "three"}
	const short = "\nAnswer the question using a single word or phrase."
	type obj struct{ c, s, p int }
	imgs := MapImages{}
	recs := make([]data.Record, n)
	for i := range recs {
		k := 1 + rng.IntN(3)
		cells := rng.Perm(9)[:k]
		var objs []obj
		img := image.NewRGBA(image.Rect(0, 0, 64, 64))
		for p := 0; p < len(img.Pix); p += 4 {
			img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = 20, 20, 30, 255
		}
		for _, cell := range cells {
			o := obj{rng.IntN(len(colors)), rng.IntN(len(shapes)), cell}
			objs = append(objs, o)
			x0, y0 := (cell%3)*21+3, (cell/3)*21+3
			for y := 0; y < 15; y++ {
				for x := 0; x < 15; x++ {
					in := true
					switch o.s {
					case 1:
						in = (x-7)*(x-7)+(y-7)*(y-7) <= 49
					case 2:
						in = 2*abs(x-7) <= y
					}
					if in {
						img.SetRGBA(x0+x, y0+y, rgb[o.c])
					}
				}
			}
		}
		path := fmt.Sprintf("syn/%d.png", i)
		imgs[path] = img
		o := objs[0]
		name := colors[o.c] + " " + shapes[o.s]
		var q, a string
		switch rng.IntN(5) {
		case 0:
			q, a = "What color is the object in the "+places[o.p]+"?"+short, colors[o.c]
		case 1:
			q, a = "Where is the "+name+"?"+short, places[o.p]
		case 2:
			c, s := rng.IntN(len(colors)), rng.IntN(len(shapes))
			a = "No"
			for _, x := range objs {
				if x.c == c && x.s == s {
					a = "Yes"
				}
			}
			if rng.IntN(2) == 0 {
				c, s, a = o.c, o.s, "Yes"
			}
			q = "Is there a " + colors[c] + " " + shapes[s] + " in the image?" + short
		case 3:
			q, a = "How many shapes are there in the image?"+short, counts[k]
		default:
			var parts []string
			for _, x := range objs {
				parts = append(parts, "a "+colors[x.c]+" "+shapes[x.s]+" in the "+places[x.p])
			}
			q, a = "Describe the image briefly.", "There is "+strings.Join(parts, " and ")+"."
		}
		recs[i] = data.Record{Index: i, ID: fmt.Sprintf("syn-%d", i), Image: path, Dataset: "synthetic",
			Conversations: []data.Turn{{From: "human", Value: "<image>\n" + q}, {From: "gpt", Value: a}}}
	}
	return recs, imgs
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
