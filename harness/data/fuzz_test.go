package data

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParse feeds arbitrary bytes to the record reader. It must refuse them
// with an error or return records that keep its promises (non-empty
// conversations of human and gpt turns, indices in order), and what
// EncodeJSON writes of them must read back as the same records.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`[{"id": "a", "image": "x.png", "conversations": [{"from": "human", "value": "<image>\nq"}, {"from": "gpt", "value": "a"}], "dataset": "vqav2"}]`))
	f.Add([]byte(`{"id": 7, "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}` + "\n" + `{"id": "b", "conversations": [{"from": "gpt", "value": ""}]}`))
	f.Add([]byte(`[{"id": "a", "conversations": []}]`))
	f.Add([]byte("\ufeff[\n"))
	f.Add([]byte(`{"id": "b", "conversations": "x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := Parse("f.json", b)
		if err != nil {
			var re *RecordError
			if errors.As(err, &re) && (re.Line < 1 || re.Index < 0) {
				t.Fatalf("record error without a place: %+v", re)
			}
			return
		}
		for i, r := range recs {
			if r.Index != i || len(r.Conversations) == 0 {
				t.Fatalf("record %d: index %d, %d turns", i, r.Index, len(r.Conversations))
			}
			for _, c := range r.Conversations {
				if c.From != "human" && c.From != "gpt" {
					t.Fatalf("record %d: turn from %q", i, c.From)
				}
			}
		}
		if len(recs) == 0 {
			return
		}
		idx := make([]int, len(recs))
		for i := range idx {
			idx[i] = i
		}
		var out bytes.Buffer
		if err := EncodeJSON(&out, recs, idx); err != nil {
			t.Fatal(err)
		}
		again, err := Parse("out.json", out.Bytes())
		if err != nil {
			t.Fatalf("written records do not read back: %v\n%s", err, out.Bytes())
		}
		for _, rs := range [][]Record{recs, again} {
			for i := range rs {
				rs[i].src, rs[i].off, rs[i].n = nil, 0, 0
			}
		}
		if d := cmp.Diff(recs, again, cmpopts.IgnoreUnexported(Record{})); d != "" {
			t.Fatalf("round trip changed the records (-want +got):\n%s", d)
		}
	})
}
