package control

import (
	"context"
	"errors"
	"testing"

	"github.com/imds-dev/imds"
)

// TestServer_ModifyMetadataOptions checks the console's way in.
func TestServer_ModifyMetadataOptions(t *testing.T) {
	// Ensure a change is stored and applied as the API's is, and a refusal
	// carries EC2's code and message.
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	tests := []struct {
		name     string
		id       string
		change   OptionsChange
		wantCode string
	}{
		{"tokens required", testID, OptionsChange{HTTPTokens: str(imds.TokensRequired), HTTPPutHopLimit: num(3)}, ""},
		{"nothing changed", testID, OptionsChange{}, ""},
		{"hop limit too high", testID, OptionsChange{HTTPPutHopLimit: num(65)}, codeInvalidValue},
		{"bad tokens value", testID, OptionsChange{HTTPTokens: str("always")}, codeInvalidValue},
		{"malformed id", "i-nope", OptionsChange{}, codeInstanceMalformed},
		{"unknown instance", "i-00000000000000000", OptionsChange{}, codeInstanceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			in, err := h.server.ModifyMetadataOptions(context.Background(), tt.id, tt.change)
			if tt.wantCode != "" {
				var r *Refusal
				if !errors.As(err, &r) || r.Code != tt.wantCode || r.Message == "" {
					t.Fatalf("ModifyMetadataOptions() error = %v, want a %s refusal", err, tt.wantCode)
				}
				if h.lastApplied() != nil {
					t.Error("a refused change reached the data plane")
				}
				return
			}
			if err != nil {
				t.Fatalf("ModifyMetadataOptions() error = %v", err)
			}
			stored, err := h.store.Get(context.Background(), tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Options != in.Options {
				t.Errorf("stored options %+v, returned %+v", stored.Options, in.Options)
			}
			if got := h.lastApplied(); got == nil || got.Options != in.Options {
				t.Errorf("applied %+v, want %+v", got, in.Options)
			}
			if tt.change.HTTPTokens != nil && in.Options.HTTPTokens != *tt.change.HTTPTokens {
				t.Errorf("http tokens %q, want %q", in.Options.HTTPTokens, *tt.change.HTTPTokens)
			}
		})
	}
}

// TestServer_CheckKey checks the console's login test.
func TestServer_CheckKey(t *testing.T) {
	// Ensure only a known key with its own secret passes.
	h := newHarness(t)
	tests := []struct {
		name, id, secret string
		want             bool
	}{
		{"right", testKeyID, testSecret, true},
		{"wrong secret", testKeyID, testSecret + "x", false},
		{"empty secret", testKeyID, "", false},
		{"unknown key", "AKIAUNKNOWNKEY000000", testSecret, false},
		{"empty key", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.server.CheckKey(tt.id, tt.secret); got != tt.want {
				t.Errorf("CheckKey(%q, ...) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}
