package control

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// AuthError is a refused signature on an imds-specific endpoint of the
// control listener (audit, faults, events). Code is EC2's error code.
type AuthError struct {
	Status  int
	Code    string
	Message string
}

func (e *AuthError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Authenticate checks the SigV4 signature of a request to one of imds's own
// JSON endpoints on the control listener, with the same keys and rules as
// the Query API. It reads at most the server's body cap and gives the body
// back to the caller; on failure it returns an *AuthError.
func (s *Server) Authenticate(r *http.Request) (accessKeyID string, body []byte, err error) {
	body, rerr := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
	if rerr != nil {
		return "", nil, &AuthError{Status: http.StatusBadRequest, Code: codeMalformedQuery, Message: "cannot read request body"}
	}
	if int64(len(body)) > s.maxBody {
		return "", nil, &AuthError{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge, Message: "request body too large"}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	keyID, aerr := s.verifier.verify(r, body)
	if aerr != nil {
		return "", nil, &AuthError{Status: aerr.status(), Code: aerr.Code, Message: aerr.Message}
	}
	return keyID, body, nil
}
