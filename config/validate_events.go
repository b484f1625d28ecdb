package config

import (
	"regexp"

	"github.com/imds-dev/imds"
)

var eventIDRe = regexp.MustCompile(`^instance-event-[0-9a-f]{17}$`)

// Values EC2 uses for events, spelled as the metadata shows them.
var (
	maintenanceCodes  = []string{"instance-reboot", "system-reboot", "system-maintenance", "instance-retirement", "instance-stop"}
	eventStates       = []string{imds.EventActive, imds.EventCompleted, imds.EventCanceled}
	autoScalingStates = []string{"Detached", "InService", "Standby", "Terminated",
		"Warmed:Hibernated", "Warmed:Running", "Warmed:Stopped", "Warmed:Terminated"}
)

func checkEvents(in *imds.Instance) error {
	ev := in.Events
	if s := ev.Spot; s != nil {
		if err := oneOf("events.spot.action", s.Action, imds.SpotTerminate, imds.SpotStop, imds.SpotHibernate); err != nil {
			return err
		}
		if s.ActionTime.Before(s.NoticeTime) {
			return fieldErr("events.spot", "the action comes before its notice")
		}
		if in.LifeCycle != "spot" {
			return fieldErr("events.spot", "only Spot instances are interrupted; life-cycle is %q", in.LifeCycle)
		}
	}
	if ev.Rebalance != nil && in.LifeCycle != "spot" {
		return fieldErr("events.rebalance", "only Spot instances get rebalance recommendations; life-cycle is %q", in.LifeCycle)
	}
	if err := checkMaintenance(ev.Maintenance); err != nil {
		return err
	}
	if a := ev.AutoScaling; a != nil {
		return oneOf("events.autoscaling.state", a.State, autoScalingStates...)
	}
	return nil
}

func checkMaintenance(events []imds.MaintenanceEvent) error {
	ids := map[string]string{}
	for i, e := range events {
		p := index("events.maintenance", i)
		if err := oneOf(p+".code", e.Code, maintenanceCodes...); err != nil {
			return err
		}
		if e.State != "" {
			if err := oneOf(p+".state", e.State, eventStates...); err != nil {
				return err
			}
		}
		switch {
		case !eventIDRe.MatchString(e.ID):
			return fieldErr(p+".id", "%q is not an event id (instance-event- and 17 hex digits)", e.ID)
		case ids[e.ID] != "":
			return fieldErr(p+".id", "%s repeats %s", e.ID, ids[e.ID])
		case !printable(e.Description):
			return fieldErr(p+".description", "must be printable text on one line")
		case e.NotBefore.IsZero():
			return fieldErr(p+".not-before", "required")
		case !e.NotAfter.IsZero() && e.NotAfter.Before(e.NotBefore):
			return fieldErr(p+".not-after", "comes before not-before")
		case !e.NotBeforeDeadline.IsZero() && e.NotBeforeDeadline.Before(e.NotBefore):
			return fieldErr(p+".not-before-deadline", "comes before not-before")
		}
		ids[e.ID] = p
	}
	return nil
}
