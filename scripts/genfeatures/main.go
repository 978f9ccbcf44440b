// Command genfeatures writes a synthetic pool for the selection benchmark:
// records.jsonl (N minimal LLaVA records labelled with the ten LLaVA-665K
// sources in their real proportions), features.npy ([N, d] float16, random
// values in ±[0.0039, 2)) and norms.npy ([N] float32). It is seeded, so the
// same flags give the same bytes.
//
//	go run ./scripts/genfeatures -n 665000 -d 8192 -out /tmp/tive-bench
//
// With -record-bytes B it writes only records.json instead: a JSON list
// like llava_v1_5_mix665k.json (one indented record after another, 1-6
// question-answer turns of random words, and a "dataset" label as
// records.jsonl has), each record about B bytes; the
// real file's 665,298 records average about 1,550 bytes.
//
//	go run ./scripts/genfeatures -n 665298 -record-bytes 1550 -out /tmp/tive-mix
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/grad"
)

// sources are the ten LLaVA-665K sources and their record counts (llava665k.md §2).
var sources = []struct {
	name  string
	count int
}{
	{"llava_instruct", 157712}, {"vqav2", 82783}, {"okvqa", 8998}, {"aokvqa", 66160}, {"refcoco", 48447},
	{"vg", 86417}, {"gqa", 72140}, {"ocrvqa", 80000}, {"textcaps", 21953}, {"sharegpt", 40688},
}

func main() {
	n := flag.Int("n", 665000, "records")
	d := flag.Int("d", 8192, "feature dimension")
	seed := flag.Uint64("seed", 0, "seed")
	out := flag.String("out", "", "output folder")
	recordBytes := flag.Int("record-bytes", 0, "write only records.json, a JSON list of records of about this many bytes")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "genfeatures: -out is required")
		os.Exit(2)
	}
	if *recordBytes > 0 {
		if err := genList(*out, *n, *recordBytes, *seed); err != nil {
			fmt.Fprintln(os.Stderr, "genfeatures:", err)
			os.Exit(1)
		}
		return
	}
	if err := gen(*out, *n, *d, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genfeatures:", err)
		os.Exit(1)
	}
}

// taskOf labels n records by source, block-ordered as the real file is.
func taskOf(n int) []int {
	total := 0
	for _, s := range sources {
		total += s.count
	}
	tasks := make([]int, n)
	for i, k, acc := 0, 0, sources[0].count; i < n; i++ {
		for k < len(sources)-1 && i*total >= acc*n {
			k++
			acc += sources[k].count
		}
		tasks[i] = k
	}
	return tasks
}

// words are the vocabulary of genList's turns.
var words = []string{"the", "a", "man", "woman", "dog", "cat", "red", "blue", "is", "on", "in", "table", "street",
	"holding", "looking", "at", "picture", "left", "right", "two", "sign", "with", "of", "and", "large", "small"}

// genList writes records.json: n records in the layout of
// llava_v1_5_mix665k.json, each about recordBytes long.
func genList(dir string, n, recordBytes int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tasks := taskOf(n)
	rng := rand.New(rand.NewPCG(seed, 2))
	text := func(b []byte, size int) []byte {
		for start := len(b); len(b)-start < size; {
			if len(b) > start {
				b = append(b, ' ')
			}
			b = append(b, words[rng.IntN(len(words))]...)
		}
		return b
	}
	return atomic.Write(filepath.Join(dir, "records.json"), 0o644, func(w0 io.Writer) error {
		w := bufio.NewWriter(w0)
		w.WriteString("[\n")
		var b []byte
		for i, k := range tasks {
			turns := 1 + rng.IntN(6)
			per := max(8, (recordBytes-130-180*turns)/(2*turns)) // ~130 bytes of layout a record, ~180 a turn
			b = fmt.Appendf(b[:0], "    {\n        \"id\": \"%09d\",\n        \"image\": \"%s/images/%d.jpg\",\n        \"conversations\": [\n", i, sources[k].name, i)
			for t := range turns {
				q := "\"value\": \""
				if t == 0 {
					q += "<image>\\n"
				}
				b = append(b, "            {\n                \"from\": \"human\",\n                "+q...)
				b = text(b, per/3)
				b = append(b, "?\"\n            },\n            {\n                \"from\": \"gpt\",\n                \"value\": \""...)
				b = text(b, per*5/3)
				b = append(b, "\"\n            }"...)
				if t < turns-1 {
					b = append(b, ',')
				}
				b = append(b, '\n')
			}
			b = fmt.Appendf(b, "        ],\n        \"dataset\": \"%s\"\n    }", sources[k].name)
			if i < n-1 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		w.WriteString("]\n")
		return w.Flush()
	})
}

func gen(dir string, n, d int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tasks := taskOf(n)
	err := atomic.Write(filepath.Join(dir, "records.jsonl"), 0o644, func(w0 io.Writer) error {
		w := bufio.NewWriter(w0)
		for i, k := range tasks {
			fmt.Fprintf(w, `{"id":"%d","image":"img/%d.jpg","conversations":[{"from":"human","value":"<image>\nq"},{"from":"gpt","value":"a"}],"dataset":"%s"}`+"\n", i, i, sources[k].name)
		}
		return w.Flush()
	})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	norms := make([]float64, n)
	for i, k := range tasks {
		norms[i] = 1 + float64(k)/4 + rng.Float64()
	}
	if err := grad.WriteVector(filepath.Join(dir, "norms.npy"), grad.Float32, norms); err != nil {
		return err
	}
	return writeFeatures(filepath.Join(dir, "features.npy"), n, d, seed)
}

// writeFeatures writes random float16 rows, generated in parallel blocks.
func writeFeatures(path string, n, d int, seed uint64) error {
	f, err := atomic.Create(path, 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	w := bufio.NewWriterSize(f, 8<<20)
	w.Write(grad.EncodeNpyHeader(grad.Float16, []int{n, d}))
	const block = 1024
	workers := runtime.GOMAXPROCS(0)
	bufs := make([][]byte, workers)
	for lo := 0; lo < n; lo += block * workers {
		var wg sync.WaitGroup
		for k := 0; k < workers; k++ {
			s, e := lo+k*block, min(n, lo+(k+1)*block)
			if s >= e {
				bufs[k] = bufs[k][:0]
				continue
			}
			wg.Add(1)
			go func(k, s, e int) {
				defer wg.Done()
				b := bufs[k][:0]
				r := rand.New(rand.NewPCG(seed, uint64(s)))
				for i := s; i < e; i++ {
					for j := 0; j < d; j += 4 {
						x := r.Uint64()
						for q := 0; q < 4 && j+q < d; q++ {
							h := uint16(x>>(16*q)) & 0x83ff // sign and mantissa
							h |= uint16(8+(x>>(16*q+10))%8) << 10
							b = binary.LittleEndian.AppendUint16(b, h)
						}
					}
				}
				bufs[k] = b
			}(k, s, e)
		}
		wg.Wait()
		for k := 0; k < workers; k++ {
			if _, err := w.Write(bufs[k]); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Commit()
}
