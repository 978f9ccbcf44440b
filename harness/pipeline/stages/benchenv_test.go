package stages

import (
	"os"
	"strconv"
)

// benchEnv is the number in environment variable k, or d when it is unset
// or not a number: the sizes of the model benchmarks.
func benchEnv(k string, d float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
		return v
	}
	return d
}
