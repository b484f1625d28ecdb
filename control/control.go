// Package control is the operator-facing API of imds: the part of Amazon
// EC2's Query API that concerns instance metadata, so that the AWS CLI and
// the SDKs' EC2 clients work against imds with only an endpoint URL added.
// It serves ModifyInstanceMetadataOptions, DescribeInstances,
// Modify/GetInstanceMetadataDefaults, CreateTags, DeleteTags, DescribeTags,
// RunInstances and TerminateInstances; every call is authenticated with
// Signature Version 4.
//
// A change is stored and handed to the data plane (Config.Apply) before the
// answer is written, so a client that has its answer can rely on the data
// plane enforcing the change.
package control

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/imds-dev/imds"
)

// APIVersion is the only EC2 API version accepted; every current SDK and
// the CLI send it.
const APIVersion = "2016-11-15"

// DefaultMaxBody is the default cap on a request body.
const DefaultMaxBody = 1 << 20

// Config configures a Server. Zero values of optional fields mean the
// documented default.
type Config struct {
	// Store holds the instances; required.
	Store imds.Store
	// Apply is called with every instance the control plane changed, in
	// the order the store took the changes, and must return once the data
	// plane serves the new version (fleet.Fleet.Apply does). Nil: nothing
	// is applied beyond the store.
	Apply func(*imds.Instance)
	// Keys maps access key ids to secret keys. With none, every call is
	// refused with AuthFailure.
	Keys map[string]string
	// Now is the clock signatures are checked against; default time.Now.
	Now func() time.Time
	// Logger receives changes at Info and refusals at Debug; never
	// secrets. Nil: no logs.
	Logger *slog.Logger
	// Region is reported for instances whose placement names none; default
	// us-east-1. Requests signed for any region are accepted.
	Region string
	// Defaults are the account's metadata defaults; nil: a fresh, empty
	// set kept in memory.
	Defaults *Defaults
	// MaxBody caps the request body in bytes; default DefaultMaxBody.
	MaxBody int64
}

// Server is the control plane's http.Handler. It is safe for concurrent use.
type Server struct {
	store    imds.Store
	apply    func(*imds.Instance)
	verifier *verifier
	log      *slog.Logger
	region   string
	defaults *Defaults
	maxBody  int64
	actions  map[string]action

	mu sync.Mutex // serialises changes, so Apply sees them in store order
}

// action is one API operation: the parameters it accepts (patterns as for
// params.check) and what it does.
type action struct {
	params []string
	run    func(ctx context.Context, p params) (reply, *apiError)
}

// New returns a control-plane handler.
func New(cfg Config) *Server {
	s := &Server{
		store:    cfg.Store,
		apply:    cfg.Apply,
		log:      cfg.Logger,
		region:   cfg.Region,
		defaults: cfg.Defaults,
		maxBody:  cfg.MaxBody,
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s.verifier = newVerifier(cfg.Keys, now)
	if s.apply == nil {
		s.apply = func(*imds.Instance) {}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.defaults == nil {
		s.defaults = new(Defaults)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	s.actions = map[string]action{
		"ModifyInstanceMetadataOptions":  {modifyOptionsParams, s.modifyOptions},
		"DescribeInstances":              {describeInstancesParams, s.describeInstances},
		"ModifyInstanceMetadataDefaults": {modifyDefaultsParams, s.modifyDefaults},
		"GetInstanceMetadataDefaults":    {getDefaultsParams, s.getDefaults},
		"CreateTags":                     {createTagsParams, s.createTags},
		"DeleteTags":                     {deleteTagsParams, s.deleteTags},
		"DescribeTags":                   {describeTagsParams, s.describeTags},
		"RunInstances":                   {runInstancesParams, s.runInstances},
		"TerminateInstances":             {terminateInstancesParams, s.terminateInstances},
	}
	return s
}

// Defaults returns the account's metadata defaults, which whoever creates
// instances applies to them.
func (s *Server) Defaults() *Defaults { return s.defaults }

// ServeHTTP answers one EC2 Query API call. Every failure, a panic
// included, is answered in EC2's XML error shape.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("control request panicked", "request_id", id, "panic", v)
			writeError(w, id, errorf(codeInternal, "An internal error has occurred."))
		}
	}()

	name, keyID, rep, err := s.handle(r)
	if err != nil {
		s.log.Debug("control call refused", "request_id", id, "action", name, "key", keyID,
			"code", err.Code, "message", err.Message)
		writeError(w, id, err)
		return
	}
	writeReply(w, id, rep)
}

