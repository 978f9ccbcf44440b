package pipeline

import "testing"

// TestOneLine: answers reach the answer files without line breaks or tabs
// (MME's official tool splits its input at them); spaces are kept as they
// are and nothing is trimmed.
func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"Yes":                      "Yes",
		"The scene takes place\n2": "The scene takes place 2",
		"a\r\nb\rc\td":             "a b c d",
		" No \n":                   " No  ",
		"two  spaces stay two":     "two  spaces stay two",
	} {
		if got := oneLine.Replace(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
