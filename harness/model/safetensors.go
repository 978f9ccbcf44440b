package model

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// Tensor is one named float32 tensor for safetensors I/O.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

type stEntry struct {
	Dtype   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// WriteSafetensors writes tensors in the safetensors format: an 8-byte
// little-endian header length H, H bytes of JSON header mapping each name to
// {"dtype":"F32","shape":[...],"data_offsets":[begin,end]} (byte offsets
// into the data section) plus an optional "__metadata__" string map, padded
// with spaces to a multiple of 8, then the raw little-endian data in the
// given tensor order.
func WriteSafetensors(w io.Writer, tensors []Tensor, meta map[string]string) error {
	hdr := map[string]any{}
	if len(meta) > 0 {
		hdr["__metadata__"] = meta
	}
	off := 0
	for _, t := range tensors {
		n := 1
		for _, s := range t.Shape {
			n *= s
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: %s: shape %v holds %d values, have %d", t.Name, t.Shape, n, len(t.Data))
		}
		if _, dup := hdr[t.Name]; dup {
			return fmt.Errorf("safetensors: duplicate tensor %s", t.Name)
		}
		hdr[t.Name] = stEntry{Dtype: "F32", Shape: t.Shape, Offsets: [2]int{off, off + 4*n}}
		off += 4 * n
	}
	js, err := json.Marshal(hdr) // map keys sorted: deterministic bytes
	if err != nil {
		return err
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	var lenb [8]byte
	binary.LittleEndian.PutUint64(lenb[:], uint64(len(js)))
	if _, err := w.Write(lenb[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	for _, t := range tensors {
		buf := make([]byte, 4*len(t.Data))
		for i, v := range t.Data {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// ReadSafetensors parses a safetensors file holding F32 tensors, returned in
// data-offset order, and its metadata.
func ReadSafetensors(b []byte) ([]Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, errors.New("safetensors: file shorter than 8 bytes")
	}
	h := binary.LittleEndian.Uint64(b)
	if h > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("safetensors: header length %d beyond file size %d", h, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+h], &raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors: header: %w", err)
	}
	body := b[8+h:]
	var meta map[string]string
	var ts []Tensor
	var offs []int
	for name, r := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(r, &meta); err != nil {
				return nil, nil, fmt.Errorf("safetensors: __metadata__: %w", err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, nil, fmt.Errorf("safetensors: %s: %w", name, err)
		}
		if e.Dtype != "F32" {
			return nil, nil, fmt.Errorf("safetensors: %s: dtype %s, only F32 is supported", name, e.Dtype)
		}
		n := 1
		for _, s := range e.Shape {
			n *= s
		}
		if e.Offsets[1]-e.Offsets[0] != 4*n || e.Offsets[0] < 0 || e.Offsets[1] > len(body) {
			return nil, nil, fmt.Errorf("safetensors: %s: offsets %v do not fit shape %v in %d data bytes", name, e.Offsets, e.Shape, len(body))
		}
		d := make([]float32, n)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[e.Offsets[0]+4*i:]))
		}
		ts = append(ts, Tensor{Name: name, Shape: e.Shape, Data: d})
		offs = append(offs, e.Offsets[0])
	}
	idx := make([]int, len(ts))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return offs[idx[a]] < offs[idx[b]] })
	out := make([]Tensor, len(ts))
	for i, j := range idx {
		out[i] = ts[j]
	}
	return out, meta, nil
}
