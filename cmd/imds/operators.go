package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/audit"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/console"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/events"
	"github.com/imds-dev/imds/fault"
	"github.com/imds-dev/imds/fleet"
	"github.com/imds-dev/imds/metrics"
)

// operatorTools are the parts that watch and shape the data plane for
// operators: the IMDSv1 audit, the metrics and fault injection.
type operatorTools struct {
	counters *dataplane.Counters
	usage    *audit.Recorder
	prom     *metrics.Metrics
	faults   *fault.Injector
}

func newOperatorTools(st imds.Store, cfg *config.File, keepAlive bool) (*operatorTools, error) {
	counters := new(dataplane.Counters)
	var health func() error
	if h, ok := st.(imds.HealthReporter); ok {
		health = h.Health
	}
	t := &operatorTools{
		counters: counters,
		usage:    audit.NewRecorder(audit.Options{}),
		prom:     metrics.New(metrics.Options{Counters: counters, Health: health, Version: version}),
		faults:   fault.New(fault.Options{KeepAlive: keepAlive}),
	}
	for _, r := range cfg.Faults {
		if _, err := t.faults.Add(r); err != nil {
			return nil, fmt.Errorf("config faults: %w", err)
		}
	}
	return t, nil
}

// hooks returns the data plane's hooks: faults before, audit and metrics
// after every request.
func (t *operatorTools) hooks() dataplane.Hooks {
	return dataplane.Hooks{Before: t.faults.Before, After: audit.Chain(t.usage.Observe, t.prom.Observe)}
}

// routes returns the control listener's endpoints beside the EC2 API.
func (t *operatorTools) routes(ctl *control.Server, st imds.Store, fl *fleet.Fleet, logger *slog.Logger) map[string]http.Handler {
	routes := healthRoutes(st, fl.Len)
	routes["GET /metrics"] = t.prom.Handler()
	routes["/imds/audit"] = audit.Handler(t.usage, ctl.Authenticate)
	fh := fault.NewHandler(t.faults, ctl)
	routes[fault.Path] = fh
	routes[fault.Path+"/"] = fh
	eh := events.NewHandler(events.Options{Store: st, Apply: fl.Apply, Auth: ctl, Logger: logger.With("component", "events")})
	routes[events.Path] = eh
	routes[events.Path+"/"] = eh
	routes["/console/"] = console.New(console.Config{
		Store: st, Control: ctl, Usage: t.usage.Report,
		Logger: logger.With("component", "console"),
	})
	return routes
}
