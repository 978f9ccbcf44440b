package assets

import (
	"image"
	"image/color"
	"image/draw"
	"sync"

	xdraw "golang.org/x/image/draw"
)

// spriteCache scales master sprites on demand and keeps the results.
type spriteCache struct {
	masters [][]*image.NRGBA // [concept][style]
	mu      sync.Mutex
	scaled  map[[3]int]*image.NRGBA
}

func newSpriteCache(masters [][]*image.NRGBA) *spriteCache {
	return &spriteCache{masters: masters, scaled: map[[3]int]*image.NRGBA{}}
}

func (c *spriteCache) get(concept, style, size int) *image.NRGBA {
	key := [3]int{concept, style, size}
	c.mu.Lock()
	defer c.mu.Unlock()
	if img, ok := c.scaled[key]; ok {
		return img
	}
	m := c.masters[concept][style]
	img := m
	if size != m.Bounds().Dx() {
		img = image.NewNRGBA(image.Rect(0, 0, size, size))
		xdraw.CatmullRom.Scale(img, img.Bounds(), m, m.Bounds(), draw.Src, nil)
	}
	c.scaled[key] = img
	return img
}

func toNRGBA(src image.Image) *image.NRGBA {
	if n, ok := src.(*image.NRGBA); ok {
		return n
	}
	b := src.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Src)
	return dst
}

// TightBounds is the smallest rectangle of img holding every pixel with
// alpha of at least 64 (of 255); empty for a blank sprite.
func TightBounds(img *image.NRGBA) image.Rectangle { return tightBounds(img) }

func tightBounds(img *image.NRGBA) image.Rectangle {
	b := img.Bounds()
	r := image.Rectangle{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.Pix[img.PixOffset(x, y)+3] >= 64 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// ColourNames are the colour words of the world, in a fixed order.
var ColourNames = []string{"red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "gray"}

// NameColour returns the colour word for an opaque RGB value.
func NameColour(c color.NRGBA) string {
	r, g, b := float64(c.R)/255, float64(c.G)/255, float64(c.B)/255
	mx, mn := max(r, g, b), min(r, g, b)
	l := (mx + mn) / 2
	d := mx - mn
	if d < 0.12 {
		switch {
		case l < 0.2:
			return "black"
		case l > 0.85:
			return "white"
		}
		return "gray"
	}
	var h float64
	switch mx {
	case r:
		h = 60 * ((g - b) / d)
	case g:
		h = 60 * ((b-r)/d + 2)
	default:
		h = 60 * ((r-g)/d + 4)
	}
	if h < 0 {
		h += 360
	}
	switch {
	case l < 0.12:
		return "black"
	case h < 15 || h >= 340:
		if l > 0.75 {
			return "pink"
		}
		return "red"
	case h < 45:
		if l < 0.4 {
			return "brown"
		}
		return "orange"
	case h < 70:
		if l < 0.3 {
			return "brown"
		}
		return "yellow"
	case h < 170:
		return "green"
	case h < 255:
		return "blue"
	case h < 290:
		return "purple"
	}
	return "pink"
}

// dominantColour is the most common colour word among the opaque pixels.
func dominantColour(img *image.NRGBA) string {
	count := map[string]int{}
	for i := 0; i+3 < len(img.Pix); i += 4 {
		if img.Pix[i+3] < 200 {
			continue
		}
		count[NameColour(color.NRGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], 255})]++
	}
	best, n := "gray", -1
	for _, c := range ColourNames { // fixed order breaks ties deterministically
		if count[c] > n {
			best, n = c, count[c]
		}
	}
	return best
}
