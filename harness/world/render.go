package world

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"sync"

	"github.com/tive-dev/tive/harness/seeds"
)

// render draws a scene. It is a pure function of the scene and the pack.
func (w *world) render(s *Scene) *image.NRGBA {
	S := s.Size
	img := image.NewNRGBA(image.Rect(0, 0, S, S))
	noise := seeds.Rand(s.Noise, seeds.Noise)
	p := places[s.Place]
	for y := 0; y < S; y++ {
		for x := 0; x < S; x++ {
			var c color.NRGBA
			switch {
			case s.Panel != nil:
				c = *s.Panel
			case y < s.Horizon:
				c = shade(p.top, 12*y/max(s.Horizon, 1)-6)
			default:
				c = shade(p.bottom, 6-12*(y-s.Horizon)/max(S-s.Horizon, 1))
			}
			c = shade(c, noise.IntN(9)-4)
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c.R, c.G, c.B, 255
		}
	}
	for _, t := range s.Texts {
		w.fonts.draw(img, t)
	}
	for _, o := range s.Objects {
		sp, err := w.pack.Sprite(o.Concept, o.Style, o.Size)
		if err != nil {
			panic(err)
		}
		at := image.Rect(o.X, o.Y, o.X+o.Size, o.Y+o.Size)
		draw.Draw(img, at, sp, image.Point{}, draw.Over)
	}
	if !s.Occluder.Empty() {
		draw.Draw(img, s.Occluder, image.NewUniform(color.NRGBA{128, 128, 128, 255}), image.Point{}, draw.Src)
	}
	if s.Degrade == "blur" {
		for range 3 {
			img = boxBlur(img, max(2, S/16))
		}
	}
	return img
}

func shade(c color.NRGBA, d int) color.NRGBA {
	cl := func(v uint8) uint8 { return uint8(min(255, max(0, int(v)+d))) }
	return color.NRGBA{cl(c.R), cl(c.G), cl(c.B), 255}
}

// boxBlur averages each pixel over a (2r+1)² window clipped to the image.
func boxBlur(src *image.NRGBA, r int) *image.NRGBA {
	b := src.Bounds()
	dst := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var sum [3]int
			n := 0
			for yy := max(b.Min.Y, y-r); yy < min(b.Max.Y, y+r+1); yy++ {
				for xx := max(b.Min.X, x-r); xx < min(b.Max.X, x+r+1); xx++ {
					o := src.PixOffset(xx, yy)
					sum[0] += int(src.Pix[o])
					sum[1] += int(src.Pix[o+1])
					sum[2] += int(src.Pix[o+2])
					n++
				}
			}
			o := dst.PixOffset(x, y)
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = uint8(sum[0]/n), uint8(sum[1]/n), uint8(sum[2]/n), 255
		}
	}
	return dst
}

// pngBuffers reuses the encoder's compression state across images.
type pngBuffers struct{ p sync.Pool }

func (b *pngBuffers) Get() *png.EncoderBuffer {
	if x, ok := b.p.Get().(*png.EncoderBuffer); ok {
		return x
	}
	return nil
}

func (b *pngBuffers) Put(x *png.EncoderBuffer) { b.p.Put(x) }

var pngPool = &pngBuffers{}

// encodePNG encodes an opaque image (written as 8-bit RGB).
func encodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: pngPool}
	if err := enc.Encode(&buf, img); err != nil {
		panic(err) // in-memory encoding of a valid image cannot fail
	}
	return buf.Bytes()
}
