// Package nbui is how the notebooks of notebooks/ display what they
// compute, through the GoNB kernel (scripts/setup-notebooks.sh puts this
// module in the kernel's Go workspace).
package nbui

import (
	"fmt"

	"github.com/janpfeifer/gonb/gonbui"
)

// Show displays each item, a Markdown string or PNG bytes, and waits until
// the notebook has them (a cell's program may otherwise end first).
func Show(items ...any) {
	for _, x := range items {
		switch v := x.(type) {
		case string:
			gonbui.DisplayMarkdown(v)
		case []byte:
			gonbui.DisplayPNG(v)
		default:
			panic(fmt.Sprintf("nbui.Show: %T is neither Markdown nor PNG", x))
		}
	}
	gonbui.Sync()
}
