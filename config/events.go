package config

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/imds-dev/imds"
)

// EC2's defaults for event notices. The events endpoints use them too, so
// that a notice scheduled at run time reads like one from the file.
const (
	// SpotWarning is how long EC2 warns before acting on a Spot
	// interruption.
	SpotWarning = 2 * time.Minute
	// DefaultNotAfter is the window given to a maintenance event without
	// an end.
	DefaultNotAfter = 2 * time.Hour
)

// descriptions are EC2-like texts for maintenance events left undescribed,
// keyed by event code.
var descriptions = map[string]string{
	"instance-reboot":     "scheduled reboot",
	"system-reboot":       "scheduled reboot",
	"system-maintenance":  "scheduled maintenance",
	"instance-retirement": "The instance is running on degraded hardware",
	"instance-stop":       "The instance is running on degraded hardware",
}

// MaintenanceDescription returns the text EC2 gives a maintenance event of
// code when none is set, or "" for a code it does not know.
func MaintenanceDescription(code string) string { return descriptions[code] }

// events reads the notices. Every "after" counts from the server start, so
// a notice can appear on its own while clients are running.
func (x *instanceDecoder) events(v *yaml.Node, p string) error {
	ev := &x.in.Events
	*ev = imds.Events{}
	_, err := x.fields(v, p, map[string]field{
		"spot":        x.spot,
		"rebalance":   x.rebalance,
		"maintenance": x.maintenance,
		"autoscaling": x.autoscaling,
	})
	return err
}

func (x *instanceDecoder) spot(v *yaml.Node, p string) error {
	if isNull(v) {
		return nil
	}
	s := &imds.SpotNotice{Action: imds.SpotTerminate}
	var after time.Duration
	_, err := x.fields(v, p, map[string]field{
		"action": x.strTo(&s.Action),
		"after":  x.afterTo(&after),
	})
	s.NoticeTime = x.start.Add(after)
	s.ActionTime = s.NoticeTime.Add(SpotWarning)
	x.in.Events.Spot = s
	return err
}

func (x *instanceDecoder) rebalance(v *yaml.Node, p string) error {
	if isNull(v) {
		return nil
	}
	var after time.Duration
	_, err := x.fields(v, p, map[string]field{"after": x.afterTo(&after)})
	x.in.Events.Rebalance = &imds.RebalanceNotice{NoticeTime: x.start.Add(after)}
	return err
}

func (x *instanceDecoder) autoscaling(v *yaml.Node, p string) error {
	if isNull(v) {
		return nil
	}
	a := &imds.AutoScalingState{}
	var after time.Duration
	_, err := x.fields(v, p, map[string]field{
		"state": x.strTo(&a.State),
		"after": x.afterTo(&after),
	})
	a.Since = x.start.Add(after)
	x.in.Events.AutoScaling = a
	return err
}

// maintenance reads scheduled events. An event without "after" is visible
// from the start; ids left out are derived from the instance id later.
func (x *instanceDecoder) maintenance(v *yaml.Node, p string) error {
	return x.list(v, p, false, func(_ int, item *yaml.Node, ip string) error {
		e := imds.MaintenanceEvent{State: imds.EventActive}
		var after time.Duration
		set, err := x.fields(item, ip, map[string]field{
			"id":                  x.strTo(&e.ID),
			"code":                x.strTo(&e.Code),
			"description":         x.strTo(&e.Description),
			"state":               x.strTo(&e.State),
			"after":               x.afterTo(&after),
			"not-before":          x.whenTo(&e.NotBefore),
			"not-after":           x.whenTo(&e.NotAfter),
			"not-before-deadline": x.whenTo(&e.NotBeforeDeadline),
		})
		if err != nil {
			return err
		}
		if set["after"] {
			e.PostedAt = x.start.Add(after)
		}
		if !set["description"] {
			e.Description = descriptions[e.Code]
		}
		if !set["not-after"] && !e.NotBefore.IsZero() {
			e.NotAfter = e.NotBefore.Add(DefaultNotAfter)
		}
		x.in.Events.Maintenance = append(x.in.Events.Maintenance, e)
		return nil
	})
}

// afterTo reads a non-negative delay from the server start.
func (x *instanceDecoder) afterTo(dst *time.Duration) field {
	return func(v *yaml.Node, p string) error {
		d, err := x.duration(v, p)
		if err == nil && d < 0 {
			return x.fail(v, p, "must not be negative")
		}
		*dst = d
		return err
	}
}

func (x *instanceDecoder) whenTo(dst *time.Time) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = x.when(v, p, x.start)
		return err
	}
}
