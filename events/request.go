package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
)

// Request is the body of POST /imds/events: one event to schedule. Times
// are relative to the moment the server receives it.
type Request struct {
	InstanceID string `json:"instanceId"`
	Kind       string `json:"kind"` // spot, rebalance, maintenance or autoscaling
	// In delays the event's appearance ("2m"); At names the moment in
	// RFC 3339 instead. Neither means now.
	In string `json:"in,omitempty"`
	At string `json:"at,omitempty"`

	Action string `json:"action,omitempty"` // spot: terminate (default), stop or hibernate
	// State is the Auto Scaling lifecycle state (required for autoscaling),
	// or a maintenance event's state (default active).
	State string `json:"state,omitempty"`

	// Maintenance only. The times are RFC 3339 or a duration from now
	// ("+24h"); NotBefore is required, NotAfter defaults to two hours
	// after it, Description to EC2's text for the code.
	Code              string `json:"code,omitempty"`
	Description       string `json:"description,omitempty"`
	NotBefore         string `json:"notBefore,omitempty"`
	NotAfter          string `json:"notAfter,omitempty"`
	NotBeforeDeadline string `json:"notBeforeDeadline,omitempty"`
}

// FieldError is a problem with one field of a request, named as the JSON
// spells it.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// fieldsOf says which optional fields each kind takes; any other field set
// is refused, so that a mistyped request does not pass half-read.
var fieldsOf = map[string][]string{
	KindSpot:        {"action"},
	KindRebalance:   nil,
	KindAutoScaling: {"state"},
	KindMaintenance: {"state", "code", "description", "notBefore", "notAfter", "notBeforeDeadline"},
}

// parseRequest decodes a request body strictly: one JSON object, known
// fields only, each of them applying to the kind.
func parseRequest(body []byte) (*Request, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		return nil, &FieldError{Field: "body", Problem: jsonProblem(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fieldErr("body", "must hold one JSON object and nothing after it")
	}
	if r.InstanceID == "" {
		return nil, fieldErr("instanceId", "required")
	}
	allowed, ok := fieldsOf[r.Kind]
	if !ok {
		return nil, fieldErr("kind", "%q is not spot, rebalance, maintenance or autoscaling", r.Kind)
	}
	for _, f := range []struct{ name, value string }{
		{"action", r.Action}, {"state", r.State}, {"code", r.Code}, {"description", r.Description},
		{"notBefore", r.NotBefore}, {"notAfter", r.NotAfter}, {"notBeforeDeadline", r.NotBeforeDeadline},
	} {
		if f.value != "" && !slices.Contains(allowed, f.name) {
			return nil, fieldErr(f.name, "does not apply to %s events", r.Kind)
		}
	}
	return &r, nil
}

// jsonProblem words a decoding error for the caller without Go's type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return "field " + te.Field + " must be a string"
	case errors.As(err, &te):
		return "must be a JSON object"
	case errors.Is(err, io.EOF):
		return "empty; send a JSON object"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return "not a valid request: " + msg
}

// visibleAt is when the event appears: now plus In, or At.
func (r *Request) visibleAt(now time.Time) (time.Time, error) {
	switch {
	case r.In != "" && r.At != "":
		return time.Time{}, fieldErr("in", "give in or at, not both")
	case r.At != "":
		t, err := time.Parse(time.RFC3339, r.At)
		if err != nil {
			return time.Time{}, fieldErr("at", "%q is not an RFC 3339 time such as 2026-05-01T12:00:00Z", r.At)
		}
		return t, nil
	case r.In != "":
		d, err := time.ParseDuration(r.In)
		if err != nil || d < 0 {
			return time.Time{}, fieldErr("in", "%q is not a duration from now such as 30s or 2m", r.In)
		}
		return now.Add(d), nil
	}
	return now, nil
}

// when reads a maintenance time: RFC 3339, or a duration from now.
func when(field, v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(d), nil
	}
	return time.Time{}, fieldErr(field, "%q is neither an RFC 3339 time nor a duration from now such as +24h", v)
}

// change turns the request into the edit it makes to an instance. The edit
// returns the id of the event it set; taken is consulted for fresh
// maintenance ids.
func (r *Request) change(now time.Time, newID func(taken func(string) bool) string) (func(*imds.Instance) string, error) {
	at, err := r.visibleAt(now)
	if err != nil {
		return nil, err
	}
	switch r.Kind {
	case KindSpot:
		action := r.Action
		if action == "" {
			action = imds.SpotTerminate
		}
		return func(in *imds.Instance) string {
			in.Events.Spot = &imds.SpotNotice{Action: action, NoticeTime: at, ActionTime: at.Add(config.SpotWarning)}
			return idSpot
		}, nil
	case KindRebalance:
		return func(in *imds.Instance) string {
			in.Events.Rebalance = &imds.RebalanceNotice{NoticeTime: at}
			return idRebalance
		}, nil
	case KindAutoScaling:
		if r.State == "" {
			return nil, fieldErr("state", "required, such as InService or Terminated")
		}
		return func(in *imds.Instance) string {
			in.Events.AutoScaling = &imds.AutoScalingState{State: r.State, Since: at}
			return idAutoScaling
		}, nil
	}
	m, err := r.maintenance(at, now)
	if err != nil {
		return nil, err
	}
	return func(in *imds.Instance) string {
		m.ID = newID(func(id string) bool { return hasMaintenance(in, id) })
		in.Events.Maintenance = append(in.Events.Maintenance, m)
		return m.ID
	}, nil
}

// maintenance builds the maintenance event of the request, visible from
// at; the id is chosen later, against the stored instance.
func (r *Request) maintenance(at, now time.Time) (imds.MaintenanceEvent, error) {
	m := imds.MaintenanceEvent{Code: r.Code, Description: r.Description, State: r.State, PostedAt: at}
	if r.Code == "" {
		return m, fieldErr("code", "required, such as system-reboot or instance-stop")
	}
	if r.NotBefore == "" {
		return m, fieldErr("notBefore", "required, such as +24h or 2026-05-01T12:00:00Z")
	}
	var err error
	if m.NotBefore, err = when("notBefore", r.NotBefore, now); err != nil {
		return m, err
	}
	m.NotAfter = m.NotBefore.Add(config.DefaultNotAfter)
	if r.NotAfter != "" {
		if m.NotAfter, err = when("notAfter", r.NotAfter, now); err != nil {
			return m, err
		}
	}
	if r.NotBeforeDeadline != "" {
		if m.NotBeforeDeadline, err = when("notBeforeDeadline", r.NotBeforeDeadline, now); err != nil {
			return m, err
		}
	}
	if m.State == "" {
		m.State = imds.EventActive
	}
	if r.Description == "" {
		m.Description = config.MaintenanceDescription(r.Code)
	}
	return m, nil
}

func hasMaintenance(in *imds.Instance, id string) bool {
	for _, m := range in.Events.Maintenance {
		if m.ID == id {
			return true
		}
	}
	return false
}
