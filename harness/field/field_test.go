package field_test

import (
	"errors"
	"fmt"

	"github.com/tive-dev/tive/harness/field"
)

// A configuration's Validate collects every bad setting by its key; a
// caller that knows where each key was written (package spec) takes the
// list apart, any other prints it.
func ExampleList() {
	validate := func(width, heads int) error {
		var l field.List
		if width <= 0 {
			l.Add("width", "%d (want a positive number)", width)
		}
		if heads <= 0 || width%heads != 0 {
			l.Add("heads", "%d does not divide width %d", heads, width)
		}
		return l.Err()
	}
	fmt.Println(validate(64, 4))
	err := fmt.Errorf("model: %w", validate(-8, 3))
	fmt.Println(err)
	var l field.List
	if errors.As(err, &l) {
		for _, e := range l {
			fmt.Printf("model.%s: %s\n", e.Name, e.Msg)
		}
	}
	// Output:
	// <nil>
	// model: width: -8 (want a positive number); heads: 3 does not divide width -8
	// model.width: -8 (want a positive number)
	// model.heads: 3 does not divide width -8
}
