package pyjson

import "testing"

func TestQuote(t *testing.T) {
	tests := map[string]string{
		"A":          `"A"`,
		"a\"b\\c":    `"a\"b\\c"`,
		"x\ny\tz\r":  `"x\ny\tz\r"`,
		"\x00\x1f":   `"\u0000\u001f"`,
		"\x7f":       `"\u007f"`,
		"café":       `"caf\u00e9"`,
		"请直接回答":      `"\u8bf7\u76f4\u63a5\u56de\u7b54"`,
		"😀":          `"\ud83d\ude00"`,
		"don\u2019t": `"don\u2019t"`,
		"</script>":  `"</script>"`,
	}
	for in, want := range tests {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := Object(Pair{"question_id", "1"}, Pair{"answer", Quote("yes")}); got != `{"question_id": 1, "answer": "yes"}` {
		t.Errorf("Object = %s", got)
	}
}
