package world

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/png" // decode scene images
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// A tile is one picture of a contact sheet with its caption and boxes
// (0-1 coordinates) to outline.
type tile struct {
	img     image.Image
	caption string
	boxes   [][4]float64
}

const (
	tilesPerSheet = 24
	sheetCols     = 6
	tileSide      = 128
	captionH      = 28
)

// Preview writes contact sheets of the world in dir into outDir:
// task-<dataset>.png for each of the ten tasks (24 records evenly spread over
// the task; boxes in a record's turns are outlined in red; the caption is the
// first answer), bench-<suite>.png for each suite (24 images evenly spread),
// and overview.png with one row per task and suite. It returns the paths
// written.
func Preview(dir, outDir string) ([]string, error) {
	face, err := captionFace()
	if err != nil {
		return nil, err
	}
	defer face.Close()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	var recs []Record
	if err := readJSON(filepath.Join(dir, MixtureFile), &recs); err != nil {
		return nil, fmt.Errorf("world preview: %w", err)
	}
	type sheet struct {
		name  string
		tiles []tile
	}
	var sheets []sheet
	for _, t := range tasks {
		var of []Record
		for _, r := range recs {
			if r.Dataset == t.name {
				of = append(of, r)
			}
		}
		var tiles []tile
		for _, i := range spread(len(of), tilesPerSheet) {
			r := of[i]
			tl := tile{caption: r.Conversations[1].Value}
			for _, turn := range r.Conversations {
				for _, m := range boxRE.FindAllStringSubmatch(turn.Value, -1) {
					var b [4]float64
					for j := range b {
						b[j], _ = strconv.ParseFloat(m[j+1], 64)
					}
					tl.boxes = append(tl.boxes, b)
				}
			}
			if r.Image != "" {
				if tl.img, err = decodeFile(filepath.Join(dir, "images", r.Image)); err != nil {
					return nil, err
				}
			} else {
				tl.caption = r.Conversations[0].Value + " / " + r.Conversations[1].Value
			}
			tiles = append(tiles, tl)
		}
		sheets = append(sheets, sheet{"task-" + t.name, tiles})
	}
	for _, s := range Suites() {
		tiles, err := suiteTiles(filepath.Join(dir, "benchmarks", s))
		if err != nil {
			return nil, err
		}
		sheets = append(sheets, sheet{"bench-" + s, tiles})
	}
	var written []string
	for _, s := range sheets {
		p := filepath.Join(outDir, s.name+".png")
		if err := writeFile(outDir, s.name+".png", encodePNG(contactSheet(face, s.name, s.tiles, sheetCols, tileSide))); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	// Overview: one row of eight small tiles per sheet.
	const ovCols, ovSide, labelW = 8, 64, 150
	ov := image.NewNRGBA(image.Rect(0, 0, labelW+ovCols*(ovSide+4), len(sheets)*(ovSide+6)+4))
	draw.Draw(ov, ov.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	for i, s := range sheets {
		y := 4 + i*(ovSide+6)
		label(ov, face, strings.TrimPrefix(strings.TrimPrefix(s.name, "task-"), "bench-"), 4, y+ovSide/2+4, color.Black)
		for j, t := range s.tiles {
			if j == ovCols {
				break
			}
			drawTile(ov, t, image.Rect(labelW+j*(ovSide+4), y, labelW+j*(ovSide+4)+ovSide, y+ovSide), face)
		}
	}
	if err := writeFile(outDir, "overview.png", encodePNG(ov)); err != nil {
		return nil, err
	}
	return append(written, filepath.Join(outDir, "overview.png")), nil
}

// suiteTiles takes images evenly spread over a suite: PNG files in path
// order, or for MMBench the images embedded in the TSV rows.
func suiteTiles(dir string) ([]tile, error) {
	var tiles []tile
	if rows, col, err := readMMBench(dir); !errors.Is(err, fs.ErrNotExist) {
		if err != nil {
			return nil, err
		}
		for _, i := range spread(len(rows), tilesPerSheet) {
			rec := rows[i]
			b, err := base64.StdEncoding.DecodeString(rec[col["image"]])
			if err != nil {
				return nil, err
			}
			img, _, err := image.Decode(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			tiles = append(tiles, tile{img: img, caption: rec[col["question"]] + " " + rec[col["answer"]]})
		}
		return tiles, nil
	}
	var paths []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, ".png") {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	for _, i := range spread(len(paths), tilesPerSheet) {
		p := paths[i]
		img, err := decodeFile(p)
		if err != nil {
			return nil, err
		}
		tiles = append(tiles, tile{img: img, caption: filepath.Base(p)})
	}
	return tiles, nil
}

// spread returns up to k indices evenly spaced over [0, n).
func spread(n, k int) []int {
	var out []int
	for i := range min(n, k) {
		out = append(out, i*n/min(n, k))
	}
	return out
}

func decodeFile(p string) (image.Image, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return img, nil
}

func captionFace() (font.Face, error) {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: 10, DPI: 72, Hinting: font.HintingFull})
}

func contactSheet(face font.Face, title string, tiles []tile, cols, side int) *image.NRGBA {
	rows := max(1, (len(tiles)+cols-1)/cols)
	const top = 20
	img := image.NewNRGBA(image.Rect(0, 0, cols*(side+6)+6, top+rows*(side+captionH+6)))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	label(img, face, title, 6, 14, color.Black)
	for i, t := range tiles {
		x, y := 6+(i%cols)*(side+6), top+(i/cols)*(side+captionH+6)
		drawTile(img, t, image.Rect(x, y, x+side, y+side), face)
		cap := strings.ReplaceAll(t.caption, "\n", " ")
		for k, line := range []string{clip(face, cap, side), clip(face, strings.TrimPrefix(cap, clip(face, cap, side)), side)} {
			label(img, face, line, x, y+side+11+k*11, color.NRGBA{60, 60, 60, 255})
		}
	}
	return img
}

// drawTile scales t into r and outlines its boxes; a text-only record gets
// a gray tile that says so.
func drawTile(dst *image.NRGBA, t tile, r image.Rectangle, face font.Face) {
	if t.img == nil {
		draw.Draw(dst, r, image.NewUniform(color.NRGBA{235, 235, 245, 255}), image.Point{}, draw.Src)
		label(dst, face, "text only", r.Min.X+4, r.Min.Y+14, color.Black)
		return
	}
	xdraw.NearestNeighbor.Scale(dst, r, t.img, t.img.Bounds(), draw.Src, nil)
	red := color.NRGBA{230, 0, 0, 255}
	for _, b := range t.boxes {
		x0 := r.Min.X + int(b[0]*float64(r.Dx()))
		y0 := r.Min.Y + int(b[1]*float64(r.Dy()))
		x1 := r.Min.X + int(b[2]*float64(r.Dx())) - 1
		y1 := r.Min.Y + int(b[3]*float64(r.Dy())) - 1
		for x := x0; x <= x1; x++ {
			dst.Set(x, y0, red)
			dst.Set(x, y1, red)
		}
		for y := y0; y <= y1; y++ {
			dst.Set(x0, y, red)
			dst.Set(x1, y, red)
		}
	}
}

func label(dst *image.NRGBA, face font.Face, s string, x, y int, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// clip returns the longest prefix of s that fits in w pixels.
func clip(face font.Face, s string, w int) string {
	for i := len(s); i > 0; i-- {
		if font.MeasureString(face, s[:i]).Ceil() <= w {
			return s[:i]
		}
	}
	return ""
}
