package model

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/tive-dev/tive/harness/data"
)

// Special token ids. The vicuna_v1 template's fixed strings are single
// tokens: SysTok stands for the whole system prompt (SystemPrompt), UserTok
// for "USER:" and AssistantTok for "ASSISTANT:".
const (
	PadTok = iota
	UnkTok
	BosTok
	EosTok
	ImageTok
	SysTok
	UserTok
	AssistantTok
	NewlineTok
	numSpecial
)

// SystemPrompt is vicuna_v1's system message (LLaVA-1.5 conv_vicuna_v1).
const SystemPrompt = "A chat between a curious user and an artificial intelligence assistant. " +
	"The assistant gives helpful, detailed, and polite answers to the user's questions."

var specialNames = [numSpecial]string{"<pad>", "<unk>", "<s>", "</s>", "<image>", "<sys>", "USER:", "ASSISTANT:", "\n"}

// wordRE splits text into words: the <image> marker, letter runs, numbers
// with an optional decimal part, newlines, and single other symbols.
var wordRE = regexp.MustCompile(`<image>|[\p{L}\p{M}]+|\p{N}+(?:\.\p{N}+)?|\n|[^\s\p{L}\p{M}\p{N}]`)

// Vocab is a word-level tokenizer: ids 0..numSpecial-1 are the special
// tokens, then words by descending count (ties by byte order).
type Vocab struct {
	Words []string
	index map[string]int32
}

// NewVocab builds a vocabulary from the given words (specials excluded).
func NewVocab(words []string) *Vocab {
	v := &Vocab{Words: append(specialNames[:], words...)}
	v.index = make(map[string]int32, len(v.Words))
	for i, w := range v.Words {
		if _, ok := v.index[w]; !ok {
			v.index[w] = int32(i)
		}
	}
	return v
}

// BuildVocab counts the words of every turn of recs and keeps those seen at
// least minCount times.
func BuildVocab(recs []data.Record, minCount int) *Vocab {
	count := map[string]int{}
	for i := range recs {
		for _, t := range recs[i].Conversations {
			for _, w := range wordRE.FindAllString(t.Value, -1) {
				count[w]++
			}
		}
	}
	for _, s := range specialNames {
		delete(count, s)
	}
	var words []string
	for w, c := range count {
		if c >= minCount {
			words = append(words, w)
		}
	}
	sort.Slice(words, func(i, j int) bool {
		if count[words[i]] != count[words[j]] {
			return count[words[i]] > count[words[j]]
		}
		return words[i] < words[j]
	})
	return NewVocab(words)
}

// Size is the number of token ids.
func (v *Vocab) Size() int { return len(v.Words) }

// Encode maps text to token ids; unknown words become UnkTok.
func (v *Vocab) Encode(text string) []int32 {
	ws := wordRE.FindAllString(text, -1)
	ids := make([]int32, len(ws))
	for i, w := range ws {
		id, ok := v.index[w]
		if !ok {
			id = UnkTok
		}
		ids[i] = id
	}
	return ids
}

// Decode joins words with single spaces, except none before closing
// punctuation and apostrophes and none after opening brackets and
// apostrophes. Special tokens other than the newline are dropped.
func (v *Vocab) Decode(ids []int32) string {
	var b strings.Builder
	glue := true
	for _, id := range ids {
		if id < numSpecial && id != NewlineTok {
			continue
		}
		w := v.Words[id]
		if !glue && !strings.Contains(".,;:!?)]}'%\n", w) {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		glue = strings.Contains("([{'\n", w)
	}
	return b.String()
}

// encoded is one record laid out in the vicuna_v1 template:
//
//	<s> <sys> USER: {human₀} ASSISTANT: {gpt₀} </s> USER: {human₁} ASSISTANT: ...
//
// with the visual tokens in place of <image>, which is moved to the front of
// its turn as LLaVA's preprocess_multimodal does ("<image>\n" + the rest,
// stripped; added to human₀ when the record has an image but no marker). targets[t] is
// tokens[t+1] when that token belongs to a gpt turn or its closing </s>,
// else −1, so the loss covers response tokens only.
type encoded struct {
	tokens  []int32 // ImageTok marks the visual slots
	targets []int32
	weights []float32 // each target's loss weight; nil: all 1
	image   string
}

func (m *Model) encode(r *data.Record) (encoded, error) {
	v := m.Vocab
	e := encoded{image: r.Image}
	tok := []int32{BosTok, SysTok}
	resp := []bool{false, false}
	put := func(ids []int32, isResp bool) {
		tok = append(tok, ids...)
		for range ids {
			resp = append(resp, isResp)
		}
	}
	seenImage := false
	for i, t := range r.Conversations {
		switch t.From {
		case "human":
			put([]int32{UserTok}, false)
			text := t.Value
			if strings.Contains(text, "<image>") || (r.Image != "" && i == 0) {
				text = "<image>\n" + strings.TrimSpace(strings.ReplaceAll(text, "<image>", ""))
			}
			for _, id := range v.Encode(text) {
				if id == ImageTok {
					if r.Image == "" || seenImage {
						continue
					}
					seenImage = true
					for k := 0; k < m.Cfg.visualTokens(); k++ {
						put([]int32{ImageTok}, false)
					}
					continue
				}
				put([]int32{id}, false)
			}
			put([]int32{AssistantTok}, false)
		case "gpt":
			put(v.Encode(t.Value), true)
			put([]int32{EosTok}, true)
		default:
			return e, fmt.Errorf("model: record %q turn %d: from %q, want human or gpt", r.ID, i, t.From)
		}
	}
	if r.Image != "" && !seenImage {
		return e, fmt.Errorf("model: record %q: image but no <image> in the first human turn", r.ID)
	}
	if len(tok) > m.Cfg.MaxLen {
		tok, resp = tok[:m.Cfg.MaxLen], resp[:m.Cfg.MaxLen]
	}
	e.tokens = tok
	e.targets = make([]int32, len(tok))
	for t := range tok {
		e.targets[t] = -1
		if t+1 < len(tok) && resp[t+1] {
			e.targets[t] = tok[t+1]
		}
	}
	if !seenImage {
		e.image = ""
	}
	return e, nil
}

// encodePrompt lays out a question for generation: the template up to and
// including "ASSISTANT:".
func (m *Model) encodePrompt(p Prompt) (encoded, error) {
	r := data.Record{ID: "prompt", Image: p.Image, Conversations: []data.Turn{{From: "human", Value: p.Text}}}
	e, err := m.encode(&r)
	if err != nil {
		return e, err
	}
	e.targets = nil
	return e, nil
}
