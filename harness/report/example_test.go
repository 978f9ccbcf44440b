package report_test

import (
	"fmt"

	"github.com/tive-dev/tive/harness/report"
)

// Three seeds of two methods: intervals that overlap call no difference.
func ExampleCompare() {
	tive := report.MeanCI([]float64{61.2, 62.0, 61.5})
	random := report.MeanCI([]float64{58.1, 58.6, 59.0})
	full := report.MeanCI([]float64{61.0, 62.9, 60.8})
	fmt.Printf("tive %.2f [%.2f, %.2f]\n", tive.Mean, tive.Lo, tive.Hi)
	fmt.Println("tive vs random:", report.Compare(tive, random))
	fmt.Println("tive vs full:", report.Compare(tive, full))
	// Output:
	// tive 61.57 [60.56, 62.57]
	// tive vs random: 1
	// tive vs full: 0
}
