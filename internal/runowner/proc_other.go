//go:build !linux

package runowner

import "errors"

// processStart is not implemented outside Linux: owners there are Unknown.
func processStart(int) (string, error) {
	return "", errors.New("runowner: process start times are only read on Linux")
}
