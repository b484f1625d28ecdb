package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/internal/jsonapi"
)

// schedule answers POST /imds/events.
func (h *Handler) schedule(w http.ResponseWriter, r *http.Request, body []byte) {
	req, err := parseRequest(body)
	if err != nil {
		jsonapi.WriteError(w, invalid(err))
		return
	}
	now := h.o.Now()
	set, err := req.change(now, newMaintenanceID)
	if err != nil {
		jsonapi.WriteError(w, invalid(err))
		return
	}

	var id string
	in, err := h.update(r.Context(), req.InstanceID, func(in *imds.Instance) error {
		id = set(in)
		return nil
	})
	if err != nil {
		jsonapi.WriteError(w, storeError(err, req.InstanceID))
		return
	}
	e, _ := find(in, id, now)
	h.o.Logger.Info("event scheduled", "instance", in.ID, "kind", e.Kind, "event", e.ID, "at", e.At)
	w.Header().Set("Location", Path+"/"+url.PathEscape(id)+"?instance-id="+url.QueryEscape(in.ID))
	jsonapi.WriteJSON(w, http.StatusCreated, e)
}

// cancelAnswer is the answer to a cancel: the event as it stands after it,
// and whether it is gone (false: moved to the maintenance history).
type cancelAnswer struct {
	Event   Event `json:"event"`
	Removed bool  `json:"removed"`
}

// cancel answers DELETE /imds/events/{id}.
func (h *Handler) cancel(w http.ResponseWriter, r *http.Request, id string) {
	instanceID, aerr := instanceParam(r)
	if aerr != nil {
		jsonapi.WriteError(w, aerr)
		return
	}
	now := h.o.Now()
	var out cancelAnswer
	in, err := h.update(r.Context(), instanceID, func(in *imds.Instance) error {
		e, ok := find(in, id, now)
		if !ok {
			return &jsonapi.Error{Status: http.StatusNotFound, Code: "InvalidEventID.NotFound",
				Message: "instance " + in.ID + " has no event " + quoteID(id)}
		}
		removed, err := cancelEvent(in, e)
		out = cancelAnswer{Event: e, Removed: removed}
		return err
	})
	if err != nil {
		jsonapi.WriteError(w, storeError(err, instanceID))
		return
	}
	if !out.Removed {
		out.Event, _ = find(in, id, now)
	}
	h.o.Logger.Info("event canceled", "instance", in.ID, "kind", out.Event.Kind, "event", id, "removed", out.Removed)
	jsonapi.WriteJSON(w, http.StatusOK, out)
}

// cancelEvent takes e off in and reports whether it is gone. A maintenance
// event the instance has already shown stays, canceled, in the history.
func cancelEvent(in *imds.Instance, e Event) (removed bool, err error) {
	ev := &in.Events
	switch e.Kind {
	case KindSpot:
		ev.Spot = nil
		return true, nil
	case KindRebalance:
		ev.Rebalance = nil
		return true, nil
	case KindAutoScaling:
		ev.AutoScaling = nil
		return true, nil
	}
	i := slices.IndexFunc(ev.Maintenance, func(m imds.MaintenanceEvent) bool { return m.ID == e.ID })
	switch {
	case e.State != imds.EventActive:
		return false, &jsonapi.Error{Status: http.StatusConflict, Code: "IncorrectEventState",
			Message: "event " + e.ID + " is already " + e.State}
	case !e.Visible:
		ev.Maintenance = slices.Delete(ev.Maintenance, i, i+1)
		return true, nil
	}
	ev.Maintenance[i].State = imds.EventCanceled
	return false, nil
}

// update changes the stored instance with fn, checks the result with the
// config file's rules, and hands it to the data plane before returning.
// Nothing is stored when fn or the check fails.
func (h *Handler) update(ctx context.Context, id string, fn func(*imds.Instance) error) (*imds.Instance, error) {
	in, err := h.o.Store.Update(ctx, id, func(in *imds.Instance) error {
		if err := fn(in); err != nil {
			return err
		}
		if err := config.Validate(in); err != nil {
			return invalid(err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if h.o.Apply != nil {
		h.o.Apply(in)
	}
	return in, nil
}

// invalid is the answer to a request the rules refuse.
func invalid(err error) *jsonapi.Error {
	e := &jsonapi.Error{Status: http.StatusBadRequest, Code: "InvalidEvent", Message: err.Error()}
	var fe *FieldError
	var ce *config.FieldError
	switch {
	case errors.As(err, &fe):
		e.Field, e.Message = fe.Field, fe.Problem
	case errors.As(err, &ce):
		e.Field, e.Message = requestField(ce.Field), ce.Problem
	}
	return e
}

// requestFields are the request fields behind the config file's event
// keys, so that an error names the field the caller sent.
var requestFields = map[string]string{
	"action": "action", "state": "state", "code": "code", "description": "description",
	"not-before": "notBefore", "not-after": "notAfter", "not-before-deadline": "notBeforeDeadline",
}

// requestField names a config field ("events.maintenance[0].not-after")
// as the request does ("notAfter"); fields without a counterpart, such as
// "events.spot" for an instance that is not a Spot instance, stay as they
// are.
func requestField(configField string) string {
	if !strings.HasPrefix(configField, "events.") {
		return configField
	}
	if f, ok := requestFields[configField[strings.LastIndexByte(configField, '.')+1:]]; ok {
		return f
	}
	return configField
}

// newMaintenanceID returns an id in EC2's form, instance-event- and 17 hex
// digits, that taken does not report as in use.
func newMaintenanceID(taken func(string) bool) string {
	for {
		var b [9]byte
		rand.Read(b[:])
		id := "instance-event-" + hex.EncodeToString(b[:])[:17]
		if !taken(id) {
			return id
		}
	}
}
