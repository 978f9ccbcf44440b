package world

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// plant turns a fraction of a task's records into planted duplicates of
// earlier records of the same task (see Redundancy). The record count stays
// the same; originals and copies share a dup_group value. Text-only records
// (sharegpt) only get exact copies.
func (g *gen) plant(r *rand.Rand, name string, recs []Record) []Record {
	red := g.cfg.Redundancy
	n := len(recs)
	exact := int(math.Round(red.Exact * float64(n)))
	near := int(math.Round(red.Near * float64(n)))
	if exact+near == 0 || n < 2 {
		return recs
	}
	// Copies replace the last exact+near records; sources are drawn from the rest.
	firstCopy := n - exact - near
	if firstCopy < 1 {
		firstCopy = 1
	}
	for i := firstCopy; i < n; i++ {
		j := r.IntN(firstCopy)
		src := &recs[j]
		if src.DupGroup == "" {
			src.DupGroup = fmt.Sprintf("%s-%d", name, j)
		}
		cp := *src
		cp.Conversations = append([]Turn(nil), src.Conversations...)
		if i-firstCopy >= exact && src.Image != "" {
			cp.Image, cp.ID = g.nearCopy(r, src)
		}
		recs[i] = cp
	}
	return recs
}

// nearCopy re-renders the scene of src with new background noise and a
// slightly moved horizon under a fresh id and image path of the same source.
func (g *gen) nearCopy(r *rand.Rand, src *Record) (string, any) {
	var s Scene
	for k := len(g.jobs) - 1; k >= 0; k-- {
		if g.jobs[k].path == "images/"+src.Image {
			s = g.jobs[k].scene
			break
		}
	}
	s.Noise = r.Uint64()
	s.Horizon = max(1, min(s.Size-1, s.Horizon+r.IntN(5)-2))
	var id any
	var path string
	if i := slices.IndexFunc(tasks, func(t task) bool { return t.name == src.Dataset }); i >= 0 && tasks[i].image != nil {
		path, id = tasks[i].image(g, r)
	} else {
		id, path = g.cocoID(r)
	}
	g.trainImage(path, s)
	return path, id
}

// The image draws of the tasks whose images are not COCO's (task.image).

func gqaImage(g *gen, r *rand.Rand) (string, any) {
	n := g.ids.take(r, "gqa", 2300000)
	return fmt.Sprintf("gqa/images/%d.png", n), n
}

func vgImage(g *gen, r *rand.Rand) (string, any) {
	v := fmt.Sprintf("VG_100K/%d", g.ids.take(r, "vg", 1000))
	return "vg/" + v + ".png", v
}

func ocrImage(_ *gen, r *rand.Rand) (string, any) {
	v := fmt.Sprint(1e7 + r.IntN(9e9-1e7))
	return "ocr_vqa/images/" + v + ".png", v
}

func textcapsImage(_ *gen, r *rand.Rand) (string, any) {
	v := randString(r, 16, "0123456789abcdef")
	return "textvqa/train_images/" + v + ".png", v
}
