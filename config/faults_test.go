package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds/fault/rule"
)

// Ensure faults: reads every field, checks each rule and counts after and
// for from the start.
func TestParse_Faults(t *testing.T) {
	yaml := `faults:
  - id: iam-throttle
    path: /latest/meta-data/iam/
    kind: throttle
    count: 3
  - kind: latency
    latency: 2s
    path: /latest/api/token
    methods: [put]
    after: 30s
    for: 1m
  - kind: error
    status: 503
    instance: i-0123456789abcdef0
    until: 2026-03-05T00:00:00Z
`
	f, err := Parse("imds.yaml", []byte(yaml), t.TempDir(), testNow)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []rule.Rule{
		{ID: "iam-throttle", Instance: "*", Path: "/latest/meta-data/iam/", Kind: rule.Throttle, Count: 3},
		{Instance: "*", Path: "/latest/api/token", Methods: []string{"PUT"}, Kind: rule.Latency, Latency: 2 * time.Second,
			From: testNow.Add(30 * time.Second), Until: testNow.Add(90 * time.Second)},
		{Instance: "i-0123456789abcdef0", Path: "/", Kind: rule.Error, Status: 503,
			Until: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)},
	}
	if !reflect.DeepEqual(f.Faults, want) {
		t.Errorf("Faults = %+v, want %+v", f.Faults, want)
	}
}

// Ensure a bad fault rule is reported with the file, line and field.
func TestParse_FaultErrors(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"not a list", "faults: {kind: drop}\n", "imds.yaml:1: faults: must be a list, not a mapping"},
		{"unknown field", "faults:\n  - kind: drop\n    colour: red\n", "imds.yaml:3: faults[0].colour: unknown field"},
		{"no kind", "faults:\n  - path: /\n", "imds.yaml:2: faults[0].kind: required"},
		{"bad kind", "faults:\n  - kind: drop\n  - kind: boom\n", `imds.yaml:3: faults[1].kind: must be latency, error, throttle or drop, not "boom"`},
		{"bad latency", "faults:\n  - kind: latency\n    latency: soon\n", `imds.yaml:3: faults[0].latency: must be a duration`},
		{"bad status", "faults:\n  - kind: error\n    status: 404\n", "imds.yaml:3: faults[0].status: must be 500 or 503, not 404"},
		{"count not an integer", "faults:\n  - kind: drop\n    count: many\n", `imds.yaml:3: faults[0].count: must be an integer, not "many"`},
		{"bad method", "faults:\n  - kind: drop\n    methods:\n      - GET\n      - BREW\n", `imds.yaml:5: faults[0].methods[1]: must be one of`},
		{"after and from", "faults:\n  - kind: drop\n    from: 2026-03-05T00:00:00Z\n    after: 1s\n", "imds.yaml:4: faults[0].after: conflicts with from"},
		{"repeated id", "faults:\n  - {id: a, kind: drop}\n  - {id: a, kind: drop}\n", "imds.yaml:3: faults[1].id: a repeats faults[0]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("imds.yaml", []byte(tt.yaml), t.TempDir(), testNow)
			if err == nil || f != nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse() = %v, want an error starting %q", err, tt.want)
			}
		})
	}
}
