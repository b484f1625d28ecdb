package rule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

// Spec is a rule as people write it, in JSON for the control endpoints and
// as flags of `imds fault add`: durations as Go duration strings ("2s"),
// times in RFC 3339. A window may be given as from/until, or relative to
// the moment the rule is added as after/for ("after": "30s", "for": "1m");
// listings show it as from/until.
type Spec struct {
	ID       string   `json:"id,omitempty"`
	Instance string   `json:"instance,omitempty"`
	Path     string   `json:"path,omitempty"`
	Methods  []string `json:"methods,omitempty"`
	Kind     string   `json:"kind"`
	Latency  string   `json:"latency,omitempty"`
	Status   int      `json:"status,omitempty"`
	Count    int64    `json:"count,omitempty"`
	From     string   `json:"from,omitempty"`
	Until    string   `json:"until,omitempty"`
	After    string   `json:"after,omitempty"`
	For      string   `json:"for,omitempty"`
}

// Parse reads one rule from a JSON object and checks it; now is when it is
// being added, the origin of after and for. Unknown fields, trailing data
// and values of the wrong type are errors; problems with one field come
// back as a *FieldError.
func Parse(data []byte, now time.Time) (Rule, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return Rule{}, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Rule{}, errors.New("expected one JSON object, found more after it")
	}
	return s.Rule(now)
}

// decodeError turns an encoding/json error into one that names the field
// and what it must hold, without Go type names.
func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty body: expected a JSON object describing a rule")
	case errors.As(err, &syn):
		return fmt.Errorf("malformed JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errors.New("expected a JSON object describing a rule")
		}
		return fieldErr(typ.Field, "must be %s, not a JSON %s", wants(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("malformed JSON: unexpected end of input")
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return fieldErr(strings.Trim(name, `"`), "unknown field")
	}
	return errors.New(msg)
}

// wants names what a Go type accepts, in JSON's terms.
func wants(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "a list of strings"
	}
	return "a " + t.Kind().String()
}

// Rule converts the spec into a checked rule; now is the origin of after
// and for. It returns a *FieldError.
func (s Spec) Rule(now time.Time) (Rule, error) {
	r := Rule{
		ID: s.ID, Instance: s.Instance, Path: s.Path, Methods: s.Methods,
		Kind: Kind(s.Kind), Status: s.Status, Count: s.Count,
	}
	var err error
	if s.Latency != "" {
		if r.Latency, err = time.ParseDuration(s.Latency); err != nil {
			return Rule{}, fieldErr("latency", "must be a duration such as 2s or 500ms, not %q", s.Latency)
		}
	}
	if r.From, err = timeField("from", s.From); err != nil {
		return Rule{}, err
	}
	if r.Until, err = timeField("until", s.Until); err != nil {
		return Rule{}, err
	}
	if err := s.relative(&r, now); err != nil {
		return Rule{}, err
	}
	if err := r.Check(now); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// relative applies after and for, which count from now.
func (s Spec) relative(r *Rule, now time.Time) error {
	if s.After != "" {
		after, err := time.ParseDuration(s.After)
		switch {
		case err != nil:
			return fieldErr("after", "must be a duration such as 30s, not %q", s.After)
		case after < 0:
			return fieldErr("after", "must not be negative")
		case s.From != "":
			return fieldErr("after", "conflicts with from; give one")
		}
		r.From = now.Add(after)
	}
	if s.For != "" {
		d, err := time.ParseDuration(s.For)
		switch {
		case err != nil:
			return fieldErr("for", "must be a duration such as 1m, not %q", s.For)
		case d <= 0:
			return fieldErr("for", "must be positive")
		case s.Until != "":
			return fieldErr("for", "conflicts with until; give one")
		}
		start := r.From
		if start.IsZero() {
			start = now
		}
		r.Until = start.Add(d)
	}
	return nil
}

func timeField(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldErr(name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", s)
	}
	return t, nil
}

// Spec returns the written form of a checked rule, with its window as
// from/until; Parse of its JSON gives the rule back.
func (r Rule) Spec() Spec {
	s := Spec{
		ID: r.ID, Instance: r.Instance, Path: r.Path, Methods: r.Methods,
		Kind: string(r.Kind), Status: r.Status, Count: r.Count,
	}
	if r.Latency != 0 {
		s.Latency = r.Latency.String()
	}
	if !r.From.IsZero() {
		s.From = r.From.UTC().Format(time.RFC3339Nano)
	}
	if !r.Until.IsZero() {
		s.Until = r.Until.UTC().Format(time.RFC3339Nano)
	}
	return s
}
