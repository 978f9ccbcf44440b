package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
)

func hashString(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