// handle runs the checks in order (method, body, signature, parameters,
// version, action) and then the action. It returns the action name and the
// signing key id when known, for the log.
func (s *Server) handle(r *http.Request) (name, keyID string, rep reply, err *apiError) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return "", "", nil, errorf(codeUnsupportedOperation, "The HTTP method %s is not supported; use POST or GET.", r.Method)
	}
	body, err := s.readBody(r)
	if err != nil {
		return "", "", nil, err
	}
	keyID, err = s.verifier.verify(r, body)
	if err != nil {
		return "", keyID, nil, err
	}
	p, err := requestParams(r, body)
	if err != nil {
		return "", keyID, nil, err
	}

	name, ok := p.str("Action")
	if !ok || name == "" {
		return "", keyID, nil, errMissing("Action")
	}
	version, ok := p.str("Version")
	if !ok || version == "" {
		return name, keyID, nil, errMissing("Version")
	}
	if version != APIVersion {
		return name, keyID, nil, errorf(codeNoSuchVersion, "The requested version (%s) of service AmazonEC2 does not exist", version)
	}
	act, ok := s.actions[name]
	if !ok {
		return name, keyID, nil, unknownAction(name)
	}
	if err := p.check(act.params); err != nil {
		return name, keyID, nil, err
	}
	rep, err = act.run(r.Context(), p)
	return name, keyID, rep, err
}

// readBody reads the whole body, refusing one larger than the cap before
// reading further.
func (s *Server) readBody(r *http.Request) ([]byte, *apiError) {
	tooLarge := errorf(codeTooLarge, "The request body is larger than %d bytes.", s.maxBody)
	if r.ContentLength > s.maxBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
	if err != nil {
		return nil, errorf(codeInvalidValue, "The request body could not be read.")
	}
	if int64(len(body)) > s.maxBody {
		return nil, tooLarge
	}
	return body, nil
}

// requestParams decodes the query string and, for POST, the form body.
func requestParams(r *http.Request, body []byte) (params, *apiError) {
	p := params{}
	if err := parseQuery(r.URL.RawQuery, p); err != nil {
		return nil, err
	}
	if r.Header.Get("Authorization") == "" {
		// Authenticated without the header: the X-Amz- parameters are a
		// presigned URL's signature, not the action's.
		for name := range p {
			if presignParam(name) {
				delete(p, name)
			}
		}
	}
	if r.Method != http.MethodPost || len(body) == 0 {
		return p, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, errorf(codeInvalidValue, "The content type %q is not supported; send application/x-www-form-urlencoded.", ct)
		}
	}
	if err := parseQuery(string(body), p); err != nil {
		return nil, err
	}
	return p, nil
}

// notImplemented are EC2 actions a script aimed at imds may well call; they
// get UnsupportedOperation rather than InvalidAction, which would suggest a
// typing mistake.
var notImplemented = map[string]bool{
	"StartInstances": true, "StopInstances": true,
	"RebootInstances": true, "DescribeInstanceStatus": true,
	"DescribeInstanceAttribute": true, "ModifyInstanceAttribute": true,
	"DescribeRegions": true, "DescribeAvailabilityZones": true, "DescribeImages": true,
	"DescribeAccountAttributes": true, "DescribeInstanceTypes": true,
}

func unknownAction(name string) *apiError {
	if notImplemented[name] {
		return errorf(codeUnsupportedOperation, "The action %s is not implemented by imds.", name)
	}
	return errorf(codeInvalidAction, "The action %s is not valid for this web service.", name)
}

// storeError turns a store failure into EC2's terms. fn errors from Update
// that are already API errors pass through unchanged.
func (s *Server) storeError(err error, id string) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, imds.ErrNotFound):
		return errNotFound([]string{id})
	case errors.Is(err, imds.ErrUnavailable):
		s.log.Warn("store unavailable", "err", err)
		return errorf(codeUnavailable, "The service is unavailable. Please try again shortly.")
	}
	s.log.Error("store failed", "instance", id, "err", err)
	return errorf(codeInternal, "An internal error has occurred.")
}

// change updates one instance with fn and hands the result to the data
// plane before returning, holding s.mu so that the data plane sees changes
// in the order the store took them.
func (s *Server) change(ctx context.Context, id string, fn func(*imds.Instance) error) (*imds.Instance, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.store.Update(ctx, id, fn)
	if err != nil {
		return nil, s.storeError(err, id)
	}
	s.apply(in)
	return in, nil
}
