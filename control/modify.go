package control

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"

	"github.com/imds-dev/imds"
)

// OptionsChange is a change to an instance's metadata options, as the
// console's "Modify instance metadata options" form makes it. A nil field
// leaves that option as it is; values are spelled as EC2 spells them
// (imds.TokensRequired, imds.Enabled, ...).
type OptionsChange struct {
	HTTPTokens           *string
	HTTPEndpoint         *string
	HTTPProtocolIPv6     *string
	InstanceMetadataTags *string
	HTTPPutHopLimit      *int
}

// Refusal is a change the control plane refused, in EC2's terms: Code is
// what clients switch on (InvalidParameterValue, IncorrectInstanceState,
// InvalidInstanceID.NotFound, ...) and Message is EC2's sentence for people.
type Refusal struct {
	Code    string
	Message string
}

func (e *Refusal) Error() string { return e.Code + ": " + e.Message }

// ModifyMetadataOptions changes an instance's metadata options through the
// same checks, store update and data-plane apply as the
// ModifyInstanceMetadataOptions action, so that the console cannot do what
// the API would refuse. On return without error the data plane enforces the
// change. Every error is a *Refusal.
func (s *Server) ModifyMetadataOptions(ctx context.Context, instanceID string, change OptionsChange) (*imds.Instance, error) {
	in, err := s.setOptions(ctx, instanceID, change, false)
	if err != nil {
		return nil, &Refusal{Code: err.Code, Message: err.Message}
	}
	return in, nil
}

// CheckKey reports whether secret is the secret of the control key
// accessKeyID, for a console login. Secrets are compared by their SHA-256
// digests in constant time, and an unknown key id costs the same
// comparison, so timing tells neither a secret's length nor its prefix.
func (s *Server) CheckKey(accessKeyID, secret string) bool {
	want, known := s.verifier.keys[accessKeyID]
	if !known {
		want = "\x00unknown key"
	}
	w := sha256.Sum256([]byte(want))
	g := sha256.Sum256([]byte(secret))
	same := subtle.ConstantTimeCompare(w[:], g[:]) == 1
	return known && same && accessKeyID != ""
}
