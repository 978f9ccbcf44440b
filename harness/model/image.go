package model

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	_ "image/png" // decoder for DirImages
	"os"
	"path/filepath"
	"sync"
)

// ImageSource resolves a record's image path to an image. Implementations
// must be safe for concurrent use.
type ImageSource interface {
	Image(path string) (image.Image, error)
}

// DirImages reads image files (PNG) named relative to Root.
type DirImages struct{ Root string }

// Image decodes Root/path.
func (d DirImages) Image(path string) (image.Image, error) {
	b, err := d.File(path)
	if err != nil {
		return nil, err
	}
	return decodeImage(b, filepath.Join(d.Root, path))
}

// File reads Root/path as it is (TowerTokens keys an image by its file's
// bytes).
func (d DirImages) File(path string) ([]byte, error) { return os.ReadFile(filepath.Join(d.Root, path)) }

// fileImages is an ImageSource that also gives an image's file.
type fileImages interface {
	File(path string) ([]byte, error)
}

func decodeImage(b []byte, name string) (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("model: image %s: %w", name, err)
	}
	return img, nil
}

// MapImages is an in-memory ImageSource.
type MapImages map[string]image.Image

// Image returns the image stored under path.
func (m MapImages) Image(path string) (image.Image, error) {
	img, ok := m[path]
	if !ok {
		return nil, fmt.Errorf("model: no image %q", path)
	}
	return img, nil
}

// pixels is an image as CHW bytes, s×s, resized by nearest neighbour.
func pixels(img image.Image, s int) []uint8 {
	rgba, ok := img.(*image.RGBA)
	b := img.Bounds()
	if !ok || b.Dx() != s || b.Dy() != s {
		rgba = image.NewRGBA(image.Rect(0, 0, s, s))
		if b.Dx() == s && b.Dy() == s {
			draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
		} else {
			for y := 0; y < s; y++ {
				for x := 0; x < s; x++ {
					rgba.Set(x, y, img.At(b.Min.X+x*b.Dx()/s, b.Min.Y+y*b.Dy()/s))
				}
			}
		}
	}
	out := make([]uint8, 3*s*s)
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			p := rgba.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				out[c*s*s+y*s+x] = rgba.Pix[p+c]
			}
		}
	}
	return out
}

// imageCache holds decoded images as bytes, loaded once per path, and,
// with tokens set, each image's tower output from them instead where they
// hold it (its file's key is in them: the image is then not decoded).
type imageCache struct {
	src    ImageSource
	size   int
	tokens *TowerTokens
	mu     sync.Mutex
	px     map[string]cachedImage
}

// cachedImage is an image's pixels, or its tower output from TowerTokens.
type cachedImage struct {
	px  []uint8
	tok []float32
}

func newImageCache(src ImageSource, size int) *imageCache {
	return &imageCache{src: src, size: size, px: map[string]cachedImage{}}
}

// imageCache is a cache of src for m, reading tower outputs from m's
// TowerTokens unless towerTrains (its tower's gradients need the tower run).
func (m *Model) imageCache(src ImageSource, towerTrains bool) *imageCache {
	c := newImageCache(src, m.Cfg.ImageSize)
	if !towerTrains {
		c.tokens = m.tokens
	}
	return c
}

// get returns path's pixels, or (nil pixels) its tower output.
func (c *imageCache) get(path string) ([]uint8, []float32, error) {
	c.mu.Lock()
	p, ok := c.px[path]
	c.mu.Unlock()
	if ok {
		return p.px, p.tok, nil
	}
	p, err := c.load(path)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	c.px[path] = p
	c.mu.Unlock()
	return p.px, p.tok, nil
}

func (c *imageCache) load(path string) (cachedImage, error) {
	if c.src == nil {
		return cachedImage{}, fmt.Errorf("model: image %q but no image source", path)
	}
	var img image.Image
	if fs, ok := c.src.(fileImages); ok && c.tokens != nil {
		b, err := fs.File(path)
		if err != nil {
			return cachedImage{}, err
		}
		if tok := c.tokens.lookup(fileKey(b)); tok != nil {
			return cachedImage{tok: tok}, nil
		}
		if img, err = decodeImage(b, path); err != nil {
			return cachedImage{}, err
		}
	} else {
		var err error
		if img, err = c.src.Image(path); err != nil {
			return cachedImage{}, err
		}
	}
	return cachedImage{px: pixels(img, c.size)}, nil
}
