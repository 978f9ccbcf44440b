package assets

import (
	"image"
	"image/color"
	"math"
	"sync"
)

// shapeStyles are the art styles of the shapes pack; "dotted" is held out.
var shapeStyles = []string{"filled", "outline", "striped", "dotted"}

var shapeKinds = []string{"circle", "square", "triangle", "star", "diamond", "heart", "cross", "hexagon", "ring", "crescent"}

var shapeColours = []struct {
	name string
	rgb  color.NRGBA
}{
	{"red", color.NRGBA{220, 40, 40, 255}},
	{"orange", color.NRGBA{245, 140, 30, 255}},
	{"yellow", color.NRGBA{240, 210, 40, 255}},
	{"green", color.NRGBA{50, 170, 70, 255}},
	{"blue", color.NRGBA{40, 90, 220, 255}},
	{"purple", color.NRGBA{140, 60, 190, 255}},
}

// ShapesPack is the procedural pack: ten shapes in six colours (60 concepts
// such as "red circle"), drawn in four styles. It needs no download.
type ShapesPack struct {
	concepts []Concept
	once     sync.Once
	sprites  *spriteCache
}

var shapes = &ShapesPack{}

// Shapes returns the procedural shapes pack.
func Shapes() *ShapesPack {
	shapes.once.Do(func() {
		var masters [][]*image.NRGBA
		for _, col := range shapeColours {
			for k, kind := range shapeKinds {
				group := "angular shape"
				if k == 0 || k == 5 || k == 8 || k == 9 {
					group = "round shape"
				}
				shapes.concepts = append(shapes.concepts, Concept{Name: col.name + " " + kind, Group: "shape", Subgroup: "shape-" + kind, Kind: group})
				var row []*image.NRGBA
				for s := range shapeStyles {
					row = append(row, drawShape(kind, s, col.rgb))
				}
				masters = append(masters, row)
			}
		}
		shapes.sprites = newSpriteCache(masters)
	})
	return shapes
}

// inside reports whether (x, y) in [-1, 1]² lies in the shape.
func inside(kind string, x, y float64) bool {
	r := math.Hypot(x, y)
	switch kind {
	case "circle":
		return r <= 0.9
	case "square":
		return math.Abs(x) <= 0.75 && math.Abs(y) <= 0.75
	case "triangle":
		return y <= 0.8 && y >= -0.85 && math.Abs(x) <= (y+0.85)/1.65*0.9
	case "star":
		a := math.Atan2(y, x) + math.Pi/2
		f := math.Mod(a+10*math.Pi, 2*math.Pi/5) / (2 * math.Pi / 5)
		return r <= 0.4+0.5*math.Abs(2*f-1)
	case "diamond":
		return math.Abs(x)+math.Abs(y) <= 0.9
	case "heart":
		yy := -y*1.1 + 0.15
		xx := x * 1.1
		v := xx*xx + yy*yy - 0.55
		return v*v*v-xx*xx*yy*yy*yy <= 0
	case "cross":
		return (math.Abs(x) <= 0.28 && math.Abs(y) <= 0.85) || (math.Abs(y) <= 0.28 && math.Abs(x) <= 0.85)
	case "hexagon":
		ax, ay := math.Abs(x), math.Abs(y)
		return ay <= 0.78 && ax*0.866+ay*0.5 <= 0.78
	case "ring":
		return r <= 0.9 && r >= 0.5
	case "crescent":
		return r <= 0.85 && math.Hypot(x-0.35, y+0.1) >= 0.65
	}
	panic("assets: unknown shape " + kind)
}

// drawShape renders one shape master sprite with 4x4 supersampling.
func drawShape(kind string, style int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, baseSize, baseSize))
	const ss = 4
	for py := 0; py < baseSize; py++ {
		for px := 0; px < baseSize; px++ {
			var hit, paint int
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px)+(float64(sx)+0.5)/ss)/baseSize*2 - 1
					y := (float64(py)+(float64(sy)+0.5)/ss)/baseSize*2 - 1
					if !inside(kind, x, y) {
						continue
					}
					hit++
					edge := !inside(kind, x*1.18, y*1.18)
					switch style {
					case 0, 3:
						paint++
					case 1:
						if edge {
							paint++
						}
					case 2:
						if edge || int(math.Floor((x+y+4)*5))%2 == 0 {
							paint++
						}
					}
				}
			}
			if hit == 0 {
				continue
			}
			col := c
			if style == 3 && (px/5+py/5)%2 == 0 && (px%5 == 2 && py%5 == 2 || px%5 == 3 && py%5 == 2 || px%5 == 2 && py%5 == 3 || px%5 == 3 && py%5 == 3) {
				col = color.NRGBA{255, 255, 255, 255}
			}
			a := uint8(255 * hit / (ss * ss))
			if style == 1 || style == 2 {
				a = uint8(255 * paint / (ss * ss))
			}
			if a == 0 {
				continue
			}
			o := img.PixOffset(px, py)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = col.R, col.G, col.B, a
		}
	}
	return img
}

// Name implements Pack.
func (p *ShapesPack) Name() string { return "shapes" }

// Styles implements Pack.
func (p *ShapesPack) Styles() []string { return shapeStyles }

// Concepts implements Pack.
func (p *ShapesPack) Concepts() []Concept { return p.concepts }

// Versions implements Pack.
func (p *ShapesPack) Versions() []Version { return nil }

// Sprite implements Pack.
func (p *ShapesPack) Sprite(c, s, size int) (*image.NRGBA, error) {
	return p.sprites.get(c, s, size), nil
}

// Colour implements Pack.
func (p *ShapesPack) Colour(c, s int) (string, error) {
	return shapeColours[c/len(shapeKinds)].name, nil
}
