package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tive-dev/tive/harness/atomic"
)

// ManifestFormat names the checkpoint layout written by Save.
const ManifestFormat = "tive-model/1"

// Manifest describes a saved model: a folder holding model.safetensors (every
// parameter, named as Param.Name, shapes as Param.Shape) and manifest.json
// (this struct), written last so a folder with a manifest is complete.
type Manifest struct {
	Format    string      `json:"format"`
	Config    Config      `json:"config"`
	LoRA      *LoRAConfig `json:"lora,omitempty"`
	Vocab     []string    `json:"vocab"` // words after the special tokens
	Tensors   string      `json:"tensors"`
	SHA256    string      `json:"sha256"` // of the tensors file
	NumParams int         `json:"num_params"`
	Meta      any         `json:"meta,omitempty"` // caller's provenance (seed, inputs, ...)
}

// Save writes m to dir (created if missing): model.safetensors, then
// manifest.json, each atomically. meta is stored in the manifest as is.
func Save(dir string, m *Model, meta any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var ts []Tensor
	for _, p := range m.params {
		ts = append(ts, Tensor{Name: p.Name, Shape: p.Shape, Data: p.W})
	}
	sum, err := writeTensors(filepath.Join(dir, "model.safetensors"), ts)
	if err != nil {
		return err
	}
	man := Manifest{Format: ManifestFormat, Config: m.Cfg, LoRA: m.LoRA, Vocab: m.Vocab.Words[numSpecial:],
		Tensors: "model.safetensors", SHA256: sum, NumParams: m.NumParams(), Meta: meta}
	return writeManifest(filepath.Join(dir, "manifest.json"), man)
}

// writeManifest writes v to path as indented JSON, atomically.
func writeManifest(path string, v any) error {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomic.WriteFile(path, append(js, '\n'), 0o644)
}

// readManifest reads the JSON file at path into v and checks that the
// format field it filled (*format) is want.
func readManifest(path string, v any, format *string, want string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("model: %s: %w", path, err)
	}
	if *format != want {
		return fmt.Errorf("model: %s: format %q, want %q", path, *format, want)
	}
	return nil
}

func writeTensors(path string, ts []Tensor) (string, error) {
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, map[string]string{"format": "pt"}); err != nil {
		return "", err
	}
	h := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(h[:]), atomic.WriteFile(path, buf.Bytes(), 0o644)
}

func readTensors(path, sum string) (map[string]Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if sum != "" {
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
			return nil, fmt.Errorf("model: %s: sha256 differs from the manifest", path)
		}
	}
	ts, _, err := ReadSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	out := make(map[string]Tensor, len(ts))
	for _, t := range ts {
		out[t.Name] = t
	}
	return out, nil
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	var man Manifest
	if err := readManifest(filepath.Join(dir, "manifest.json"), &man, &man.Format, ManifestFormat); err != nil {
		return nil, err
	}
	return &man, nil
}

// Load reads a model saved by Save, LoRA adapters included.
func Load(dir string) (*Model, error) {
	man, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	m, err := New(man.Config, NewVocab(man.Vocab), 0)
	if err != nil {
		return nil, err
	}
	if man.LoRA != nil {
		if err := m.AttachLoRA(*man.LoRA, 0); err != nil {
			return nil, err
		}
	}
	ts, err := readTensors(filepath.Join(dir, man.Tensors), man.SHA256)
	if err != nil {
		return nil, err
	}
	if err := m.setParams(ts); err != nil {
		return nil, fmt.Errorf("model: %s: %w", dir, err)
	}
	return m, nil
}

func (m *Model) setParams(ts map[string]Tensor) error {
	if len(ts) != len(m.params) {
		return fmt.Errorf("%d tensors, model has %d parameters", len(ts), len(m.params))
	}
	for _, p := range m.params {
		t, ok := ts[p.Name]
		if !ok {
			return fmt.Errorf("no tensor %s", p.Name)
		}
		if len(t.Data) != len(p.W) {
			return fmt.Errorf("tensor %s has shape %v, want %v", p.Name, t.Shape, p.Shape)
		}
		copy(p.W, t.Data)
	}
	return nil
}
