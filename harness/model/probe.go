package model

import (
	"context"
	"image"
	"sort"
	"strings"

	"github.com/tive-dev/tive/harness/data"
)

// ProbeRow is the image-use probe's result for one kind of question: of N
// short-answer questions, how many the model answers exactly right when it
// sees the record's image (Real) and when it sees a black image (Blank).
type ProbeRow struct {
	Kind  string `json:"kind"` // the question's first three words, lower case
	N     int    `json:"n"`
	Real  int    `json:"real"`
	Blank int    `json:"blank"`
}

// shortAnswer is LLaVA's instruction for one-word answers.
const shortAnswer = "\nAnswer the question using a single word or phrase."

// probeMinKind is the fewest questions a kind needs for its own row.
const probeMinKind = 20

// Probe asks m every question of recs (records with an image) whose answer
// is at most two words, each on its own as "<image>\nQUESTION" (the
// record's other turns left out; when the record's first question ends with
// LLaVA's "Answer the question using a single word or phrase.", so does
// every probe question of that record), greedily decoding up to four
// tokens, once with the record's image and once with a black one. An answer
// counts as right when it equals the record's answer after trimming spaces
// and ignoring case. Where Real is no higher than Blank, the model answers
// that kind of question from the words alone. Kinds with fewer than 20
// questions share the row "(other)". Rows are sorted by N, largest first,
// then by kind; the last row, kind "all", sums them.
func Probe(ctx context.Context, m *Model, recs []data.Record, images ImageSource) ([]ProbeRow, error) {
	var prompts []Prompt
	var want, kinds []string
	for _, r := range recs {
		if r.Image == "" || len(r.Conversations) < 2 {
			continue
		}
		cv := r.Conversations
		short := strings.HasSuffix(strings.TrimSpace(cv[0].Value), strings.TrimSpace(shortAnswer))
		for i := 0; i+1 < len(cv); i += 2 {
			a := strings.TrimSpace(cv[i+1].Value)
			if cv[i].From != "human" || len(strings.Fields(a)) == 0 || len(strings.Fields(a)) > 2 {
				continue
			}
			q := strings.TrimSpace(strings.ReplaceAll(cv[i].Value, "<image>", ""))
			w := strings.Fields(strings.ToLower(q))
			kinds = append(kinds, strings.Join(w[:min(3, len(w))], " "))
			if short && !strings.HasSuffix(q, strings.TrimSpace(shortAnswer)) {
				q += shortAnswer
			}
			prompts = append(prompts, Prompt{Image: r.Image, Text: "<image>\n" + q})
			want = append(want, a)
		}
	}
	count := map[string]int{}
	for _, k := range kinds {
		count[k]++
	}
	rows := map[string]*ProbeRow{}
	for i, k := range kinds {
		if count[k] < probeMinKind {
			k = "(other)"
			kinds[i] = k
		}
		if rows[k] == nil {
			rows[k] = &ProbeRow{Kind: k}
		}
		rows[k].N++
	}
	for pass, src := range []ImageSource{images, blackImages{m.Cfg.ImageSize}} {
		out, err := Generate(ctx, m, prompts, src, 4)
		if err != nil {
			return nil, err
		}
		for i, o := range out {
			if !strings.EqualFold(strings.TrimSpace(o), want[i]) {
				continue
			}
			if pass == 0 {
				rows[kinds[i]].Real++
			} else {
				rows[kinds[i]].Blank++
			}
		}
	}
	all := ProbeRow{Kind: "all"}
	var res []ProbeRow
	for _, r := range rows {
		res = append(res, *r)
		all.N, all.Real, all.Blank = all.N+r.N, all.Real+r.Real, all.Blank+r.Blank
	}
	sort.Slice(res, func(i, j int) bool {
		if res[i].N != res[j].N {
			return res[i].N > res[j].N
		}
		return res[i].Kind < res[j].Kind
	})
	return append(res, all), nil
}

// blackImages answers every path with a black image.
type blackImages struct{ side int }

func (b blackImages) Image(string) (image.Image, error) {
	return image.NewRGBA(image.Rect(0, 0, b.side, b.side)), nil
}
