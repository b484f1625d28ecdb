// Package identity builds the instance identity document and signs it the
// way EC2 does, with imds's own keys. Verifiers cannot tell an imds signature
// from an EC2 one by its shape, only by the certificate it chains to, so a
// client must be given the certificate of the Signer that made it.
package identity

import (
	"bytes"
	"encoding/json"
	"time"
)

// pendingTimeLayout is the document's timestamp form: UTC, whole seconds, Z.
const pendingTimeLayout = "2006-01-02T15:04:05Z"

// Document is the instance identity document served at
// dynamic/instance-identity/document. Its fields mirror the JSON keys; the
// tree package fills it from an instance so that it agrees with the leaves.
type Document struct {
	AccountID        string
	Architecture     string
	AvailabilityZone string
	// BillingProducts, DevpayProductCodes and MarketplaceProductCodes are
	// written as null when empty, as EC2 does; it never shows "[ ]".
	BillingProducts         []string
	DevpayProductCodes      []string
	MarketplaceProductCodes []string
	ImageID                 string
	InstanceID              string
	InstanceType            string
	KernelID                string // "" is written as null
	PendingTime             time.Time
	PrivateIP               string
	RamdiskID               string // "" is written as null
	Region                  string
	Version                 string // 2017-09-30 on current instances
}

// Marshal returns the document in the exact byte layout of current EC2
// instances (SPEC 5.1): two-space indent, `"key" : value`, fixed key order,
// arrays on one line, null for absent values and no trailing newline.
// encoding/json cannot produce this layout, and the signatures cover these
// exact bytes, so callers must serve and sign the same slice.
func (d Document) Marshal() []byte {
	var w docWriter
	w.buf.WriteString("{\n")
	w.str("accountId", d.AccountID)
	w.str("architecture", d.Architecture)
	w.str("availabilityZone", d.AvailabilityZone)
	w.list("billingProducts", d.BillingProducts)
	w.list("devpayProductCodes", d.DevpayProductCodes)
	w.list("marketplaceProductCodes", d.MarketplaceProductCodes)
	w.str("imageId", d.ImageID)
	w.str("instanceId", d.InstanceID)
	w.str("instanceType", d.InstanceType)
	w.optional("kernelId", d.KernelID)
	w.str("pendingTime", d.PendingTime.UTC().Format(pendingTimeLayout))
	w.str("privateIp", d.PrivateIP)
	w.optional("ramdiskId", d.RamdiskID)
	w.str("region", d.Region)
	w.str("version", d.Version)
	w.buf.WriteString("\n}")
	return w.buf.Bytes()
}

// docWriter appends `"key" : value` members, putting the separator before
// every member but the first so the last one needs no special case.
type docWriter struct {
	buf bytes.Buffer
	n   int // members written so far
}

func (w *docWriter) key(k string) {
	if w.n > 0 {
		w.buf.WriteString(",\n")
	}
	w.n++
	w.buf.WriteString("  ")
	w.quote(k)
	w.buf.WriteString(" : ")
}

func (w *docWriter) str(k, v string) {
	w.key(k)
	w.quote(v)
}

func (w *docWriter) optional(k, v string) {
	if v == "" {
		w.key(k)
		w.buf.WriteString("null")
		return
	}
	w.str(k, v)
}

func (w *docWriter) list(k string, vs []string) {
	w.key(k)
	if len(vs) == 0 {
		w.buf.WriteString("null")
		return
	}
	w.buf.WriteString("[ ")
	for i, v := range vs {
		if i > 0 {
			w.buf.WriteString(", ")
		}
		w.quote(v)
	}
	w.buf.WriteString(" ]")
}

// quote writes s as a JSON string. It leans on encoding/json for the escape
// rules but turns HTML escaping off: "<", ">" and "&" need no escape in
// JSON, and writing them as \u003c and the like is a Go-only habit.
func (w *docWriter) quote(s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	// Encoding a string cannot fail; the encoder only errors on types.
	_ = enc.Encode(s)
	w.buf.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
}
