// Package ec2json writes JSON in the layout EC2's metadata service uses for
// its documents: two-space indent, a space on both sides of each colon, and no
// newline after the closing bracket. Clients parse any layout, but byte-exact
// fixtures and people diffing against real instances see the difference.
package ec2json

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Member is one "Key" : "value" pair; values are always strings in the
// documents this package writes.
type Member struct{ Key, Value string }

// Object renders members as one object whose lines are indented by indent
// plus two spaces (the braces by indent alone).
func Object(members []Member, indent string) []byte {
	var b strings.Builder
	writeObject(&b, members, indent)
	return []byte(b.String())
}

// Array renders objects as an array of objects, one level deep; an empty
// array is "[]".
func Array(objects [][]Member) []byte {
	if len(objects) == 0 {
		return []byte("[]")
	}
	var b strings.Builder
	b.WriteString("[\n")
	for i, o := range objects {
		b.WriteString("  ")
		writeObject(&b, o, "  ")
		if i < len(objects)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]")
	return []byte(b.String())
}

func writeObject(b *strings.Builder, members []Member, indent string) {
	b.WriteString("{\n")
	for i, m := range members {
		b.WriteString(indent)
		b.WriteString("  ")
		String(b, m.Key)
		b.WriteString(" : ")
		String(b, m.Value)
		if i < len(members)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(indent)
	b.WriteString("}")
}

// String writes s as a quoted JSON string. Unlike encoding/json's default,
// it leaves <, > and & alone: the metadata service is not embedding HTML.
func String(b *strings.Builder, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // encoding a string cannot fail
	b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
