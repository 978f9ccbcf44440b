// Package field is how a domain configuration (model.Config,
// model.LoRAConfig, grad.ProjectorSpec, selection.Options, world.Config)
// says which of its settings is wrong: its Validate returns a List with one
// Error per bad setting, named by the setting's key as a spec spells it
// ("max_len", "projector.dim"). The spec package puts each at the file,
// line and column of that key; everyone else reads the message.
package field

import (
	"fmt"
	"strings"
)

// Error is one bad setting: Name is its key, Msg what is wrong with it
// (and what would be valid).
type Error struct {
	Name string
	Msg  string
}

func (e *Error) Error() string { return e.Name + ": " + e.Msg }

// List is every bad setting of a configuration, in the order found.
type List []*Error

func (l List) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// Add records that setting name is wrong.
func (l *List) Add(name, format string, args ...any) {
	*l = append(*l, &Error{Name: name, Msg: fmt.Sprintf(format, args...)})
}

// Err is l as an error, nil when l is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
