package main

import (
	"encoding/json"
	"net/http"

	"github.com/imds-dev/imds"
)

// healthReport is the body of /healthz and /readyz.
type healthReport struct {
	Status    string `json:"status"` // ok or degraded
	Store     string `json:"store"`  // ok, or why the store is unreachable
	Instances int    `json:"instances"`
}

// healthRoutes serves /healthz and /readyz on the control listener. Both
// report the store's state. /healthz answers 200 while the process runs:
// the data plane keeps answering from its last known state when the store
// is unreachable. /readyz answers 503 then, because control calls would
// fail.
func healthRoutes(st imds.Store, instances func() int) map[string]http.Handler {
	report := func() healthReport {
		r := healthReport{Status: "ok", Store: "ok", Instances: instances()}
		if h, ok := st.(imds.HealthReporter); ok {
			if err := h.Health(); err != nil {
				r.Status, r.Store = "degraded", err.Error()
			}
		}
		return r
	}
	write := func(w http.ResponseWriter, status int, r healthReport) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(r)
	}
	return map[string]http.Handler{
		"GET /healthz": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			write(w, http.StatusOK, report())
		}),
		"GET /readyz": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			r := report()
			status := http.StatusOK
			if r.Status != "ok" {
				status = http.StatusServiceUnavailable
			}
			write(w, status, r)
		}),
	}
}
