package events

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/internal/jsonapi"
)

// Authenticator checks the SigV4 signature of a control request and hands
// back its body; *control.Server is one. Failures are *control.AuthError.
type Authenticator = jsonapi.Authenticator

// Options configure NewHandler.
type Options struct {
	Store imds.Store    // the instances; required
	Auth  Authenticator // checks every request; required
	// Apply hands a changed instance to the data plane and returns once it
	// is served (fleet.Apply). Nil leaves that to a store watcher.
	Apply  func(*imds.Instance)
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default discards
}

// Handler serves the event endpoints of the control listener, every call
// signed with the control credentials:
//
//	GET    /imds/events?instance-id=ID        the instance's events (InstanceEvents)
//	GET    /imds/events                       every instance's events (List)
//	POST   /imds/events                       schedule the Request in the body; 201 and its Event
//	DELETE /imds/events/{id}?instance-id=ID   cancel one event; {"event", "removed"}
//
// Cancelling removes a Spot notice, a rebalance recommendation or an Auto
// Scaling state; a maintenance event already shown moves to the history as
// canceled, as on EC2, and one not shown yet is removed.
//
// Errors are JSON objects {"code", "message"} plus "field" when one field
// of a request is at fault; bad input gets a 4xx, never a 500.
type Handler struct {
	o Options
}

// NewHandler returns the endpoints. Mount it on the control mux at both
// Path and Path + "/".
func NewHandler(o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{o: o}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := jsonapi.Authenticate(w, r, h.o.Auth)
	if !ok {
		return
	}

	id, ok := jsonapi.Split(r.URL.Path, Path)
	switch {
	case !ok || strings.Contains(id, "/"):
		jsonapi.NoEndpoint(w, r)
	case id == "":
		h.serveCollection(w, r, body)
	default:
		h.serveEvent(w, r, id)
	}
}

// serveCollection answers /imds/events.
func (h *Handler) serveCollection(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.list(w, r)
	case http.MethodPost:
		h.schedule(w, r, body)
	default:
		jsonapi.MethodNotAllowed(w, "GET, HEAD, POST")
	}
}

// serveEvent answers /imds/events/{id}.
func (h *Handler) serveEvent(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method != http.MethodDelete {
		jsonapi.MethodNotAllowed(w, "DELETE")
		return
	}
	h.cancel(w, r, id)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	ctx, now := r.Context(), h.o.Now()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		jsonapi.WriteError(w, badQuery(err))
		return
	}
	if !q.Has("instance-id") {
		all, err := h.o.Store.List(ctx)
		if err != nil {
			jsonapi.WriteError(w, storeError(err, ""))
			return
		}
		out := List{Instances: make([]InstanceEvents, 0, len(all))}
		for _, in := range all {
			out.Instances = append(out.Instances, listOf(in, now))
		}
		sortInstances(out.Instances)
		jsonapi.WriteJSON(w, http.StatusOK, out)
		return
	}
	id := q.Get("instance-id")
	in, err := h.o.Store.Get(ctx, id)
	if err != nil {
		jsonapi.WriteError(w, storeError(err, id))
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, listOf(in, now))
}

// instanceParam reads the instance-id query parameter that names the
// instance of an event.
func instanceParam(r *http.Request) (string, *jsonapi.Error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", badQuery(err)
	}
	id := q.Get("instance-id")
	if id == "" {
		return "", &jsonapi.Error{Status: http.StatusBadRequest, Code: "MissingParameter",
			Message: "the instance-id query parameter is required", Field: "instance-id"}
	}
	return id, nil
}

func badQuery(err error) *jsonapi.Error {
	return &jsonapi.Error{Status: http.StatusBadRequest, Code: "InvalidQuery", Message: "cannot parse the query: " + err.Error()}
}

// storeError maps a store failure to an answer: an unknown instance is the
// caller's mistake, anything else the store's (503: retry later).
func storeError(err error, id string) *jsonapi.Error {
	var ae *jsonapi.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, imds.ErrNotFound):
		return &jsonapi.Error{Status: http.StatusNotFound, Code: "InvalidInstanceID.NotFound",
			Message: "no instance " + quoteID(id)}
	}
	return &jsonapi.Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable",
		Message: "the instance store did not answer; retry: " + err.Error()}
}

// quoteID names an id in a message, quoted when it is not a plain word so
// that odd input cannot forge a message.
func quoteID(id string) string {
	if id == "" {
		return `""`
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b, _ := json.Marshal(id)
			return string(b)
		}
	}
	return id
}
