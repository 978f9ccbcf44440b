//go:build !cgo

package kernels

import "errors"

func loadOpenBLAS() (impl, string, error) {
	return nil, "", errors.New("this binary was built without cgo (CGO_ENABLED=0)")
}
