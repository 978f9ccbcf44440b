package pipeline

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/tive-dev/tive/harness/atomic"
)

// WriteJSON writes v to path atomically as indented JSON with a final
// newline: the form of every JSON file the pipeline and its stages write.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomic.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadJSON decodes the JSON file path into v; a decoding error names the
// file.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}
