package localfaas

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// awsAccount is the account id in every ARN the platform reports.
const awsAccount = "000000000000"

// awsRegion is the region the platform pretends to be.
const awsRegion = "us-east-1"

func randomHex(nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// newRequestID returns a random UUID v4, the format of Lambda request ids.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newLogStream returns a Lambda log stream name: YYYY/MM/DD/[$LATEST]<32 hex>.
func newLogStream(now time.Time) string {
	return now.UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16)
}

// newTraceID returns an X-Ray trace header value.
func newTraceID(now time.Time) string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", now.Unix(), randomHex(12), randomHex(8))
}

func functionARN(name string) string {
	return "arn:aws:lambda:" + awsRegion + ":" + awsAccount + ":function:" + name
}
