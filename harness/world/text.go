package world

import (
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// fonts holds the parsed Go fonts; a face is made per use because faces are
// not safe for concurrent use.
type fonts struct{ bold, mono *sfnt.Font }

func newFonts() *fonts {
	b, err := opentype.Parse(gobold.TTF)
	if err != nil {
		panic(err)
	}
	m, err := opentype.Parse(gomono.TTF)
	if err != nil {
		panic(err)
	}
	return &fonts{bold: b, mono: m}
}

func (f *fonts) face(px float64, mono bool) font.Face {
	fnt := f.bold
	if mono {
		fnt = f.mono
	}
	face, err := opentype.NewFace(fnt, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	return face
}

// layout sizes words to fit the image and puts its plate where it overlaps
// no taken box if it can.
func (f *fonts) layout(r *rand.Rand, words string, S int, mono bool, taken []image.Rectangle) Text {
	inks := []color.NRGBA{{20, 20, 20, 255}, {255, 255, 255, 255}, {180, 20, 20, 255}, {20, 40, 140, 255}}
	backs := []color.NRGBA{{250, 240, 200, 255}, {40, 40, 40, 255}, {255, 255, 255, 255}, {230, 230, 120, 255}}
	k := r.IntN(len(inks))
	t := Text{Words: words, Mono: mono, Ink: inks[k], Back: backs[k]}
	px := float64(S) / 5.5
	var w, asc, desc int
	for ; ; px -= 0.5 {
		face := f.face(px, mono)
		w = font.MeasureString(face, words).Ceil()
		m := face.Metrics()
		asc, desc = m.Ascent.Ceil(), m.Descent.Ceil()
		face.Close()
		if w+4 <= S || px <= 6 {
			break
		}
	}
	t.Px = px
	bw, bh := min(w+4, S), asc+desc+2
	for try := 0; ; try++ {
		x, y := r.IntN(S-bw+1), r.IntN(S-bh+1)
		t.Box = image.Rect(x, y, x+bw, y+bh)
		t.X, t.Y = x+2, y+1+asc
		free := true
		for _, b := range taken {
			free = free && t.Box.Intersect(b).Empty()
		}
		if free || try > 30 {
			return t
		}
	}
}

// draw paints the plate and the words onto dst.
func (f *fonts) draw(dst *image.NRGBA, t Text) {
	draw.Draw(dst, t.Box, image.NewUniform(t.Back), image.Point{}, draw.Src)
	face := f.face(t.Px, t.Mono)
	defer face.Close()
	d := font.Drawer{Dst: dst, Src: image.NewUniform(t.Ink), Face: face, Dot: fixed.P(t.X, t.Y)}
	d.DrawString(t.Words)
}
