package backend_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/tive-dev/tive/harness/backend"
)

// The protocol input of one op, as a batch job feeds it to `tive worker`.
func ExampleBatchInput() {
	in, _ := backend.BatchInput("predict", backend.PredictRequest{Model: "ref/model", Questions: "pope.jsonl", Answers: "answers.jsonl", ModelID: "ref"})
	fmt.Print(string(in))
	// Output:
	// {"v":1,"id":"0","op":"hello"}
	// {"v":1,"id":"1","op":"predict","args":{"model":"ref/model","questions":"pope.jsonl","image_root":"","answers":"answers.jsonl","model_id":"ref"}}
}

// A worker answers every request with one result or error line.
func ExampleServe() {
	var out bytes.Buffer
	backend.Serve(context.Background(), backend.Builtin{}, "tive-builtin", strings.NewReader(`{"v":1,"id":"0","op":"hello"}`+"\n"), &out)
	fmt.Print(out.String())
	// Output:
	// {"v":1,"id":"0","type":"result","result":{"protocol":1,"worker":"tive-builtin","ops":["train","features","predict"]}}
}
