package control

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// newResourceID returns a fresh EC2 id in the long form: the prefix, a dash,
// a 0 and 16 random hex digits (i-0123456789abcdef0), as EC2 issues them.
// Callers check the result against the ids they know, since uniqueness is
// only probable.
func newResourceID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + "-0" + hex.EncodeToString(b[:])
}

// newMAC returns a random unicast, locally administered MAC address in the
// lowercase colon form the tree keys interfaces by, as EC2's 02:, 06:, 0e:
// addresses are.
func newMAC() string {
	var b [6]byte
	rand.Read(b[:])
	b[0] = b[0]&0xfc | 0x02
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// derivedID returns an id that depends only on what it names, so that every
// replica, and every launch into the same address block, agrees on the id
// of a subnet, VPC or security group imds had to make up.
func derivedID(prefix, name string) string {
	sum := sha256.Sum256([]byte("imds " + prefix + " " + name))
	return prefix + "-0" + hex.EncodeToString(sum[:8])
}

// uniqueID draws ids with next until one is not in taken, and records it.
func uniqueID(taken map[string]bool, next func() string) string {
	for {
		id := next()
		if !taken[id] {
			taken[id] = true
			return id
		}
	}
}
